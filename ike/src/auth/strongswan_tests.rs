//! PSK AUTH against strongSwan 5.9.8: for each captured IKE SA in
//! `ike/testdata/strongswan-5.9.8-keys-*.txt` (charon's logged keys, the PSK and the messages
//! of IKE_SA_INIT and IKE_AUTH), the AUTH payloads charon sent are exactly what we compute
//! from the same signed octets, and they verify.

use std::collections::HashMap;

use super::octets::Signer;
use super::psk;
use crate::crypto::Secret;
use crate::crypto::prf::Prf;
use crate::crypto::testing::hex;
use crate::wire::message::{Message, Payload};
use crate::wire::rules::{IkeSaInitResponse, Typed};
use crate::wire::{AuthMethod, ExchangeType, PrfId, TransformType, auth, id};

fn load(name: &str) -> HashMap<String, Vec<u8>> {
    let path = format!("{}/testdata/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{path}: {err}"));
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.starts_with("suite"))
        .filter_map(|line| line.split_once(" ="))
        .map(|(key, value)| (key.trim().to_owned(), hex(value)))
        .collect()
}

/// The PRF the responder chose in its IKE_SA_INIT response.
fn negotiated_prf(response: &[u8]) -> Prf {
    let message = Message::parse(response).unwrap();
    let Ok(Typed::IkeSaInitResponse(IkeSaInitResponse::Accept { sa, .. })) =
        Typed::from_payloads(ExchangeType::IKE_SA_INIT, true, message.payloads)
    else {
        panic!("no accepting IKE_SA_INIT response");
    };
    let prf = sa.proposals[0]
        .transforms
        .iter()
        .find(|t| t.ty == TransformType::PRF)
        .unwrap();
    Prf::from_id(PrfId(prf.id)).unwrap()
}

/// The ID and AUTH payloads among the decrypted inner payloads of an IKE_AUTH message.
fn id_and_auth(message: &[u8], inner: &[u8]) -> (id::Repr, auth::Repr) {
    let first = Message::parse(message)
        .unwrap()
        .payloads
        .iter()
        .find_map(|payload| match payload {
            Payload::Sk { first, .. } => Some(*first),
            _ => None,
        })
        .unwrap();
    let payloads = Payload::parse_chain(first, inner).unwrap();
    let id = payloads.iter().find_map(|payload| match payload {
        Payload::IdI(id) | Payload::IdR(id) => Some(id.clone()),
        _ => None,
    });
    let auth = payloads.iter().find_map(|payload| match payload {
        Payload::Auth(auth) => Some(auth.clone()),
        _ => None,
    });
    (id.unwrap(), auth.unwrap())
}

fn check(file: &str) {
    let v = load(file);
    let prf = negotiated_prf(&v["ike_sa_init_response"]);
    let psk = Secret::from_slice(&v["psk"]);
    // The initiator (moon) signs RealMessage1 | NonceRData | prf(SK_pi, IDi'); the responder
    // (sun) RealMessage2 | NonceIData | prf(SK_pr, IDr').
    for (sk_p, init_message, peer_nonce, auth_message, expected_id) in [
        (
            "sk_pi",
            "ike_sa_init_request",
            "nr",
            "ike_auth_request",
            "id_i",
        ),
        (
            "sk_pr",
            "ike_sa_init_response",
            "ni",
            "ike_auth_response",
            "id_r",
        ),
    ] {
        let inner = &v[&format!("{auth_message}_inner")];
        let (id, auth) = id_and_auth(&v[auth_message], inner);
        assert_eq!(
            id,
            id::Repr::fqdn(core::str::from_utf8(&v[expected_id]).unwrap())
        );
        assert_eq!(
            auth.method,
            AuthMethod::SHARED_KEY_MIC,
            "{file}: {auth_message}"
        );
        let sk_p = Secret::from_slice(&v[sk_p]);
        let octets = Signer {
            prf,
            sk_p: &sk_p,
            init_message: &v[init_message],
            peer_nonce: &v[peer_nonce],
            id: &id,
            int_auth: &[],
        }
        .signed_octets();
        let ours = psk::auth_payload(prf, &psk, &octets);
        assert_eq!(ours, auth, "{file}: {auth_message}");
        assert_eq!(psk::verify_payload(prf, &psk, &octets, &auth), Ok(()));
    }
}

#[test]
fn aes256gcm16_prfsha384_x25519() {
    check("strongswan-5.9.8-keys-aes256gcm16-prfsha384-x25519.txt");
}

#[test]
fn aes128_sha256_modp2048() {
    check("strongswan-5.9.8-keys-aes128-sha256-modp2048.txt");
}

#[test]
fn chacha20poly1305_prfsha256_ecp256() {
    check("strongswan-5.9.8-keys-chacha20poly1305-prfsha256-ecp256.txt");
}
