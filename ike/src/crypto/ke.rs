//! Key exchange methods (RFC 7296 3.3.2, transform type 4): X25519 (RFC 8031), the NIST
//! curves ECP-256/384/521 (RFC 5903) and the MODP groups 14, 15 and 16 (RFC 3526).
//!
//! The public value is what the KE payload carries: for X25519 the 32-byte u-coordinate, for
//! the NIST curves x | y without SEC1's 0x04 prefix (RFC 5903 7), for MODP g^x mod p padded to
//! the prime's length (RFC 7296 3.4). The shared secret is the X25519 output, the
//! x-coordinate (RFC 5903 9), or g^xy padded likewise.

use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
use crypto_bigint::{BoxedUint, Odd};

use super::{Error, Random, Secret};
use crate::wire::KeId;

/// One side of a key exchange: our private key, from which the public value and, given the
/// peer's, the shared secret follow.
pub struct KeyExchange {
    group: KeId,
    private: Private,
}

enum Private {
    X25519(x25519_dalek::StaticSecret),
    P256(p256::SecretKey),
    P384(p384::SecretKey),
    P521(p521::SecretKey),
    Modp(&'static Modp, Secret),
}

impl core::fmt::Debug for KeyExchange {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "KeyExchange({})", self.group)
    }
}

/// Draws candidate scalars until one is valid for the curve (in [1, n-1]).
macro_rules! nist_secret {
    ($curve:ident, $len:expr, $mask:expr, $rng:expr) => {{
        let mut bytes = Secret::new(vec![0; $len]);
        loop {
            $rng.fill(&mut bytes.0);
            bytes.0[0] &= $mask;
            if let Ok(key) = $curve::SecretKey::from_slice(bytes.as_bytes()) {
                break key;
            }
        }
    }};
}

/// The shared x-coordinate of our key and the peer's x | y.
macro_rules! nist_shared {
    ($curve:ident, $key:expr, $peer:expr, $len:expr) => {{
        if $peer.len() != 2 * $len {
            return Err(Error::InvalidPublicValue);
        }
        let mut sec1 = Vec::with_capacity(1 + $peer.len());
        sec1.push(0x04);
        sec1.extend_from_slice($peer);
        // from_sec1_bytes checks that the point is on the curve (RFC 5903 has no cofactor
        // concerns: these curves have cofactor 1).
        let peer =
            $curve::PublicKey::from_sec1_bytes(&sec1).map_err(|_| Error::InvalidPublicValue)?;
        let shared = $curve::ecdh::diffie_hellman($key.to_nonzero_scalar(), peer.as_affine());
        Secret::from_slice(shared.raw_secret_bytes().as_slice())
    }};
}

/// The x | y of our public key.
macro_rules! nist_public {
    ($key:expr) => {{
        let sec1 = $key.public_key().to_sec1_bytes();
        sec1[1..].to_vec()
    }};
}

impl KeyExchange {
    /// Whether we implement `group`.
    pub fn supports(group: KeId) -> bool {
        matches!(
            group,
            KeId::CURVE25519
                | KeId::ECP_256
                | KeId::ECP_384
                | KeId::ECP_521
                | KeId::MODP_2048
                | KeId::MODP_3072
                | KeId::MODP_4096
        )
    }

    /// A fresh private key for `group`, drawn from `rng`.
    pub fn generate(group: KeId, rng: &mut dyn Random) -> Result<KeyExchange, Error> {
        let private = match group {
            KeId::CURVE25519 => {
                let mut bytes = [0u8; 32];
                rng.fill(&mut bytes);
                let secret = x25519_dalek::StaticSecret::from(bytes);
                zeroize::Zeroize::zeroize(&mut bytes);
                Private::X25519(secret)
            }
            KeId::ECP_256 => Private::P256(nist_secret!(p256, 32, 0xff, rng)),
            KeId::ECP_384 => Private::P384(nist_secret!(p384, 48, 0xff, rng)),
            // The order of P-521 is just below 2^521: only the lowest bit of the top byte can
            // be set.
            KeId::ECP_521 => Private::P521(nist_secret!(p521, 66, 0x01, rng)),
            _ => {
                let modp = Modp::of(group).ok_or(Error::Unsupported("key exchange method"))?;
                Private::Modp(modp, modp.private(rng))
            }
        };
        Ok(KeyExchange { group, private })
    }

    /// A key exchange with a known private key, for test vectors (RFC 7748, RFC 5903).
    pub fn from_private(group: KeId, private: &[u8]) -> Result<KeyExchange, Error> {
        let private = match group {
            KeId::CURVE25519 => {
                let bytes: [u8; 32] = private.try_into().map_err(|_| Error::KeyLength)?;
                Private::X25519(x25519_dalek::StaticSecret::from(bytes))
            }
            KeId::ECP_256 => {
                Private::P256(p256::SecretKey::from_slice(private).map_err(|_| Error::KeyLength)?)
            }
            KeId::ECP_384 => {
                Private::P384(p384::SecretKey::from_slice(private).map_err(|_| Error::KeyLength)?)
            }
            KeId::ECP_521 => {
                Private::P521(p521::SecretKey::from_slice(private).map_err(|_| Error::KeyLength)?)
            }
            _ => {
                let modp = Modp::of(group).ok_or(Error::Unsupported("key exchange method"))?;
                Private::Modp(modp, Secret::from_slice(private))
            }
        };
        Ok(KeyExchange { group, private })
    }

    pub fn group(&self) -> KeId {
        self.group
    }

