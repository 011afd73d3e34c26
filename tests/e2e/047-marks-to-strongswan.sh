# Marks (mark_in, mark_out) between ikerd on moon and strongSwan 5.9.8 on sun: moon's policies
# and outbound SA carry mark 7, and its firewall marks what it protects (alice's traffic in,
# and ESP from sun before it is decrypted, so that the decrypted packets meet the marked in and
# fwd policies). alice's pings reach bob as ESP both ways; a child with a fixed reqid ties
# moon's SAs and policies with it.
# needs: ikerd
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/peers.sh"

topology_site_to_site
in_ns moon sh -e -c "
	iptables -t mangle -A PREROUTING -i int -j MARK --set-mark 7
	iptables -t mangle -A PREROUTING -i ext -p esp -j MARK --set-mark 7
" || fail "cannot install moon's marking rules"
site_config sun "$(host_dir sun)"
E2E_CHILD_EXTRA="start_action = start
mark_in = 7
mark_out = 7
reqid = 4242" site_config moon "$(host_dir moon)"
start_charon "$(ns sun)" "$(host_dir sun)"
start_ikerd moon "$(host_dir moon)"
wait_for_sas moon 2 15
wait_for_sas sun 2 5

policies=$(ip_in moon xfrm policy list)
[ "$(grep -c 'mark 0x7/0xffffffff' <<<"$policies")" = 3 ] || fail "moon's policies lack mark 7: $policies"
states=$(ip_in moon xfrm state list)
[ "$(grep -c 'mark 0x7/0xffffffff' <<<"$states")" = 1 ] || fail "moon's outbound SA alone should carry mark 7: $states"
[ "$(grep -c 'reqid 4242 ' <<<"$states")" = 2 ] || fail "moon's SAs lack reqid 4242: $states"
ping_across alice $BOB
expect_esp_both_ways $MOON_EXT $SUN_EXT 3
stop_ikerd moon "$(host_dir moon)"
wait_for_sas moon 0 5 exactly
[ "$(ip_in moon xfrm policy list | grep -c '^src ' || true)" = 0 ] || fail "ikerd left marked policies behind"
