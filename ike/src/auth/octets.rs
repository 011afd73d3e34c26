//! The octets each side signs or MACs in IKE_AUTH (RFC 7296 2.15):
//!
//! ```text
//! InitiatorSignedOctets = RealMessage1 | NonceRData | MACedIDForI
//! MACedIDForI = prf(SK_pi, RestOfInitIDPayload)
//! ResponderSignedOctets = RealMessage2 | NonceIData | MACedIDForR
//! MACedIDForR = prf(SK_pr, RestOfRespIDPayload)
//! ```
//!
//! RestOf...IDPayload is the ID payload body: ID type, three reserved octets, identification
//! data, exactly as sent. The construction is the same for both sides, so it is written once,
//! from the point of view of the side whose AUTH it is (the signer); the verifier builds the
//! signer's octets from what the signer sent.
//!
//! RFC 9242 3.3.2 (IKE_INTERMEDIATE) appends `IntAuth` to both: the prf chain over every
//! IKE_INTERMEDIATE exchange, then the Message ID of the first IKE_AUTH request. Computing it
//! belongs to the IKE_INTERMEDIATE exchange, which this crate does not speak yet; the
//! [`Signer::int_auth`] field is where the finished value goes, empty until then.

use core::fmt;

use crate::crypto::Secret;
use crate::crypto::prf::Prf;
use crate::wire::PayloadBody;
use crate::wire::id;

/// What the side whose AUTH it is signs, from that side's point of view.
#[derive(Clone, Copy)]
pub struct Signer<'a> {
    /// The negotiated PRF of the IKE SA.
    pub prf: Prf,
    /// SK_pi when the initiator signs, SK_pr when the responder does.
    pub sk_p: &'a Secret,
    /// The signer's IKE_SA_INIT message exactly as sent, IKE header to end (RealMessage1 or
    /// RealMessage2); after a COOKIE or INVALID_KE_PAYLOAD retry, the request that succeeded.
    pub init_message: &'a [u8],
    /// The Nonce Data of the other side's IKE_SA_INIT message (NonceRData or NonceIData).
    pub peer_nonce: &'a [u8],
    /// The signer's identity as its IDi or IDr payload carries it.
    pub id: &'a id::Repr,
    /// RFC 9242 3.3.2 IntAuth; empty without IKE_INTERMEDIATE exchanges.
    pub int_auth: &'a [u8],
}

impl Signer<'_> {
    /// The signed octets (RFC 7296 2.15).
    pub fn signed_octets(&self) -> SignedOctets {
        let maced_id = self.maced_id();
        let mut octets = Vec::with_capacity(
            self.init_message.len() + self.peer_nonce.len() + maced_id.len() + self.int_auth.len(),
        );
        octets.extend_from_slice(self.init_message);
        octets.extend_from_slice(self.peer_nonce);
        octets.extend_from_slice(maced_id.as_bytes());
        octets.extend_from_slice(self.int_auth);
        SignedOctets(Secret::new(octets))
    }

    /// MACedIDForI / MACedIDForR = prf(SK_p, ID payload body).
    fn maced_id(&self) -> Secret {
        let body = self.id.to_vec();
        self.prf.prf(self.sk_p.as_bytes(), &[&body])
    }
}

impl fmt::Debug for Signer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("prf", &self.prf)
            .field("init_message_len", &self.init_message.len())
            .field("peer_nonce_len", &self.peer_nonce.len())
            .field("id", self.id)
            .field("int_auth_len", &self.int_auth.len())
            .finish_non_exhaustive()
    }
}

/// The octets a PSK MAC or a signature covers. They hold a prf output keyed with SK_p, so
/// they are wiped on drop and never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedOctets(Secret);

impl SignedOctets {
    /// Octets assembled elsewhere (test vectors, tools that replay a capture).
    pub fn from_bytes(bytes: &[u8]) -> SignedOctets {
        SignedOctets(Secret::from_slice(bytes))
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for SignedOctets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SignedOctets({} bytes)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::testing::hex;

    /// An independent computation: Python's `hmac` module gave the expected MACedIDForI,
    /// `hmac.new(bytes(range(32)), bytes.fromhex("02000000") + b"initiator.example",
    /// "sha256").hexdigest()`.
    #[test]
    fn initiator_octets_known_answer() {
        let sk_pi = Secret::new((0..32).collect());
        let message = hex("11223344556677880000000000000000212022080000000000000030");
        let nonce_r = [0x5a; 32];
        let id_i = id::Repr::fqdn("initiator.example");
        let signer = Signer {
            prf: Prf::HmacSha256,
            sk_p: &sk_pi,
            init_message: &message,
            peer_nonce: &nonce_r,
            id: &id_i,
            int_auth: &[],
        };
        let octets = signer.signed_octets();
        let maced_id = hex("bf880cebd915a1604809747a2dfffed00b63004b6a551b73f771c20984226c30");
        assert_eq!(
            octets.as_bytes(),
            [&message[..], &nonce_r, &maced_id].concat()
        );
    }

    #[test]
    fn every_input_changes_the_octets() {
        let (sk_a, sk_b) = (Secret::new(vec![1; 48]), Secret::new(vec![2; 48]));
        let (id_a, id_b) = (id::Repr::fqdn("a.example"), id::Repr::rfc822("a.example"));
        let base = Signer {
            prf: Prf::HmacSha384,
            sk_p: &sk_a,
            init_message: b"message",
            peer_nonce: b"nonce",
            id: &id_a,
            int_auth: &[],
        };
        let octets = base.signed_octets();
        assert_eq!(octets.as_bytes().len(), 7 + 5 + 48);
        let variants = [
            Signer {
                sk_p: &sk_b,
                ..base
            },
            Signer {
                prf: Prf::HmacSha512,
                ..base
            },
            Signer { id: &id_b, ..base },
            Signer {
                init_message: b"messagf",
                ..base
            },
            Signer {
                peer_nonce: b"noncf",
                ..base
            },
            Signer {
                int_auth: &[0, 0, 0, 1],
                ..base
            },
        ];
        for variant in variants {
            assert_ne!(variant.signed_octets(), octets, "{variant:?}");
        }
        // RFC 9242 3.3.2: IntAuth goes last.
        let with_int_auth = Signer {
            int_auth: b"IntAuth",
            ..base
        }
        .signed_octets();
        assert_eq!(
            &with_int_auth.as_bytes()[..octets.as_bytes().len()],
            octets.as_bytes()
        );
        assert!(with_int_auth.as_bytes().ends_with(b"IntAuth"));
        assert_eq!(format!("{octets:?}"), "SignedOctets(60 bytes)");
    }
}
