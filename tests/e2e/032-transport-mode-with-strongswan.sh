# Host-to-host transport mode: ikerd on moon initiates to strongSwan 5.9.8 on sun for the traffic
# between the two gateways themselves (`dynamic` selectors, USE_TRANSPORT_MODE). The IKE messages
# travel between the same two addresses the policies cover, so this also proves the per-socket
# IPsec bypass of ikerd's IKE socket. Moon pings sun: both transport-mode SAs count the packets.
# needs: ikerd
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/peers.sh"

topology_site_to_site
for host in moon sun; do
	extra="mode = transport"
	[ $host = moon ] && extra="$extra
start_action = start"
	# Both selectors dynamic: the gateways' own addresses.
	E2E_CHILD_EXTRA="$extra" site_config $host "$(host_dir $host)"
	sed -i -e '/local_ts = /d' -e '/remote_ts = /d' -e '/mode = tunnel/d' "$(host_dir $host)/swanctl.conf"
done
start_charon "$(ns sun)" "$(host_dir sun)"
start_ikerd moon "$(host_dir moon)"
wait_for_sas moon 2 15
wait_for_sas sun 2 5
for host in moon sun; do
	for _ in $(seq 50); do
		[ "$(ip_in $host xfrm state list proto esp | grep -c 'mode transport')" -eq 2 ] && break
		sleep 0.1
	done
	[ "$(ip_in $host xfrm state list proto esp | grep -c 'mode transport')" -eq 2 ] ||
		fail "$host's SAs are not both in transport mode: $(ip_in $host xfrm state list proto esp | grep -E '^src|mode' | tr '\n' ' ')"
done

out=$(esp_spi moon $MOON_EXT $SUN_EXT)
back=$(esp_spi moon $SUN_EXT $MOON_EXT)
watch_wire sun ext 192.0.2.1/32
in_ns moon ping -n -q -c 3 -i 0.2 -W 5 $SUN_EXT >"$E2E_DIR/ping.log" 2>&1 ||
	fail "moon got no reply from sun: $(grep -E 'transmitted' "$E2E_DIR/ping.log")"
expect_sa_traffic moon $MOON_EXT $SUN_EXT "$out" 3
expect_sa_traffic sun $MOON_EXT $SUN_EXT "$out" 3
expect_sa_traffic sun $SUN_EXT $MOON_EXT "$back" 3
expect_sa_traffic moon $SUN_EXT $MOON_EXT "$back" 3
esp=$(wire_count sun esp)
[ "$esp" != missing ] && [ "$esp" -ge 3 ] || fail "sun's ext saw $esp ESP packets; expected at least 3"
