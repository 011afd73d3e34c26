//! The crypto suite of IKEv2: the transforms we negotiate (encryption, PRF, integrity, key
//! exchange), prf+ and the key schedule (RFC 7296 2.13 to 2.18), and protecting and opening the
//! SK payload (RFC 7296 3.14, RFC 5282).
//!
//! Backends: ring for HMAC, AES-GCM and ChaCha20-Poly1305; RustCrypto's `aes` + `cbc` for
//! AES-CBC; `x25519-dalek`, `p256`, `p384` and `p521` for the elliptic-curve key exchanges and
//! `crypto-bigint` for the MODP groups (constant time). The key exchanges use RustCrypto rather
//! than ring because ring draws private keys from its own generator only: here randomness is
//! injected ([`Random`]), so simulations are reproducible from a seed and the RFC test vectors,
//! which fix the private keys, can be checked.
//!
//! Every key and shared secret lives in a [`Secret`], which is wiped when dropped, and none has
//! a `Debug` that shows it.

pub mod encr;
pub mod integ;
pub mod ke;
pub mod keys;
pub mod prf;
pub mod sk;

use core::fmt;

use zeroize::Zeroizing;

/// A source of random bytes. The daemon hands in the operating system's generator; tests hand
/// in a seeded one.
pub trait Random {
    fn fill(&mut self, buf: &mut [u8]);
}

/// Secret bytes: wiped on drop, never printed.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(Zeroizing<Vec<u8>>);

impl Secret {
    pub fn new(bytes: Vec<u8>) -> Secret {
        Secret(Zeroizing::new(bytes))
    }

    pub fn from_slice(bytes: &[u8]) -> Secret {
        Secret::new(bytes.to_vec())
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({} bytes)", self.0.len())
    }
}

/// Why a cryptographic operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A transform we do not implement (the value names it).
    Unsupported(&'static str),
    /// A key of the wrong length for its algorithm.
    KeyLength,
    /// The peer's key exchange value is not a valid point or number of the group.
    InvalidPublicValue,
    /// The integrity check or AEAD tag failed: the message was altered or keyed otherwise.
    IntegrityCheck,
    /// The encrypted data is malformed (length, padding) after its integrity was checked.
    Malformed(&'static str),
    /// The message around the encrypted payload does not parse.
    Wire(crate::wire::Error),
    /// The encrypted payload authenticated and decrypted, but what it held does not parse:
    /// the peer is to be told (RFC 7296 2.21.4), unlike for unauthenticated garbage.
    Inner(crate::wire::Error),
    /// AUTH data that the claimed key or shared secret did not make over these octets
    /// (RFC 7296 2.15: answered with AUTHENTICATION_FAILED).
    BadSignature,
    /// A private or public key that does not parse, or does not fit the algorithm asked of it.
    BadKey(&'static str),
}

impl From<crate::wire::Error> for Error {
    fn from(err: crate::wire::Error) -> Error {
        Error::Wire(err)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Unsupported(what) => write!(f, "unsupported {what}"),
            Error::KeyLength => f.write_str("key of the wrong length"),
            Error::InvalidPublicValue => f.write_str("invalid key exchange public value"),
            Error::IntegrityCheck => f.write_str("integrity check failed"),
            Error::Malformed(what) => write!(f, "malformed {what}"),
            Error::Wire(err) => write!(f, "{err}"),
            Error::Inner(err) => write!(f, "inside the encrypted payload: {err}"),
            Error::BadSignature => f.write_str("AUTH data does not verify"),
            Error::BadKey(what) => write!(f, "unusable key: {what}"),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
pub(crate) mod testing {
    use super::Random;

    /// A reproducible generator for tests (xorshift64*; not for keys in production).
    pub struct SeededRandom(pub u64);

    impl Random for SeededRandom {
        fn fill(&mut self, buf: &mut [u8]) {
            for b in buf {
                self.0 ^= self.0 >> 12;
                self.0 ^= self.0 << 25;
                self.0 ^= self.0 >> 27;
                *b = (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8;
            }
        }
    }

    pub fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
            .collect()
    }
}
