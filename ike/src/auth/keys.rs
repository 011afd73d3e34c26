//! Keys for public-key AUTH: private keys as PKCS#8 DER (RFC 5208, RFC 5958), public keys as
//! SubjectPublicKeyInfo DER (RFC 5280 4.1.2.7, what a certificate carries).
//!
//! RSA, ECDSA P-256/P-384 and Ed25519 go to ring; ECDSA P-521, which ring lacks, to the `p521`
//! crate. Private keys are never printed: `Debug` names only the kind of key.

use core::fmt;

use ring::rand::SystemRandom;
use ring::signature::{self as ring_sig, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use zeroize::Zeroizing;

use super::der::{self, Reader, oid};
use crate::crypto::Error;

/// The NIST curves of ECDSA in IKEv2 (RFC 4754).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Curve {
    P256,
    P384,
    P521,
}

impl Curve {
    /// The length of a scalar, and so of r and of s (RFC 4754 7: fixed-length r | s).
    pub fn scalar_len(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
            Curve::P521 => 66,
        }
    }

    fn from_oid(curve: &[u8]) -> Result<Curve, Error> {
        match curve {
            oid::SECP256R1 => Ok(Curve::P256),
            oid::SECP384R1 => Ok(Curve::P384),
            oid::SECP521R1 => Ok(Curve::P521),
            _ => Err(Error::Unsupported("elliptic curve")),
        }
    }
}

/// The kind of a key, for choosing a signature scheme and for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    Rsa,
    Ecdsa(Curve),
    Ed25519,
}

/// A private key to sign AUTH data with.
pub struct PrivateKey {
    inner: PrivateInner,
    pub(crate) rng: SystemRandom,
}

pub(crate) enum PrivateInner {
    Rsa(RsaKeyPair),
    /// P-256 and P-384, signing fixed-length r | s (converted to DER for RFC 7427).
    Ecdsa(Curve, EcdsaKeyPair),
    P521(Box<p521::ecdsa::SigningKey>),
    Ed25519(Ed25519KeyPair),
}

