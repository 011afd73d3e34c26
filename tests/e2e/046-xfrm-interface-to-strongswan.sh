# Route-based VPN: ikerd on moon puts the Child SA on XFRM interface 42 (if_id_in, if_id_out)
# and routes bob's network into interface xfrm42; strongSwan 5.9.8 on sun keeps its policies.
# Only what goes through xfrm42 is protected: alice's pings reach bob as ESP both ways and come
# back out of xfrm42 on moon (its counters grow), and the SAs and policies carry the id.
# needs: ikerd
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/peers.sh"

topology_site_to_site
ip_in moon -batch - <<EOF_IP || fail "cannot make moon's XFRM interface"
link add xfrm42 type xfrm dev ext if_id 42
link set xfrm42 up
route replace $BOB_NET dev xfrm42
EOF_IP
site_config sun "$(host_dir sun)"
E2E_CHILD_EXTRA="start_action = start" E2E_CONN_EXTRA="if_id_in = 42
if_id_out = 42" site_config moon "$(host_dir moon)"
start_charon "$(ns sun)" "$(host_dir sun)"
start_ikerd moon "$(host_dir moon)"
wait_for_sas moon 2 15
wait_for_sas sun 2 5

states=$(ip_in moon xfrm state list)
[ "$(grep -c 'if_id 0x2a' <<<"$states")" = 2 ] || fail "moon's SAs lack if_id 42: $states"
policies=$(ip_in moon xfrm policy list)
[ "$(grep -c 'if_id 0x2a' <<<"$policies")" = 3 ] || fail "moon's policies lack if_id 42: $policies"

rx_before=$(ip_in moon -s link show xfrm42 | awk '/RX:/ { getline; print $2 }')
expect_tunnel_traffic "$(esp_spi moon $MOON_EXT $SUN_EXT)" "$(esp_spi moon $SUN_EXT $MOON_EXT)"
rx_after=$(ip_in moon -s link show xfrm42 | awk '/RX:/ { getline; print $2 }')
echo "moon: xfrm42 received $((rx_after - rx_before)) packets"
[ $((rx_after - rx_before)) -ge 3 ] || fail "bob's answers did not come out of xfrm42 ($rx_before -> $rx_after)"
# The interface carries the traffic: no route in table 220 overrides the one into xfrm42.
routes=$(ip_in moon route show table 220 2>/dev/null || true)
[ -z "$routes" ] || fail "moon installed routes past its XFRM interface: $routes"
