//! `cargo bench -p ike`: the codec and crypto operations of one IKE SA's life, each timed as
//! the median of 21 samples (each sample a batch of about 20 ms), so a busy machine moves the
//! figures less than a mean would. Prints one line per operation: median time per operation
//! and the spread (lowest and highest sample).

use std::hint::black_box;

mod timing;
use timing::{Counter, bench};

use ike::crypto::Secret;
use ike::crypto::encr::Encr;
use ike::crypto::integ::Integ;
use ike::crypto::ke::KeyExchange;
use ike::crypto::keys::{IkeSuite, ike_sa_keys, skeyseed};
use ike::crypto::prf::Prf;
use ike::crypto::sk::{SkKeys, protect, unprotect};
use ike::wire::message::{Message, Payload};
use ike::wire::{ExchangeType, Flags, Header, IkeSpi, KeId, MessageId, PayloadType, vendor};

fn hex(text: &str) -> Vec<u8> {
    let text: String = text.chars().filter(char::is_ascii_hexdigit).collect();
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn codec() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/strongswan-5.9.8-ike-sa-init-request-default-to-strongswan.hex"
    );
    let bytes = hex(&std::fs::read_to_string(path).unwrap());
    bench("parse IKE_SA_INIT request (strongSwan, 892 B)", || {
        black_box(Message::parse(black_box(&bytes)).unwrap());
    });
    let message = Message::parse(&bytes).unwrap();
    bench("emit IKE_SA_INIT request (strongSwan, 892 B)", || {
        black_box(black_box(&message).emit().unwrap());
    });
}

fn sk() {
    let header = Header {
        spi_i: IkeSpi([1; 8]),
        spi_r: IkeSpi([2; 8]),
        next_payload: PayloadType::NONE,
        major_version: 2,
        minor_version: 0,
        exchange: ExchangeType::INFORMATIONAL,
        flags: Flags::INITIATOR,
        message_id: MessageId(2),
        length: 0,
    };
    // 1 KiB of payloads inside SK.
    let inner = [Payload::VendorId(vendor::Repr {
        id: vec![0x5a; 1020],
    })];
    let suites = [
        ("AES-GCM-16-256", Encr::AesGcm16 { key_len: 32 }, None),
        ("ChaCha20-Poly1305", Encr::ChaCha20Poly1305, None),
        (
            "AES-CBC-256 + HMAC-SHA2-256-128",
            Encr::AesCbc { key_len: 32 },
            Some(Integ::HmacSha256_128),
        ),
    ];
    let mut rng = Counter(1);
    for (name, encr, integ) in suites {
        let keys = SkKeys {
            encr,
            encr_key: Secret::new(vec![7; encr.keymat_len()]),
            integ: integ.map(|i| (i, Secret::new(vec![8; i.key_len()]))),
        };
        bench(&format!("SK protect 1 KiB, {name}"), || {
            black_box(protect(&keys, &header, &[], &inner, &mut rng).unwrap());
        });
        let bytes = protect(&keys, &header, &[], &inner, &mut rng).unwrap();
        bench(&format!("SK unprotect 1 KiB, {name}"), || {
            black_box(unprotect(&keys, black_box(&bytes)).unwrap());
        });
    }
}

fn key_exchange() {
    let mut rng = Counter(2);
    for (name, group) in [
        ("X25519", KeId::CURVE25519),
        ("ECP-256", KeId::ECP_256),
        ("ECP-384", KeId::ECP_384),
        ("ECP-521", KeId::ECP_521),
        ("MODP-2048", KeId::MODP_2048),
        ("MODP-3072", KeId::MODP_3072),
    ] {
        let peer = KeyExchange::generate(group, &mut rng)
            .unwrap()
            .public_value();
        bench(
            &format!("key exchange {name}: generate + public value"),
            || {
                let ke = KeyExchange::generate(group, &mut rng).unwrap();
                black_box(ke.public_value());
            },
        );
        let ke = KeyExchange::generate(group, &mut rng).unwrap();
        bench(&format!("key exchange {name}: shared secret"), || {
            black_box(ke.shared_secret(black_box(&peer)).unwrap());
        });
    }
}

fn key_schedule() {
    let suite = IkeSuite {
        encr: Encr::AesGcm16 { key_len: 32 },
        integ: None,
        prf: Prf::HmacSha384,
    };
    let shared = Secret::new(vec![3; 32]);
    bench("SKEYSEED + 7 IKE SA keys (PRF_HMAC_SHA2_384)", || {
        let seed = skeyseed(suite.prf, &[1; 32], &[2; 32], &shared);
        black_box(
            ike_sa_keys(
                &suite,
                &seed,
                &[1; 32],
                &[2; 32],
                IkeSpi([1; 8]),
                IkeSpi([2; 8]),
            )
            .unwrap(),
        );
    });
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` does not: then run nothing slow.
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    codec();
    sk();
    key_exchange();
    key_schedule();
}
