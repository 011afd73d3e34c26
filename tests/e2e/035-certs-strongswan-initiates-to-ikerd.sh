# strongSwan 5.9.8 on moon initiates the site-to-site tunnel to ikerd on sun, each side proving
# its identity, a distinguished name (`id = "O=ikerd e2e, CN=sun.example"`), with an ECDSA
# P-256 certificate from a CA made for the run (RFC 7427 signatures, CERTREQ and CERT both
# ways): both install the Child SA and their policies, and alice's pings reach bob through it,
# counted on both gateways' SAs and on the wire.
# needs: ikerd
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/peers.sh"

topology_site_to_site
site_config moon "$(host_dir moon)"
site_config sun "$(host_dir sun)"
cert_config moon "$(host_dir moon)" ecdsa
cert_config sun "$(host_dir sun)" ecdsa
dn_ids "$(host_dir moon)"
dn_ids "$(host_dir sun)"
start_ikerd sun "$(host_dir sun)"
start_charon "$(ns moon)" "$(host_dir moon)"
initiate_charon "$(host_dir moon)" net-net
wait_for_sas moon 2 15
wait_for_sas sun 2 5
expect_tunnel_traffic "$(esp_spi moon $MOON_EXT $SUN_EXT)" "$(esp_spi moon $SUN_EXT $MOON_EXT)"
grep -q "authentication of 'O=ikerd e2e, CN=sun.example' with ECDSA.* successful" "$(host_dir moon)/charon.log" ||
	fail "charon did not log authenticating sun.example with ECDSA: $(grep -i 'authentication of' "$(host_dir moon)/charon.log" | tr '\n' ' ')"
