//! Public-key AUTH: signing the signed octets and verifying a peer's signature over them
//! (RFC 7296 2.15; RFC 4754 for methods 9 to 11; RFC 7427 for method 14; RFC 8420 for
//! Ed25519).
//!
//! Method 14's AUTH data (RFC 7427 3):
//!
//! ```text
//! | ASN.1 Length (1 octet) | AlgorithmIdentifier (DER) | Signature Value |
//! ```
//!
//! RSA, ECDSA P-256/P-384 and Ed25519 use ring, whose RSA-PSS salt and ECDSA nonces come from
//! its own system generator; ECDSA P-521 uses the `p521` crate, whose nonces are deterministic
//! (RFC 6979).

use p521::ecdsa::signature::{Signer as _, Verifier as _};
use ring::signature::{self as ring_sig, UnparsedPublicKey, VerificationAlgorithm};

use super::der;
use super::keys::{Curve, PrivateInner, PrivateKey, PublicKey};
use super::octets::SignedOctets;
use super::scheme::{Hash, Scheme};
use crate::crypto::Error;
use crate::wire::AuthMethod;
use crate::wire::auth;

/// Signs `octets` with `key` by `scheme`: the AUTH payload body to send.
pub fn sign(key: &PrivateKey, scheme: Scheme, octets: &SignedOctets) -> Result<auth::Repr, Error> {
    if !scheme.fits(key.kind()) {
        return Err(Error::BadKey("key type for the signature scheme"));
    }
    let signature = sign_raw(key, scheme, octets.as_bytes())?;
    let data = match scheme.algorithm_identifier() {
        None => signature,
        Some(algorithm) => {
            let mut data = Vec::with_capacity(1 + algorithm.len() + signature.len());
            // Every AlgorithmIdentifier we send is shorter than 128 bytes (RFC 7427 A).
            data.push(u8::try_from(algorithm.len()).expect("AlgorithmIdentifier under 256"));
            data.extend_from_slice(&algorithm);
            data.extend_from_slice(&signature);
            data
        }
    };
    Ok(auth::Repr {
        method: scheme.method(),
        data,
    })
}

/// Verifies a peer's AUTH payload over `octets` with the peer's public key, and returns the
/// scheme the peer used, so the caller can hold it to its policy (for instance refuse SHA-1
/// or insist on a hash it announced).
pub fn verify(key: &PublicKey, auth: &auth::Repr, octets: &SignedOctets) -> Result<Scheme, Error> {
    let (scheme, signature) = split_auth_data(auth)?;
    if !scheme.fits(key.kind()) {
        return Err(Error::BadKey("key type for the AUTH method"));
    }
    verify_raw(key, scheme, octets.as_bytes(), signature)?;
    Ok(scheme)
}

/// The scheme and the signature value of a public-key AUTH payload.
fn split_auth_data(auth: &auth::Repr) -> Result<(Scheme, &[u8]), Error> {
    let data = auth.data.as_slice();
    let scheme = match auth.method {
        AuthMethod::RSA_SIG => Scheme::RsaSha1,
        AuthMethod::ECDSA_SHA256_P256 => Scheme::EcdsaFixed(Curve::P256),
        AuthMethod::ECDSA_SHA384_P384 => Scheme::EcdsaFixed(Curve::P384),
        AuthMethod::ECDSA_SHA512_P521 => Scheme::EcdsaFixed(Curve::P521),
        AuthMethod::DIGITAL_SIGNATURE => {
            let (&len, rest) = data
                .split_first()
                .ok_or(Error::Malformed("Digital Signature AUTH data"))?;
            let len = usize::from(len);
            if rest.len() < len {
                return Err(Error::Malformed("Digital Signature AUTH data"));
            }
            let (algorithm, signature) = rest.split_at(len);
            return Ok((Scheme::from_algorithm_identifier(algorithm)?, signature));
        }
        _ => return Err(Error::Unsupported("AUTH method for a public key")),
    };
    Ok((scheme, data))
}

