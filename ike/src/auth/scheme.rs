//! Signature schemes of the AUTH payload: the classic methods of RFC 7296 3.8 and RFC 4754,
//! and RFC 7427's Digital Signature method, whose AUTH data names its algorithm with a DER
//! AlgorithmIdentifier.

use super::der::{self, Reader, oid};
use super::keys::{Curve, KeyKind};
use crate::crypto::Error;
use crate::wire::{AuthMethod, HashAlgorithm};

/// A hash function of a signature algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hash {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    /// The output length in bytes (RSASSA-PSS salts are this long, RFC 7427 A.4.3).
    pub fn output_len(self) -> usize {
        match self {
            Hash::Sha1 => 20,
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
            Hash::Sha512 => 64,
        }
    }

    /// The value in SIGNATURE_HASH_ALGORITHMS (RFC 7427 4).
    pub fn wire(self) -> HashAlgorithm {
        match self {
            Hash::Sha1 => HashAlgorithm::SHA1,
            Hash::Sha256 => HashAlgorithm::SHA2_256,
            Hash::Sha384 => HashAlgorithm::SHA2_384,
            Hash::Sha512 => HashAlgorithm::SHA2_512,
        }
    }

    fn from_oid(hash: &[u8]) -> Result<Hash, Error> {
        match hash {
            oid::SHA1 => Ok(Hash::Sha1),
            oid::SHA256 => Ok(Hash::Sha256),
            oid::SHA384 => Ok(Hash::Sha384),
            oid::SHA512 => Ok(Hash::Sha512),
            _ => Err(Error::Unsupported("hash algorithm")),
        }
    }
}

/// How AUTH data is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// AUTH method 1 (RFC 7296 3.8): RSASSA-PKCS1-v1_5 with SHA-1. Verified for old peers,
    /// never produced: ring cannot sign with SHA-1, and we send method 14 instead.
    RsaSha1,
    /// AUTH methods 9, 10 and 11 (RFC 4754): ECDSA with the curve's own hash (SHA-256, -384,
    /// -512), the signature as fixed-length r | s.
    EcdsaFixed(Curve),
    /// AUTH method 14 (RFC 7427) with RSASSA-PKCS1-v1_5.
    RsaPkcs1(Hash),
    /// AUTH method 14 with RSASSA-PSS, MGF1 with the same hash, salt as long as the hash
    /// (RFC 7427 A.4.3; what strongSwan sends).
    RsaPss(Hash),
    /// AUTH method 14 with ECDSA, the signature a DER Ecdsa-Sig-Value (RFC 7427 3).
    Ecdsa(Hash),
    /// AUTH method 14 with Ed25519 (RFC 8420), hash "Identity".
    Ed25519,
}

impl Scheme {
    /// The AUTH method that carries this scheme.
    pub fn method(self) -> AuthMethod {
        match self {
            Scheme::RsaSha1 => AuthMethod::RSA_SIG,
            Scheme::EcdsaFixed(Curve::P256) => AuthMethod::ECDSA_SHA256_P256,
            Scheme::EcdsaFixed(Curve::P384) => AuthMethod::ECDSA_SHA384_P384,
            Scheme::EcdsaFixed(Curve::P521) => AuthMethod::ECDSA_SHA512_P521,
            _ => AuthMethod::DIGITAL_SIGNATURE,
        }
    }

    /// The hash, as SIGNATURE_HASH_ALGORITHMS names it (RFC 7427 4, RFC 8420 2).
    pub fn hash(self) -> HashAlgorithm {
        match self {
            Scheme::RsaSha1 => HashAlgorithm::SHA1,
            Scheme::EcdsaFixed(Curve::P256) => HashAlgorithm::SHA2_256,
            Scheme::EcdsaFixed(Curve::P384) => HashAlgorithm::SHA2_384,
            Scheme::EcdsaFixed(Curve::P521) => HashAlgorithm::SHA2_512,
            Scheme::RsaPkcs1(hash) | Scheme::RsaPss(hash) | Scheme::Ecdsa(hash) => hash.wire(),
            Scheme::Ed25519 => HashAlgorithm::IDENTITY,
        }
    }

    /// Whether a key of `kind` can make or check signatures of this scheme.
    pub fn fits(self, kind: KeyKind) -> bool {
        match self {
            Scheme::RsaSha1 | Scheme::RsaPkcs1(_) | Scheme::RsaPss(_) => kind == KeyKind::Rsa,
            Scheme::EcdsaFixed(curve) => kind == KeyKind::Ecdsa(curve),
            Scheme::Ecdsa(_) => matches!(kind, KeyKind::Ecdsa(_)),
            Scheme::Ed25519 => kind == KeyKind::Ed25519,
        }
    }

