# Algorithms and key exchanges with Libreswan 4.10, both ways: for each pair below (pluto's
# ike= and esp= words, and swanctl.conf's for ikerd), one side initiates, both install the Child
# SA, and alice's pings reach bob through it as ESP counted on both gateways. Covered:
# AES-CBC-256 with SHA2-512 and MODP-4096, ChaCha20-Poly1305 with X25519, AES-GCM-128 with
# ECP-256 and PFS in the Child SA, AES-CBC-128 with SHA-1 and MODP-2048.
# needs: ikerd
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/peers.sh"

topology_site_to_site

# PLUTO-IKE|PLUTO-ESP|PLUTO-PFS|IKERD-IKE|IKERD-ESP
variants=(
	"aes256-sha2_512-modp4096|aes256-sha2_512|no|aes256-sha512-modp4096|aes256-sha512"
	"chacha20_poly1305-sha2_256-dh31|chacha20_poly1305|no|chacha20poly1305-prfsha256-x25519|chacha20poly1305"
	"aes_gcm128-sha2_256-dh19|aes_gcm128-none-dh19|yes|aes128gcm16-prfsha256-ecp256|aes128gcm16-ecp256"
	"aes128-sha1-modp2048|aes128-sha1|no|aes128-sha1-modp2048|aes128-sha1"
)

# one INITIATOR VARIANT: INITIATOR (ikerd or pluto) on moon starts the tunnel to the other on
# sun with the variant's proposals.
one() {
	local initiator=$1 p_ike p_esp p_pfs i_ike i_esp pluto_host ikerd_host
	IFS='|' read -r p_ike p_esp p_pfs i_ike i_esp <<<"$2"
	echo "== $initiator initiates: pluto ike=$p_ike esp=$p_esp pfs=$p_pfs; ikerd $i_ike / $i_esp"
	if [ "$initiator" = ikerd ]; then pluto_host=sun ikerd_host=moon; else pluto_host=moon ikerd_host=sun; fi
	rm -rf "$(host_dir moon)" "$(host_dir sun)"
	E2E_PLUTO_IKE=$p_ike E2E_PLUTO_ESP=$p_esp site_pluto_config $pluto_host "$(host_dir $pluto_host)"
	sed -i "s/^\(\s*\)pfs=no/\1pfs=$p_pfs/" "$(host_dir $pluto_host)/ipsec.conf"
	if [ "$initiator" = ikerd ]; then
		E2E_IKE_PROPOSALS=$i_ike E2E_ESP_PROPOSALS=$i_esp E2E_CHILD_EXTRA="start_action = start" \
			site_config moon "$(host_dir moon)"
		start_pluto "$(ns sun)" "$(host_dir sun)" net-net
		start_ikerd moon "$(host_dir moon)"
	else
		E2E_IKE_PROPOSALS=$i_ike E2E_ESP_PROPOSALS=$i_esp site_config sun "$(host_dir sun)"
		start_ikerd sun "$(host_dir sun)"
		start_pluto "$(ns moon)" "$(host_dir moon)" net-net
		initiate_pluto "$(host_dir moon)" net-net
	fi
	wait_for_sas moon 2 20
	wait_for_sas sun 2 5
	ping_across alice $BOB
	expect_esp_both_ways $MOON_EXT $SUN_EXT 3
	stop_ikerd $ikerd_host "$(host_dir $ikerd_host)"
	stop_ns_leftovers "$(ns $pluto_host)"
	ip_in $pluto_host xfrm state flush
	ip_in $pluto_host xfrm policy flush
	wait_for_sas moon 0 5 exactly
	wait_for_sas sun 0 5 exactly
}

for variant in "${variants[@]}"; do
	one ikerd "$variant"
	one pluto "$variant"
done
