//! The committed fuzz corpora replayed in the stable test run: every input `scripts/fuzz` kept
//! goes through the same check its target runs (ike/fuzz/src/lib.rs), so a codec change that
//! breaks a round trip the fuzzer once reached fails here, without cargo-fuzz.

#[path = "../fuzz/src/lib.rs"]
mod checks;

use std::path::Path;

use ike::wire::{
    auth, cert, certreq, cp, delete, eap, id, ke, nonce, notify, sa, sk, skf, ts, vendor,
};

/// A fuzz target's check.
type Check = fn(&[u8]);

/// Every fuzz target and the check it runs.
const TARGETS: &[(&str, Check)] = &[
    ("header", checks::header),
    ("payload_chain", checks::payload_chain),
    ("message", checks::message),
    ("typed", checks::typed),
    ("sk_unprotect", checks::sk_unprotect),
    ("auth", checks::body::<auth::Repr>),
    ("cert", checks::body::<cert::Repr>),
    ("certreq", checks::body::<certreq::Repr>),
    ("cp", checks::body::<cp::Repr>),
    ("delete", checks::body::<delete::Repr>),
    ("eap", checks::body::<eap::Repr>),
    ("id", checks::body::<id::Repr>),
    ("ke", checks::body::<ke::Repr>),
    ("nonce", checks::body::<nonce::Repr>),
    ("notify", checks::body::<notify::Repr>),
    ("sa", checks::body::<sa::Repr>),
    ("sk", checks::body::<sk::Repr>),
    ("skf", checks::body::<skf::Repr>),
    ("ts", checks::body::<ts::Repr>),
    ("vendor", checks::body::<vendor::Repr>),
];

#[test]
fn every_corpus_input_passes_its_targets_check() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let mut total = 0;
    for (target, check) in TARGETS {
        let dir = corpus.join(target);
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let mut inputs = 0;
        for entry in entries {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            check(&data);
            inputs += 1;
        }
        assert!(inputs > 0, "{target}: empty corpus");
        total += inputs;
    }
    // Every target of ike/fuzz is replayed: a new target needs a line above.
    let targets = std::fs::read_dir(corpus).unwrap().count();
    assert_eq!(targets, TARGETS.len(), "corpora without a replay");
    assert!(total > 100, "{total} inputs");
}
