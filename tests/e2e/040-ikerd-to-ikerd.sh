# Two ikerd instances, on moon and sun, with the example configurations of etc/, bring up the
# PSK site-to-site tunnel (moon initiates at start-up); alice's pings reach bob through it. The
# log shows each side's SAs as ikerctl lists them (matching the kernel's SPIs), the SAs and
# policies as the kernel holds them, and ikerd's own account: scripts/demo runs this scenario.
# needs: ikerd ikerctl
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/peers.sh"

topology_site_to_site
# The example configurations of etc/, as they are.
for host in moon sun; do
	mkdir -p "$(host_dir $host)"
	cp "$E2E_ROOT/etc/$host/swanctl.conf" "$(host_dir $host)/swanctl.conf"
done
start_ikerd sun "$(host_dir sun)"
start_ikerd moon "$(host_dir moon)"
wait_for_sas moon 2 15
wait_for_sas sun 2 5
expect_tunnel_traffic "$(esp_spi moon $MOON_EXT $SUN_EXT)" "$(esp_spi moon $SUN_EXT $MOON_EXT)"

ikerctl=$(cat "${E2E_ARTIFACTS:?}/ikerctl")
for host in moon sun; do
	echo "== $host: ikerctl list-sas"
	listed=$("$ikerctl" --uri "unix://$(host_dir $host)/charon.vici" list-sas) ||
		fail "ikerctl list-sas on $host failed"
	echo "$listed"
	for spi in $(ip_in $host xfrm state list | sed -nE 's/.* spi 0x([0-9a-f]+) .*/\1/p'); do
		grep -q "$spi" <<<"$listed" || fail "ikerctl on $host does not list the kernel's SA $spi"
	done
	echo "== $host: ip -s xfrm state"
	ip_in $host -s xfrm state list | sed -E 's/(enc|auth|auth-trunc|aead) ([^ ]+) 0x[0-9a-f]+/\1 \2 <key>/'
	echo "== $host: ip xfrm policy"
	ip_in $host xfrm policy list
	echo "== $host: ikerd's log"
	grep -E 'established|listening|CHILD_SA|IKE SA' "$(host_dir $host)/ikerd.log"
done
