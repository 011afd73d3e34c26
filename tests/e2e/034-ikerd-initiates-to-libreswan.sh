# ikerd on moon initiates the PSK site-to-site tunnel to Libreswan 4.10 (pluto) on sun at
# start-up (start_action = start), with the proposals of 033: both install the Child SA and
# their policies, and alice's pings reach bob through it, counted on both gateways' SAs and on
# the wire. Then ikerd stops: pluto accepts its Delete and removes its SAs, and ikerd leaves
# nothing in moon's kernel.
# needs: ikerd
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/peers.sh"

topology_site_to_site
site_pluto_config sun "$(host_dir sun)"
E2E_CHILD_EXTRA="start_action = start" site_config moon "$(host_dir moon)"
start_pluto "$(ns sun)" "$(host_dir sun)" net-net
start_ikerd moon "$(host_dir moon)"
wait_for_sas moon 2 15
wait_for_sas sun 2 5
expect_tunnel_traffic "$(esp_spi moon $MOON_EXT $SUN_EXT)" "$(esp_spi moon $SUN_EXT $MOON_EXT)"

stop_ikerd moon "$(host_dir moon)"
wait_for_sas sun 0 5 exactly
[ "$(ip_in moon xfrm state list | grep -c '^src ' || true)" = 0 ] || fail "ikerd left SAs behind on moon"
[ "$(ip_in moon xfrm policy list | grep -c '^src ' || true)" = 0 ] || fail "ikerd left policies behind on moon"