    /// The DER AlgorithmIdentifier that names a method 14 scheme, byte for byte as RFC 7427
    /// Appendix A lists it (RSA PKCS#1 with NULL parameters, ECDSA and Ed25519 without;
    /// RSASSA-PSS with explicit hash, MGF1 and salt length and no trailer field, which is the
    /// encoding strongSwan sends). None for the classic methods.
    pub fn algorithm_identifier(self) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(67);
        match self {
            Scheme::RsaSha1 | Scheme::EcdsaFixed(_) => return None,
            Scheme::RsaPkcs1(hash) => {
                let algorithm = match hash {
                    Hash::Sha1 => oid::SHA1_WITH_RSA,
                    Hash::Sha256 => oid::SHA256_WITH_RSA,
                    Hash::Sha384 => oid::SHA384_WITH_RSA,
                    Hash::Sha512 => oid::SHA512_WITH_RSA,
                };
                push_algorithm(&mut out, algorithm, Some(&[der::NULL, 0]));
            }
            Scheme::RsaPss(hash) => push_pss(&mut out, hash),
            Scheme::Ecdsa(hash) => {
                let algorithm = match hash {
                    Hash::Sha1 => oid::ECDSA_WITH_SHA1,
                    Hash::Sha256 => oid::ECDSA_WITH_SHA256,
                    Hash::Sha384 => oid::ECDSA_WITH_SHA384,
                    Hash::Sha512 => oid::ECDSA_WITH_SHA512,
                };
                push_algorithm(&mut out, algorithm, None);
            }
            Scheme::Ed25519 => push_algorithm(&mut out, oid::ED25519, None),
        }
        Some(out)
    }

    /// The method 14 scheme a received AlgorithmIdentifier names (RFC 7427 3). Parameters are
    /// parsed, not compared as bytes, so equivalent encodings (a NULL left out, an explicit
    /// trailer field) are accepted.
    pub fn from_algorithm_identifier(bytes: &[u8]) -> Result<Scheme, Error> {
        let (algorithm, params) = der::algorithm_identifier(der::single(bytes, der::SEQUENCE)?)?;
        let null_or_absent = matches!(params, None | Some((der::NULL, [])));
        let scheme = match algorithm {
            oid::SHA1_WITH_RSA => Scheme::RsaPkcs1(Hash::Sha1),
            oid::SHA256_WITH_RSA => Scheme::RsaPkcs1(Hash::Sha256),
            oid::SHA384_WITH_RSA => Scheme::RsaPkcs1(Hash::Sha384),
            oid::SHA512_WITH_RSA => Scheme::RsaPkcs1(Hash::Sha512),
            oid::ECDSA_WITH_SHA1 => Scheme::Ecdsa(Hash::Sha1),
            oid::ECDSA_WITH_SHA256 => Scheme::Ecdsa(Hash::Sha256),
            oid::ECDSA_WITH_SHA384 => Scheme::Ecdsa(Hash::Sha384),
            oid::ECDSA_WITH_SHA512 => Scheme::Ecdsa(Hash::Sha512),
            oid::ED25519 if params.is_none() => return Ok(Scheme::Ed25519),
            oid::RSASSA_PSS => {
                return match params {
                    Some((der::SEQUENCE, content)) => pss_params(content).map(Scheme::RsaPss),
                    // No parameters: the RFC 4055 3.1 defaults, SHA-1.
                    _ => Err(Error::Unsupported("RSASSA-PSS with SHA-1")),
                };
            }
            _ => return Err(Error::Unsupported("signature algorithm")),
        };
        if !null_or_absent {
            return Err(Error::Malformed("signature algorithm parameters"));
        }
        Ok(scheme)
    }
}

/// AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL }, with
/// `params` already DER-encoded.
fn push_algorithm(out: &mut Vec<u8>, algorithm: &[u8], params: Option<&[u8]>) {
    let mut body = Vec::with_capacity(algorithm.len() + 64);
    der::push(&mut body, der::OID, algorithm);
    if let Some(params) = params {
        body.extend_from_slice(params);
    }
    der::push(out, der::SEQUENCE, &body);
}

/// id-RSASSA-PSS with RSASSA-PSS-params (RFC 4055 3.1): [0] hash, [1] MGF1 with the same hash,
/// [2] salt length = hash length; the trailer field is the default and so left out (DER).
fn push_pss(out: &mut Vec<u8>, hash: Hash) {
    let hash_oid = match hash {
        Hash::Sha1 => oid::SHA1,
        Hash::Sha256 => oid::SHA256,
        Hash::Sha384 => oid::SHA384,
        Hash::Sha512 => oid::SHA512,
    };
    let mut hash_algorithm = Vec::new();
    push_algorithm(&mut hash_algorithm, hash_oid, Some(&[der::NULL, 0]));
    let mut mgf = Vec::new();
    push_algorithm(&mut mgf, oid::MGF1, Some(&hash_algorithm));
    let mut salt = Vec::new();
    der::push(&mut salt, der::INTEGER, &[hash.output_len() as u8]);
    let mut params = Vec::new();
    der::push(&mut params, 0xa0, &hash_algorithm);
    der::push(&mut params, 0xa1, &mgf);
    der::push(&mut params, 0xa2, &salt);
    let mut sequence = Vec::new();
    der::push(&mut sequence, der::SEQUENCE, &params);
    push_algorithm(out, oid::RSASSA_PSS, Some(&sequence));
}

