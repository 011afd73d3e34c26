//! `ikerctl decode` on the IKE_SA_INIT messages captured from real strongSwan and Libreswan
//! peers in `ike/testdata/` (see its README): each decodes without error, follows the rules of
//! its exchange, shows what its file name says it carries, and re-encodes byte-identical.

mod common;

use std::path::PathBuf;

use common::ikerctl;
use ike::wire::Message;

/// Every `.hex` capture, by file name.
fn captures() -> Vec<(String, PathBuf)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("ike/testdata");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .map(|e| e.expect("read ike/testdata").path())
        .filter(|p| p.extension().is_some_and(|e| e == "hex"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), p))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "{} holds no .hex captures",
        dir.display()
    );
    files
}

fn bytes_of(path: &PathBuf) -> Vec<u8> {
    let text = std::fs::read_to_string(path).expect("read capture");
    let digits: String = text.split_whitespace().collect();
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).expect("hex capture"))
        .collect()
}

#[test]
fn every_capture_decodes_and_re_encodes_byte_identical() {
    for (name, path) in captures() {
        let run = ikerctl(&["decode", "--file", path.to_str().unwrap()], b"");
        assert_eq!(run.code, Some(0), "{name}: {}", run.stderr);
        assert_eq!(run.stderr, "", "{name}");
        let out = run.stdout;
        let kind = if name.contains("-response") {
            "response"
        } else {
            "request"
        };
        let rules = format!("rules: a valid IKE_SA_INIT {kind}");
        assert!(out.contains(&rules), "{name}:\n{out}");
        if name.contains("-response-invalid-ke-") {
            assert!(out.contains("INVALID_KE_PAYLOAD (17)"), "{name}:\n{out}");
            assert!(out.contains("accepted group"), "{name}:\n{out}");
        } else if name.contains("-response-no-proposal-chosen-") {
            assert!(out.contains("NO_PROPOSAL_CHOSEN (14)"), "{name}:\n{out}");
        } else if name.contains("-aes256gcm16-prfsha384-x25519-")
            && !name.contains("-vs-")
            && !name.contains("-to-libreswan")
        {
            // The suite both peers were configured with, as strongSwan logs it.
            let proposal = "IKE:AES_GCM_16_256/PRF_HMAC_SHA2_384/CURVE_25519";
            assert!(out.contains(proposal), "{name}:\n{out}");
        }

        let bytes = bytes_of(&path);
        let message = Message::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            message.emit().unwrap(),
            bytes,
            "{name}: re-encoded bytes differ"
        );
    }
}
