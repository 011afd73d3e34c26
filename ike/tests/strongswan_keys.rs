//! The key schedule and the SK payload against strongSwan 5.9.8: for three suites, charon's
//! logged keys and the IKE_SA_INIT and IKE_AUTH messages it exchanged (ike/testdata/
//! strongswan-5.9.8-keys-*.txt, made by scripts/capture-ike-keys). From the nonces, SPIs and
//! shared secret we derive every key charon logged; with them we open its IKE_AUTH messages,
//! parse what is inside, protect it again to the same bytes, and verify the AUTH payloads.

mod keys_common;

use keys_common::check;

#[test]
fn aes256gcm16_prfsha384_x25519() {
    check("strongswan-5.9.8-keys-aes256gcm16-prfsha384-x25519.txt");
}

#[test]
fn aes128_sha256_modp2048() {
    check("strongswan-5.9.8-keys-aes128-sha256-modp2048.txt");
}

#[test]
fn chacha20poly1305_prfsha256_ecp256() {
    check("strongswan-5.9.8-keys-chacha20poly1305-prfsha256-ecp256.txt");
}
