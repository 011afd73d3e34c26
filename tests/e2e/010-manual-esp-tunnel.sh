# A tunnel-mode ESP SA pair (AES-GCM-128) keyed by hand with iproute2 carries alice's pings to
# bob and back: proves the harness, the kernel's ESP and the checks every tunnel scenario uses.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

topology_site_to_site
key=$(random_key 20)
manual_esp_tunnel "$key" "$key"
expect_tunnel_traffic $MANUAL_SPI_MOON_SUN $MANUAL_SPI_SUN_MOON
