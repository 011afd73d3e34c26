# Libreswan 4.10 (pluto) on moon initiates the PSK site-to-site tunnel to ikerd on sun: IKE
# AES-GCM-16-256, PRF HMAC-SHA2-384, X25519; ESP AES-CBC-128 + HMAC-SHA2-256 without PFS, FQDN
# identities. Both install the Child SA and their policies, and alice's pings reach bob through
# it, counted on both gateways' SAs and on the wire.
# needs: ikerd
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/peers.sh"

topology_site_to_site
site_pluto_config moon "$(host_dir moon)"
site_config sun "$(host_dir sun)"
start_ikerd sun "$(host_dir sun)"
start_pluto "$(ns moon)" "$(host_dir moon)" net-net
initiate_pluto "$(host_dir moon)" net-net
wait_for_sas moon 2 15
wait_for_sas sun 2 5
expect_tunnel_traffic "$(esp_spi moon $MOON_EXT $SUN_EXT)" "$(esp_spi moon $SUN_EXT $MOON_EXT)"
