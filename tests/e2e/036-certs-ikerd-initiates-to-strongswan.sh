# ikerd on moon initiates the site-to-site tunnel to strongSwan 5.9.8 on sun at start-up, each
# side proving its identity with an RSA certificate from a CA made for the run: both install
# the Child SA and their policies, and alice's pings reach bob through it, counted on both
# gateways' SAs and on the wire.
# needs: ikerd
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/peers.sh"

topology_site_to_site
site_config sun "$(host_dir sun)"
E2E_CHILD_EXTRA="start_action = start" site_config moon "$(host_dir moon)"
cert_config moon "$(host_dir moon)" rsa
cert_config sun "$(host_dir sun)" rsa
start_charon "$(ns sun)" "$(host_dir sun)"
start_ikerd moon "$(host_dir moon)"
wait_for_sas moon 2 15
wait_for_sas sun 2 5
expect_tunnel_traffic "$(esp_spi moon $MOON_EXT $SUN_EXT)" "$(esp_spi moon $SUN_EXT $MOON_EXT)"
grep -q "authentication of 'moon.example' with RSA.* successful" "$(host_dir sun)/charon.log" ||
	fail "charon did not log authenticating moon.example with RSA: $(grep -i 'authentication of' "$(host_dir sun)/charon.log" | tr '\n' ' ')"
