# Real IKE daemons in the e2e topology: strongSwan's charon, Libreswan's pluto and ikerd, on moon
# or sun, each configured for the site-to-site tunnel between alice's and bob's networks (a
# swanctl.conf, or pluto's ipsec.conf). Source after lib.sh. Every process runs inside a
# scenario namespace, so lib.sh's clean-up ends it.

E2E_ROOT=$(readlink -f "$(dirname "${BASH_SOURCE[0]}")/../..")
IKERD_SCRIPT=$E2E_NAME
# pluto's `base` debugging logs every payload it parses and why it rejects one.
PLUTO_DEBUG=${PLUTO_DEBUG:-base}
source "$E2E_ROOT/scripts/lib/prereqs.sh"
source "$E2E_ROOT/scripts/lib/peers.sh"
# peers.sh records what it starts here; lib.sh's clean-up stops everything in our namespaces.
pids=()
# Its errors are this scenario's failures.
die() { fail "$*"; }

# The daemons' folders (configuration, sockets, logs) live on the machine's own file system:
# the scenario's output folder may be shared from a VM host (9p), where no Unix socket can be
# made. Their logs are copied there when the scenario ends.
E2E_WORK=$(mktemp -d "/tmp/$E2E_PREFIX.XXXXXX")
collect_logs() {
	local host
	for host in moon sun; do
		[ -d "$E2E_WORK/$host" ] || continue
		mkdir -p "$E2E_DIR/$host"
		cp "$E2E_WORK/$host"/*.log "$E2E_WORK/$host"/*.out "$E2E_WORK/$host"/*.conf "$E2E_DIR/$host/" 2>/dev/null || true
	done
	rm -rf "$E2E_WORK"
}
# The daemons are this shell's background jobs: disowned, their ends go unannounced.
trap 'disown -a 2>/dev/null; collect_logs; cleanup_hosts' EXIT

# host_dir HOST: the folder of HOST's daemon.
host_dir() { echo "$E2E_WORK/$1"; }

# The IKE and ESP proposals both sides are configured with.
E2E_IKE_PROPOSALS=${E2E_IKE_PROPOSALS:-aes256gcm16-prfsha384-x25519}
E2E_ESP_PROPOSALS=${E2E_ESP_PROPOSALS:-aes128-sha256-noesn}

# site_config HOST DIR: moon's or sun's swanctl.conf (and a strongswan.conf for charon) in DIR
# for the tunnel "net-net" (PSK, FQDN identities moon.example and sun.example).
# E2E_CHILD_EXTRA and E2E_CONN_EXTRA add lines to the child and the connection.
site_config() {
	local host=$1 dir=$2 me peer my_net peer_net other
	if [ "$host" = moon ]; then
		me=$MOON_EXT peer=$SUN_EXT my_net=$ALICE_NET peer_net=$BOB_NET other=sun
	else
		me=$SUN_EXT peer=$MOON_EXT my_net=$BOB_NET peer_net=$ALICE_NET other=moon
	fi
	charon_config "$dir" net-net "$me" "$peer" "$E2E_IKE_PROPOSALS" "$host.example" "$other.example" \
		"local_ts = $my_net
remote_ts = $peer_net
esp_proposals = $E2E_ESP_PROPOSALS${E2E_CHILD_EXTRA:+
$E2E_CHILD_EXTRA}" "${E2E_CONN_EXTRA:-}"
}

# The same proposals in Libreswan's words (ike=, esp=): AES-GCM-16-256 with PRF HMAC-SHA2-384 and
# X25519; AES-CBC-128 with HMAC-SHA2-256-128 and no PFS. Libreswan's esn= is left at its default
# (either), so that the responder's choice among the ESN transforms is exercised.
E2E_PLUTO_IKE=${E2E_PLUTO_IKE:-aes_gcm256-sha2_384-dh31}
E2E_PLUTO_ESP=${E2E_PLUTO_ESP:-aes128-sha2_256}

# site_pluto_config HOST DIR: moon's or sun's ipsec.conf, ipsec.secrets and NSS database in DIR
# for the same tunnel "net-net" (PSK, identities @moon.example and @sun.example). No updown
# script: the topology has its routes.
site_pluto_config() {
	local host=$1 dir=$2 me peer my_net peer_net other
	if [ "$host" = moon ]; then
		me=$MOON_EXT peer=$SUN_EXT my_net=$ALICE_NET peer_net=$BOB_NET other=sun
	else
		me=$SUN_EXT peer=$MOON_EXT my_net=$BOB_NET peer_net=$ALICE_NET other=moon
	fi
	pluto_config "$dir" net-net "$me" "$peer" "$E2E_PLUTO_IKE" "@$host.example" "@$other.example" \
		"type=tunnel
leftsubnet=$my_net
rightsubnet=$peer_net
esp=$E2E_PLUTO_ESP
pfs=no
leftupdown=%disabled"
}

# start_ikerd HOST DIR: runs ikerd (built on the host by scripts/e2e) in HOST with
# DIR/swanctl.conf, DIR/ikerd-strongswan.conf as its strongswan.conf (none: the defaults, not the
# machine's /etc/strongswan.conf) and its VICI socket at DIR/charon.vici (the file system is
# shared between the namespaces: the default path would be one for every ikerd); returns once
# it listens.
start_ikerd() {
	local host=$1 dir=$2 bin
	bin=$(cat "${E2E_ARTIFACTS:?}/ikerd" 2>/dev/null) && [ -x "$bin" ] ||
		fail "ikerd was not built (run the scenario through scripts/e2e)"
	# `ip netns exec` execs ikerd, so $! is ikerd's own PID (a function in the background would
	# be a subshell's).
	ip netns exec "$(ns "$host")" "$bin" --config "$dir/swanctl.conf" --run-dir "$dir/run" \
		--settings "$dir/ikerd-strongswan.conf" \
		--vici "$dir/charon.vici" --log-level debug >"$dir/ikerd.log" 2>&1 &
	echo $! >"$dir/ikerd.pid"
	for _ in $(seq 100); do
		grep -q 'listening on' "$dir/ikerd.log" 2>/dev/null && return 0
		kill -0 $! 2>/dev/null || fail "ikerd on $host exited: $(tail -n 3 "$dir/ikerd.log" | tr '\n' ' ')"
		sleep 0.1
	done
	fail "ikerd on $host did not start listening"
}

# stop_ikerd HOST DIR: stops HOST's ikerd with SIGTERM and waits for it to exit.
stop_ikerd() {
	local host=$1 dir=$2 pid
	pid=$(cat "$dir/ikerd.pid" 2>/dev/null)
	[ -n "$pid" ] || fail "no ikerd running on $host"
	kill -TERM "$pid"
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	fail "ikerd on $host did not exit within 10 s of SIGTERM"
}

# esp_spi HOST SRC DST: the SPI of HOST's ESP SA from SRC to DST (fails when there is none).
esp_spi() {
	local spi
	spi=$(ip_in "$1" xfrm state list src "$2" dst "$3" proto esp | sed -nE 's/.* spi (0x[0-9a-f]+) .*/\1/p' | head -n 1)
	[ -n "$spi" ] || fail "$1 has no ESP SA $2 -> $3"
	echo "$spi"
}

