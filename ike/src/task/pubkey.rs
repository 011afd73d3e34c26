//! The certificate half of authentication: what IKE_SA_INIT announces for it (RFC 7427's
//! SIGNATURE_HASH_ALGORITHMS, RFC 7296 3.7's CERTREQ), the CERT and AUTH payloads we send,
//! and the checks of the peer's, each failure named.

use crate::auth::octets::SignedOctets;
use crate::auth::{hash_algorithms, signature, x509};
use crate::config::{Auth, Pubkey, SendCert};
use crate::sa::{Ctx, IkeSa};
use crate::wire::{CertEncoding, HashAlgorithm, NotifyType, auth, cert, certreq, id, notify};

/// What we prove our identity with: the AUTH payload and the certificates that go before it.
pub(crate) struct OurProof {
    pub auth: auth::Repr,
    pub certs: Vec<cert::Repr>,
}

impl IkeSa {
    /// Our SIGNATURE_HASH_ALGORITHMS, when this connection authenticates with signatures.
    pub(crate) fn hash_notify(&self) -> Option<notify::Repr> {
        self.conn
            .uses_signatures()
            .then(|| hash_algorithms::notify(&hash_algorithms::OURS))
    }

    /// Remembers the peer's SIGNATURE_HASH_ALGORITHMS; a malformed one counts as none.
    pub(crate) fn note_peer_hashes(&mut self, notifies: &[notify::Repr]) {
        self.peer_hashes = notifies
            .iter()
            .find(|n| n.ty == NotifyType::SIGNATURE_HASH_ALGORITHMS)
            .and_then(|n| hash_algorithms::decode(&n.data).ok());
    }

    /// A CERTREQ naming the CAs we trust for the peer, by the SHA-1 hashes of their public
    /// keys (RFC 7296 3.7), when we expect a certificate.
    pub(crate) fn certreq(&self) -> Option<certreq::Repr> {
        let Auth::Pubkey(peer) = &self.conn.remote_auth else {
            return None;
        };
        if !self.conn.send_certreq {
            return None;
        }
        let authorities: Vec<u8> = peer
            .cacerts
            .iter()
            .filter_map(|ca| x509::key_hash(ca).ok())
            .flatten()
            .collect();
        (!authorities.is_empty()).then_some(certreq::Repr {
            encoding: CertEncoding::X509_SIGNATURE,
            authorities,
        })
    }
}

impl IkeSa {
    /// Whether our certificates go along (`send_cert`).
    pub(crate) fn sends_certs(&self) -> bool {
        match self.conn.send_cert {
            SendCert::Always => true,
            SendCert::IfAsked => self.peer_asked_cert,
            SendCert::Never => false,
        }
    }
}

/// Signs `octets` with our key: RFC 7427's method 14 with a hash the peer announced, or the
/// classic method of the key when it announced none; our certificates go along.
pub(crate) fn sign_auth(
    ours: &Pubkey,
    peer_hashes: Option<&[HashAlgorithm]>,
    octets: &SignedOctets,
) -> Result<OurProof, String> {
    let key = ours.key.as_ref().ok_or("no private key configured")?;
    let scheme = hash_algorithms::select_scheme(key.kind(), peer_hashes, false)
        .map_err(|e| format!("no signature scheme the peer accepts: {e}"))?;
    let auth = signature::sign(key, scheme, octets).map_err(|e| format!("signing: {e}"))?;
    let certs = ours
        .certs
        .iter()
        .map(|der| cert::Repr {
            encoding: CertEncoding::X509_SIGNATURE,
            data: der.clone(),
        })
        .collect();
    Ok(OurProof { auth, certs })
}

/// Checks the peer's proof: its certificate chain up to one of our CAs, valid now; its identity
/// among the names the certificate carries; its AUTH signature by the certificate's key. The
/// error says which check failed and why.
pub(crate) fn verify_pubkey(
    ctx: &Ctx<'_>,
    peer: &Pubkey,
    peer_id: &id::Repr,
    certs: &[cert::Repr],
    received: &auth::Repr,
    octets: &SignedOctets,
) -> Result<(), String> {
    let chain: Vec<Vec<u8>> = certs
        .iter()
        .filter(|c| c.encoding == CertEncoding::X509_SIGNATURE)
        .map(|c| c.data.clone())
        .collect();
    let now = ctx
        .wall
        .ok_or("no wall clock to check the certificate's validity against")?;
    let key = x509::verify_chain(&chain, &peer.cacerts, now).map_err(|e| e.to_string())?;
    let end_entity = x509::Certificate::parse(&chain[0]).map_err(|e| e.to_string())?;
    if !end_entity.proves(peer_id) {
        return Err(format!(
            "identity {peer_id} is not the certificate's subject or one of its \
             subjectAltNames"
        ));
    }
    signature::verify(&key, received, octets)
        .map(|_| ())
        .map_err(|e| {
            format!(
                "AUTH signature ({:?}) does not verify: {e}",
                received.method
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::PrivateKey;
    use crate::auth::octets::Signer;
    use crate::crypto::Secret;
    use crate::crypto::prf::Prf;
    use crate::wire::AuthMethod;

    fn ours(name: &str) -> Pubkey {
        let path = format!(
            "{}/testdata/keys/{name}.pk8.der",
            env!("CARGO_MANIFEST_DIR")
        );
        let key = PrivateKey::from_pkcs8(&std::fs::read(path).unwrap()).unwrap();
        Pubkey::local(vec![vec![0x30, 0x00]], key)
    }

    fn octets() -> SignedOctets {
        let sk_p = Secret::from_slice(&[7; 32]);
        let id = id::Repr::fqdn("moon.example");
        Signer {
            prf: Prf::HmacSha256,
            sk_p: &sk_p,
            init_message: b"IKE_SA_INIT",
            peer_nonce: &[1; 32],
            id: &id,
            int_auth: &[],
        }
        .signed_octets()
    }

    /// RFC 7427 4: method 14 only with a hash the peer announced; an ECDSA key falls back to
    /// RFC 4754's method for its curve when the peer announced nothing.
    #[test]
    fn the_method_follows_the_peers_announcement() {
        let announced = hash_algorithms::OURS;
        for (key, peer, method) in [
            (
                "ecdsa-p256",
                Some(&announced[..]),
                AuthMethod::DIGITAL_SIGNATURE,
            ),
            ("ecdsa-p256", None, AuthMethod::ECDSA_SHA256_P256),
            ("ecdsa-p384", None, AuthMethod::ECDSA_SHA384_P384),
            (
                "rsa2048",
                Some(&announced[..]),
                AuthMethod::DIGITAL_SIGNATURE,
            ),
            (
                "ed25519",
                Some(&announced[..]),
                AuthMethod::DIGITAL_SIGNATURE,
            ),
        ] {
            let proof = sign_auth(&ours(key), peer, &octets()).unwrap();
            assert_eq!(proof.auth.method, method, "{key} {peer:?}");
            assert_eq!(proof.certs.len(), 1);
            assert_eq!(proof.certs[0].encoding, CertEncoding::X509_SIGNATURE);
        }
        // Ed25519 to a peer that verifies only SHA-2 hashes: nothing to sign with.
        let sha2 = [HashAlgorithm::SHA2_256];
        assert!(sign_auth(&ours("ed25519"), Some(&sha2), &octets()).is_err());
        assert!(sign_auth(&Pubkey::default(), None, &octets()).is_err());
    }
}
