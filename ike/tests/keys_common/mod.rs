//! The check shared by the real-peer key-schedule tests: one `*-keys-*.txt` file of
//! ike/testdata (made by scripts/capture-ike-keys) holds an IKE SA's nonces, SPIs, shared
//! secret, the keys a peer logged, the PSK and the IKE_SA_INIT and IKE_AUTH messages as sent.
//! [`check`] derives every key from the nonces, SPIs and shared secret, opens both IKE_AUTH
//! messages, parses every payload inside, emits them and protects them again with the sender's
//! IV and padding to the same bytes, and verifies both AUTH payloads with the PSK.

use std::collections::HashMap;

use ike::auth::{Signer, psk};
use ike::crypto::encr::Encr;
use ike::crypto::integ::Integ;
use ike::crypto::keys::{IkeSaKeys, IkeSuite, ike_sa_keys, skeyseed};
use ike::crypto::prf::Prf;
use ike::crypto::sk::{SkKeys, protect, unprotect};
use ike::crypto::{Random, Secret};
use ike::wire::message::{Message, Payload};
use ike::wire::rules::{IkeSaInitResponse, Typed};
use ike::wire::{EncrId, ExchangeType, IkeSpi, IntegId, PrfId, TransformType, id};

struct Vector {
    file: String,
    values: HashMap<String, String>,
}

impl Vector {
    fn load(file: &str) -> Vector {
        let path = format!("{}/testdata/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).expect(&path);
        let values = text
            .lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(|line| line.split_once(" = ").or_else(|| line.split_once(" =")))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect();
        Vector {
            file: file.to_owned(),
            values,
        }
    }

    fn hex(&self, key: &str) -> Vec<u8> {
        let text = self
            .values
            .get(key)
            .unwrap_or_else(|| panic!("{}: {key} missing", self.file));
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }
}

/// Hands out fixed bytes: the IV, then the padding the sender used.
struct Replay(Vec<u8>);

impl Random for Replay {
    fn fill(&mut self, buf: &mut [u8]) {
        let rest = self.0.split_off(buf.len());
        buf.copy_from_slice(&self.0);
        self.0 = rest;
    }
}

/// Parses an IKE_SA_INIT message, checks that every payload was understood, and emits it
/// again to the same bytes.
fn reencode_init(v: &Vector, name: &str) -> Message {
    let bytes = v.hex(name);
    let message = Message::parse(&bytes).unwrap_or_else(|e| panic!("{}: {name}: {e}", v.file));
    for payload in &message.payloads {
        assert!(
            !matches!(payload, Payload::Unknown { .. }),
            "{}: {name}: {payload:?}",
            v.file
        );
    }
    assert_eq!(
        message.emit().unwrap(),
        bytes,
        "{}: {name}: emitted",
        v.file
    );
    message
}

/// The suite the responder chose, read from its IKE_SA_INIT response.
fn negotiated(v: &Vector) -> IkeSuite {
    let message = reencode_init(v, "ike_sa_init_response");
    let Ok(Typed::IkeSaInitResponse(IkeSaInitResponse::Accept { sa, .. })) =
        Typed::from_payloads(ExchangeType::IKE_SA_INIT, true, message.payloads)
    else {
        panic!("{}: no accepting IKE_SA_INIT response", v.file);
    };
    let transforms = &sa.proposals[0].transforms;
    let find = |ty| transforms.iter().find(|t| t.ty == ty);
    let encr = find(TransformType::ENCR).unwrap();
    IkeSuite {
        encr: Encr::from_transform(EncrId(encr.id), encr.key_length()).unwrap(),
        integ: find(TransformType::INTEG).map(|t| Integ::from_id(IntegId(t.id)).unwrap()),
        prf: Prf::from_id(PrfId(find(TransformType::PRF).unwrap().id)).unwrap(),
    }
}

/// SKEYSEED and the keys of RFC 7296 2.14, each compared with the logged one.
fn derive_keys(v: &Vector, suite: &IkeSuite) -> IkeSaKeys {
    let file = &v.file;
    let (ni, nr) = (v.hex("ni"), v.hex("nr"));
    let spi = |k| IkeSpi(v.hex(k).try_into().unwrap());
    let shared = Secret::new(v.hex("shared_secret"));
    let seed = skeyseed(suite.prf, &ni, &nr, &shared);
    assert_eq!(seed.as_bytes(), v.hex("skeyseed"), "{file}: SKEYSEED");
    let keys = ike_sa_keys(suite, &seed, &ni, &nr, spi("spi_i"), spi("spi_r")).unwrap();
    for (name, key) in [
        ("sk_d", &keys.sk_d),
        ("sk_ai", &keys.sk_ai),
        ("sk_ar", &keys.sk_ar),
        ("sk_ei", &keys.sk_ei),
        ("sk_er", &keys.sk_er),
        ("sk_pi", &keys.sk_pi),
        ("sk_pr", &keys.sk_pr),
    ] {
        assert_eq!(key.as_bytes(), v.hex(name), "{file}: {name}");
    }
    keys
}

/// One direction of IKE_AUTH: the message's name in the file and the keys and octets of the
/// side that sent it.
struct Direction<'a> {
    message: &'static str,
    encr_key: &'a Secret,
    integ_key: &'a Secret,
    sk_p: &'a Secret,
    /// The sender's IKE_SA_INIT message and the other side's nonce (RFC 7296 2.15).
    init_message: &'static str,
    peer_nonce: &'static str,
    /// The sender's FQDN identity.
    id: &'static str,
}

