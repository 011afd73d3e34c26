# ikerd on moon and strongSwan 5.9.8 on sun both rekey the Child SA every few seconds and the
# IKE SA every quarter minute (so their rekeys sometimes collide) while alice pings bob 50 times
# a second: not one echo is lost across 20 and more Child SA rekeys, every one crosses as ESP,
# each side holds exactly one SA pair between rekeys, and none once moon's ikerd stops.
# needs: ikerd
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/peers.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib-rekey.sh"

topology_site_to_site
E2E_CHILD_EXTRA="$REKEY_CHILD
start_action = start" E2E_CONN_EXTRA="$REKEY_CONN" site_config moon "$(host_dir moon)"
E2E_CHILD_EXTRA="rekey_time = 4s
life_time = 20s
rand_time = 1s" E2E_CONN_EXTRA="rekey_time = 20s" site_config sun "$(host_dir sun)"
start_charon "$(ns sun)" "$(host_dir sun)"
start_ikerd moon "$(host_dir moon)"
wait_for_sas moon 2 15
wait_for_sas sun 2 5
ping_through 60
expect_rekeys moon 20 3
expect_one_pair_then_clean_stop charon
