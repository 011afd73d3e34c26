//! Getting the message's bytes: hex text (from the command line, a file or stdin) or raw
//! bytes, and the non-ESP marker that precedes IKE messages on UDP port 4500.

use std::io::Read;

use ike::wire::{Header, Message};

/// RFC 3948 2.2: four zero bytes in front of an IKE message sent to port 4500, where they
/// tell it from an ESP packet (whose SPI is never zero).
pub const NON_ESP_MARKER: [u8; 4] = [0; 4];

/// No IKE message is longer than its 32-bit length field allows, but no real one comes close
/// to this: a bound on what is read, so a wrong file cannot exhaust memory.
pub const MAX_INPUT: u64 = 16 << 20;

/// What to do about a non-ESP marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    /// The input must start with one; it is removed.
    Strip,
    /// Removed when the first four bytes are zero and what follows is an IKE message while the
    /// whole input is not.
    Detect,
}

/// Reads at most [`MAX_INPUT`] bytes.
pub fn read_limited(reader: impl Read, what: &str) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_INPUT + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {what}: {e}"))?;
    if bytes.len() as u64 > MAX_INPUT {
        return Err(format!("{what} is larger than {MAX_INPUT} bytes"));
    }
    Ok(bytes)
}

/// Parses hex text: whitespace and colons anywhere, and one leading `0x`, are ignored.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let trimmed = text.trim_start();
    let body = trimmed
        .strip_prefix("0x")
        .or_else(|| trimmed.strip_prefix("0X"))
        .unwrap_or(trimmed);
    let mut digits = Vec::with_capacity(body.len());
    for (at, c) in body.char_indices() {
        if c.is_whitespace() || c == ':' {
            continue;
        }
        let digit = c.to_digit(16).ok_or_else(|| {
            let column = text.len() - body.len() + at;
            format!("not a hex digit: {c:?} at character {column} of the input")
        })?;
        digits.push(digit as u8);
    }
    if !digits.len().is_multiple_of(2) {
        return Err(format!(
            "odd number of hex digits ({}): the last byte is incomplete",
            digits.len()
        ));
    }
    Ok(digits.chunks_exact(2).map(|p| (p[0] << 4) | p[1]).collect())
}

/// Removes the non-ESP marker as `mode` says; returns how many bytes were removed (0 or 4).
pub fn marker_len(bytes: &[u8], mode: Marker) -> Result<usize, String> {
    let has_zeros = bytes.starts_with(&NON_ESP_MARKER);
    match mode {
        Marker::Strip if has_zeros => Ok(NON_ESP_MARKER.len()),
        Marker::Strip => Err("--strip-marker: the input does not start with the non-ESP \
                              marker 00000000"
            .to_owned()),
        Marker::Detect => {
            let rest = &bytes[NON_ESP_MARKER.len().min(bytes.len())..];
            // An IKE message may itself begin with four zero bytes (its SPI), so the marker
            // is assumed only when that reading fails and the other one holds together.
            let detected =
                has_zeros && Message::parse(bytes).is_err() && Header::parse(rest).is_ok();
            Ok(if detected { NON_ESP_MARKER.len() } else { 0 })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_with_separators_and_prefix() {
        assert_eq!(
            parse_hex("0x00 0a:Ff\n10\t"),
            Ok(vec![0x00, 0x0a, 0xff, 0x10])
        );
        assert_eq!(parse_hex(""), Ok(vec![]));
    }

    #[test]
    fn bad_hex_says_where_and_why() {
        assert_eq!(
            parse_hex("00 0g"),
            Err("not a hex digit: 'g' at character 4 of the input".to_owned())
        );
        assert!(parse_hex("abc").unwrap_err().contains("odd number"));
        // Only one leading 0x.
        assert!(parse_hex("0x0x00").is_err());
    }

    #[test]
    fn marker_strip_and_detect() {
        let header = |len: u32| {
            let mut h = vec![1u8; 28];
            h[17] = 0x20;
            h[24..28].copy_from_slice(&len.to_be_bytes());
            h
        };
        let mut marked = NON_ESP_MARKER.to_vec();
        marked.extend(header(28));
        assert_eq!(marker_len(&marked, Marker::Detect), Ok(4));
        assert_eq!(marker_len(&marked, Marker::Strip), Ok(4));
        assert_eq!(marker_len(&header(28), Marker::Detect), Ok(0));
        assert!(marker_len(&header(28), Marker::Strip).is_err());
        assert_eq!(marker_len(&[0, 0], Marker::Detect), Ok(0));
    }

    #[test]
    fn input_over_the_limit_is_refused() {
        let big = std::io::repeat(0).take(MAX_INPUT + 10);
        assert!(read_limited(big, "stdin").unwrap_err().contains("larger"));
    }
}
