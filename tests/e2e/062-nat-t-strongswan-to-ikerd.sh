# strongSwan 5.9.8 on moon, behind carol's NAT, initiates the PSK tunnel to ikerd on sun, which
# accepts any address: ikerd answers NAT detection, follows moon to port 4500 through the NAT,
# the Child SA is UDP-encapsulated on both gateways, and alice's pings reach bob through it.
# needs: ikerd
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/peers.sh"

topology_nat
site_config moon "$(host_dir moon)"
site_config sun "$(host_dir sun)"
sed -i "s/remote_addrs = .*/remote_addrs = %any/" "$(host_dir sun)/swanctl.conf"
start_ikerd sun "$(host_dir sun)"
start_charon "$(ns moon)" "$(host_dir moon)"
initiate_charon "$(host_dir moon)" net-net
wait_for_sas moon 2 15
wait_for_sas sun 2 5
expect_nat_t_traffic
