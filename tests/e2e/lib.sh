# The library of the real-kernel scenarios in tests/e2e/. A scenario is a small bash file that
# sources this one, builds what it needs with the helpers below and calls `fail REASON` when an
# assertion does not hold; it passes when it reaches its end. scripts/e2e runs each scenario in
# its own process, on a kernel with ESP, as root, with:
#   E2E_NAME    the scenario's name
#   E2E_PREFIX  a prefix unique to this run, for namespace names
#   E2E_DIR     a folder for the scenario's files (logs, captures)
#   E2E_REASON  the file `fail` writes its reason to
# Everything a scenario creates (namespaces, the processes in them) is removed when it exits.
#
# Topology (TESTING.md): alice -- moon ==== sun -- bob, on documentation addresses.
#   alice  198.51.100.10/24  eth0      moon  198.51.100.1/24 int, 192.0.2.1/24 ext
#   bob    203.0.113.10/24   eth0      sun   203.0.113.1/24  int, 192.0.2.2/24 ext

set -euo pipefail

: "${E2E_NAME:?run scenarios with scripts/e2e}" "${E2E_PREFIX:?}" "${E2E_DIR:?}" "${E2E_REASON:?}"

MOON_EXT=192.0.2.1 SUN_EXT=192.0.2.2
MOON_INT=198.51.100.1 SUN_INT=203.0.113.1
ALICE=198.51.100.10 BOB=203.0.113.10
ALICE_NET=198.51.100.0/24 BOB_NET=203.0.113.0/24

# fail REASON: ends the scenario as failed, with REASON on its FAIL line.
fail() {
	printf '%s\n' "$*" >"$E2E_REASON"
	printf 'fail: %s\n' "$*" >&2
	exit 1
}

# Namespaces are named $E2E_PREFIX<host>; scenarios use the short host names.
e2e_hosts=()
ns() { printf '%s%s' "$E2E_PREFIX" "$1"; }

# in_ns HOST CMD...: runs CMD inside HOST's network namespace.
in_ns() {
	local host=$1
	shift
	ip netns exec "$(ns "$host")" "$@"
}

# ip_in HOST ARGS...: `ip` inside HOST (no extra process for the namespace switch).
ip_in() {
	local host=$1
	shift
	ip -n "$(ns "$host")" "$@"
}

cleanup_hosts() {
	local host pids
	for host in "${e2e_hosts[@]}"; do
		pids=$(ip netns pids "$(ns "$host")" 2>/dev/null || true)
		[ -n "$pids" ] && kill -9 $pids 2>/dev/null
		ip netns del "$(ns "$host")" 2>/dev/null || true
	done
	return 0
}
trap cleanup_hosts EXIT

# add_hosts HOST...: new network namespaces with loopback up and forwarding on.
add_hosts() {
	local host batch=""
	for host in "$@"; do
		e2e_hosts+=("$host")
		batch+="netns add $(ns "$host")"$'\n'
	done
	ip -batch - <<<"$batch" || fail "cannot create namespaces $*"
	for host in "$@"; do
		ip_in "$host" link set lo up
		in_ns "$host" sysctl -q -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 >/dev/null
	done
}

# configure_clients: alice and bob, each with its address and its gateway as default route.
configure_clients() {
	ip_in alice -batch - <<-EOF || fail "cannot configure alice"
		addr add $ALICE/24 dev eth0
		link set eth0 up
		route add default via $MOON_INT
	EOF
	ip_in bob -batch - <<-EOF || fail "cannot configure bob"
		addr add $BOB/24 dev eth0
		link set eth0 up
		route add default via $SUN_INT
	EOF
}

