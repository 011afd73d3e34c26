//! Integrity algorithms (RFC 7296 3.3.2, transform type 3): truncated HMACs (RFC 4868,
//! RFC 2404).

use ring::hmac;

use super::Error;
use crate::wire::IntegId;

/// A negotiated integrity algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Integ {
    HmacSha1_96,
    HmacSha256_128,
    HmacSha384_192,
    HmacSha512_256,
}

impl Integ {
    pub fn from_id(id: IntegId) -> Result<Integ, Error> {
        Ok(match id {
            IntegId::AUTH_HMAC_SHA1_96 => Integ::HmacSha1_96,
            IntegId::AUTH_HMAC_SHA2_256_128 => Integ::HmacSha256_128,
            IntegId::AUTH_HMAC_SHA2_384_192 => Integ::HmacSha384_192,
            IntegId::AUTH_HMAC_SHA2_512_256 => Integ::HmacSha512_256,
            _ => return Err(Error::Unsupported("integrity algorithm")),
        })
    }

    pub fn id(self) -> IntegId {
        match self {
            Integ::HmacSha1_96 => IntegId::AUTH_HMAC_SHA1_96,
            Integ::HmacSha256_128 => IntegId::AUTH_HMAC_SHA2_256_128,
            Integ::HmacSha384_192 => IntegId::AUTH_HMAC_SHA2_384_192,
            Integ::HmacSha512_256 => IntegId::AUTH_HMAC_SHA2_512_256,
        }
    }

    /// The key length: the hash's output length (RFC 4868 2.1.1, RFC 2404 3).
    pub fn key_len(self) -> usize {
        match self {
            Integ::HmacSha1_96 => 20,
            Integ::HmacSha256_128 => 32,
            Integ::HmacSha384_192 => 48,
            Integ::HmacSha512_256 => 64,
        }
    }

    /// The truncated checksum length.
    pub fn icv_len(self) -> usize {
        match self {
            Integ::HmacSha1_96 => 12,
            Integ::HmacSha256_128 => 16,
            Integ::HmacSha384_192 => 24,
            Integ::HmacSha512_256 => 32,
        }
    }

    fn algorithm(self) -> hmac::Algorithm {
        match self {
            Integ::HmacSha1_96 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            Integ::HmacSha256_128 => hmac::HMAC_SHA256,
            Integ::HmacSha384_192 => hmac::HMAC_SHA384,
            Integ::HmacSha512_256 => hmac::HMAC_SHA512,
        }
    }

    /// The truncated checksum of `data` under `key`.
    pub fn compute(self, key: &[u8], data: &[u8]) -> Result<Vec<u8>, Error> {
        if key.len() != self.key_len() {
            return Err(Error::KeyLength);
        }
        let tag = hmac::sign(&hmac::Key::new(self.algorithm(), key), data);
        Ok(tag.as_ref()[..self.icv_len()].to_vec())
    }

    /// Checks `icv` against `data` in constant time.
    pub fn verify(self, key: &[u8], data: &[u8], icv: &[u8]) -> Result<(), Error> {
        let expected = self.compute(key, data)?;
        if constant_time_eq(&expected, icv) {
            Ok(())
        } else {
            Err(Error::IntegrityCheck)
        }
    }
}

/// Equality whose time depends only on the lengths.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::testing::hex;

    // RFC 4868 2.7.2.1 test case AUTH256-1 (key 0x0b x 32, "Hi There") and RFC 2404's
    // HMAC-SHA-1-96 of RFC 2202 test case 1 (key 0x0b x 20).
    #[test]
    fn known_answers() {
        assert_eq!(
            Integ::HmacSha256_128
                .compute(&[0x0b; 32], b"Hi There")
                .unwrap(),
            hex("198a607eb44bfbc69903a0f1cf2bbdc5")
        );
        assert_eq!(
            Integ::HmacSha1_96
                .compute(&[0x0b; 20], b"Hi There")
                .unwrap(),
            hex("b617318655057264e28bc0b6")
        );
    }

    #[test]
    fn verify_rejects_a_changed_byte_and_wrong_key_lengths() {
        for integ in [
            Integ::HmacSha1_96,
            Integ::HmacSha256_128,
            Integ::HmacSha384_192,
            Integ::HmacSha512_256,
        ] {
            let key = vec![7; integ.key_len()];
            let icv = integ.compute(&key, b"message").unwrap();
            assert_eq!(icv.len(), integ.icv_len());
            assert_eq!(integ.verify(&key, b"message", &icv), Ok(()));
            assert_eq!(
                integ.verify(&key, b"messagf", &icv),
                Err(Error::IntegrityCheck)
            );
            assert_eq!(
                integ.verify(&key, b"message", &icv[1..]),
                Err(Error::IntegrityCheck)
            );
            assert_eq!(integ.compute(&key[1..], b"m"), Err(Error::KeyLength));
            assert_eq!(Integ::from_id(integ.id()), Ok(integ));
        }
    }
}
