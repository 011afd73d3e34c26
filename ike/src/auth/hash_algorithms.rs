//! The SIGNATURE_HASH_ALGORITHMS notify (RFC 7427 4): each side lists, in IKE_SA_INIT, the
//! hashes it can verify signatures with; the signer then picks one the verifier listed.

use super::keys::{Curve, KeyKind};
use super::scheme::{Hash, Scheme};
use crate::crypto::Error;
use crate::wire::{HashAlgorithm, NotifyType, notify};

/// What we announce: the hashes we verify with under method 14 (SHA-1 only for RSA PKCS#1,
/// so it is left out, as RFC 8247 3.2 advises) and Identity for Ed25519 (RFC 8420 2).
pub const OURS: [HashAlgorithm; 4] = [
    HashAlgorithm::SHA2_256,
    HashAlgorithm::SHA2_384,
    HashAlgorithm::SHA2_512,
    HashAlgorithm::IDENTITY,
];

/// The notify data: the 2-octet values in order.
pub fn encode(hashes: &[HashAlgorithm]) -> Vec<u8> {
    hashes
        .iter()
        .flat_map(|hash| hash.0.to_be_bytes())
        .collect()
}

/// The notify payload announcing `hashes`.
pub fn notify(hashes: &[HashAlgorithm]) -> notify::Repr {
    notify::Repr::new(NotifyType::SIGNATURE_HASH_ALGORITHMS, &encode(hashes))
}

/// The announced values, unknown ones kept. An odd length is malformed.
pub fn decode(data: &[u8]) -> Result<Vec<HashAlgorithm>, Error> {
    if !data.len().is_multiple_of(2) {
        return Err(Error::Malformed("SIGNATURE_HASH_ALGORITHMS"));
    }
    Ok(data
        .chunks_exact(2)
        .map(|pair| HashAlgorithm(u16::from_be_bytes([pair[0], pair[1]])))
        .collect())
}

/// The first hash of `preference` that the peer also listed.
pub fn choose(preference: &[HashAlgorithm], peer: &[HashAlgorithm]) -> Option<HashAlgorithm> {
    preference.iter().copied().find(|hash| peer.contains(hash))
}