# wait_for_sas HOST COUNT SECONDS [exactly [SRC]]: waits until HOST has at least (or exactly)
# COUNT SAs, ESP or AH (from SRC only, if given).
wait_for_sas() {
	local host=$1 count=$2 tries=$(($3 * 10)) exact=${4:-} n
	local from=(${5:+src "$5"})
	for _ in $(seq "$tries"); do
		n=$(ip_in "$host" xfrm state list "${from[@]}" | grep -c '^src ' || true)
		if [ -n "$exact" ]; then [ "$n" -eq "$count" ] && return 0; else [ "$n" -ge "$count" ] && return 0; fi
		sleep 0.1
	done
	fail "$host has $n SAs after ${3}s; expected ${exact:+exactly }$count: $(ip_in "$host" xfrm state list | sed -nE 's/^src ([^ ]+) dst ([^ ]+).*/\1>\2/p; s/.* spi (0x[0-9a-f]+) reqid ([0-9]+).*/spi \1 reqid \2;/p' | tr '\n' ' ')"
}

# test_pki TYPE: a CA and certificates for moon.example and sun.example (CN and a
# subjectAltName dNSName), made now with openssl in $E2E_WORK/pki-TYPE; TYPE is rsa (2048 bits)
# or ecdsa (P-256). Keys are PKCS#8, which both charon and ikerd read from pkcs8/.
test_pki() {
	local type=$1 dir="$E2E_WORK/pki-$1" host
	[ -f "$dir/caCert.pem" ] && return 0
	mkdir -p "$dir"
	local keyopt=(-algorithm EC -pkeyopt ec_paramgen_curve:P-256)
	[ "$type" = rsa ] && keyopt=(-algorithm RSA -pkeyopt rsa_keygen_bits:2048)
	{
		openssl genpkey "${keyopt[@]}" -out "$dir/caKey.pem" &&
			openssl req -x509 -new -key "$dir/caKey.pem" -days 30 -out "$dir/caCert.pem" \
				-subj "/O=ikerd e2e/CN=ikerd e2e $type CA" \
				-addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign,cRLSign
	} >"$dir/openssl.log" 2>&1 || fail "openssl could not make the $type CA: $(tail -n 3 "$dir/openssl.log")"
	for host in moon sun; do
		printf 'subjectAltName = DNS:%s.example\nbasicConstraints = CA:false\n' "$host" >"$dir/$host.ext"
		{
			openssl genpkey "${keyopt[@]}" -out "$dir/${host}Key.pem" &&
				openssl req -new -key "$dir/${host}Key.pem" -subj "/O=ikerd e2e/CN=$host.example" \
					-out "$dir/$host.csr" &&
				openssl x509 -req -in "$dir/$host.csr" -CA "$dir/caCert.pem" -CAkey "$dir/caKey.pem" \
					-CAcreateserial -days 30 -extfile "$dir/$host.ext" -out "$dir/${host}Cert.pem"
		} >>"$dir/openssl.log" 2>&1 || fail "openssl could not make $host's $type certificate: $(tail -n 3 "$dir/openssl.log")"
	done
}

