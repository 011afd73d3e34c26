# With no route to the other side's network in their main tables, moon and sun only reach each
# other's hosts through the routes ikerd installs for the tunnel, where strongSwan puts them:
# table 220, looked up by a rule of priority 220, with the gateway's inside address as source.
# When ikerd stops, the routes and the rule go with it.
# needs: ikerd
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/peers.sh"

topology_site_to_site
ip_in moon route del $BOB_NET
ip_in sun route del $ALICE_NET
site_config sun "$(host_dir sun)"
E2E_CHILD_EXTRA="start_action = start" site_config moon "$(host_dir moon)"
start_ikerd sun "$(host_dir sun)"
start_ikerd moon "$(host_dir moon)"
wait_for_sas moon 2 15
wait_for_sas sun 2 5
for host in moon sun; do
	echo "== $host: ip route show table 220; ip rule"
	ip_in $host route show table 220
	ip_in $host rule show | grep -E '^220:' >/dev/null || fail "$host has no rule of priority 220"
done
ip_in moon route show table 220 | grep "^$BOB_NET via $SUN_EXT dev ext .*src $MOON_INT" >/dev/null ||
	fail "moon's table 220 has no route to $BOB_NET via $SUN_EXT from $MOON_INT"
ip_in sun route show table 220 | grep "^$ALICE_NET via $MOON_EXT dev ext .*src $SUN_INT" >/dev/null ||
	fail "sun's table 220 has no route to $ALICE_NET via $MOON_EXT from $SUN_INT"
expect_tunnel_traffic "$(esp_spi moon $MOON_EXT $SUN_EXT)" "$(esp_spi moon $SUN_EXT $MOON_EXT)"
stop_ikerd moon "$(host_dir moon)"
[ -z "$(ip_in moon route show table 220)" ] || fail "moon keeps routes in table 220: $(ip_in moon route show table 220)"
! ip_in moon rule show | grep -E '^220:' >/dev/null || fail "moon keeps the rule of priority 220"
