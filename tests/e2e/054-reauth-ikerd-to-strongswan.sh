# Reauthentication (reauth_time) between ikerd on moon and strongSwan 5.9.8 on sun: after about
# 15 s moon deletes the IKE SA and negotiates a new one with its Child SA, as strongSwan 5.9
# reauthenticates by default (break before make). Afterwards both sides hold one IKE SA and one
# Child SA with new SPIs, and alice's pings reach bob through it.
# needs: ikerd
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/peers.sh"

topology_site_to_site
site_config sun "$(host_dir sun)"
E2E_CHILD_EXTRA="start_action = start" E2E_CONN_EXTRA="reauth_time = 15s" \
	site_config moon "$(host_dir moon)"
start_charon "$(ns sun)" "$(host_dir sun)"
start_ikerd moon "$(host_dir moon)"
wait_for_sas moon 2 15
old=$(esp_spi moon $MOON_EXT $SUN_EXT)
expect_tunnel_traffic "$old" "$(esp_spi moon $SUN_EXT $MOON_EXT)"

log=$(host_dir moon)/ikerd.log
for _ in $(seq 40); do
	grep -q "down: Reauthenticating" "$log" && break
	sleep 1
done
grep -q "down: Reauthenticating" "$log" || fail "moon did not reauthenticate within 40 s"
for _ in $(seq 50); do
	[ "$(grep -c "IKE SA established" "$log")" -ge 2 ] && break
	sleep 0.2
done
[ "$(grep -c "IKE SA established" "$log")" -ge 2 ] || fail "no new IKE SA after the reauthentication"
wait_for_sas moon 2 10 exactly
wait_for_sas sun 2 10 exactly
new=$(esp_spi moon $MOON_EXT $SUN_EXT)
[ "$new" != "$old" ] || fail "moon still sends on the old Child SA $old"
sun_dir=$(host_dir sun)
ikes=$(STRONGSWAN_CONF="$sun_dir/strongswan.conf" swanctl --list-sas --uri "unix://$sun_dir/charon.vici" |
	grep -c "ESTABLISHED, IKEv2" || true)
[ "$ikes" = 1 ] || fail "sun's charon holds $ikes IKE SAs after the reauthentication"
ping_across alice $BOB
expect_esp_both_ways $MOON_EXT $SUN_EXT 3
