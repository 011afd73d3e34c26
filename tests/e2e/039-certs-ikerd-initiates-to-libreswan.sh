# ikerd on moon initiates the site-to-site tunnel to Libreswan 4.10 (pluto) on sun at start-up,
# each side proving its FQDN identity with an ECDSA P-256 certificate from a CA made for the
# run (RFC 7427 signatures; pluto's certificate and key in its NSS database): both install the
# Child SA and their policies, alice's pings reach bob through it, counted on both gateways'
# SAs and on the wire, and pluto logs that it authenticated moon with its certificate.
# needs: ikerd
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/peers.sh"

topology_site_to_site
site_pluto_config sun "$(host_dir sun)"
pluto_cert_config sun "$(host_dir sun)" ecdsa
E2E_CHILD_EXTRA="start_action = start" site_config moon "$(host_dir moon)"
cert_config moon "$(host_dir moon)" ecdsa
start_pluto "$(ns sun)" "$(host_dir sun)" net-net
start_ikerd moon "$(host_dir moon)"
wait_for_sas moon 2 15
wait_for_sas sun 2 5
expect_tunnel_traffic "$(esp_spi moon $MOON_EXT $SUN_EXT)" "$(esp_spi moon $SUN_EXT $MOON_EXT)"
# pluto writes its log to stderr (pluto.out).
auth=$(grep -E "authenticated peer .* using peer certificate '@moon.example' issued by CA" "$(host_dir sun)/pluto.out") ||
	fail "pluto did not log authenticating moon by its certificate: $(grep -iE 'authenticat|certificate' "$(host_dir sun)/pluto.out" | grep -v '^|' | head -n 5 | tr '\n' ' ')"
echo "pluto on sun: ${auth#*: }"
