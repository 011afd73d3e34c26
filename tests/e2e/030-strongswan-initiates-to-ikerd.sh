# strongSwan 5.9.8 on moon initiates the PSK site-to-site tunnel to ikerd on sun: both install
# the Child SA (AES-CBC-128 + HMAC-SHA2-256) and their policies, and alice's pings reach bob
# through it, counted on both gateways' SAs and on the wire.
# needs: ikerd
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/peers.sh"

topology_site_to_site
site_config moon "$(host_dir moon)"
site_config sun "$(host_dir sun)"
start_ikerd sun "$(host_dir sun)"
start_charon "$(ns moon)" "$(host_dir moon)"
initiate_charon "$(host_dir moon)" net-net
wait_for_sas moon 2 15
wait_for_sas sun 2 5
expect_tunnel_traffic "$(esp_spi moon $MOON_EXT $SUN_EXT)" "$(esp_spi moon $SUN_EXT $MOON_EXT)"
