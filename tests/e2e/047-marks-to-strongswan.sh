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
# The marked SA is found only with its mark: moon's counters from the list of all its SAs,
# sun's (no marks) one by one.
counts=$(ip_in moon -s xfrm state list | sed -nE 's/^[[:space:]]*[0-9]+\(bytes\), ([0-9]+)\(packets\).*/\1/p')
echo "moon: packets on its two SAs: $(tr '\n' ' ' <<<"$counts")"
[ "$(wc -l <<<"$counts")" = 2 ] && ! grep -qvE '^([3-9]|[1-9][0-9]+)$' <<<"$counts" ||
	fail "moon's SAs did not both carry the pings: $counts"
for spi in $(ip_in sun xfrm state list | sed -nE 's/.* spi (0x[0-9a-f]+) .*/\1/p'); do
	dir=$(ip_in sun xfrm state list | grep -B1 "spi $spi " | sed -nE 's/^src ([^ ]+) dst ([^ ]+).*/\1 \2/p')
	read -r src dst <<<"$dir"
	expect_sa_traffic sun "$src" "$dst" "$spi" 3
done
stop_ikerd moon "$(host_dir moon)"
wait_for_sas moon 0 5 exactly
[ "$(ip_in moon xfrm policy list | grep -c '^src ' || true)" = 0 ] || fail "ikerd left marked policies behind"
