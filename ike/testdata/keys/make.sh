#!/usr/bin/env bash
# Regenerates the test keys and the OpenSSL side of the signature cross-checks (see README.md).
# Step 3 needs the ike crate: it signs with our code, then OpenSSL verifies what it wrote.
set -euo pipefail
cd "$(dirname "$0")"

# PKCS#1 and SEC1 forms of keys made before (step 1 runs it; `--traditional-only` alone).
traditional() {
	openssl pkey -inform DER -in rsa2048.pk8.der -outform DER -out rsa2048.pkcs1.der
	for name in ecdsa-p256 ecdsa-p521; do
		openssl pkey -inform DER -in "$name.pk8.der" -outform DER -out "$name.sec1.der"
	done
}
if [[ "${1:-}" == "--traditional-only" ]]; then
	traditional
	exit 0
fi

if [[ "${1:-}" != "--verify-only" ]]; then
	# 1. Keys: PKCS#8 DER private keys and SubjectPublicKeyInfo DER public keys. genpkey writes
	#    RSA and EC keys in their traditional DER forms, so pkcs8 -topk8 converts them.
	generate() {
		local out=$1
		shift
		openssl genpkey "$@" | openssl pkcs8 -topk8 -nocrypt -outform DER -out "$out"
	}
	generate rsa2048.pk8.der -algorithm RSA -pkeyopt rsa_keygen_bits:2048
	generate rsa2048-other.pk8.der -algorithm RSA -pkeyopt rsa_keygen_bits:2048
	for curve in P-256 P-384 P-521; do
		name=ecdsa-$(echo "$curve" | tr -d - | tr 'P' 'p')
		generate "$name.pk8.der" -algorithm EC -pkeyopt ec_paramgen_curve:$curve \
			-pkeyopt ec_param_enc:named_curve
	done
	generate ecdsa-p256-other.pk8.der -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-pkeyopt ec_param_enc:named_curve
	generate ed25519.pk8.der -algorithm ED25519
	for key in *.pk8.der; do
		openssl pkey -inform DER -in "$key" -pubout -outform DER -out "${key%.pk8.der}.spki.der"
	done
	# The same keys in their traditional forms (pkey writes DER keys so), as strongSwan's rsa/ and ecdsa/ folders hold
	# them: PKCS#1 RSAPrivateKey and SEC1 ECPrivateKey (with the curve and the public key).
	traditional

	# 2. Fixed octets, and OpenSSL's signatures over them for our verifier.
	printf 'ikerd signed octets for the RFC 7427 cross-check\n' >octets.bin
	head -c 300 /dev/zero | tr '\0' '\252' >>octets.bin
	openssl dgst -sha1 -keyform DER -sign rsa2048.pk8.der -out openssl-rsa-pkcs1-sha1.sig octets.bin
	openssl dgst -sha256 -keyform DER -sign rsa2048.pk8.der -out openssl-rsa-pkcs1-sha256.sig octets.bin
	openssl dgst -sha384 -keyform DER -sign rsa2048.pk8.der \
		-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:48 -sigopt rsa_mgf1_md:sha384 \
		-out openssl-rsa-pss-sha384.sig octets.bin
	openssl dgst -sha256 -keyform DER -sign rsa2048.pk8.der \
		-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -sigopt rsa_mgf1_md:sha256 \
		-out openssl-rsa-pss-sha256.sig octets.bin
	openssl dgst -sha256 -keyform DER -sign ecdsa-p256.pk8.der -out openssl-ecdsa-p256-sha256.der.sig octets.bin
	openssl dgst -sha512 -keyform DER -sign ecdsa-p521.pk8.der -out openssl-ecdsa-p521-sha512.der.sig octets.bin
	openssl pkeyutl -sign -rawin -keyform DER -inkey ed25519.pk8.der -in octets.bin -out openssl-ed25519.sig

	# 3. Our signatures over the same octets, written by an ignored test.
	IKE_WRITE_KEYS_TESTDATA=1 cargo test -p ike --lib -- --ignored --exact \
		auth::signature_tests::write_our_signatures
fi

# 4. OpenSSL verifies our signatures.
verify() { openssl dgst "$@" octets.bin; }
verify -sha256 -keyform DER -verify rsa2048.spki.der -signature ours-rsa-pkcs1-sha256.sig
verify -sha256 -keyform DER -verify rsa2048.spki.der -sigopt rsa_padding_mode:pss \
	-sigopt rsa_pss_saltlen:32 -sigopt rsa_mgf1_md:sha256 -signature ours-rsa-pss-sha256.sig
verify -sha256 -keyform DER -verify ecdsa-p256.spki.der -signature ours-ecdsa-p256-sha256.der.sig
verify -sha512 -keyform DER -verify ecdsa-p521.spki.der -signature ours-ecdsa-p521-sha512.der.sig
openssl pkeyutl -verify -rawin -pubin -keyform DER -inkey ed25519.spki.der -in octets.bin \
	-sigfile ours-ed25519.sig