# topology_site_to_site: alice -- moon ==== sun -- bob, routed, with no IPsec yet.
topology_site_to_site() {
	add_hosts moon sun alice bob
	ip -batch - <<-EOF || fail "cannot create the veth links"
		link add name ext netns $(ns moon) type veth peer name ext netns $(ns sun)
		link add name int netns $(ns moon) type veth peer name eth0 netns $(ns alice)
		link add name int netns $(ns sun) type veth peer name eth0 netns $(ns bob)
	EOF
	ip_in moon -batch - <<-EOF || fail "cannot configure moon"
		addr add $MOON_EXT/24 dev ext
		addr add $MOON_INT/24 dev int
		link set ext up
		link set int up
		route add $BOB_NET via $SUN_EXT
	EOF
	ip_in sun -batch - <<-EOF || fail "cannot configure sun"
		addr add $SUN_EXT/24 dev ext
		addr add $SUN_INT/24 dev int
		link set ext up
		link set int up
		route add $ALICE_NET via $MOON_EXT
	EOF
	configure_clients
}

# IPv6 twins of the addresses above (2001:db8::/32, RFC 3849).
MOON_EXT6=2001:db8:1::1 SUN_EXT6=2001:db8:1::2
MOON_INT6=2001:db8:a::1 SUN_INT6=2001:db8:b::1
ALICE6=2001:db8:a::10 BOB6=2001:db8:b::10
ALICE_NET6=2001:db8:a::/64 BOB_NET6=2001:db8:b::/64

# topology_dual_stack: topology_site_to_site with IPv6 on every link as well.
topology_dual_stack() {
	topology_site_to_site
	ip_in moon -batch - <<-EOF || fail "cannot configure moon for IPv6"
		addr add $MOON_EXT6/64 dev ext nodad
		addr add $MOON_INT6/64 dev int nodad
		route add $BOB_NET6 via $SUN_EXT6
	EOF
	ip_in sun -batch - <<-EOF || fail "cannot configure sun for IPv6"
		addr add $SUN_EXT6/64 dev ext nodad
		addr add $SUN_INT6/64 dev int nodad
		route add $ALICE_NET6 via $MOON_EXT6
	EOF
	ip_in alice -batch - <<-EOF || fail "cannot configure alice for IPv6"
		addr add $ALICE6/64 dev eth0 nodad
		route add default via $MOON_INT6
	EOF
	ip_in bob -batch - <<-EOF || fail "cannot configure bob for IPv6"
		addr add $BOB6/64 dev eth0 nodad
		route add default via $SUN_INT6
	EOF
}

# ping_across FROM TO: FROM pings TO three times; fails unless every echo came back.
ping_across() {
	in_ns "$1" ping -n -q -c 3 -i 0.2 -W 5 "$2" >"$E2E_DIR/ping-$2.log" 2>&1 ||
		fail "$1 got no reply from $2: $(grep -E 'transmitted|rror' "$E2E_DIR/ping-$2.log" | tr '\n' ' ')"
	echo "$1 -> $2: $(grep transmitted "$E2E_DIR/ping-$2.log")"
}

# expect_esp_both_ways OUTER-MOON OUTER-SUN MIN: moon's and sun's SAs between these outer
# addresses counted at least MIN packets each way, on both gateways.
expect_esp_both_ways() {
	local moon=$1 sun=$2 min=$3 to_sun to_moon
	to_sun=$(ip_in moon xfrm state list src "$moon" dst "$sun" proto esp | sed -nE 's/.* spi (0x[0-9a-f]+) .*/\1/p' | head -n 1)
	to_moon=$(ip_in moon xfrm state list src "$sun" dst "$moon" proto esp | sed -nE 's/.* spi (0x[0-9a-f]+) .*/\1/p' | head -n 1)
	[ -n "$to_sun" ] && [ -n "$to_moon" ] || fail "moon has no ESP SA pair between $moon and $sun"
	expect_sa_traffic moon "$moon" "$sun" "$to_sun" "$min"
	expect_sa_traffic sun "$moon" "$sun" "$to_sun" "$min"
	expect_sa_traffic sun "$sun" "$moon" "$to_moon" "$min"
	expect_sa_traffic moon "$sun" "$moon" "$to_moon" "$min"
}

