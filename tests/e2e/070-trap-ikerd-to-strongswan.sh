# ikerd on moon installs trap policies for the tunnel (start_action = trap) and negotiates
# nothing until alice's first ping to bob meets them; the kernel's acquire starts the exchange
# with strongSwan 5.9.8 on sun, the Child SA takes the trap's reqid and policies, and the
# following pings cross as ESP. When ikerd stops, the trap goes too.
# needs: ikerd
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/peers.sh"

# spd_count: moon's policies, without the IKE sockets' own bypass policies.
spd_count() { ip_in moon xfrm policy list | grep -cE '^\s*dir (in|out|fwd) ' || true; }

topology_site_to_site
E2E_CHILD_EXTRA="start_action = trap" site_config moon "$(host_dir moon)"
site_config sun "$(host_dir sun)"
start_charon "$(ns sun)" "$(host_dir sun)"
start_ikerd moon "$(host_dir moon)"
sleep 2
policies=$(spd_count)
[ "$policies" -eq 3 ] || fail "moon has $policies policies before any traffic; expected the 3 of the trap"
sas=$(ip_in moon xfrm state list | grep -c '^src ' || true)
[ "$sas" -eq 0 ] || fail "moon negotiated before any traffic: $sas SAs"
# The first echo meets the trap and is dropped while the SA is negotiated.
in_ns alice ping -n -c 1 -W 1 $BOB >/dev/null 2>&1 || true
wait_for_sas moon 2 15
wait_for_sas moon 2 5 exactly
wait_for_sas sun 2 5 exactly
policies=$(spd_count)
[ "$policies" -eq 3 ] || fail "moon has $policies policies with the Child SA up; expected the trap's 3, no second set"
reqids=$(ip_in moon xfrm state list | sed -nE 's/.* reqid ([0-9]+) .*/\1/p' | sort -u)
trap_reqid=$(ip_in moon xfrm policy list dir out | sed -nE 's/.* reqid ([0-9]+) .*/\1/p' | sort -u)
[ "$reqids" = "$trap_reqid" ] || fail "moon's SAs have reqid $reqids, the trap $trap_reqid"
expect_tunnel_traffic "$(esp_spi moon $MOON_EXT $SUN_EXT)" "$(esp_spi moon $SUN_EXT $MOON_EXT)"
stop_ikerd moon "$(host_dir moon)"
left=$(spd_count)
[ "$left" -eq 0 ] || fail "moon keeps $left policies after ikerd stopped"