impl PrivateKey {
    /// Reads a PKCS#8 PrivateKeyInfo in DER (`openssl genpkey -outform DER` writes one).
    /// The caller should hold `der` in a wiped buffer such as [`crate::crypto::Secret`].
    pub fn from_pkcs8(der: &[u8]) -> Result<PrivateKey, Error> {
        let rng = SystemRandom::new();
        let (algorithm, params, private_key) = pkcs8_fields(der)?;
        let bad = |_| Error::BadKey("PKCS#8 private key");
        let inner = match algorithm {
            oid::RSA_ENCRYPTION => PrivateInner::Rsa(RsaKeyPair::from_pkcs8(der).map_err(bad)?),
            oid::EC_PUBLIC_KEY => match Curve::from_oid(named_curve(params)?)? {
                Curve::P256 => PrivateInner::Ecdsa(
                    Curve::P256,
                    EcdsaKeyPair::from_pkcs8(&ring_sig::ECDSA_P256_SHA256_FIXED_SIGNING, der, &rng)
                        .map_err(bad)?,
                ),
                Curve::P384 => PrivateInner::Ecdsa(
                    Curve::P384,
                    EcdsaKeyPair::from_pkcs8(&ring_sig::ECDSA_P384_SHA384_FIXED_SIGNING, der, &rng)
                        .map_err(bad)?,
                ),
                Curve::P521 => PrivateInner::P521(Box::new(p521_signing_key(private_key)?)),
            },
            // OpenSSL writes version 1 PKCS#8 without the public key; ring checks it when present.
            oid::ED25519 => {
                PrivateInner::Ed25519(Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).map_err(bad)?)
            }
            _ => return Err(Error::Unsupported("private key algorithm")),
        };
        Ok(PrivateKey { inner, rng })
    }

    /// Reads an RSAPrivateKey in DER (RFC 8017 A.1.2, "PKCS#1": strongSwan's `rsa/` folder,
    /// `-----BEGIN RSA PRIVATE KEY-----`).
    pub fn from_pkcs1(der: &[u8]) -> Result<PrivateKey, Error> {
        let mut algorithm = Vec::new();
        der::push(&mut algorithm, der::OID, oid::RSA_ENCRYPTION);
        der::push(&mut algorithm, der::NULL, &[]);
        PrivateKey::from_pkcs8(&wrap_pkcs8(&algorithm, der))
    }

    /// Reads an ECPrivateKey in DER with its curve named (RFC 5915 3, "SEC1": strongSwan's
    /// `ecdsa/` folder, `-----BEGIN EC PRIVATE KEY-----`).
    pub fn from_sec1(der: &[u8]) -> Result<PrivateKey, Error> {
        let bad = |_| Error::BadKey("SEC1 ECPrivateKey");
        let mut key = Reader::new(der::single(der, der::SEQUENCE).map_err(bad)?);
        if key.expect(der::INTEGER).map_err(bad)? != [1] {
            return Err(Error::BadKey("ECPrivateKey version"));
        }
        key.expect(der::OCTET_STRING).map_err(bad)?;
        // parameters [0] ECParameters: the curve, which PKCS#8 carries in the algorithm.
        let params = key
            .optional(0xa0)
            .map_err(bad)?
            .ok_or(Error::BadKey("ECPrivateKey without its curve"))?;
        let curve = der::single(params, der::OID).map_err(bad)?;
        let mut algorithm = Vec::new();
        der::push(&mut algorithm, der::OID, oid::EC_PUBLIC_KEY);
        der::push(&mut algorithm, der::OID, curve);
        PrivateKey::from_pkcs8(&wrap_pkcs8(&algorithm, der))
    }

    pub fn kind(&self) -> KeyKind {
        match &self.inner {
            PrivateInner::Rsa(_) => KeyKind::Rsa,
            PrivateInner::Ecdsa(curve, _) => KeyKind::Ecdsa(*curve),
            PrivateInner::P521(_) => KeyKind::Ecdsa(Curve::P521),
            PrivateInner::Ed25519(_) => KeyKind::Ed25519,
        }
    }

    pub(crate) fn inner(&self) -> &PrivateInner {
        &self.inner
    }

    /// The matching public key, e.g. to check a configured certificate against the key.
    pub fn public_key(&self) -> PublicKey {
        match &self.inner {
            PrivateInner::Rsa(pair) => PublicKey::Rsa(pair.public_key().as_ref().to_vec()),
            PrivateInner::Ecdsa(curve, pair) => {
                PublicKey::Ecdsa(*curve, pair.public_key().as_ref().to_vec())
            }
            PrivateInner::P521(key) => PublicKey::Ecdsa(
                Curve::P521,
                key.verifying_key().to_sec1_point(false).as_ref().to_vec(),
            ),
            PrivateInner::Ed25519(pair) => PublicKey::Ed25519(
                <[u8; 32]>::try_from(pair.public_key().as_ref()).expect("Ed25519 key is 32 bytes"),
            ),
        }
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey({:?})", self.kind())
    }
}

/// A PKCS#8 PrivateKeyInfo, version 0, around a traditional key, in a wiped buffer.
fn wrap_pkcs8(algorithm: &[u8], key: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut body = Zeroizing::new(Vec::with_capacity(key.len() + 32));
    der::push(&mut body, der::INTEGER, &[0]);
    der::push(&mut body, der::SEQUENCE, algorithm);
    der::push(&mut body, der::OCTET_STRING, key);
    let mut info = Zeroizing::new(Vec::with_capacity(body.len() + 4));
    der::push(&mut info, der::SEQUENCE, &body);
    info
}

/// PrivateKeyInfo ::= SEQUENCE { version, privateKeyAlgorithm AlgorithmIdentifier,
/// privateKey OCTET STRING, ... } (RFC 5208 5): the algorithm, its parameters and the key.
fn pkcs8_fields(der: &[u8]) -> Result<(&[u8], der::Params<'_>, &[u8]), Error> {
    let bad = |_| Error::BadKey("PKCS#8 private key");
    let mut info = Reader::new(der::single(der, der::SEQUENCE).map_err(bad)?);
    let version = info.expect(der::INTEGER).map_err(bad)?;
    if version != [0] && version != [1] {
        return Err(Error::BadKey("PKCS#8 version"));
    }
    let algorithm = info.expect(der::SEQUENCE).map_err(bad)?;
    let (algorithm, params) = der::algorithm_identifier(algorithm).map_err(bad)?;
    let private_key = info.expect(der::OCTET_STRING).map_err(bad)?;
    Ok((algorithm, params, private_key))
}