fn sign_raw(key: &PrivateKey, scheme: Scheme, message: &[u8]) -> Result<Vec<u8>, Error> {
    let failed = |_: ring::error::Unspecified| Error::BadKey("signing failed");
    match (key.inner(), scheme) {
        (PrivateInner::Rsa(pair), Scheme::RsaPkcs1(hash) | Scheme::RsaPss(hash)) => {
            let encoding: &'static dyn ring_sig::RsaEncoding = match (scheme, hash) {
                (Scheme::RsaPkcs1(_), Hash::Sha256) => &ring_sig::RSA_PKCS1_SHA256,
                (Scheme::RsaPkcs1(_), Hash::Sha384) => &ring_sig::RSA_PKCS1_SHA384,
                (Scheme::RsaPkcs1(_), Hash::Sha512) => &ring_sig::RSA_PKCS1_SHA512,
                (Scheme::RsaPss(_), Hash::Sha256) => &ring_sig::RSA_PSS_SHA256,
                (Scheme::RsaPss(_), Hash::Sha384) => &ring_sig::RSA_PSS_SHA384,
                (Scheme::RsaPss(_), Hash::Sha512) => &ring_sig::RSA_PSS_SHA512,
                _ => return Err(Error::Unsupported("RSA signing with SHA-1")),
            };
            let mut signature = vec![0; pair.public().modulus_len()];
            pair.sign(encoding, &key.rng, message, &mut signature)
                .map_err(failed)?;
            Ok(signature)
        }
        (PrivateInner::Ecdsa(curve, pair), Scheme::EcdsaFixed(_) | Scheme::Ecdsa(_)) => {
            // ring signs P-256 with SHA-256 and P-384 with SHA-384 only.
            let fixed = match (scheme, curve) {
                (Scheme::EcdsaFixed(_), _)
                | (Scheme::Ecdsa(Hash::Sha256), Curve::P256)
                | (Scheme::Ecdsa(Hash::Sha384), Curve::P384) => {
                    pair.sign(&key.rng, message).map_err(failed)?
                }
                _ => return Err(Error::Unsupported("ECDSA hash other than the curve's")),
            };
            Ok(ecdsa_encoding(scheme, fixed.as_ref()))
        }
        (PrivateInner::P521(signing), Scheme::EcdsaFixed(_) | Scheme::Ecdsa(Hash::Sha512)) => {
            let signature: p521::ecdsa::Signature = signing
                .try_sign(message)
                .map_err(|_| Error::BadKey("signing failed"))?;
            Ok(ecdsa_encoding(scheme, &signature.to_bytes()))
        }
        (PrivateInner::Ed25519(pair), Scheme::Ed25519) => Ok(pair.sign(message).as_ref().to_vec()),
        (_, Scheme::RsaSha1) => Err(Error::Unsupported(
            "RSA with SHA-1 signing (AUTH method 1); sign with method 14",
        )),
        _ => Err(Error::Unsupported("signature scheme for this key")),
    }
}

/// Methods 9 to 11 carry r | s as is (RFC 4754 7); method 14 a DER Ecdsa-Sig-Value (RFC 7427 3).
fn ecdsa_encoding(scheme: Scheme, fixed: &[u8]) -> Vec<u8> {
    match scheme {
        Scheme::EcdsaFixed(_) => fixed.to_vec(),
        _ => der::ecdsa_fixed_to_der(fixed),
    }
}

