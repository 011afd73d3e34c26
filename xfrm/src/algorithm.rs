//! The SA algorithms ikerd installs, their kernel names and key sizes, and the keys themselves.
//!
//! Kernel names are those of the Linux crypto API that `net/xfrm/xfrm_algo.c` lists. Key
//! lengths go to the kernel in bits (`alg_key_len`); truncation and ICV lengths too.

use std::fmt;

use zeroize::{Zeroize, Zeroizing};

use crate::error::{Error, Op, Result};
use crate::types::Proto;

/// Secret key bytes, wiped when dropped. `Debug` never prints them.
#[derive(Clone, PartialEq, Eq)]
pub struct Key(Zeroizing<Vec<u8>>);

impl Key {
    pub fn new(bytes: Vec<u8>) -> Self {
        Key(Zeroizing::new(bytes))
    }

    pub fn from_slice(bytes: &[u8]) -> Self {
        Key(Zeroizing::new(bytes.to_vec()))
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

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({} bytes)", self.0.len())
    }
}

/// An AEAD transform for ESP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aead {
    /// AES-GCM with a 16-byte ICV (RFC 4106). Key: 16, 24 or 32 bytes of AES key followed by a
    /// 4-byte salt (RFC 4106 8.1).
    AesGcm16,
    /// ChaCha20-Poly1305 (RFC 7634). Key: 32 bytes followed by a 4-byte salt (RFC 7634 2).
    ChaCha20Poly1305,
}

impl Aead {
    pub(crate) fn kernel_name(self) -> &'static str {
        match self {
            Aead::AesGcm16 => "rfc4106(gcm(aes))",
            Aead::ChaCha20Poly1305 => "rfc7539esp(chacha20,poly1305)",
        }
    }

    /// ICV length in bits: 16 bytes for both (RFC 4106 8.2 and RFC 7634 2).
    pub(crate) fn icv_bits(self) -> u32 {
        128
    }

    fn key_lengths(self) -> &'static [usize] {
        match self {
            Aead::AesGcm16 => &[20, 28, 36],
            Aead::ChaCha20Poly1305 => &[36],
        }
    }
}

/// An integrity transform (HMAC) with its truncation, as IKEv2 negotiates them: RFC 2404
/// (SHA-1, 96 bits) and RFC 4868 (SHA-2, half the hash length).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Integrity {
    HmacSha1_96,
    HmacSha256_128,
    HmacSha384_192,
    HmacSha512_256,
}

impl Integrity {
    pub(crate) fn kernel_name(self) -> &'static str {
        match self {
            Integrity::HmacSha1_96 => "hmac(sha1)",
            Integrity::HmacSha256_128 => "hmac(sha256)",
            Integrity::HmacSha384_192 => "hmac(sha384)",
            Integrity::HmacSha512_256 => "hmac(sha512)",
        }
    }

    pub(crate) fn truncation_bits(self) -> u32 {
        match self {
            Integrity::HmacSha1_96 => 96,
            Integrity::HmacSha256_128 => 128,
            Integrity::HmacSha384_192 => 192,
            Integrity::HmacSha512_256 => 256,
        }
    }

    /// Key length in bytes: the hash's output length (RFC 2404 3, RFC 4868 2.1.1).
    pub(crate) fn key_len(self) -> usize {
        match self {
            Integrity::HmacSha1_96 => 20,
            Integrity::HmacSha256_128 => 32,
            Integrity::HmacSha384_192 => 48,
            Integrity::HmacSha512_256 => 64,
        }
    }

    pub(crate) fn from_kernel(name: &str, trunc_bits: u32) -> Option<Self> {
        [
            Integrity::HmacSha1_96,
            Integrity::HmacSha256_128,
            Integrity::HmacSha384_192,
            Integrity::HmacSha512_256,
        ]
        .into_iter()
        .find(|i| i.kernel_name() == name && i.truncation_bits() == trunc_bits)
    }
}

