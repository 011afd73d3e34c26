# Libreswan 4.10 (pluto) on moon initiates the site-to-site tunnel to ikerd on sun, each side
# proving its FQDN identity with an RSA certificate from a CA made for the run (pluto's in its
# NSS database, ikerd's in x509/, pkcs8/ and x509ca/): both install the Child SA and their
# policies, and alice's pings reach bob through it, counted on both gateways' SAs and on the
# wire; pluto logs that it authenticated sun with its certificate.
# needs: ikerd
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/peers.sh"

topology_site_to_site
site_pluto_config moon "$(host_dir moon)"
pluto_cert_config moon "$(host_dir moon)" rsa
site_config sun "$(host_dir sun)"
cert_config sun "$(host_dir sun)" rsa
start_ikerd sun "$(host_dir sun)"
start_pluto "$(ns moon)" "$(host_dir moon)" net-net
initiate_pluto "$(host_dir moon)" net-net
wait_for_sas moon 2 15
wait_for_sas sun 2 5
expect_tunnel_traffic "$(esp_spi moon $MOON_EXT $SUN_EXT)" "$(esp_spi moon $SUN_EXT $MOON_EXT)"
# pluto writes its log to stderr (pluto.out).
auth=$(grep -E "authenticated peer .* using peer certificate '@sun.example' issued by CA" "$(host_dir moon)/pluto.out") ||
	fail "pluto did not log authenticating sun by its certificate: $(grep -iE 'authenticat|certificate' "$(host_dir moon)/pluto.out" | grep -v '^|' | head -n 5 | tr '\n' ' ')"
echo "pluto on moon: ${auth#*: }"
