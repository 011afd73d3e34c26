# Shared by the scripts that run real IKE peers by hand (capture-ike-init, capture-ike-keys, and
# tests/e2e through its peers.sh): two network namespaces joined by veth, moon (192.0.2.1) and
# sun (192.0.2.2), the processes started in them, clean-up on exit, and strongSwan's charon and
# Libreswan's pluto run with their own configurations.
# Source it after lib/prereqs.sh; it defines functions and variables only. peers_init creates
# the namespaces and the working folder and installs the EXIT trap that removes both.
#
# Variables a script may set before calling these functions:
#   keep            non-empty: keep the working folder on exit (and say where it is)
#   CHARON_LOG      the filelog levels charon_config writes (one "group = level" a line)
#   PSK             the pre-shared key charon_config and pluto_config write
#   PLUTO_DEBUG     pluto's plutodebug= (default none)

CHARON=/usr/lib/ipsec/charon
# The plugins charon loads (TESTING.md's list; Debian builds no curve25519 plugin: openssl
# provides X25519). The "default" proposals are made of what these plugins offer.
CHARON_PLUGINS="random nonce openssl aes sha1 sha2 hmac gcm kdf pem pkcs1 x509 pubkey kernel-netlink socket-default vici updown"
CHARON_LOG=${CHARON_LOG:-"default = 1
ike = 2
net = 2
enc = 2"}
PSK=${PSK:-"ikerd-capture-psk-0123456789abcdef"}
PLUTO_DEBUG=${PLUTO_DEBUG:-none}
MOON=192.0.2.1 SUN=192.0.2.2

# The Debian packages charon and the capture need.
PEERS_APT=(strongswan-charon strongswan-swanctl libstrongswan-standard-plugins libcharon-extra-plugins
	tcpdump iproute2 iputils-ping python3 util-linux procps)

# --- namespaces, processes, clean-up -------------------------------------------------------

# peers_init NS-PREFIX VETH-PREFIX: creates the working folder ($work), the namespaces
# $ns_moon and $ns_sun (NS-PREFIX-PID-moon, ...) joined by veth ($if_moon, $if_sun, named
# VETH-PREFIX PID m/s, so at most 15 characters), addresses them, and installs the clean-up.
peers_init() {
	local nsp=$1 vp=$2
	ns_moon="$nsp-$$-moon" ns_sun="$nsp-$$-sun"
	work=$(mktemp -d "/tmp/$IKERD_SCRIPT.XXXXXX")
	chmod 755 "$work"
	pids=()
	trap peers_cleanup EXIT
	trap 'exit 130' INT TERM
	ip netns add "$ns_moon"
	ip netns add "$ns_sun"
	ip link add "$vp$$m" netns "$ns_moon" type veth peer name "$vp$$s" netns "$ns_sun"
	if_moon="$vp$$m" if_sun="$vp$$s"
	ip -n "$ns_moon" -batch - <<EOF
link set lo up
addr add $MOON/24 dev $if_moon
link set $if_moon up
EOF
	ip -n "$ns_sun" -batch - <<EOF
link set lo up
addr add $SUN/24 dev $if_sun
link set $if_sun up
EOF
	# Wait until IPv4 works across the veth.
	for _ in $(seq 50); do
		ip netns exec "$ns_moon" ping -c1 -W1 "$SUN" >/dev/null 2>&1 && break
		sleep 0.1
	done
}

peers_cleanup() {
	local rc=$? pid ns
	trap - EXIT INT TERM
	# Our processes first, by the PIDs we recorded, then anything else still inside our
	# namespaces (helpers our daemons forked): TERM, a moment's grace, then KILL.
	for ns in "${ns_moon:-}" "${ns_sun:-}"; do
		[ -n "$ns" ] && [ -e "/run/netns/$ns" ] || continue
		for pid in $(ip netns pids "$ns" 2>/dev/null); do pids+=("$pid"); done
	done
	if [ ${#pids[@]} -gt 0 ]; then
		kill -TERM "${pids[@]}" 2>/dev/null || true
		for _ in $(seq 20); do
			kill -0 "${pids[@]}" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "${pids[@]}" 2>/dev/null || true
		wait 2>/dev/null || true
	fi
	for ns in "${ns_moon:-}" "${ns_sun:-}"; do
		[ -n "$ns" ] && [ -e "/run/netns/$ns" ] && ip netns del "$ns" 2>/dev/null
	done
	if [ -n "${work:-}" ]; then
		if [ -n "${keep:-}" ]; then
			say "kept the working folder $work"
		else
			rm -rf "$work"
		fi
	fi
	exit $rc
}

# stop_pid PID: stops one process we started and forgets it.
stop_pid() {
	local pid=$1 keep_pids=() p
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 30); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	for p in "${pids[@]}"; do [ "$p" = "$pid" ] || keep_pids+=("$p"); done
	pids=("${keep_pids[@]}")
}

# stop_ns_leftovers NS: stops whatever is still running in one of our namespaces.
stop_ns_leftovers() {
	local pid
	for pid in $(ip netns pids "$1" 2>/dev/null); do stop_pid "$pid"; done
}

# start_tcpdump DIR: records UDP ports 500 and 4500 on sun's veth into DIR/capture.pcap and
# sets tcpdump_pid once tcpdump listens.
start_tcpdump() {
	local dir=$1
	ip netns exec "$ns_sun" tcpdump -i "$if_sun" -U -n -s 0 -Z root -w "$dir/capture.pcap" \
		udp port 500 or udp port 4500 >"$dir/tcpdump.out" 2>&1 &
	tcpdump_pid=$!
	pids+=("$tcpdump_pid")
	for _ in $(seq 50); do
		grep -q 'listening on' "$dir/tcpdump.out" 2>/dev/null && break
		sleep 0.1
	done
}

# --- strongSwan ----------------------------------------------------------------------------

# charon_config DIR NAME LOCAL REMOTE PROPOSALS [LOCAL-ID REMOTE-ID [CHILD-EXTRA [CONN-EXTRA]]]:
# strongswan.conf and swanctl.conf in DIR. The identities default to the addresses; CHILD-EXTRA
# is more swanctl.conf lines for the child (e.g. its esp_proposals), CONN-EXTRA for the
# connection (e.g. its rekey_time).
charon_config() {
	local dir=$1 name=$2 local_addr=$3 remote_addr=$4 proposals=$5
	local local_id=${6:-$3} remote_id=${7:-$4} child_extra=${8:-} conn_extra=${9:-}
	mkdir -p "$dir"
	cat >"$dir/strongswan.conf" <<EOF
charon {
	load = $CHARON_PLUGINS
	port = 500
	port_nat_t = 4500
	install_routes = no
	install_virtual_ip = no
	retransmit_tries = 2
	plugins {
		vici {
			socket = unix://$dir/charon.vici
		}
	}
	filelog {
		log {
			path = $dir/charon.log
$(sed 's/^/\t\t\t/' <<<"$CHARON_LOG")
		}
	}
}
swanctl {
	load = pem
}
EOF
	cat >"$dir/swanctl.conf" <<EOF
connections {
	$name {
		version = 2
		local_addrs = $local_addr
		remote_addrs = $remote_addr
		proposals = $proposals
$(sed 's/^/\t\t/' <<<"$conn_extra")
		local {
			auth = psk
			id = $local_id
		}
		remote {
			auth = psk
			id = $remote_id
		}
		children {
			$name {
				mode = tunnel
				start_action = none
$(sed 's/^/\t\t\t\t/' <<<"$child_extra")
			}
		}
	}
}
secrets {
	ike-capture {
		id-local = $local_id
		id-remote = $remote_id
		secret = "$PSK"
	}
}
EOF
}

# start_charon NS DIR: runs charon in NS, in a private mount namespace with its own /run (its
# pid file path is compiled in), and loads DIR/swanctl.conf.
start_charon() {
	local ns=$1 dir=$2
	ip netns exec "$ns" env STRONGSWAN_CONF="$dir/strongswan.conf" \
		unshare --mount --propagation private \
		sh -c 'mount -t tmpfs -o mode=755 tmpfs /run && exec "$0"' "$CHARON" \
		>"$dir/charon.out" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do
		[ -S "$dir/charon.vici" ] && break
		kill -0 "${pids[-1]}" 2>/dev/null || { cat "$dir/charon.out" "$dir/charon.log" >&2 2>/dev/null; die "charon failed to start in $ns"; }
		sleep 0.1
	done
	[ -S "$dir/charon.vici" ] || die "charon in $ns did not open its VICI socket"
	STRONGSWAN_CONF="$dir/strongswan.conf" swanctl --load-all --noprompt --uri "unix://$dir/charon.vici" \
		--file "$dir/swanctl.conf" >"$dir/swanctl-load.out" 2>&1 ||
		{ cat "$dir/swanctl-load.out" >&2; die "swanctl could not load $dir/swanctl.conf"; }
}

# initiate_charon DIR NAME: asks the charon of DIR to initiate the child NAME (and so its IKE
# SA), without waiting for the outcome.
initiate_charon() {
	local dir=$1 name=$2
	STRONGSWAN_CONF="$dir/strongswan.conf" swanctl --initiate --child "$name" --timeout 1 \
		--uri "unix://$dir/charon.vici" >"$dir/swanctl-initiate.out" 2>&1 || true
}

# --- Libreswan -----------------------------------------------------------------------------
# Unpacked into LIBRESWAN_ROOT by need_libreswan (lib/prereqs.sh).

# pluto_config DIR NAME LOCAL REMOTE IKE [LOCAL-ID REMOTE-ID [CONN-EXTRA]]: ipsec.conf with the
# connection NAME (IKEv2, PSK, auto=add), ipsec.secrets and an NSS database in DIR. IKE empty
# means Libreswan's default proposals; the identities default to the addresses (an FQDN
# identity is written @name); CONN-EXTRA is more ipsec.conf lines for the connection.
pluto_config() {
	local dir=$1 name=$2 local_addr=$3 remote_addr=$4 ike=$5
	local local_id=${6:-$3} remote_id=${7:-$4} conn_extra=${8:-}
	mkdir -p "$dir/run" "$dir/nss"
	cat >"$dir/ipsec.conf" <<EOF
config setup
	logfile=$dir/pluto.log
	logtime=no
	plutodebug=$PLUTO_DEBUG
	dumpdir=$dir/run

conn $name
	ikev2=insist
	authby=secret
	left=$local_addr
	leftid=$local_id
	right=$remote_addr
	rightid=$remote_id
	auto=add
${ike:+	ike=$ike}
$(sed 's/^/\t/' <<<"$conn_extra")
EOF
	printf '%s %s : PSK "%s"\n' "$local_id" "$remote_id" "$PSK" >"$dir/ipsec.secrets"
	chmod 600 "$dir/ipsec.secrets"
	certutil -N -d "sql:$dir/nss" --empty-password >/dev/null
}

# start_pluto NS DIR NAME: runs pluto in NS, in a private mount namespace where
# /usr/libexec/ipsec is the unpacked Libreswan (pluto runs addconn from that compiled-in path)
# and /run is its own, and loads the connection NAME of DIR/ipsec.conf. Its control socket is
# DIR/run/pluto.ctl, so DIR must be on a file system that takes Unix sockets (not 9p).
start_pluto() {
	local ns=$1 dir=$2 name=$3 ls=$LIBRESWAN_ROOT
	ip netns exec "$ns" unshare --mount --propagation private sh -c '
		mount -t tmpfs -o mode=755 tmpfs /run &&
		mount -t tmpfs -o mode=755 tmpfs /usr/libexec &&
		mkdir /usr/libexec/ipsec &&
		mount --bind "$0/usr/libexec/ipsec" /usr/libexec/ipsec &&
		exec /usr/libexec/ipsec/pluto --nofork --config "$1/ipsec.conf" --secretsfile "$1/ipsec.secrets" \
			--nssdir "$1/nss" --rundir "$1/run" --ipsecdir "$1" --stderrlog --log-no-time' \
		"$ls" "$dir" >"$dir/pluto.out" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do
		[ -S "$dir/run/pluto.ctl" ] && break
		kill -0 "${pids[-1]}" 2>/dev/null || { cat "$dir/pluto.out" >&2; die "pluto failed to start in $ns"; }
		sleep 0.1
	done
	[ -S "$dir/run/pluto.ctl" ] || { cat "$dir/pluto.out" >&2; die "pluto in $ns did not open its control socket"; }
	pluto_whack "$dir" --listen || true
	"$ls/usr/libexec/ipsec/addconn" --config "$dir/ipsec.conf" --ctlsocket "$dir/run/pluto.ctl" "$name" \
		>>"$dir/whack.out" 2>&1 || { cat "$dir/whack.out" >&2; die "addconn could not load the connection $name in $ns"; }
	pluto_whack "$dir" --rereadsecrets || true
}

# pluto_whack DIR ARGS...: runs whack against the pluto of DIR, appending its output to
# DIR/whack.out.
pluto_whack() {
	local dir=$1
	shift
	"$LIBRESWAN_ROOT/usr/libexec/ipsec/whack" --ctlsocket "$dir/run/pluto.ctl" "$@" >>"$dir/whack.out" 2>&1
}

# initiate_pluto DIR NAME: asks the pluto of DIR to initiate the connection NAME, without
# waiting for the outcome.
initiate_pluto() {
	pluto_whack "$1" --name "$2" --initiate --asynchronous || true
}
