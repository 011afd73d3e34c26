//! The key schedule and the SK payload against strongSwan 5.9.8: for three suites, charon's
//! logged keys and the IKE_SA_INIT and IKE_AUTH messages it exchanged (ike/testdata/
//! strongswan-5.9.8-keys-*.txt, made by scripts/capture-ike-keys). From the nonces, SPIs and
//! shared secret we derive every key charon logged; with them we open its IKE_AUTH messages,
//! parse what is inside, and protect it again to the same bytes.

use std::collections::HashMap;

use ike::crypto::encr::Encr;
use ike::crypto::integ::Integ;
use ike::crypto::keys::{IkeSuite, ike_sa_keys, skeyseed};
use ike::crypto::prf::Prf;
use ike::crypto::sk::{SkKeys, protect, unprotect};
use ike::crypto::{Random, Secret};
use ike::wire::message::{Message, Payload};
use ike::wire::rules::{IkeSaInitResponse, Typed};
use ike::wire::{EncrId, ExchangeType, IkeSpi, IntegId, PrfId, TransformType};

struct Vector(HashMap<String, String>);

impl Vector {
    fn load(name: &str) -> Vector {
        let path = format!("{}/testdata/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).expect(&path);
        let map = text
            .lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(|line| line.split_once(" = ").or_else(|| line.split_once(" =")))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect();
        Vector(map)
    }

    fn hex(&self, key: &str) -> Vec<u8> {
        let text = self.0.get(key).unwrap_or_else(|| panic!("{key} missing"));
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }
}

/// Hands out fixed bytes: the IV, then the padding strongSwan used.
struct Replay(Vec<u8>);

impl Random for Replay {
    fn fill(&mut self, buf: &mut [u8]) {
        let rest = self.0.split_off(buf.len());
        buf.copy_from_slice(&self.0);
        self.0 = rest;
    }
}

/// The suite the responder chose, read from its IKE_SA_INIT response.
fn negotiated(v: &Vector) -> IkeSuite {
    let message = Message::parse(&v.hex("ike_sa_init_response")).unwrap();
    let Ok(Typed::IkeSaInitResponse(IkeSaInitResponse::Accept { sa, .. })) =
        Typed::from_payloads(ExchangeType::IKE_SA_INIT, true, message.payloads)
    else {
        panic!("no accepting IKE_SA_INIT response");
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

fn check(file: &str) {
    let v = Vector::load(file);
    let suite = negotiated(&v);
    let (ni, nr) = (v.hex("ni"), v.hex("nr"));
    let spi = |k| IkeSpi(v.hex(k).try_into().unwrap());
    let shared = Secret::new(v.hex("shared_secret"));

    let seed = skeyseed(suite.prf, &ni, &nr, &shared);
    assert_eq!(seed.as_bytes(), v.hex("skeyseed"), "{file}: SKEYSEED");
    let keys = ike_sa_keys(&suite, &seed, &ni, &nr, spi("spi_i"), spi("spi_r")).unwrap();
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

    for (message, encr_key, integ_key) in [
        ("ike_auth_request", &keys.sk_ei, &keys.sk_ai),
        ("ike_auth_response", &keys.sk_er, &keys.sk_ar),
    ] {
        let sk = SkKeys {
            encr: suite.encr,
            encr_key: encr_key.clone(),
            integ: suite.integ.map(|i| (i, integ_key.clone())),
        };
        let bytes = v.hex(message);
        let opened = unprotect(&sk, &bytes).unwrap_or_else(|e| panic!("{file}: {message}: {e}"));
        let inner_bytes = v.hex(&format!("{message}_inner"));
        let mut emitted = vec![0; Payload::chain_len(&opened.inner)];
        Payload::emit_chain(&opened.inner, &mut emitted).unwrap();
        assert_eq!(emitted, inner_bytes, "{file}: {message}: inner payloads");
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