/// The namedCurve of ECParameters (RFC 5480 2.1.1): the only form IKE peers use.
fn named_curve(params: der::Params<'_>) -> Result<&[u8], Error> {
    match params {
        Some((der::OID, curve)) => Ok(curve),
        _ => Err(Error::Unsupported("EC parameters other than a named curve")),
    }
}

/// ECPrivateKey ::= SEQUENCE { version 1, privateKey OCTET STRING, ... } (RFC 5915 3).
fn p521_signing_key(ec_private_key: &[u8]) -> Result<p521::ecdsa::SigningKey, Error> {
    let bad = |_| Error::BadKey("P-521 private key");
    let mut key = Reader::new(der::single(ec_private_key, der::SEQUENCE).map_err(bad)?);
    if key.expect(der::INTEGER).map_err(bad)? != [1] {
        return Err(Error::BadKey("ECPrivateKey version"));
    }
    let scalar = key.expect(der::OCTET_STRING).map_err(bad)?;
    // Copied into a wiped buffer, left-padded to the field length.
    let mut padded = Zeroizing::new([0u8; 66]);
    if scalar.len() > padded.len() {
        return Err(Error::BadKey("P-521 private key"));
    }
    padded[66 - scalar.len()..].copy_from_slice(scalar);
    p521::ecdsa::SigningKey::from_slice(&padded[..]).map_err(|_| Error::BadKey("P-521 scalar"))
}

/// A public key to verify AUTH data with.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum PublicKey {
    /// RSAPublicKey (RFC 8017 A.1.1) in DER.
    Rsa(Vec<u8>),
    /// The uncompressed point 04 | X | Y (SEC 1 2.3.3).
    Ecdsa(Curve, Vec<u8>),
    Ed25519([u8; 32]),
}

impl PublicKey {
    /// Reads a SubjectPublicKeyInfo in DER (RFC 5280 4.1: a certificate's subject key).
    pub fn from_spki(der: &[u8]) -> Result<PublicKey, Error> {
        let bad = |_| Error::BadKey("SubjectPublicKeyInfo");
        let mut spki = Reader::new(der::single(der, der::SEQUENCE).map_err(bad)?);
        let algorithm = spki.expect(der::SEQUENCE).map_err(bad)?;
        let (algorithm, params) = der::algorithm_identifier(algorithm).map_err(bad)?;
        let bits = spki.expect(der::BIT_STRING).map_err(bad)?;
        spki.finish().map_err(bad)?;
        // The key is a whole number of octets: no unused bits.
        let key = match bits {
            [0, key @ ..] => key,
            _ => return Err(Error::BadKey("SubjectPublicKeyInfo bit string")),
        };
        match algorithm {
            oid::RSA_ENCRYPTION => {
                // RFC 3279 2.3.1: SEQUENCE { modulus INTEGER, publicExponent INTEGER }.
                let mut rsa = Reader::new(der::single(key, der::SEQUENCE).map_err(bad)?);
                rsa.expect(der::INTEGER).map_err(bad)?;
                rsa.expect(der::INTEGER).map_err(bad)?;
                rsa.finish().map_err(bad)?;
                Ok(PublicKey::Rsa(key.to_vec()))
            }
            oid::EC_PUBLIC_KEY => {
                let curve = Curve::from_oid(named_curve(params)?)?;
                if key.len() != 1 + 2 * curve.scalar_len() || key[0] != 0x04 {
                    return Err(Error::Unsupported("EC point other than uncompressed"));
                }
                Ok(PublicKey::Ecdsa(curve, key.to_vec()))
            }
            oid::ED25519 => <[u8; 32]>::try_from(key)
                .map(PublicKey::Ed25519)
                .map_err(|_| Error::BadKey("Ed25519 public key length")),
            _ => Err(Error::Unsupported("public key algorithm")),
        }
    }

