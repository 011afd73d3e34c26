# Rekeying by volume between ikerd on moon and strongSwan 5.9.8 on sun, with no time limits:
# moon's SAs are rekeyed after 90-100 KiB (rekey_bytes = 100k, rand_bytes = 10k), sun's after
# 85-100 packets (rekey_packets = 100, rand_packets = 15), whichever kernel reports first,
# while alice pings bob 50 times a second with 1,000 bytes of data: both kernels report soft
# expiries and both daemons rekey on them, not one echo is lost, every one crosses as ESP, and
# one SA pair is left between rekeys.
# needs: ikerd
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/peers.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib-rekey.sh"

topology_site_to_site
E2E_CHILD_EXTRA="rekey_time = 0
rekey_bytes = 100k
life_bytes = 1m
rand_bytes = 10k
start_action = start" site_config moon "$(host_dir moon)"
E2E_CHILD_EXTRA="rekey_time = 0
rekey_packets = 100
life_packets = 2000
rand_packets = 15" site_config sun "$(host_dir sun)"
# Each charon log line written at once, so the log is whole when it is read below.
sed -i "s|^\t\t\tpath = .*|&\n\t\t\tflush_line = yes|" "$(host_dir sun)/strongswan.conf"
start_charon "$(ns sun)" "$(host_dir sun)"
start_ikerd moon "$(host_dir moon)"
wait_for_sas moon 2 15
wait_for_sas sun 2 5

ping_through 40 1000
expect_rekeys moon 10 0
soft=$(grep -c 'kernel event Expire .*hard: false' "$(host_dir moon)/ikerd.log" || true)
hard=$(grep -c 'kernel event Expire .*hard: true' "$(host_dir moon)/ikerd.log" || true)
echo "moon: the kernel reported $soft soft and $hard hard expiries"
[ "$soft" -ge 2 ] && [ "$hard" = 0 ] || fail "moon: $soft soft and $hard hard expiries; expected soft ones only"
charon_rekeys=$(grep -c 'creating rekey job for CHILD_SA' "$(host_dir sun)/charon.log" || true)
charon_deletes=$(grep -c 'creating delete job for CHILD_SA' "$(host_dir sun)/charon.log" || true)
echo "sun: charon created $charon_rekeys rekey and $charon_deletes delete jobs on the kernel's expiries"
[ "$charon_rekeys" -ge 2 ] && [ "$charon_deletes" = 0 ] ||
	fail "charon on sun: $charon_rekeys rekeys and $charon_deletes deletes on expiries; expected rekeys only"
expect_one_pair_then_clean_stop charon