/// RSASSA-PSS-params (RFC 4055 3.1), reduced to what ring verifies: MGF1 with the signature's
/// hash and a salt as long as the hash.
fn pss_params(content: &[u8]) -> Result<Hash, Error> {
    let mut params = Reader::new(content);
    let hash = match params.optional(0xa0)? {
        Some(inner) => hash_algorithm(der::single(inner, der::SEQUENCE)?)?,
        None => Hash::Sha1,
    };
    let mgf_hash = match params.optional(0xa1)? {
        Some(inner) => {
            let mgf = der::single(inner, der::SEQUENCE)?;
            match der::algorithm_identifier(mgf)? {
                (oid::MGF1, Some((der::SEQUENCE, hash))) => hash_algorithm(hash)?,
                _ => return Err(Error::Unsupported("RSASSA-PSS mask generation function")),
            }
        }
        None => Hash::Sha1,
    };
    let salt_len = match params.optional(0xa2)? {
        Some(inner) => small_integer(der::single(inner, der::INTEGER)?)?,
        None => 20,
    };
    if let Some(inner) = params.optional(0xa3)? {
        // trailerFieldBC(1) is the only trailer field (RFC 4055 3.1).
        if small_integer(der::single(inner, der::INTEGER)?)? != 1 {
            return Err(Error::Unsupported("RSASSA-PSS trailer field"));
        }
    }
    params.finish()?;
    if hash == Hash::Sha1 {
        return Err(Error::Unsupported("RSASSA-PSS with SHA-1"));
    }
    if mgf_hash != hash || salt_len != hash.output_len() {
        return Err(Error::Unsupported(
            "RSASSA-PSS parameters other than MGF1 and salt of the hash",
        ));
    }
    Ok(hash)
}

/// The hash of an AlgorithmIdentifier whose parameters are NULL or absent (RFC 5754 2).
fn hash_algorithm(content: &[u8]) -> Result<Hash, Error> {
    match der::algorithm_identifier(content)? {
        (hash, None | Some((der::NULL, []))) => Hash::from_oid(hash),
        _ => Err(Error::Malformed("hash algorithm parameters")),
    }
}

