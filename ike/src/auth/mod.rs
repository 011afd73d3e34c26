//! Authentication in IKE_AUTH: the AUTH payload's data (RFC 7296 2.15).
//!
//! - [`octets`]: the octets each side signs or MACs, with the seam for RFC 9242's IntAuth;
//! - [`psk`]: AUTH with a pre-shared key, or with an EAP MSK (RFC 7296 2.16);
//! - [`signature`]: AUTH with a private key, methods 1 (verify only), 9, 10, 11 (RFC 4754) and
//!   14 (RFC 7427: RSA PKCS#1 v1.5, RSASSA-PSS, ECDSA, Ed25519 per RFC 8420);
//! - [`keys`]: PKCS#8 private keys and SubjectPublicKeyInfo public keys;
//! - [`scheme`]: the signature schemes and RFC 7427's AlgorithmIdentifiers;
//! - [`hash_algorithms`]: the SIGNATURE_HASH_ALGORITHMS notify and the choice of a scheme;
//! - [`dn`]: distinguished names as identities: from and to text, and their comparison;
//! - [`x509`]: the peer's certificate chain, the identities a certificate proves, CERTREQ's
//!   key hashes.
//!
//! Every failure is a [`crate::crypto::Error`]: `BadSignature` when the AUTH data does not
//! verify, `BadKey` when a key does not parse or does not fit the method, `Unsupported` for an
//! algorithm we do not implement, `Malformed` for AUTH data that does not parse. All of them
//! end the exchange with AUTHENTICATION_FAILED (RFC 7296 2.21.2).

mod der;
pub mod dn;
pub mod hash_algorithms;
pub mod keys;
pub mod octets;
pub mod psk;
pub mod scheme;
pub mod signature;
pub mod x509;

#[cfg(test)]
mod signature_tests;
#[cfg(test)]
mod strongswan_tests;

pub use keys::{Curve, KeyKind, PrivateKey, PublicKey};
pub use octets::{SignedOctets, Signer};
pub use scheme::{Hash, Scheme};