/// Opens the IKE_AUTH message, parses and emits its inner payloads, protects them again to the
/// same bytes, and verifies its AUTH payload.
fn check_ike_auth(v: &Vector, suite: &IkeSuite, d: &Direction<'_>) {
    let (file, message) = (&v.file, d.message);
    let sk = SkKeys {
        encr: suite.encr,
        encr_key: d.encr_key.clone(),
        integ: suite.integ.map(|i| (i, d.integ_key.clone())),
    };
    let bytes = v.hex(message);
    let opened = unprotect(&sk, &bytes).unwrap_or_else(|e| panic!("{file}: {message}: {e}"));

    // Every inner payload understood, and emitted again to the decrypted bytes.
    for payload in &opened.inner {
        assert!(
            !matches!(payload, Payload::Unknown { .. }),
            "{file}: {message}: {payload:?}"
        );
    }
    let mut emitted = vec![0; Payload::chain_len(&opened.inner)];
    Payload::emit_chain(&opened.inner, &mut emitted).unwrap();
    assert_eq!(
        emitted,
        v.hex(&format!("{message}_inner")),
        "{file}: {message}: inner payloads"
    );
    let response = message.ends_with("response");
    Typed::from_payloads(ExchangeType::IKE_AUTH, response, opened.inner.clone())
        .unwrap_or_else(|e| panic!("{file}: {message}: {e}"));

    // The same IV and padding give the same bytes.
    let padding = v.hex(&format!("{message}_padding"));
    let replay = [
        v.hex(&format!("{message}_iv")),
        padding[..padding.len() - 1].to_vec(),
    ]
    .concat();
    let again = protect(
        &sk,
        &opened.header,
        &opened.unprotected,
        &opened.inner,
        &mut Replay(replay),
    )
    .unwrap();
    assert_eq!(again, bytes, "{file}: {message}: protected again");

    // RFC 7296 2.15: the AUTH payload is ours from the sender's signed octets, and verifies.
    let id = opened.inner.iter().find_map(|p| match p {
        Payload::IdI(id) if !response => Some(id),
        Payload::IdR(id) if response => Some(id),
        _ => None,
    });
    let id = id.unwrap_or_else(|| panic!("{file}: {message}: no ID"));
    let name = v.hex(d.id);
    assert_eq!(*id, id::Repr::fqdn(core::str::from_utf8(&name).unwrap()));
    let auth = opened.inner.iter().find_map(|p| match p {
        Payload::Auth(auth) => Some(auth),
        _ => None,
    });
    let auth = auth.unwrap_or_else(|| panic!("{file}: {message}: no AUTH"));
    let octets = Signer {
        prf: suite.prf,
        sk_p: d.sk_p,
        init_message: &v.hex(d.init_message),
        peer_nonce: &v.hex(d.peer_nonce),
        id,
        int_auth: &[],
    }
    .signed_octets();
    let shared_key = Secret::new(v.hex("psk"));
    assert_eq!(
        psk::auth_payload(suite.prf, &shared_key, &octets),
        *auth,
        "{file}: {message}: AUTH"
    );
    assert_eq!(
        psk::verify_payload(suite.prf, &shared_key, &octets, auth),
        Ok(()),
        "{file}: {message}: AUTH"
    );
}

/// Checks one `*-keys-*.txt` file; panics at the first difference.
pub fn check(file: &str) {
    let v = Vector::load(file);
    reencode_init(&v, "ike_sa_init_request");
    let suite = negotiated(&v);
    let keys = derive_keys(&v, &suite);
    for d in [
        Direction {
            message: "ike_auth_request",
            encr_key: &keys.sk_ei,
            integ_key: &keys.sk_ai,
            sk_p: &keys.sk_pi,
            init_message: "ike_sa_init_request",
            peer_nonce: "nr",
            id: "id_i",
        },
        Direction {
            message: "ike_auth_response",
            encr_key: &keys.sk_er,
            integ_key: &keys.sk_ar,
            sk_p: &keys.sk_pr,
            init_message: "ike_sa_init_response",
            peer_nonce: "ni",
            id: "id_r",
        },
    ] {
        check_ike_auth(&v, &suite, &d);
    }
}