/// The scheme to sign with a key of `kind`, given the hashes the peer announced (`None` when
/// it sent no SIGNATURE_HASH_ALGORITHMS). `rsa_pss` picks RSASSA-PSS over PKCS#1 v1.5 for RSA
/// keys (strongSwan's `rsa_pss` option, off by default there; RFC 8247 3.2 prefers PSS).
///
/// - ECDSA: with the curve's own hash, under method 14 when the peer listed that hash, else
///   under method 9, 10 or 11 (RFC 4754), which every ECDSA peer verifies;
/// - RSA: method 14 with SHA-256, -384 or -512, the first the peer listed (SHA-256 when it
///   listed nothing): we cannot sign method 1's SHA-1;
/// - Ed25519: method 14 (RFC 8420), which needs the peer to have listed Identity if it listed
///   anything.
pub fn select_scheme(
    kind: KeyKind,
    peer: Option<&[HashAlgorithm]>,
    rsa_pss: bool,
) -> Result<Scheme, Error> {
    let listed = |hash: HashAlgorithm| peer.is_some_and(|peer| peer.contains(&hash));
    match kind {
        KeyKind::Ecdsa(curve) => {
            let hash = match curve {
                Curve::P256 => Hash::Sha256,
                Curve::P384 => Hash::Sha384,
                Curve::P521 => Hash::Sha512,
            };
            Ok(if listed(hash.wire()) {
                Scheme::Ecdsa(hash)
            } else {
                Scheme::EcdsaFixed(curve)
            })
        }
        KeyKind::Rsa => {
            let hash = match peer {
                None => Hash::Sha256,
                Some(peer) => [Hash::Sha256, Hash::Sha384, Hash::Sha512]
                    .into_iter()
                    .find(|hash| peer.contains(&hash.wire()))
                    .ok_or(Error::Unsupported("signature hash the peer verifies"))?,
            };
            Ok(if rsa_pss {
                Scheme::RsaPss(hash)
            } else {
                Scheme::RsaPkcs1(hash)
            })
        }
        KeyKind::Ed25519 => match peer {
            Some(peer) if !peer.contains(&HashAlgorithm::IDENTITY) => Err(Error::Unsupported(
                "Ed25519 without the peer's Identity hash",
            )),
            _ => Ok(Scheme::Ed25519),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Message, Payload};

    #[test]
    fn encode_decode() {
        let data = encode(&OURS);
        assert_eq!(data, [0, 2, 0, 3, 0, 4, 0, 5]);
        assert_eq!(decode(&data).unwrap(), OURS);
        assert_eq!(decode(&[0x12, 0x34]).unwrap(), [HashAlgorithm(0x1234)]);
        assert_eq!(decode(&[]).unwrap(), []);
        assert!(decode(&[0, 2, 0]).is_err());
        let payload = notify(&OURS);
        assert_eq!(payload.ty, NotifyType::SIGNATURE_HASH_ALGORITHMS);
        assert_eq!(payload.data, data);
    }

    /// strongSwan 5.9.8 announces its hashes in IKE_SA_INIT, request and response: decode
    /// what it sent in the captures of `ike/testdata` (the Libreswan captures carry none).
    #[test]
    fn real_peers_announcements() {
        let strongswan = [
            HashAlgorithm::SHA2_256,
            HashAlgorithm::SHA2_384,
            HashAlgorithm::SHA2_512,
            HashAlgorithm::IDENTITY,
        ];
        for (file, expected) in [
            (
                "strongswan-5.9.8-ike-sa-init-request-default-to-libreswan.hex",
                &strongswan,
            ),
            (
                "strongswan-5.9.8-ike-sa-init-response-default-to-strongswan.hex",
                &strongswan,
            ),
        ] {
            let path = format!("{}/testdata/{file}", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(&path).unwrap();
            let bytes = crate::crypto::testing::hex(&text);
            let message = Message::parse(&bytes).unwrap();
            let announced = message
                .payloads
                .iter()
                .find_map(|payload| match payload {
                    Payload::Notify(n) if n.ty == NotifyType::SIGNATURE_HASH_ALGORITHMS => {
                        Some(decode(&n.data).unwrap())
                    }
                    _ => None,
                })
                .unwrap_or_else(|| panic!("{file}: no SIGNATURE_HASH_ALGORITHMS"));
            assert_eq!(announced, *expected, "{file}");
            assert_eq!(choose(&OURS, &announced), Some(HashAlgorithm::SHA2_256));
        }
    }

    #[test]
    fn choosing() {
        let peer = [HashAlgorithm::SHA2_512, HashAlgorithm::SHA2_384];
        assert_eq!(choose(&OURS, &peer), Some(HashAlgorithm::SHA2_384));
        assert_eq!(choose(&OURS, &[HashAlgorithm::SHA1]), None);

        let p256 = KeyKind::Ecdsa(Curve::P256);
        assert_eq!(
            select_scheme(p256, None, false),
            Ok(Scheme::EcdsaFixed(Curve::P256))
        );
        assert_eq!(
            select_scheme(p256, Some(&OURS), false),
            Ok(Scheme::Ecdsa(Hash::Sha256))
        );
        assert_eq!(
            select_scheme(KeyKind::Ecdsa(Curve::P521), Some(&peer), false),
            Ok(Scheme::Ecdsa(Hash::Sha512))
        );
        assert_eq!(
            select_scheme(p256, Some(&peer), false),
            Ok(Scheme::EcdsaFixed(Curve::P256))
        );
        assert_eq!(
            select_scheme(KeyKind::Rsa, None, false),
            Ok(Scheme::RsaPkcs1(Hash::Sha256))
        );
        assert_eq!(
            select_scheme(KeyKind::Rsa, Some(&peer), true),
            Ok(Scheme::RsaPss(Hash::Sha384))
        );
        assert!(select_scheme(KeyKind::Rsa, Some(&[HashAlgorithm::SHA1]), true).is_err());
        assert_eq!(
            select_scheme(KeyKind::Ed25519, Some(&OURS), false),
            Ok(Scheme::Ed25519)
        );
        assert!(select_scheme(KeyKind::Ed25519, Some(&peer), false).is_err());
    }
}
