//! Shared-key AUTH (RFC 7296 2.15, AUTH method 2):
//!
//! ```text
//! AUTH = prf( prf(Shared Secret, "Key Pad for IKEv2"), <signed octets>)
//! ```
//!
//! The same function serves EAP (RFC 7296 2.16): there the shared secret is the MSK the EAP
//! method produced, or SK_pi / SK_pr for a method that produces none.

use super::octets::SignedOctets;
use crate::crypto::integ::constant_time_eq;
use crate::crypto::prf::Prf;
use crate::crypto::{Error, Secret};
use crate::wire::AuthMethod;
use crate::wire::auth;

/// RFC 7296 2.15: the 17 ASCII characters, without a terminator.
const KEY_PAD: &[u8] = b"Key Pad for IKEv2";

/// The AUTH data for `octets` under `shared_secret`: as long as the PRF's output.
pub fn auth_data(prf: Prf, shared_secret: &Secret, octets: &SignedOctets) -> Secret {
    let padded_key = prf.prf(shared_secret.as_bytes(), &[KEY_PAD]);
    prf.prf(padded_key.as_bytes(), &[octets.as_bytes()])
}

/// The AUTH payload body to send with a pre-shared key (method 2, Shared Key Message
/// Integrity Code).
pub fn auth_payload(prf: Prf, shared_secret: &Secret, octets: &SignedOctets) -> auth::Repr {
    auth::Repr {
        method: AuthMethod::SHARED_KEY_MIC,
        data: auth_data(prf, shared_secret, octets).as_bytes().to_vec(),
    }
}

/// Checks received AUTH data in constant time. A different length, or different bytes, is
/// `BadSignature` (RFC 7296 2.21.2: AUTHENTICATION_FAILED).
pub fn verify(
    prf: Prf,
    shared_secret: &Secret,
    octets: &SignedOctets,
    received: &[u8],
) -> Result<(), Error> {
    let expected = auth_data(prf, shared_secret, octets);
    if constant_time_eq(expected.as_bytes(), received) {
        Ok(())
    } else {
        Err(Error::BadSignature)
    }
}

/// Checks a received AUTH payload: its method must be 2.
pub fn verify_payload(
    prf: Prf,
    shared_secret: &Secret,
    octets: &SignedOctets,
    received: &auth::Repr,
) -> Result<(), Error> {
    if received.method != AuthMethod::SHARED_KEY_MIC {
        return Err(Error::Unsupported("AUTH method other than a shared key"));
    }
    verify(prf, shared_secret, octets, &received.data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::testing::hex;

    fn octets() -> SignedOctets {
        let bytes = [
            &b"RealMessage1"[..],
            &[0x5a; 32],
            &(0..20).collect::<Vec<u8>>(),
        ]
        .concat();
        SignedOctets::from_bytes(&bytes)
    }

    /// Expected values from Python's `hmac` module:
    /// `hmac.new(hmac.new(psk, b"Key Pad for IKEv2", h).digest(), octets, h).hexdigest()`.
    #[test]
    fn known_answers() {
        let psk = Secret::from_slice(b"correct horse battery staple");
        assert_eq!(
            auth_data(Prf::HmacSha256, &psk, &octets()).as_bytes(),
            hex("74155c94625e56778dafed3e30e3f6a8b129160ad6f7a47dd967e6a4ed259cc5")
        );
        assert_eq!(
            auth_data(Prf::HmacSha1, &psk, &octets()).as_bytes(),
            hex("7e38ff04d8d38ad59504a6b619020efe341bc2c3")
        );
    }

    #[test]
    fn payload_round_trip_and_tampering() {
        let psk = Secret::from_slice(b"secret");
        let payload = auth_payload(Prf::HmacSha512, &psk, &octets());
        assert_eq!(payload.method, AuthMethod::SHARED_KEY_MIC);
        assert_eq!(payload.data.len(), 64);
        assert_eq!(
            verify_payload(Prf::HmacSha512, &psk, &octets(), &payload),
            Ok(())
        );

        let other_psk = Secret::from_slice(b"secreT");
        assert_eq!(
            verify_payload(Prf::HmacSha512, &other_psk, &octets(), &payload),
            Err(Error::BadSignature)
        );
        let mut changed = octets().as_bytes().to_vec();
        changed[3] ^= 1;
        let changed = SignedOctets::from_bytes(&changed);
        assert_eq!(
            verify(Prf::HmacSha512, &psk, &changed, &payload.data),
            Err(Error::BadSignature)
        );
        for len in [0, 1, 63, 65] {
            let mut data = payload.data.clone();
            data.resize(len, 0);
            assert_eq!(
                verify(Prf::HmacSha512, &psk, &octets(), &data),
                Err(Error::BadSignature)
            );
        }
        let wrong_method = auth::Repr {
            method: AuthMethod::DIGITAL_SIGNATURE,
            ..payload
        };
        assert!(verify_payload(Prf::HmacSha512, &psk, &octets(), &wrong_method).is_err());
    }

    /// RFC 7296 2.16: with EAP the MSK takes the shared secret's place; nothing else changes.
    #[test]
    fn eap_msk_is_the_shared_secret() {
        let msk = Secret::new((0..64).collect());
        let data = auth_data(Prf::HmacSha256, &msk, &octets());
        let by_hand = {
            let key = Prf::HmacSha256.prf(msk.as_bytes(), &[b"Key Pad for IKEv2"]);
            Prf::HmacSha256.prf(key.as_bytes(), &[octets().as_bytes()])
        };
        assert_eq!(data, by_hand);
        assert_eq!(
            verify(Prf::HmacSha256, &msk, &octets(), data.as_bytes()),
            Ok(())
        );
    }
}