# cert_config HOST DIR TYPE [TRUST]: turns the swanctl.conf site_config wrote in DIR from PSK
# to certificates of the TYPE test PKI: local { auth = pubkey certs = HOSTCert.pem } with the
# key in pkcs8/, remote { auth = pubkey cacerts = caCert.pem }, the CA of the TRUST test PKI
# (default TYPE); the identities stay moon.example and sun.example, which the certificates
# carry as subjectAltNames.
cert_config() {
	local host=$1 dir=$2 type=$3 pki="$E2E_WORK/pki-$3" trust=${4:-$3}
	test_pki "$type"
	test_pki "$trust"
	mkdir -p "$dir/x509" "$dir/x509ca" "$dir/pkcs8"
	cp "$pki/${host}Cert.pem" "$dir/x509/"
	cp "$E2E_WORK/pki-$trust/caCert.pem" "$dir/x509ca/"
	cp "$pki/${host}Key.pem" "$dir/pkcs8/"
	sed -i -e "/^\t\tlocal {/,/^\t\t}/ s/auth = psk/auth = pubkey\n\t\t\tcerts = ${host}Cert.pem/" \
		-e "/^\t\tremote {/,/^\t\t}/ s/auth = psk/auth = pubkey\n\t\t\tcacerts = caCert.pem/" \
		"$dir/swanctl.conf"
	grep -q "certs = ${host}Cert.pem" "$dir/swanctl.conf" || fail "cert_config: no local section in $dir/swanctl.conf"
	# charon reads PKCS#8 keys with its pkcs8 plugin; swanctl parses every credential itself
	# before it hands it over, so it needs the parsers too (still not every plugin: probing
	# them all costs tens of seconds under emulation).
	# Each log line is written at once, so the log is whole when the scenario ends.
	sed -i -e "s/^\tload = random nonce /\tload = pkcs8 random nonce /" \
		-e "s/^\tload = pem$/\tload = pem pkcs1 pkcs8 x509 pubkey openssl random nonce/" \
		-e "s|^\t\t\tpath = .*|&\n\t\t\tflush_line = yes|" \
		"$dir/strongswan.conf"
}

# dn_ids DIR: writes the identities of DIR/swanctl.conf as the distinguished names of the test
# certificates' subjects (`id = "O=ikerd e2e, CN=moon.example"`).
dn_ids() {
	sed -i 's/^\(\t*\)id = \([a-z]*\)\.example$/\1id = "O=ikerd e2e, CN=\2.example"/' "$1/swanctl.conf"
	grep -q 'id = "O=ikerd e2e, CN=' "$1/swanctl.conf" || fail "dn_ids: no identity in $1/swanctl.conf"
}

# pluto_cert_config HOST DIR TYPE: turns the ipsec.conf site_pluto_config wrote in DIR from PSK
# to certificates of the TYPE test PKI (rsa or ecdsa): HOST's certificate and key go into
# pluto's NSS database from a PKCS#12 file (pk12util), the CA in beside them trusted for
# peers' certificates (certutil -t CT), and the connection authenticates with
# authby=rsasig or ecdsa, sending its certificate and accepting a peer certified by the same
# CA. The identities stay @moon.example and @sun.example, the certificates' subjectAltNames.
pluto_cert_config() {
	local host=$1 dir=$2 type=$3 pki="$E2E_WORK/pki-$3" authby=rsasig
	[ "$type" = ecdsa ] && authby=ecdsa
	test_pki "$type"
	{
		openssl pkcs12 -export -inkey "$pki/${host}Key.pem" -in "$pki/${host}Cert.pem" \
			-name "$host" -passout pass: -out "$dir/$host.p12" &&
			certutil -A -d "sql:$dir/nss" -n e2e-ca -t CT,, -i "$pki/caCert.pem" &&
			pk12util -i "$dir/$host.p12" -d "sql:$dir/nss" -W '' -K ''
	} >"$dir/nss.log" 2>&1 || fail "cannot put $host's $type certificate into pluto's NSS database: $(tail -n 3 "$dir/nss.log")"
	sed -i -e "s/^\tauthby=secret$/\tauthby=$authby\n\tleftcert=$host\n\tleftsendcert=always\n\trightca=%same/" \
		"$dir/ipsec.conf"
	grep -q "leftcert=$host" "$dir/ipsec.conf" || fail "pluto_cert_config: no authby=secret in $dir/ipsec.conf"
	: >"$dir/ipsec.secrets"
}