    pub fn kind(&self) -> KeyKind {
        match self {
            PublicKey::Rsa(_) => KeyKind::Rsa,
            PublicKey::Ecdsa(curve, _) => KeyKind::Ecdsa(*curve),
            PublicKey::Ed25519(_) => KeyKind::Ed25519,
        }
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = match self {
            PublicKey::Rsa(der) => der.as_slice(),
            PublicKey::Ecdsa(_, point) => point.as_slice(),
            PublicKey::Ed25519(key) => key.as_slice(),
        };
        write!(f, "PublicKey({:?}, ", self.kind())?;
        key.iter().take(8).try_for_each(|b| write!(f, "{b:02x}"))?;
        f.write_str("..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn testdata(name: &str) -> Vec<u8> {
        let path = format!("{}/testdata/keys/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|err| panic!("{path}: {err}"))
    }

    #[test]
    fn every_key_kind_reads_and_matches_its_public_key() {
        for (name, kind) in [
            ("rsa2048", KeyKind::Rsa),
            ("ecdsa-p256", KeyKind::Ecdsa(Curve::P256)),
            ("ecdsa-p384", KeyKind::Ecdsa(Curve::P384)),
            ("ecdsa-p521", KeyKind::Ecdsa(Curve::P521)),
            ("ed25519", KeyKind::Ed25519),
        ] {
            let private = PrivateKey::from_pkcs8(&testdata(&format!("{name}.pk8.der"))).unwrap();
            let public = PublicKey::from_spki(&testdata(&format!("{name}.spki.der"))).unwrap();
            assert_eq!(private.kind(), kind, "{name}");
            assert_eq!(public.kind(), kind, "{name}");
            assert_eq!(private.public_key(), public, "{name}");
        }
    }

    /// The traditional forms of the same keys read into the same keys.
    #[test]
    fn pkcs1_and_sec1_keys() {
        for (file, name, read) in [
            (
                "rsa2048.pkcs1.der",
                "rsa2048",
                PrivateKey::from_pkcs1 as fn(&[u8]) -> Result<PrivateKey, Error>,
            ),
            ("ecdsa-p256.sec1.der", "ecdsa-p256", PrivateKey::from_sec1),
            ("ecdsa-p521.sec1.der", "ecdsa-p521", PrivateKey::from_sec1),
        ] {
            let der = testdata(file);
            let key = read(&der).unwrap_or_else(|e| panic!("{file}: {e}"));
            let public = PublicKey::from_spki(&testdata(&format!("{name}.spki.der"))).unwrap();
            assert_eq!(key.public_key(), public, "{file}");
            for len in 0..der.len() {
                assert!(read(&der[..len]).is_err(), "{file} cut at {len}");
            }
        }
        // One form where the other belongs.
        assert!(PrivateKey::from_sec1(&testdata("rsa2048.pkcs1.der")).is_err());
        assert!(PrivateKey::from_pkcs1(&testdata("ecdsa-p256.sec1.der")).is_err());
    }

    #[test]
    fn debug_shows_no_private_material() {
        let der = testdata("ed25519.pk8.der");
        let key = PrivateKey::from_pkcs8(&der).unwrap();
        assert_eq!(format!("{key:?}"), "PrivateKey(Ed25519)");
    }

    #[test]
    fn junk_and_truncated_keys_are_errors() {
        let pk8 = testdata("ecdsa-p521.pk8.der");
        let spki = testdata("rsa2048.spki.der");
        for len in 0..pk8.len() {
            assert!(PrivateKey::from_pkcs8(&pk8[..len]).is_err());
        }
        for len in 0..spki.len() {
            assert!(PublicKey::from_spki(&spki[..len]).is_err());
        }
        // A public key where a private key belongs, and the other way round.
        assert!(PrivateKey::from_pkcs8(&spki).is_err());
        assert!(PublicKey::from_spki(&pk8).is_err());
        assert!(PublicKey::from_spki(&[0x30, 0x03, 0x30, 0x01, 0x06]).is_err());
    }
}
