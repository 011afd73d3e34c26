# Rekeying by volume between two ikerd, with no time limits: moon's Child SAs are rekeyed
# after 90-100 KiB (rekey_bytes = 100k, rand_bytes = 10k: 89 to 99 echoes of 1,028 bytes),
# sun's after 85-100 packets (rekey_packets = 100, rand_packets = 15), whichever the kernel
# reports first (each new SA draws its own limit, so each side's limit comes first some of the
# time), while alice pings bob 50 times a second with 1,000 bytes of data. Both kernels carry the limits ikerd set,
# the rekeys happen (each started by the kernel's soft expiry: there is no timer to start
# them), not one echo is lost, every one crosses as ESP, and one SA pair is left between rekeys.
# needs: ikerd
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/peers.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib-rekey.sh"

topology_site_to_site
# rekey_time = 0: no time limit, so only the kernel's counters can start a rekey. The hard
# limits are far enough away that a rekey under emulation is not cut off.
E2E_CHILD_EXTRA="rekey_time = 0
rekey_bytes = 100k
life_bytes = 1m
rand_bytes = 10k
start_action = start" site_config moon "$(host_dir moon)"
E2E_CHILD_EXTRA="rekey_time = 0
rekey_packets = 100
life_packets = 2000
rand_packets = 15" site_config sun "$(host_dir sun)"
start_ikerd sun "$(host_dir sun)"
start_ikerd moon "$(host_dir moon)"
wait_for_sas moon 2 15
wait_for_sas sun 2 5

# limits HOST: "SOFT-BYTES HARD-BYTES SOFT-PACKETS HARD-PACKETS" of HOST's SA to sun, as the
# kernel holds them ("INF" for none; iproute2 writes "soft (INF)(bytes)").
limits() {
	ip_in "$1" -s xfrm state list src $MOON_EXT dst $SUN_EXT proto esp |
		sed -nE 's/^[[:space:]]*limit: soft \(?([0-9]+|INF)\)?\((bytes|packets)\), hard \(?([0-9]+|INF)\)?\(.*/\1 \3/p' |
		head -n 2 | tr '\n' ' '
	echo
}
read -r soft_bytes hard_bytes soft_packets hard_packets < <(limits moon)
echo "moon's SA to sun: soft $soft_bytes bytes, hard $hard_bytes bytes, soft $soft_packets packets, hard $hard_packets packets"
[ "$soft_bytes" -ge 92160 ] && [ "$soft_bytes" -le 102400 ] && [ "$hard_bytes" = 1048576 ] &&
	[ "$soft_packets" = INF ] && [ "$hard_packets" = INF ] ||
	fail "moon's SA has the wrong limits: $(limits moon)"
read -r soft_bytes hard_bytes soft_packets hard_packets < <(limits sun)
echo "sun's SA from moon: soft $soft_bytes bytes, hard $hard_bytes bytes, soft $soft_packets packets, hard $hard_packets packets"
[ "$soft_bytes" = INF ] && [ "$soft_packets" -ge 85 ] && [ "$soft_packets" -le 100 ] &&
	[ "$hard_packets" = 2000 ] || fail "sun's SA has the wrong limits: $(limits sun)"

# 40 s of 1,028-byte echoes each way: about 2 MB, 2,000 packets.
ping_through 40 1000
# Every rekey was started by a soft expiry, by moon's bytes or sun's packets: about 20.
expect_rekeys moon 10 0
expect_rekeys sun 10 0
for host in moon sun; do
	soft=$(grep -c 'kernel event Expire .*hard: false' "$(host_dir $host)/ikerd.log" || true)
	hard=$(grep -c 'kernel event Expire .*hard: true' "$(host_dir $host)/ikerd.log" || true)
	echo "$host: the kernel reported $soft soft and $hard hard expiries"
	[ "$soft" -ge 2 ] && [ "$hard" = 0 ] || fail "$host: $soft soft and $hard hard expiries; expected soft ones only"
done
# ikerd's lines name the IKE SA and the Child SA by connection and unique id.
grep -qE ' net-net\[[0-9]+\]: CHILD_SA net-net\{[0-9]+\} [0-9a-f]{8}_i rekeyed, SPIs ' "$(host_dir moon)/ikerd.log" ||
	fail "moon's rekey lines lack the SA's name and ids: $(grep -m 1 rekeyed "$(host_dir moon)/ikerd.log")"
expect_one_pair_then_clean_stop
