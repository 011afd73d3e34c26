//! The IKE_SA_INIT and IKE_AUTH messages Libreswan 4.10 sends, decoded field for field and
//! re-encoded byte-identical (ike/testdata/libreswan-4.10-keys-*.txt, made by
//! scripts/capture-ike-keys).
//!
//! pluto does not reveal the keys that protect an IKE SA: its `plutodebug=crypt` dumps only what
//! it extracts from NSS as bytes (SK_pi, SK_pr and the 4-byte AEAD salts); g^ir, SKEYSEED,
//! SK_d, SK_a and SK_e stay inside NSS. So each file is an IKE SA between pluto and strongSwan's
//! charon, which logs all of them (filelog `ike = 4`): `-initiator` files have pluto as
//! initiator, so the IKE_SA_INIT and IKE_AUTH requests are Libreswan's; `-responder` files have
//! it as responder, so the responses are. The capture script checked that what pluto logged
//! equals charon's keys. Here, as for strongSwan's own files, we derive every key from the
//! nonces, SPIs and charon's shared secret and compare it with charon's; open both IKE_AUTH
//! messages with them (a message that authenticates under charon's keys was protected with the
//! same keys by pluto); parse every inner payload, emit it again to the decrypted bytes and
//! protect it again with the sender's IV and padding to the bytes on the wire; and verify both
//! AUTH payloads with the PSK.

mod keys_common;

use keys_common::check;

#[test]
fn aes256gcm16_prfsha384_x25519_initiator() {
    check("libreswan-4.10-keys-aes256gcm16-prfsha384-x25519-initiator.txt");
}

#[test]
fn aes256gcm16_prfsha384_x25519_responder() {
    check("libreswan-4.10-keys-aes256gcm16-prfsha384-x25519-responder.txt");
}

#[test]
fn aes128_sha256_modp2048_initiator() {
    check("libreswan-4.10-keys-aes128-sha256-modp2048-initiator.txt");
}

#[test]
fn aes128_sha256_modp2048_responder() {
    check("libreswan-4.10-keys-aes128-sha256-modp2048-responder.txt");
}

#[test]
fn chacha20poly1305_prfsha256_ecp256_initiator() {
    check("libreswan-4.10-keys-chacha20poly1305-prfsha256-ecp256-initiator.txt");
}

#[test]
fn chacha20poly1305_prfsha256_ecp256_responder() {
    check("libreswan-4.10-keys-chacha20poly1305-prfsha256-ecp256-responder.txt");
}