fn verify_raw(
    key: &PublicKey,
    scheme: Scheme,
    message: &[u8],
    signature: &[u8],
) -> Result<(), Error> {
    let algorithm: &'static dyn VerificationAlgorithm = match (key, scheme) {
        (PublicKey::Ecdsa(Curve::P521, point), _) => {
            return verify_p521(point, scheme, message, signature);
        }
        // RFC 7296 3.8 method 1: PKCS#1 v1.5 with SHA-1, kept for peers that send nothing else.
        (PublicKey::Rsa(_), Scheme::RsaSha1 | Scheme::RsaPkcs1(Hash::Sha1)) => {
            &ring_sig::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY
        }
        (PublicKey::Rsa(_), Scheme::RsaPkcs1(Hash::Sha256)) => {
            &ring_sig::RSA_PKCS1_2048_8192_SHA256
        }
        (PublicKey::Rsa(_), Scheme::RsaPkcs1(Hash::Sha384)) => {
            &ring_sig::RSA_PKCS1_2048_8192_SHA384
        }
        (PublicKey::Rsa(_), Scheme::RsaPkcs1(Hash::Sha512)) => {
            &ring_sig::RSA_PKCS1_2048_8192_SHA512
        }
        (PublicKey::Rsa(_), Scheme::RsaPss(Hash::Sha256)) => &ring_sig::RSA_PSS_2048_8192_SHA256,
        (PublicKey::Rsa(_), Scheme::RsaPss(Hash::Sha384)) => &ring_sig::RSA_PSS_2048_8192_SHA384,
        (PublicKey::Rsa(_), Scheme::RsaPss(Hash::Sha512)) => &ring_sig::RSA_PSS_2048_8192_SHA512,
        (PublicKey::Ecdsa(Curve::P256, _), Scheme::EcdsaFixed(_)) => {
            &ring_sig::ECDSA_P256_SHA256_FIXED
        }
        (PublicKey::Ecdsa(Curve::P384, _), Scheme::EcdsaFixed(_)) => {
            &ring_sig::ECDSA_P384_SHA384_FIXED
        }
        (PublicKey::Ecdsa(Curve::P256, _), Scheme::Ecdsa(Hash::Sha256)) => {
            &ring_sig::ECDSA_P256_SHA256_ASN1
        }
        (PublicKey::Ecdsa(Curve::P256, _), Scheme::Ecdsa(Hash::Sha384)) => {
            &ring_sig::ECDSA_P256_SHA384_ASN1
        }
        (PublicKey::Ecdsa(Curve::P384, _), Scheme::Ecdsa(Hash::Sha256)) => {
            &ring_sig::ECDSA_P384_SHA256_ASN1
        }
        (PublicKey::Ecdsa(Curve::P384, _), Scheme::Ecdsa(Hash::Sha384)) => {
            &ring_sig::ECDSA_P384_SHA384_ASN1
        }
        (PublicKey::Ed25519(_), Scheme::Ed25519) => &ring_sig::ED25519,
        _ => return Err(Error::Unsupported("signature algorithm for this key")),
    };
    let key_bytes = match key {
        PublicKey::Rsa(der) => der.as_slice(),
        PublicKey::Ecdsa(_, point) => point.as_slice(),
        PublicKey::Ed25519(key) => key.as_slice(),
    };
    UnparsedPublicKey::new(algorithm, key_bytes)
        .verify(message, signature)
        .map_err(|_| Error::BadSignature)
}

/// P-521 with SHA-512, the only hash the `p521` crate pairs with it.
fn verify_p521(
    point: &[u8],
    scheme: Scheme,
    message: &[u8],
    signature: &[u8],
) -> Result<(), Error> {
    let fixed = match scheme {
        Scheme::EcdsaFixed(_) => signature.to_vec(),
        Scheme::Ecdsa(Hash::Sha512) => der::ecdsa_der_to_fixed(signature, Curve::P521.scalar_len())
            .map_err(|_| Error::BadSignature)?,
        _ => {
            return Err(Error::Unsupported(
                "ECDSA P-521 with a hash other than SHA-512",
            ));
        }
    };
    let key = p521::ecdsa::VerifyingKey::from_sec1_bytes(point)
        .map_err(|_| Error::BadKey("P-521 public key"))?;
    let signature = p521::ecdsa::Signature::from_slice(&fixed).map_err(|_| Error::BadSignature)?;
    key.verify(message, &signature)
        .map_err(|_| Error::BadSignature)
}