# topology_nat: alice -- moon -- carol ==== sun -- bob, where carol is a NAT router: moon
# (MOON_EXT becomes 192.0.2.66/26) reaches sun (192.0.2.2/26) only through carol, which
# rewrites moon's address to its own, MOON_PUBLIC (192.0.2.3), as a home router does.
MOON_PUBLIC=192.0.2.3
topology_nat() {
	MOON_EXT=192.0.2.66
	add_hosts moon carol sun alice bob
	ip -batch - <<-EOF || fail "cannot create the veth links"
		link add name ext netns $(ns moon) type veth peer name in netns $(ns carol)
		link add name out netns $(ns carol) type veth peer name ext netns $(ns sun)
		link add name int netns $(ns moon) type veth peer name eth0 netns $(ns alice)
		link add name int netns $(ns sun) type veth peer name eth0 netns $(ns bob)
	EOF
	ip_in moon -batch - <<-EOF || fail "cannot configure moon"
		addr add $MOON_EXT/26 dev ext
		addr add $MOON_INT/24 dev int
		link set ext up
		link set int up
		route add default via 192.0.2.65
	EOF
	ip_in carol -batch - <<-EOF || fail "cannot configure carol"
		addr add 192.0.2.65/26 dev in
		addr add $MOON_PUBLIC/26 dev out
		link set in up
		link set out up
	EOF
	in_ns carol iptables -t nat -A POSTROUTING -o out -j MASQUERADE || fail "cannot set up carol's NAT"
	ip_in sun -batch - <<-EOF || fail "cannot configure sun"
		addr add $SUN_EXT/26 dev ext
		addr add $SUN_INT/24 dev int
		link set ext up
		link set int up
		route add $ALICE_NET via $MOON_PUBLIC
	EOF
	configure_clients
}

# expect_nat_t_traffic: with topology_nat, alice pings bob through the tunnel; fails unless
# every ping is answered, both gateways' SAs are UDP-encapsulated on port 4500 and counted the
# pings, ESP-in-UDP crossed into sun and no plaintext from alice's network did.
expect_nat_t_traffic() {
	local count=3 to_sun to_moon udp plain
	in_ns sun sh -e -c "
		iptables -t raw -A PREROUTING -i ext -p udp --dport 4500 -m comment --comment e2e-natt
		iptables -t raw -A PREROUTING -i ext -s $ALICE_NET -m policy --dir in --pol none -m comment --comment e2e-plain
	" || fail "cannot install the wire counters on sun"
	in_ns alice ping -n -q -c $count -i 0.2 -W 5 $BOB >"$E2E_DIR/ping.log" 2>&1 ||
		fail "alice got no reply from bob through the tunnel: $(grep -E 'transmitted|rror' "$E2E_DIR/ping.log" | tr '\n' ' ')"
	to_sun=$(ip_in moon xfrm state list src $MOON_EXT dst $SUN_EXT proto esp | sed -nE 's/.* spi (0x[0-9a-f]+) .*/\1/p' | head -n 1)
	to_moon=$(ip_in sun xfrm state list src $SUN_EXT dst $MOON_PUBLIC proto esp | sed -nE 's/.* spi (0x[0-9a-f]+) .*/\1/p' | head -n 1)
	[ -n "$to_sun" ] && [ -n "$to_moon" ] || fail "no ESP SA pair between moon and sun"
	for host in moon sun; do
		ip_in $host xfrm state list proto esp | grep 'encap type espinudp sport 4500 dport 4500' >/dev/null ||
			fail "$host's SAs are not UDP-encapsulated on port 4500: $(ip_in $host xfrm state list proto esp | grep encap)"
	done
	expect_sa_traffic moon $MOON_EXT $SUN_EXT "$to_sun" $count
	expect_sa_traffic sun $MOON_PUBLIC $SUN_EXT "$to_sun" $count
	expect_sa_traffic sun $SUN_EXT $MOON_PUBLIC "$to_moon" $count
	expect_sa_traffic moon $SUN_EXT $MOON_EXT "$to_moon" $count
	udp=$(in_ns sun iptables -t raw -L PREROUTING -v -n -x | awk '/e2e-natt/ { print $1 }')
	plain=$(wire_count sun plain)
	echo "sun: ext received $udp UDP/4500 datagrams, $plain plaintext packets from $ALICE_NET"
	[ "${udp:-0}" -ge $count ] || fail "sun's ext saw ${udp:-no} UDP/4500 datagrams; expected at least $count"
	[ "$plain" = 0 ] || fail "sun's ext saw $plain plaintext packets from $ALICE_NET outside IPsec"
}

