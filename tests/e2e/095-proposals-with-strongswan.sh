# Algorithms and key exchanges with strongSwan 5.9.8, both ways: for each pair of
# configurations below, one side initiates, both install the Child SA, and alice's pings reach
# bob through it as ESP counted on both gateways. Covered: AES-CBC (128, 192 and 256-bit keys)
# with SHA-1, SHA-256, SHA-384 and SHA-512, AES-GCM (128 and 256), ChaCha20-Poly1305,
# MODP-2048/3072/4096, ECP-256/384, X25519, PFS in the Child SA (a key exchange in
# esp_proposals), ESN, and an initiator whose first key exchange the responder refuses
# (INVALID_KE_PAYLOAD, then the one it wants).
# needs: ikerd
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/peers.sh"

topology_site_to_site

# INITIATOR-IKE|INITIATOR-ESP|RESPONDER-IKE|RESPONDER-ESP
variants=(
	"aes256-sha512-modp4096|aes256-sha512-modp4096|aes256-sha512-modp4096|aes256-sha512-modp4096"
	"chacha20poly1305-prfsha256-x25519|chacha20poly1305-x25519|chacha20poly1305-prfsha256-x25519|chacha20poly1305-x25519"
	"aes128-sha256-ecp256|aes128gcm16-ecp384|aes128-sha256-ecp256|aes128gcm16-ecp384"
	"aes192-sha384-ecp384|aes256gcm16-esn|aes192-sha384-ecp384|aes256gcm16-esn"
	"aes128-sha1-modp2048|aes128-sha1|aes128-sha1-modp2048|aes128-sha1"
	"aes256gcm16-prfsha384-x25519,aes128-sha256-modp3072|aes128-sha256|aes128-sha256-modp3072|aes128-sha256"
)

# one INITIATOR RESPONDER VARIANT: INITIATOR (ikerd or charon, on moon) starts the tunnel to
# RESPONDER (the other, on sun) with the variant's proposals.
one() {
	local initiator=$1 responder=$2 ike_i esp_i ike_r esp_r
	IFS='|' read -r ike_i esp_i ike_r esp_r <<<"$3"
	echo "== $initiator -> $responder: IKE $ike_i / $ike_r, ESP $esp_i / $esp_r"
	rm -rf "$(host_dir moon)" "$(host_dir sun)"
	E2E_IKE_PROPOSALS=$ike_i E2E_ESP_PROPOSALS=$esp_i site_config moon "$(host_dir moon)"
	E2E_IKE_PROPOSALS=$ike_r E2E_ESP_PROPOSALS=$esp_r site_config sun "$(host_dir sun)"
	if [ "$responder" = ikerd ]; then
		start_ikerd sun "$(host_dir sun)"
		start_charon "$(ns moon)" "$(host_dir moon)"
		initiate_charon "$(host_dir moon)" net-net
	else
		start_charon "$(ns sun)" "$(host_dir sun)"
		sed -i 's/start_action = none/start_action = start/' "$(host_dir moon)/swanctl.conf"
		start_ikerd moon "$(host_dir moon)"
	fi
	wait_for_sas moon 2 20
	wait_for_sas sun 2 5
	ping_across alice $BOB
	expect_esp_both_ways $MOON_EXT $SUN_EXT 3
	if [ "$responder" = ikerd ]; then
		stop_ikerd sun "$(host_dir sun)"
		stop_ns_leftovers "$(ns moon)"
		ip_in moon xfrm state flush
		ip_in moon xfrm policy flush
	else
		stop_ikerd moon "$(host_dir moon)"
		stop_ns_leftovers "$(ns sun)"
		ip_in sun xfrm state flush
		ip_in sun xfrm policy flush
	fi
	wait_for_sas moon 0 5 exactly
	wait_for_sas sun 0 5 exactly
}

for variant in "${variants[@]}"; do
	one ikerd charon "$variant"
	one charon ikerd "$variant"
done