/// The cryptography of an SA, with its keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Crypto {
    /// ESP with an AEAD.
    Aead { alg: Aead, key: Key },
    /// ESP with AES-CBC (RFC 3602; 16, 24 or 32 key bytes) and an HMAC.
    AesCbc {
        key: Key,
        integrity: Integrity,
        integrity_key: Key,
    },
    /// AH with an HMAC.
    Auth { integrity: Integrity, key: Key },
}

impl Crypto {
    /// Checks the keys' lengths and that the transform fits the protocol.
    pub(crate) fn validate(&self, proto: Proto, op: Op) -> Result<()> {
        let bad = |what: String| Err(Error::bad_input(op, what));
        match (self, proto) {
            (Crypto::Aead { alg, key }, Proto::Esp) => {
                if !alg.key_lengths().contains(&key.len()) {
                    return bad(format!(
                        "{} takes {:?} key bytes (key and 4-byte salt), not {}",
                        alg.kernel_name(),
                        alg.key_lengths(),
                        key.len()
                    ));
                }
            }
            (
                Crypto::AesCbc {
                    key,
                    integrity,
                    integrity_key,
                },
                Proto::Esp,
            ) => {
                if ![16, 24, 32].contains(&key.len()) {
                    return bad(format!(
                        "cbc(aes) takes 16, 24 or 32 key bytes, not {}",
                        key.len()
                    ));
                }
                check_integrity_key(*integrity, integrity_key, op)?;
            }
            (Crypto::Auth { integrity, key }, Proto::Ah) => {
                check_integrity_key(*integrity, key, op)?;
            }
            (Crypto::Auth { .. }, Proto::Esp) => {
                return bad("ESP needs encryption: use Crypto::Aead or Crypto::AesCbc".into());
            }
            (_, Proto::Ah) => {
                return bad("AH only authenticates: use Crypto::Auth".into());
            }
        }
        Ok(())
    }

    /// The kernel option that provides this transform's crypto, for error messages.
    pub(crate) fn config_option(&self) -> String {
        let sha = |i: &Integrity| match i {
            Integrity::HmacSha1_96 => "CONFIG_CRYPTO_SHA1",
            Integrity::HmacSha256_128 => "CONFIG_CRYPTO_SHA256",
            Integrity::HmacSha384_192 | Integrity::HmacSha512_256 => "CONFIG_CRYPTO_SHA512",
        };
        match self {
            Crypto::Aead {
                alg: Aead::AesGcm16,
                ..
            } => "CONFIG_CRYPTO_GCM".into(),
            Crypto::Aead {
                alg: Aead::ChaCha20Poly1305,
                ..
            } => "CONFIG_CRYPTO_CHACHA20POLY1305".into(),
            Crypto::AesCbc { integrity, .. } => {
                format!(
                    "CONFIG_CRYPTO_CBC, CONFIG_CRYPTO_HMAC and {}",
                    sha(integrity)
                )
            }
            Crypto::Auth { integrity, .. } => format!("CONFIG_CRYPTO_HMAC and {}", sha(integrity)),
        }
    }

    /// What the kernel must support for this SA, for error messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            Crypto::Aead { alg, .. } => format!("AEAD {}", alg.kernel_name()),
            Crypto::AesCbc { integrity, .. } => {
                format!("cipher cbc(aes) with {}", integrity.kernel_name())
            }
            Crypto::Auth { integrity, .. } => format!("AH with {}", integrity.kernel_name()),
        }
    }
}

fn check_integrity_key(integrity: Integrity, key: &Key, op: Op) -> Result<()> {
    if key.len() != integrity.key_len() {
        return Err(Error::bad_input(
            op,
            format!(
                "{} takes {} key bytes, not {}",
                integrity.kernel_name(),
                integrity.key_len(),
                key.len()
            ),
        ));
    }
    Ok(())
}