# esp_sa_counters HOST SRC DST SPI: prints "BYTES PACKETS" of that ESP SA.
esp_sa_counters() {
	local out
	out=$(ip_in "$1" -s xfrm state get src "$2" dst "$3" proto esp spi "$4" 2>&1) ||
		fail "$1 has no ESP SA $2 -> $3 spi $4: $out"
	sed -nE 's/^[[:space:]]*([0-9]+)\(bytes\), ([0-9]+)\(packets\).*/\1 \2/p' <<<"$out" | head -n 1
}

# esp_sa_failures HOST SRC DST SPI: prints how many packets that SA rejected (integrity).
esp_sa_failures() {
	ip_in "$1" -s xfrm state get src "$2" dst "$3" proto esp spi "$4" |
		sed -nE 's/.*replay-window [0-9]+ replay [0-9]+ failed ([0-9]+).*/\1/p'
}

# expect_sa_traffic HOST SRC DST SPI MIN-PACKETS: fails unless the SA counted at least
# MIN-PACKETS packets (and some bytes).
expect_sa_traffic() {
	local bytes packets
	read -r bytes packets < <(esp_sa_counters "$1" "$2" "$3" "$4")
	echo "$1: SA $2 -> $3 spi $4: ${packets:-?} packets, ${bytes:-?} bytes"
	[ "${packets:-0}" -ge "$5" ] && [ "${bytes:-0}" -gt 0 ] ||
		fail "$1's SA $2 -> $3 spi $4 counted ${packets:-?} packets, ${bytes:-?} bytes; expected at least $5 packets"
}

# watch_wire HOST IFACE PROTECTED-NET: counts, on HOST's IFACE, ESP packets arriving and
# plaintext packets from PROTECTED-NET that arrived without IPsec (there should be none).
watch_wire() {
	in_ns "$1" sh -e -c "
		iptables -t raw -A PREROUTING -i $2 -p esp -m comment --comment e2e-esp
		iptables -t raw -A PREROUTING -i $2 -s $3 -m policy --dir in --pol none -m comment --comment e2e-plain
	" || fail "cannot install the wire counters on $1 $2"
}

# wire_count HOST esp|plain: packets counted by watch_wire.
wire_count() {
	in_ns "$1" iptables -t raw -L PREROUTING -v -n -x |
		awk -v tag="e2e-$2" '$0 ~ "/\\* " tag " \\*/" { print $1; found = 1 } END { if (!found) print "missing" }'
}

# SPIs of the hand-keyed tunnel below.
MANUAL_SPI_MOON_SUN=0xc0000001 MANUAL_SPI_SUN_MOON=0xc0000002

# random_key BYTES: a random key in iproute2's 0x... form.
random_key() { printf '0x%s' "$(od -An -tx1 -N "$1" /dev/urandom | tr -d ' \n')"; }

# manual_esp_tunnel MOON-KEY SUN-KEY: a tunnel-mode ESP SA pair between moon and sun for
# alice's and bob's networks, AES-GCM-128 (rfc4106, 16-byte ICV), keyed by hand: moon installs
# both SAs with MOON-KEY and sun with SUN-KEY (20 bytes each: key and salt). Policies: out on
# the sender, fwd and in on the receiver, as an IKE daemon installs them.
manual_esp_tunnel() {
	local moon_key=$1 sun_key=$2
	esp_gateway moon "$moon_key" $MOON_EXT $SUN_EXT $ALICE_NET $BOB_NET $MANUAL_SPI_MOON_SUN $MANUAL_SPI_SUN_MOON
	esp_gateway sun "$sun_key" $SUN_EXT $MOON_EXT $BOB_NET $ALICE_NET $MANUAL_SPI_SUN_MOON $MANUAL_SPI_MOON_SUN
}

