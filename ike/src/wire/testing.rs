//! Shared checks for the codec's unit tests.

use core::fmt::Debug;

use super::{Error, PayloadBody};

/// Deterministic junk: buffers of many lengths (0 to 300 bytes) filled from a seeded
/// xorshift generator, so a failure reproduces.
pub fn junk(seed: u64) -> Vec<Vec<u8>> {
    let mut state = seed | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..512)
        .map(|i| {
            let len = if i < 64 { i } else { (next() % 300) as usize };
            (0..len).map(|_| next() as u8).collect()
        })
        .collect()
}

/// The checks every payload body passes, given a representative value and its canonical
/// bytes: parse, emit, round trip, every truncation below `fixed_len` (the body's fixed part)
/// rejected, and neither prefixes nor junk ever panicking; whatever parses re-emits to bytes
/// that parse to the same value.
pub fn check_body<R: PayloadBody + PartialEq + Debug>(repr: &R, bytes: &[u8], fixed_len: usize) {
    assert_eq!(R::parse(bytes).as_ref(), Ok(repr), "parse");
    assert_eq!(repr.buffer_len(), bytes.len(), "buffer_len");
    assert_eq!(repr.to_vec(), bytes, "emit");
    assert_eq!(R::parse(&repr.to_vec()).as_ref(), Ok(repr), "round trip");
    for len in 0..bytes.len() {
        let prefix = &bytes[..len];
        match R::parse(prefix) {
            Err(_) => {}
            Ok(_) if len < fixed_len => panic!("a {len}-byte prefix parsed"),
            Ok(parsed) => reparses(&parsed),
        }
    }
    for buf in junk(bytes.len() as u64 * 7919 + 1) {
        if let Ok(parsed) = R::parse(&buf) {
            reparses(&parsed);
        }
    }
}

fn reparses<R: PayloadBody + PartialEq + Debug>(parsed: &R) {
    let bytes = parsed.to_vec();
    assert_eq!(
        R::parse(&bytes).as_ref(),
        Ok(parsed),
        "re-parse of {bytes:02x?}"
    );
}

/// Asserts that parsing `bytes` fails with `expected`.
pub fn check_error<R: PayloadBody + Debug>(bytes: &[u8], expected: Error) {
    assert_eq!(R::parse(bytes).err(), Some(expected), "{bytes:02x?}");
}
