//! Stateless cookies (RFC 7296 2.6): above a number of half-open IKE SAs, the responder answers
//! an IKE_SA_INIT request that carries no valid cookie with a COOKIE notify and keeps no state,
//! so only initiators that receive at its address get any.
//!
//! A cookie is `version | HMAC-SHA2-256(secret, Ni | IPi | SPIi)`: the version byte names the
//! secret. The secret changes every [`ROTATION`]; cookies made with the one before stay valid
//! until the next change, so a cookie lives between one and two rotations.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::crypto::integ::constant_time_eq;
use crate::crypto::prf::Prf;
use crate::crypto::{Random, Secret};
use crate::wire::IkeSpi;

/// How often the secret changes.
pub const ROTATION: Duration = Duration::from_secs(60);

/// The responder's cookie secrets.
#[derive(Debug)]
pub struct Cookies {
    version: u8,
    current: Secret,
    previous: Option<Secret>,
    rotated: Instant,
}

impl Cookies {
    pub fn new(now: Instant, rng: &mut dyn Random) -> Cookies {
        Cookies {
            version: 0,
            current: secret(rng),
            previous: None,
            rotated: now,
        }
    }

    /// Changes the secret if it is due.
    pub fn rotate(&mut self, now: Instant, rng: &mut dyn Random) {
        if now.saturating_duration_since(self.rotated) < ROTATION {
            return;
        }
        let old = std::mem::replace(&mut self.current, secret(rng));
        self.previous = Some(old);
        self.version = self.version.wrapping_add(1);
        self.rotated = now;
    }

    /// The cookie for an initiator at `ip` with nonce `ni` and SPI `spi_i`.
    pub fn make(&self, ni: &[u8], ip: IpAddr, spi_i: IkeSpi) -> Vec<u8> {
        mac(self.version, &self.current, ni, ip, spi_i)
    }

    /// Whether `cookie` is one we made for this initiator with the current or previous secret.
    pub fn check(&self, cookie: &[u8], ni: &[u8], ip: IpAddr, spi_i: IkeSpi) -> bool {
        let Some(&version) = cookie.first() else {
            return false;
        };
        let secret = if version == self.version {
            &self.current
        } else if version == self.version.wrapping_sub(1)
            && let Some(previous) = &self.previous
        {
            previous
        } else {
            return false;
        };
        constant_time_eq(&mac(version, secret, ni, ip, spi_i), cookie)
    }
}

fn secret(rng: &mut dyn Random) -> Secret {
    let mut bytes = vec![0u8; 32];
    rng.fill(&mut bytes);
    Secret::new(bytes)
}

fn mac(version: u8, secret: &Secret, ni: &[u8], ip: IpAddr, spi_i: IkeSpi) -> Vec<u8> {
    let ip = match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    };
    let tag = Prf::HmacSha256.prf(secret.as_bytes(), &[ni, &ip, &spi_i.0]);
    let mut cookie = Vec::with_capacity(1 + tag.as_bytes().len());
    cookie.push(version);
    cookie.extend_from_slice(tag.as_bytes());
    cookie
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::SeededRandom;

    #[test]
    fn a_cookie_holds_for_its_initiator_only_and_for_two_rotations_at_most() {
        let t0 = Instant::now();
        let mut rng = SeededRandom(1);
        let mut c = Cookies::new(t0, &mut rng);
        let ip: IpAddr = [192, 0, 2, 1].into();
        let spi = IkeSpi([7; 8]);
        let cookie = c.make(b"nonce", ip, spi);
        assert_eq!(cookie.len(), 33);
        assert!(c.check(&cookie, b"nonce", ip, spi));
        assert!(!c.check(&cookie, b"other", ip, spi));
        assert!(!c.check(&cookie, b"nonce", [192, 0, 2, 9].into(), spi));
        assert!(!c.check(&cookie, b"nonce", ip, IkeSpi([8; 8])));
        let mut forged = cookie.clone();
        forged[5] ^= 1;
        assert!(!c.check(&forged, b"nonce", ip, spi));
        assert!(!c.check(&[], b"nonce", ip, spi));
        c.rotate(t0 + ROTATION / 2, &mut rng);
        assert!(c.check(&cookie, b"nonce", ip, spi), "no rotation yet");
        c.rotate(t0 + ROTATION, &mut rng);
        assert!(c.check(&cookie, b"nonce", ip, spi), "the previous secret");
        assert_ne!(c.make(b"nonce", ip, spi), cookie);
        c.rotate(t0 + ROTATION * 2, &mut rng);
        assert!(!c.check(&cookie, b"nonce", ip, spi), "two rotations later");
    }
}
