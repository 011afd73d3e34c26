//! `ikerctl decode` on malformed input: every truncation of a valid message, seeded random
//! bytes, and wrong lengths. Each must exit 1 with one clean error line naming the byte
//! offset, the structure and the reason, never panic, and finish well under a second.

mod common;

use std::time::Duration;

use common::{Run, hex, ike_auth_request, ike_sa_init_request, ikerctl};
use ike::wire::Message;

/// Decodes `bytes` (as hex) and checks the outcome is what `Message::parse` says it is.
fn check(bytes: &[u8], why: &str) -> Run {
    let run = ikerctl(&["decode", &hex(bytes)], b"");
    assert!(
        run.elapsed < Duration::from_secs(1),
        "{why}: took {:?}",
        run.elapsed
    );
    assert!(!run.stderr.contains("panicked"), "{why}: {}", run.stderr);
    if Message::parse(bytes).is_ok() {
        assert_eq!(run.code, Some(0), "{why}: {}", run.stderr);
        return run;
    }
    assert_eq!(run.code, Some(1), "{why}: {}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{why}: {}", run.stderr);
    assert!(
        lines[0].starts_with("ikerctl decode: decoding stopped at byte "),
        "{why}: {}",
        run.stderr
    );
    run
}

/// Sets the header's length field to the buffer's length, so the payloads are reached.
fn fix_length(bytes: &mut [u8]) {
    if bytes.len() >= 28 {
        let len = bytes.len() as u32;
        bytes[24..28].copy_from_slice(&len.to_be_bytes());
    }
}

#[test]
fn every_truncation_fails_cleanly() {
    for message in [ike_sa_init_request(), ike_auth_request()] {
        let bytes = message.emit().unwrap();
        // The empty input is refused before decoding (see bad_input_text_fails_cleanly).
        for len in 1..bytes.len() {
            let run = check(&bytes[..len], &format!("truncated to {len}"));
            assert_eq!(run.code, Some(1), "truncated to {len}");
            let mut fixed = bytes[..len].to_vec();
            fix_length(&mut fixed);
            let run = check(&fixed, &format!("truncated to {len}, length fixed"));
            assert_eq!(run.code, Some(1), "truncated to {len}, length fixed");
        }
    }
}

#[test]
fn a_truncated_payload_is_located() {
    let mut bytes = ike_sa_init_request().emit().unwrap();
    // Cut into the Nonce (payload 3, at byte 152, 36 bytes long).
    bytes.truncate(152 + 20);
    fix_length(&mut bytes);
    let run = check(&bytes, "cut nonce");
    assert_eq!(
        run.stderr,
        "ikerctl decode: decoding stopped at byte 152 (payload 3 NONCE header): \
         bad length in payload header\n"
    );
    // What decoded before the failure is still shown.
    assert!(run.stdout.contains("payload 2: KE"), "{}", run.stdout);
    assert!(!run.stdout.contains("payload 3"), "{}", run.stdout);
}

/// A xorshift generator, so a failure reproduces.
fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut state = seed;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}

#[test]
fn random_bytes_fail_cleanly() {
    let mut next = xorshift(0x1ce_c0de);
    let template = ike_sa_init_request().emit().unwrap();
    for i in 0..300 {
        let len = 1 + (next() % 400) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if i % 2 == 0 && len >= 28 {
            // A plausible header in front of junk, so the payload parsers are reached.
            bytes[..28].copy_from_slice(&template[..28]);
            bytes[16] = (next() % 56) as u8;
            fix_length(&mut bytes);
        }
        // Never four zero bytes first: that would be read as a non-ESP marker.
        if let Some(first) = bytes.first_mut() {
            *first |= 1;
        }
        check(&bytes, &format!("random input {i} ({})", hex(&bytes)));
    }
}

#[test]
fn wrong_lengths_fail_cleanly() {
    let valid = ike_sa_init_request().emit().unwrap();
    // Header length: too short, too long, zero, huge.
    for claimed in [
        0u32,
        27,
        28,
        valid.len() as u32 - 1,
        valid.len() as u32 + 1,
        u32::MAX,
    ] {
        let mut bytes = valid.clone();
        bytes[24..28].copy_from_slice(&claimed.to_be_bytes());
        let run = check(&bytes, &format!("header length {claimed}"));
        assert!(
            run.stderr.contains("at byte 24 (IKE header length)"),
            "{}",
            run.stderr
        );
    }
    // Each payload length of the chain: zero, below its header, one off, past the end.
    let starts = [28usize, 112, 152, 188, 216, 244, 252, 266];
    for &at in &starts {
        let real = u16::from_be_bytes([valid[at + 2], valid[at + 3]]);
        for claimed in [0u16, 3, real - 1, real + 1, u16::MAX] {
            let mut bytes = valid.clone();
            bytes[at + 2..at + 4].copy_from_slice(&claimed.to_be_bytes());
            check(&bytes, &format!("payload at {at} length {claimed}"));
        }
    }
    // Inside the SA: proposal and transform lengths.
    for at in [28 + 4 + 2, 28 + 4 + 8 + 2] {
        let mut bytes = valid.clone();
        bytes[at] ^= 0x40;
        let run = check(&bytes, &format!("SA substructure length at {at}"));
        assert!(run.stderr.contains("(payload 1 SA)"), "{}", run.stderr);
    }
}

#[test]
fn bad_input_text_fails_cleanly() {
    for (input, words) in [
        ("xyz", "not a hex digit"),
        ("abc", "odd number of hex digits"),
        ("", "empty"),
    ] {
        let run = ikerctl(&["decode", input], b"");
        assert_eq!(run.code, Some(1), "{input}");
        assert!(run.stderr.contains(words), "{input}: {}", run.stderr);
    }
    let run = ikerctl(&["decode"], &[0xff, 0xfe, 0x00]);
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("--raw"), "{}", run.stderr);
    let run = ikerctl(&["decode", "--file", "/nonexistent/ikerctl-test"], b"");
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("cannot open file"), "{}", run.stderr);
}
