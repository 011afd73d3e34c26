# Dead peer detection with dpd_action = restart: ikerd on moon checks liveness every 2 s; sun's
# ikerd is killed (SIGKILL: no Delete) and started again. Moon's liveness check goes unanswered,
# moon gives up after strongSwan's retransmission schedule (about 165 s), starts the connection
# again, and alice's pings reach bob through the new tunnel.
# needs: ikerd
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/peers.sh"

topology_site_to_site
site_config sun "$(host_dir sun)"
E2E_CHILD_EXTRA="start_action = start
dpd_action = restart" E2E_CONN_EXTRA="dpd_delay = 2s" site_config moon "$(host_dir moon)"
start_ikerd sun "$(host_dir sun)"
start_ikerd moon "$(host_dir moon)"
wait_for_sas moon 2 15
expect_tunnel_traffic "$(esp_spi moon $MOON_EXT $SUN_EXT)" "$(esp_spi moon $SUN_EXT $MOON_EXT)"
old=$(esp_spi moon $MOON_EXT $SUN_EXT)
kill -KILL "$(cat "$(host_dir sun)/ikerd.pid")"
sleep 1
# A new ikerd on sun clears what the killed one left in the kernel and knows no IKE SA.
start_ikerd sun "$(host_dir sun)"
wait_for_sas sun 0 5 exactly
echo "waiting for moon to give up on the old IKE SA and start again"
for _ in $(seq 240); do
	grep -q "IKE SA .* down: Timeout" "$(host_dir moon)/ikerd.log" && break
	sleep 1
done
grep "IKE SA .* down: Timeout" "$(host_dir moon)/ikerd.log" >/dev/null || fail "moon never gave up on the dead IKE SA"
wait_for_sas sun 2 30
new=$(esp_spi moon $MOON_EXT $SUN_EXT)
[ "$new" != "$old" ] || fail "moon still sends on the dead tunnel's SA $old"
wait_for_sas moon 2 5 exactly
ping_across alice $BOB
expect_esp_both_ways $MOON_EXT $SUN_EXT 3
