# Dead peer detection with dpd_action = clear: ikerd on moon checks liveness every 2 s, with a
# short retransmission schedule from its strongswan.conf (retransmit_timeout = 1,
# retransmit_base = 1.5, retransmit_tries = 3: it gives up about 8 s after the first unanswered
# check). Sun's ikerd is killed (SIGKILL: no Delete); moon gives up on the IKE SA and clears it:
# not one SA or policy of the connection is left in moon's kernel, and ikerd lists no IKE SA.
# needs: ikerd
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/peers.sh"

# spd_count HOST: HOST's policies, without the IKE sockets' own bypass policies.
spd_count() { ip_in "$1" xfrm policy list | grep -cE '^\s*dir (in|out|fwd) ' || true; }
sa_count() { ip_in "$1" xfrm state list | grep -c '^src ' || true; }
# ike_sas: the IKE SAs moon's ikerd lists to strongSwan's swanctl over VICI.
ike_sas() {
	STRONGSWAN_CONF="$(host_dir moon)/strongswan.conf" swanctl --list-sas --noblock \
		--uri "unix://$(host_dir moon)/charon.vici" 2>&1
}

topology_site_to_site
site_config sun "$(host_dir sun)"
E2E_CHILD_EXTRA="start_action = start
dpd_action = clear" E2E_CONN_EXTRA="dpd_delay = 2s" site_config moon "$(host_dir moon)"
cat >"$(host_dir moon)/ikerd-strongswan.conf" <<'CONF'
charon {
	retransmit_timeout = 1
	retransmit_base = 1.5
	retransmit_tries = 3
}
CONF
start_ikerd sun "$(host_dir sun)"
start_ikerd moon "$(host_dir moon)"
wait_for_sas moon 2 15
expect_tunnel_traffic "$(esp_spi moon $MOON_EXT $SUN_EXT)" "$(esp_spi moon $SUN_EXT $MOON_EXT)"
[ "$(spd_count moon)" = 3 ] || fail "moon has $(spd_count moon) policies with the tunnel up; expected 3"
ike_sas | grep -q 'net-net: #' || fail "moon's ikerd lists no IKE SA with the tunnel up: $(ike_sas)"

kill -KILL "$(cat "$(host_dir sun)/ikerd.pid")"
killed=$SECONDS
echo "sun's ikerd killed; waiting for moon to give up and clear"
for _ in $(seq 300); do
	grep -q "IKE SA .* down: Timeout" "$(host_dir moon)/ikerd.log" && break
	sleep 0.1
done
grep "IKE SA .* down: Timeout" "$(host_dir moon)/ikerd.log" >/dev/null ||
	fail "moon did not give up on the dead IKE SA within 30 s"
echo "moon gave up $((SECONDS - killed)) s after sun's ikerd was killed"
wait_for_sas moon 0 5 exactly
policies=$(spd_count moon)
[ "$policies" = 0 ] || fail "moon keeps $policies policies after dpd_action = clear: $(ip_in moon xfrm policy list)"
listed=$(ike_sas)
! grep -q 'net-net' <<<"$listed" || fail "moon's ikerd still lists an IKE SA: $listed"
echo "moon: $(sa_count moon) SAs, $policies policies, no IKE SA listed"
# Nothing comes back: no restart, no trap.
sleep 3
[ "$(sa_count moon)" = 0 ] && [ "$(spd_count moon)" = 0 ] || fail "moon installed something again after clearing"