/// The kernel's fixed 64-byte, NUL-padded algorithm name field.
pub(crate) fn name_field(name: &str) -> [u8; 64] {
    let mut field = [0u8; 64];
    let n = name.len().min(63);
    field[..n].copy_from_slice(&name.as_bytes()[..n]);
    field
}

/// The name in a kernel algorithm name field, up to the first NUL.
pub(crate) fn name_of(field: &[u8; 64]) -> String {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

/// Wipes a key vector taken from or given to the netlink codec.
pub(crate) fn wipe(bytes: &mut Vec<u8>) {
    bytes.zeroize();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: usize) -> Key {
        Key::new(vec![7; n])
    }

    #[test]
    fn aead_key_lengths_include_the_salt() {
        let gcm128 = Crypto::Aead {
            alg: Aead::AesGcm16,
            key: key(20),
        };
        let gcm256 = Crypto::Aead {
            alg: Aead::AesGcm16,
            key: key(36),
        };
        let gcm_no_salt = Crypto::Aead {
            alg: Aead::AesGcm16,
            key: key(16),
        };
        let chacha = Crypto::Aead {
            alg: Aead::ChaCha20Poly1305,
            key: key(36),
        };
        assert!(gcm128.validate(Proto::Esp, Op::AddSa).is_ok());
        assert!(gcm256.validate(Proto::Esp, Op::AddSa).is_ok());
        assert!(chacha.validate(Proto::Esp, Op::AddSa).is_ok());
        let err = gcm_no_salt.validate(Proto::Esp, Op::AddSa).unwrap_err();
        assert!(err.to_string().contains("4-byte salt"), "{err}");
    }

    #[test]
    fn hmac_keys_are_the_hash_length() {
        for (integrity, len, trunc) in [
            (Integrity::HmacSha1_96, 20, 96),
            (Integrity::HmacSha256_128, 32, 128),
            (Integrity::HmacSha384_192, 48, 192),
            (Integrity::HmacSha512_256, 64, 256),
        ] {
            let ok = Crypto::Auth {
                integrity,
                key: key(len),
            };
            let short = Crypto::Auth {
                integrity,
                key: key(len - 1),
            };
            assert!(ok.validate(Proto::Ah, Op::AddSa).is_ok());
            assert!(short.validate(Proto::Ah, Op::AddSa).is_err());
            assert_eq!(integrity.truncation_bits(), trunc);
            assert_eq!(
                Integrity::from_kernel(integrity.kernel_name(), trunc),
                Some(integrity)
            );
        }
        assert_eq!(Integrity::from_kernel("hmac(sha256)", 96), None);
    }

    #[test]
    fn transforms_must_fit_the_protocol() {
        let aead = Crypto::Aead {
            alg: Aead::AesGcm16,
            key: key(20),
        };
        let auth = Crypto::Auth {
            integrity: Integrity::HmacSha256_128,
            key: key(32),
        };
        assert!(aead.validate(Proto::Ah, Op::AddSa).is_err());
        assert!(auth.validate(Proto::Esp, Op::AddSa).is_err());
        let cbc = Crypto::AesCbc {
            key: key(17),
            integrity: Integrity::HmacSha1_96,
            integrity_key: key(20),
        };
        assert!(cbc.validate(Proto::Esp, Op::AddSa).is_err());
    }

    #[test]
    fn names_round_trip_through_the_fixed_field() {
        let field = name_field("rfc7539esp(chacha20,poly1305)");
        assert_eq!(name_of(&field), "rfc7539esp(chacha20,poly1305)");
        let long = "x".repeat(100);
        assert_eq!(name_of(&name_field(&long)).len(), 63);
    }

    #[test]
    fn key_debug_hides_the_bytes() {
        let k = Key::from_slice(&[0xde, 0xad]);
        assert_eq!(format!("{k:?}"), "Key(2 bytes)");
    }
}
