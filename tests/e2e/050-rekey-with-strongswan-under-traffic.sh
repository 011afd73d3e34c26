# ikerd on moon rekeys the Child SA every 2-3 s, and moon and strongSwan 5.9.8 on sun both
# rekey the IKE SA every quarter minute or so (their IKE rekeys sometimes collide), while alice
# pings bob 50 times a second: not one echo is lost across 20 and more Child SA rekeys, every one crosses as ESP,
# each side holds exactly one SA pair between rekeys, and none once moon's ikerd stops.
# needs: ikerd
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/peers.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib-rekey.sh"

topology_site_to_site
E2E_CHILD_EXTRA="$REKEY_CHILD
start_action = start" E2E_CONN_EXTRA="$REKEY_CONN" site_config moon "$(host_dir moon)"
# sun rekeys the IKE SA too, but leaves the Child SA to moon: colliding Child SA rekeys can
# still cost a packet (see README, Rekeying).
E2E_CHILD_EXTRA="rekey_time = 60s
life_time = 120s" E2E_CONN_EXTRA="rekey_time = 20s" site_config sun "$(host_dir sun)"
start_charon "$(ns sun)" "$(host_dir sun)"
start_ikerd moon "$(host_dir moon)"
wait_for_sas moon 2 15
wait_for_sas sun 2 5
ping_through 60
expect_rekeys moon 20 3
expect_one_pair_then_clean_stop charon
