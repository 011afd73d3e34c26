# ikerd on moon, behind carol's NAT, and ikerd on sun, which accepts any address: both find the
# NAT in IKE_SA_INIT, IKE moves to port 4500, the Child SA is UDP-encapsulated on both gateways,
# and alice's pings reach bob through it.
# needs: ikerd
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/peers.sh"

topology_nat
E2E_CHILD_EXTRA="start_action = start" site_config moon "$(host_dir moon)"
site_config sun "$(host_dir sun)"
sed -i "s/remote_addrs = .*/remote_addrs = %any/" "$(host_dir sun)/swanctl.conf"
start_ikerd sun "$(host_dir sun)"
start_ikerd moon "$(host_dir moon)"
wait_for_sas moon 2 15
wait_for_sas sun 2 5
expect_nat_t_traffic
