# The same tunnel with a different key on each gateway carries nothing, and the checks of
# expect_tunnel_traffic say so: proves those checks can fail, and why they would.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

topology_site_to_site
manual_esp_tunnel "$(random_key 20)" "$(random_key 20)"

inner="$E2E_DIR/expected-failure"
if (E2E_REASON=$inner expect_tunnel_traffic $MANUAL_SPI_MOON_SUN $MANUAL_SPI_SUN_MOON) >/dev/null 2>&1; then
	fail "expect_tunnel_traffic passed although the gateways' keys differ"
fi
grep -q "no reply from bob" "$inner" 2>/dev/null ||
	fail "expected the check to fail for want of a reply, it said: $(cat "$inner" 2>/dev/null)"

failed=$(esp_sa_failures sun $MOON_EXT $SUN_EXT $MANUAL_SPI_MOON_SUN)
[ "${failed:-0}" -ge 1 ] || fail "sun's inbound SA rejected ${failed:-no} packets; expected integrity failures"
