//! What the listings share in their text: times and sizes in few characters, algorithms as one
//! string, aligned `label  value` lines. Every reader takes what a message has and leaves out
//! what it lacks.

use crate::vici::wire::Message;

/// A span of seconds in at most two units: `42s`, `3m12s`, `2h05m`, `3d04h`.
pub fn span(secs: u64) -> String {
    const MINUTE: u64 = 60;
    const HOUR: u64 = 60 * MINUTE;
    const DAY: u64 = 24 * HOUR;
    match secs {
        s if s < MINUTE => format!("{s}s"),
        s if s < HOUR => format!("{}m{:02}s", s / MINUTE, s % MINUTE),
        s if s < DAY => format!("{}h{:02}m", s / HOUR, s % HOUR / MINUTE),
        s => format!("{}d{:02}h", s / DAY, s % DAY / HOUR),
    }
}

/// A byte count: exact below 1 KiB, else with one decimal in KiB, MiB, GiB or TiB.
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// A value that is a count of seconds or a counter.
pub fn number(m: &Message, key: &str) -> Option<u64> {
    m.str(key)?.trim().parse().ok()
}

/// `3m12s ago` from a key holding seconds since something happened.
pub fn ago(m: &Message, key: &str) -> Option<String> {
    number(m, key).map(|s| format!("{} ago", span(s)))
}

/// `in 3m12s` from a key holding seconds until something happens.
pub fn due(m: &Message, key: &str) -> Option<String> {
    number(m, key).map(|s| format!("in {}", span(s)))
}

/// The algorithms of an SA as one string, strongSwan's names joined by `/`, key sizes after a
/// dash: `AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519`, with `/ESN` when ESN is on.
pub fn algorithms(m: &Message) -> Option<String> {
    let mut parts = Vec::new();
    let sized = |alg: &str, size: &str| match m.str(size) {
        Some(bits) => format!("{alg}-{bits}"),
        None => alg.to_owned(),
    };
    if let Some(encr) = m.str("encr-alg") {
        parts.push(sized(encr, "encr-keysize"));
    }
    if let Some(integ) = m.str("integ-alg") {
        parts.push(sized(integ, "integ-keysize"));
    }
    parts.extend(
        ["prf-alg", "dh-group"]
            .iter()
            .filter_map(|k| m.str(k))
            .map(str::to_owned),
    );
    if m.str("esn") == Some("1") {
        parts.push("ESN".to_owned());
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// Lines of `label  value`, the values aligned, each line indented.
#[derive(Debug, Default)]
pub struct Block {
    rows: Vec<(String, String)>,
}

impl Block {
    pub fn new() -> Block {
        Block::default()
    }

    /// Adds a row, if there is a value.
    pub fn row(&mut self, label: &str, value: Option<String>) {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            self.rows.push((label.to_owned(), value));
        }
    }

    /// Appends the rows to `out`, `indent` spaces in.
    pub fn write(&self, out: &mut String, indent: usize) {
        let width = self.rows.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
        for (label, value) in &self.rows {
            out.extend(std::iter::repeat_n(' ', indent));
            out.push_str(&format!("{label:width$}  {value}\n"));
        }
    }
}

/// The items of a list as text, joined by `sep`; None when there is no such list.
pub fn joined(m: &Message, key: &str, sep: &str) -> Option<String> {
    let list = m.list(key)?;
    Some(
        list.iter()
            .map(|v| v.as_str().map_or_else(|| format!("{v:?}"), str::to_owned))
            .collect::<Vec<_>>()
            .join(sep),
    )
}

/// Comma-joined parts, the empty ones left out.
pub fn commas(parts: impl IntoIterator<Item = Option<String>>) -> String {
    parts.into_iter().flatten().collect::<Vec<_>>().join(", ")
}

/// The sections of a message, by name: the items of a listing event.
pub fn sections(m: &Message) -> impl Iterator<Item = (&str, &Message)> {
    m.items.iter().filter_map(|(name, item)| match item {
        crate::vici::wire::Item::Section(s) => Some((name.as_str(), s)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_use_two_units_at_most() {
        for (secs, text) in [
            (0, "0s"),
            (59, "59s"),
            (60, "1m00s"),
            (192, "3m12s"),
            (7500, "2h05m"),
            (273_600, "3d04h"),
        ] {
            assert_eq!(span(secs), text, "{secs}");
        }
    }

    #[test]
    fn sizes_are_binary_with_one_decimal() {
        for (bytes, text) in [
            (0, "0 B"),
            (1023, "1023 B"),
            (1024, "1.0 KiB"),
            (1_300_000, "1.2 MiB"),
            (u64::MAX, "16777216.0 TiB"),
        ] {
            assert_eq!(size(bytes), text, "{bytes}");
        }
    }

    #[test]
    fn algorithms_join_what_is_there() {
        let ike = Message::new()
            .with_value("encr-alg", "AES_CBC")
            .with_value("encr-keysize", "128")
            .with_value("integ-alg", "HMAC_SHA2_256_128")
            .with_value("prf-alg", "PRF_HMAC_SHA2_256")
            .with_value("dh-group", "MODP_2048");
        assert_eq!(
            algorithms(&ike).as_deref(),
            Some("AES_CBC-128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048")
        );
        let esp = Message::new()
            .with_value("encr-alg", "AES_GCM_16")
            .with_value("esn", "1");
        assert_eq!(algorithms(&esp).as_deref(), Some("AES_GCM_16/ESN"));
        assert_eq!(algorithms(&Message::new()), None);
    }
}
