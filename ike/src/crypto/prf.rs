//! Pseudorandom functions (RFC 7296 3.3.2, transform type 2) and prf+ (RFC 7296 2.13).

use ring::hmac;

use super::{Error, Secret};
use crate::wire::PrfId;

/// A negotiated PRF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prf {
    HmacSha1,
    HmacSha256,
    HmacSha384,
    HmacSha512,
}

impl Prf {
    pub fn from_id(id: PrfId) -> Result<Prf, Error> {
        Ok(match id {
            PrfId::PRF_HMAC_SHA1 => Prf::HmacSha1,
            PrfId::PRF_HMAC_SHA2_256 => Prf::HmacSha256,
            PrfId::PRF_HMAC_SHA2_384 => Prf::HmacSha384,
            PrfId::PRF_HMAC_SHA2_512 => Prf::HmacSha512,
            _ => return Err(Error::Unsupported("PRF")),
        })
    }

    pub fn id(self) -> PrfId {
        match self {
            Prf::HmacSha1 => PrfId::PRF_HMAC_SHA1,
            Prf::HmacSha256 => PrfId::PRF_HMAC_SHA2_256,
            Prf::HmacSha384 => PrfId::PRF_HMAC_SHA2_384,
            Prf::HmacSha512 => PrfId::PRF_HMAC_SHA2_512,
        }
    }

    fn algorithm(self) -> hmac::Algorithm {
        match self {
            Prf::HmacSha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            Prf::HmacSha256 => hmac::HMAC_SHA256,
            Prf::HmacSha384 => hmac::HMAC_SHA384,
            Prf::HmacSha512 => hmac::HMAC_SHA512,
        }
    }

    /// The output length, which is also the preferred key length (RFC 7296 2.13: SK_d, SK_pi
    /// and SK_pr are this long).
    pub fn output_len(self) -> usize {
        match self {
            Prf::HmacSha1 => 20,
            Prf::HmacSha256 => 32,
            Prf::HmacSha384 => 48,
            Prf::HmacSha512 => 64,
        }
    }

    /// prf(key, data).
    pub fn prf(self, key: &[u8], data: &[&[u8]]) -> Secret {
        let key = hmac::Key::new(self.algorithm(), key);
        let mut ctx = hmac::Context::with_key(&key);
        for part in data {
            ctx.update(part);
        }
        Secret::from_slice(ctx.sign().as_ref())
    }

    /// prf+(key, seed) truncated to `len` bytes (RFC 7296 2.13):
    /// T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n). At most 255 blocks.
    pub fn prf_plus(self, key: &[u8], seed: &[&[u8]], len: usize) -> Result<Secret, Error> {
        if len > 255 * self.output_len() {
            return Err(Error::KeyLength);
        }
        let mut out = Vec::with_capacity(len + self.output_len());
        let mut previous = Secret::default();
        let mut counter = 1u8;
        while out.len() < len {
            let mut parts: Vec<&[u8]> = Vec::with_capacity(seed.len() + 2);
            parts.push(previous.as_bytes());
            parts.extend_from_slice(seed);
            let n = [counter];
            parts.push(&n);
            let block = self.prf(key, &parts);
            out.extend_from_slice(block.as_bytes());
            previous = block;
            counter = counter.wrapping_add(1);
        }
        out.truncate(len);
        Ok(Secret::new(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::testing::hex;

    // RFC 4231 test cases 1, 2 and 6 (HMAC-SHA-256/384/512); RFC 2202 test case 2 (HMAC-SHA-1).
    #[test]
    fn rfc4231_and_rfc2202_known_answers() {
        let case1_key = [0x0b; 20];
        let case1_data = b"Hi There";
        assert_eq!(
            Prf::HmacSha256.prf(&case1_key, &[case1_data]).as_bytes(),
            hex("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        );
        assert_eq!(
            Prf::HmacSha384.prf(&case1_key, &[case1_data]).as_bytes(),
            hex(
                "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c
                 faea9ea9076ede7f4af152e8b2fa9cb6"
            )
        );
        assert_eq!(
            Prf::HmacSha512.prf(&case1_key, &[case1_data]).as_bytes(),
            hex(
                "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde
                 daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"
            )
        );
        // Case 2, split across update calls: key "Jefe".
        assert_eq!(
            Prf::HmacSha256
                .prf(b"Jefe", &[b"what do ya want ", b"for nothing?"])
                .as_bytes(),
            hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        );
        assert_eq!(
            Prf::HmacSha1
                .prf(b"Jefe", &[b"what do ya want for nothing?"])
                .as_bytes(),
            hex("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79")
        );
        // Case 6: a key longer than the block size is hashed first.
        let case6_key = [0xaa; 131];
        assert_eq!(
            Prf::HmacSha256
                .prf(
                    &case6_key,
                    &[b"Test Using Larger Than Block-Size Key - Hash Key First"]
                )
                .as_bytes(),
            hex("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
        );
    }

    #[test]
    fn prf_plus_is_the_chained_construction() {
        let prf = Prf::HmacSha256;
        let (key, seed) = (b"key".as_slice(), b"seed".as_slice());
        let out = prf.prf_plus(key, &[seed], 70).unwrap();
        let t1 = prf.prf(key, &[seed, &[1]]);
        let t2 = prf.prf(key, &[t1.as_bytes(), seed, &[2]]);
        let t3 = prf.prf(key, &[t2.as_bytes(), seed, &[3]]);
        let expected = [t1.as_bytes(), t2.as_bytes(), &t3.as_bytes()[..6]].concat();
        assert_eq!(out.as_bytes(), expected);
        // A seed given in parts is the same seed.
        assert_eq!(prf.prf_plus(key, &[b"se", b"ed"], 70).unwrap(), out);
    }

    #[test]
    fn prf_plus_limit() {
        assert!(Prf::HmacSha1.prf_plus(b"k", &[b"s"], 255 * 20).is_ok());
        assert_eq!(
            Prf::HmacSha1.prf_plus(b"k", &[b"s"], 255 * 20 + 1),
            Err(Error::KeyLength)
        );
    }

    #[test]
    fn ids() {
        for prf in [
            Prf::HmacSha1,
            Prf::HmacSha256,
            Prf::HmacSha384,
            Prf::HmacSha512,
        ] {
            assert_eq!(Prf::from_id(prf.id()), Ok(prf));
        }
        assert_eq!(
            Prf::from_id(PrfId::PRF_AES128_XCBC),
            Err(Error::Unsupported("PRF"))
        );
    }
}