    /// Our public value, as the KE payload carries it.
    pub fn public_value(&self) -> Vec<u8> {
        match &self.private {
            Private::X25519(secret) => x25519_dalek::PublicKey::from(secret).as_bytes().to_vec(),
            Private::P256(key) => nist_public!(key),
            Private::P384(key) => nist_public!(key),
            Private::P521(key) => nist_public!(key),
            Private::Modp(modp, exponent) => modp.pow(&modp.generator(), exponent.as_bytes()),
        }
    }

    /// The shared secret g^ir with the peer's public value, which is checked first.
    pub fn shared_secret(&self, peer: &[u8]) -> Result<Secret, Error> {
        Ok(match &self.private {
            Private::X25519(secret) => {
                let peer: [u8; 32] = peer.try_into().map_err(|_| Error::InvalidPublicValue)?;
                let shared = secret.diffie_hellman(&x25519_dalek::PublicKey::from(peer));
                // RFC 8031 2.3: an all-zero result means a low-order point; refuse it.
                if !shared.was_contributory() {
                    return Err(Error::InvalidPublicValue);
                }
                Secret::from_slice(shared.as_bytes())
            }
            Private::P256(key) => nist_shared!(p256, key, peer, 32),
            Private::P384(key) => nist_shared!(p384, key, peer, 48),
            Private::P521(key) => nist_shared!(p521, key, peer, 66),
            Private::Modp(modp, exponent) => modp.shared(peer, exponent.as_bytes())?,
        })
    }
}

/// A MODP group of RFC 3526, with generator 2.
struct Modp {
    bytes: usize,
    params: std::sync::OnceLock<(BoxedUint, BoxedMontyParams)>,
    prime_hex: &'static str,
}

static MODP_GROUP_14: Modp = Modp::new(256, MODP_2048);
static MODP_GROUP_15: Modp = Modp::new(384, MODP_3072);
static MODP_GROUP_16: Modp = Modp::new(512, MODP_4096);

impl Modp {
    const fn new(bytes: usize, prime_hex: &'static str) -> Modp {
        Modp {
            bytes,
            params: std::sync::OnceLock::new(),
            prime_hex,
        }
    }

    fn of(group: KeId) -> Option<&'static Modp> {
        match group {
            KeId::MODP_2048 => Some(&MODP_GROUP_14),
            KeId::MODP_3072 => Some(&MODP_GROUP_15),
            KeId::MODP_4096 => Some(&MODP_GROUP_16),
            _ => None,
        }
    }

    fn bits(&self) -> u32 {
        (self.bytes * 8) as u32
    }

    /// The prime and its Montgomery parameters, computed once.
    fn params(&self) -> &(BoxedUint, BoxedMontyParams) {
        self.params.get_or_init(|| {
            let bytes: Vec<u8> = (0..self.prime_hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&self.prime_hex[i..i + 2], 16).unwrap_or_default())
                .collect();
            let prime = BoxedUint::from_be_slice(&bytes, self.bits()).unwrap_or_default();
            let odd = Odd::new(prime.clone()).expect("RFC 3526 primes are odd");
            (prime, BoxedMontyParams::new_vartime(odd))
        })
    }

    fn generator(&self) -> BoxedUint {
        BoxedUint::from_be_slice_truncated(&[2], self.bits())
    }

    /// A private exponent as long as the prime, below it (the top bit cleared).
    fn private(&self, rng: &mut dyn Random) -> Secret {
        let mut exponent = Secret::new(vec![0; self.bytes]);
        rng.fill(&mut exponent.0);
        exponent.0[0] &= 0x7f;
        exponent
    }

    /// base^exponent mod p, in constant time in the exponent, padded to the prime's length.
    fn pow(&self, base: &BoxedUint, exponent: &[u8]) -> Vec<u8> {
        let (_, params) = self.params();
        let exponent = BoxedUint::from_be_slice_truncated(exponent, self.bits());
        let result = BoxedMontyForm::new(base.clone(), params)
            .pow(&exponent)
            .retrieve();
        result.to_be_bytes().to_vec()
    }

    fn shared(&self, peer: &[u8], exponent: &[u8]) -> Result<Secret, Error> {
        let (prime, _) = self.params();
        if peer.len() != self.bytes {
            return Err(Error::InvalidPublicValue);
        }
        let y =
            BoxedUint::from_be_slice(peer, self.bits()).map_err(|_| Error::InvalidPublicValue)?;
        // RFC 7296 5.12 (and NIST SP 800-56A): refuse 0, 1 and p-1, and anything not below p,
        // which would force a known shared secret.
        let one = BoxedUint::from_be_slice_truncated(&[1], self.bits());
        let p_minus_one = prime.wrapping_sub(&one);
        if y <= one || y >= p_minus_one {
            return Err(Error::InvalidPublicValue);
        }
        Ok(Secret::new(self.pow(&y, exponent)))
    }
}

const MODP_2048: &str = concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05",
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB",
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718",
    "3995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF",
);
const MODP_3072: &str = concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05",
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB",
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718",
    "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33",
    "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7",
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864",
    "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2",
    "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
);
const MODP_4096: &str = concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05",
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB",
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718",
    "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33",
    "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7",
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864",
    "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2",
    "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A92108011A723C12A787E6D7",
    "88719A10BDBA5B2699C327186AF4E23C1A946834B6150BDA2583E9CA2AD44CE8",
    "DBBBC2DB04DE8EF92E8EFC141FBECAA6287C59474E6BC05D99B2964FA090C3A2",
    "233BA186515BE7ED1F612970CEE2D7AFB81BDD762170481CD0069127D5B05AA9",
    "93B4EA988D8FDDC186FFB7DC90A6C08F4DF435C934063199FFFFFFFFFFFFFFFF",
);

#[cfg(test)]
#[path = "ke_tests.rs"]
mod tests;