/// A non-negative INTEGER below 2^16.
fn small_integer(content: &[u8]) -> Result<usize, Error> {
    match content {
        [b] if *b < 0x80 => Ok(usize::from(*b)),
        [0, b] if *b >= 0x80 => Ok(usize::from(*b)),
        [b0, b1] if *b0 != 0 && *b0 < 0x80 => Ok(usize::from(*b0) << 8 | usize::from(*b1)),
        _ => Err(Error::Malformed("DER INTEGER")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::testing::hex;

    /// RFC 7427 Appendix A: the AlgorithmIdentifier encodings, byte for byte.
    #[test]
    fn rfc7427_appendix_a_encodings() {
        let cases = [
            // A.1.2 to A.1.4: sha{256,384,512}WithRSAEncryption.
            (
                Scheme::RsaPkcs1(Hash::Sha256),
                "300d06092a864886f70d01010b0500",
            ),
            (
                Scheme::RsaPkcs1(Hash::Sha384),
                "300d06092a864886f70d01010c0500",
            ),
            (
                Scheme::RsaPkcs1(Hash::Sha512),
                "300d06092a864886f70d01010d0500",
            ),
            // A.1.1: sha1WithRSAEncryption (decoded, never sent).
            (
                Scheme::RsaPkcs1(Hash::Sha1),
                "300d06092a864886f70d0101050500",
            ),
            // A.3.2 to A.3.4: ecdsa-with-SHA{256,384,512}; A.3.1 ecdsa-with-sha1.
            (Scheme::Ecdsa(Hash::Sha256), "300a06082a8648ce3d040302"),
            (Scheme::Ecdsa(Hash::Sha384), "300a06082a8648ce3d040303"),
            (Scheme::Ecdsa(Hash::Sha512), "300a06082a8648ce3d040304"),
            (Scheme::Ecdsa(Hash::Sha1), "300906072a8648ce3d0401"),
            // A.4.3: RSASSA-PSS with SHA-256 (MGF1-SHA-256, salt 32); the SHA-384 and SHA-512
            // forms differ only in the two hash OIDs and the salt length.
            (
                Scheme::RsaPss(Hash::Sha256),
                "304106092a864886f70d01010a3034a00f300d06096086480165030402010500a11c301a06092a86
                 4886f70d010108300d06096086480165030402010500a203020120",
            ),
            (
                Scheme::RsaPss(Hash::Sha384),
                "304106092a864886f70d01010a3034a00f300d06096086480165030402020500a11c301a06092a86
                 4886f70d010108300d06096086480165030402020500a203020130",
            ),
            (
                Scheme::RsaPss(Hash::Sha512),
                "304106092a864886f70d01010a3034a00f300d06096086480165030402030500a11c301a06092a86
                 4886f70d010108300d06096086480165030402030500a203020140",
            ),
            // RFC 8420 2 / RFC 8410 3: id-Ed25519, no parameters.
            (Scheme::Ed25519, "300506032b6570"),
        ];
        for (scheme, expected) in cases {
            let expected = hex(expected);
            assert_eq!(
                scheme.algorithm_identifier().unwrap(),
                expected,
                "{scheme:?}"
            );
            assert_eq!(Scheme::from_algorithm_identifier(&expected), Ok(scheme));
            assert_eq!(scheme.method(), AuthMethod::DIGITAL_SIGNATURE);
        }
        assert_eq!(Scheme::RsaSha1.algorithm_identifier(), None);
    }

    /// RFC 7427 A.4.2: RSASSA-PSS with the default parameters spelt out (SHA-1, MGF1-SHA-1,
    /// salt 20, trailer 1). It parses, and is refused because ring has no PSS with SHA-1.
    #[test]
    fn rfc7427_pss_default_parameters() {
        let a42 = hex(
            "303e06092a864886f70d01010a3031a00b300906052b0e03021a0500a118301606092a864886f70d
             010108300906052b0e03021a0500a203020114a303020101",
        );
        assert_eq!(
            Scheme::from_algorithm_identifier(&a42),
            Err(Error::Unsupported("RSASSA-PSS with SHA-1"))
        );
        // No parameters at all: the RFC 4055 3.1 defaults again.
        assert_eq!(
            Scheme::from_algorithm_identifier(&hex("300b06092a864886f70d01010a")),
            Err(Error::Unsupported("RSASSA-PSS with SHA-1"))
        );
    }

    #[test]
    fn equivalent_encodings_and_refusals() {
        // sha256WithRSAEncryption without its NULL, and PSS with an explicit trailer field.
        assert_eq!(
            Scheme::from_algorithm_identifier(&hex("300b06092a864886f70d01010b")),
            Ok(Scheme::RsaPkcs1(Hash::Sha256))
        );
        let mut pss = Scheme::RsaPss(Hash::Sha256).algorithm_identifier().unwrap();
        pss.extend([0xa3, 0x03, 0x02, 0x01, 0x01]);
        pss[1] += 5;
        pss[14] += 5;
        assert_eq!(
            Scheme::from_algorithm_identifier(&pss),
            Ok(Scheme::RsaPss(Hash::Sha256))
        );
        // PSS with SHA-256 but a 20-byte salt: ring cannot verify it.
        let mut short_salt = Scheme::RsaPss(Hash::Sha256).algorithm_identifier().unwrap();
        *short_salt.last_mut().unwrap() = 20;
        assert!(matches!(
            Scheme::from_algorithm_identifier(&short_salt),
            Err(Error::Unsupported(_))
        ));
        // Ed448, and parameters where none belong (a NULL after ECDSA is tolerated).
        assert!(Scheme::from_algorithm_identifier(&hex("300506032b6571")).is_err());
        assert!(Scheme::from_algorithm_identifier(&hex("300706032b65700500")).is_err());
        assert_eq!(
            Scheme::from_algorithm_identifier(&hex("300f06082a8648ce3d04030206032b6570")),
            Err(Error::Malformed("signature algorithm parameters"))
        );
        let good = Scheme::Ecdsa(Hash::Sha256).algorithm_identifier().unwrap();
        for len in 0..good.len() {
            assert!(Scheme::from_algorithm_identifier(&good[..len]).is_err());
        }
    }

    #[test]
    fn methods_and_hashes() {
        assert_eq!(Scheme::RsaSha1.method(), AuthMethod::RSA_SIG);
        assert_eq!(
            Scheme::EcdsaFixed(Curve::P521).method(),
            AuthMethod::ECDSA_SHA512_P521
        );
        assert_eq!(Scheme::Ed25519.hash(), HashAlgorithm::IDENTITY);
        assert!(Scheme::Ecdsa(Hash::Sha384).fits(KeyKind::Ecdsa(Curve::P256)));
        assert!(!Scheme::EcdsaFixed(Curve::P256).fits(KeyKind::Ecdsa(Curve::P384)));
        assert!(!Scheme::RsaPss(Hash::Sha256).fits(KeyKind::Ed25519));
    }
}