# esp_gateway HOST KEY ME PEER MY-NET PEER-NET OUT-SPI IN-SPI: one side of manual_esp_tunnel.
esp_gateway() {
	local host=$1 key=$2 me=$3 peer=$4 my_net=$5 peer_net=$6 out_spi=$7 in_spi=$8
	local aead="aead rfc4106(gcm(aes)) $key 128"
	ip_in "$host" -batch - <<-EOF || fail "cannot install the ESP SAs and policies on $host"
		xfrm state add src $me dst $peer proto esp spi $out_spi reqid 1 mode tunnel $aead
		xfrm state add src $peer dst $me proto esp spi $in_spi reqid 1 mode tunnel $aead
		xfrm policy add src $my_net dst $peer_net dir out tmpl src $me dst $peer proto esp reqid 1 mode tunnel
		xfrm policy add src $peer_net dst $my_net dir fwd tmpl src $peer dst $me proto esp reqid 1 mode tunnel
		xfrm policy add src $peer_net dst $my_net dir in tmpl src $peer dst $me proto esp reqid 1 mode tunnel
	EOF
}

# expect_tunnel_traffic SPI-MOON-SUN SPI-SUN-MOON: alice pings bob through the moon-sun
# tunnel; fails unless every ping is answered, the SA counters grew on both gateways in both
# directions, ESP crossed the wire into sun and no plaintext from alice's network did.
expect_tunnel_traffic() {
	local to_sun=$1 to_moon=$2 count=3 esp plain
	watch_wire sun ext $ALICE_NET
	in_ns alice ping -n -q -c $count -i 0.2 -W 5 $BOB >"$E2E_DIR/ping.log" 2>&1 ||
		fail "alice got no reply from bob through the tunnel: $(grep -E 'transmitted|rror' "$E2E_DIR/ping.log" | tr '\n' ' ')"
	expect_sa_traffic moon $MOON_EXT $SUN_EXT "$to_sun" $count
	expect_sa_traffic sun $MOON_EXT $SUN_EXT "$to_sun" $count
	expect_sa_traffic sun $SUN_EXT $MOON_EXT "$to_moon" $count
	expect_sa_traffic moon $SUN_EXT $MOON_EXT "$to_moon" $count
	esp=$(wire_count sun esp)
	plain=$(wire_count sun plain)
	echo "sun: ext received $esp ESP packets, $plain plaintext packets from $ALICE_NET"
	[ "$esp" != missing ] && [ "$esp" -ge $count ] || fail "sun's ext saw $esp ESP packets; expected at least $count"
	[ "$plain" = 0 ] || fail "sun's ext saw $plain plaintext packets from $ALICE_NET outside IPsec"
}

# run_rust_tests ARTIFACT PREFIX MIN: runs the ignored tests whose names start with PREFIX in
# the Rust test binary that scripts/e2e built on the host (see its "needs" lines), one at a
# time; fails naming each failing test, or when fewer than MIN tests ran (a filter that
# matches nothing must not pass). The binary's output goes to $E2E_DIR/tests.log.
run_rust_tests() {
	local artifact=$1 prefix=$2 min=$3 bin log="$E2E_DIR/tests.log" rc=0 passed failed
	bin=$(cat "${E2E_ARTIFACTS:?}/$artifact" 2>/dev/null) && [ -x "$bin" ] ||
		fail "the test binary $artifact was not built (run the scenario through scripts/e2e)"
	"$bin" --ignored "$prefix" --test-threads=1 >"$log" 2>&1 || rc=$?
	grep -E '^test .* \.\.\. ' "$log" || true
	failed=$(sed -nE 's/^test ([^ ]+) \.\.\. FAILED$/\1/p' "$log" | paste -sd, - | sed 's/,/, /g')
	passed=$(sed -nE 's/^test result: .* ([0-9]+) passed;.*/\1/p' "$log" | tail -n 1)
	[ -z "$failed" ] || fail "failed: $failed (log: $log)"
	[ $rc -eq 0 ] || fail "$artifact exited with status $rc (log: $log)"
	[ "${passed:-0}" -ge "$min" ] || fail "only ${passed:-0} of at least $min tests ran (log: $log)"
}
