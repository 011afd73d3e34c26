//! `ikerctl decode`: prints one IKE message field by field, as text or JSON.
//!
//! The input is read ([`input`]), decoded into a [`walk::Report`] whose fields are described
//! by [`describe`], [`notify`], [`proposal`] and [`selector`], and rendered from one tree of
//! [`value::Value`]s, so text and JSON say the same.
//!
//! Encrypted payloads (SK, SKF) are described from the outside. Decrypting them takes the
//! SK_e and SK_a keys of each direction (`--sk-ei`, `--sk-er`, `--sk-ai`, `--sk-ar`) and the
//! negotiated transforms; those options come with the crypto layer. They belong in [`Args`],
//! are handed to [`walk::decode`], which opens the SK payload and walks the inner chain like
//! the outer one, and [`describe::payload`] then describes the inner payloads.

pub mod describe;
pub mod input;
pub mod notify;
pub mod proposal;
pub mod selector;
pub mod value;
pub mod walk;

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use input::Marker;
use value::{Value, write_json, write_text};
use walk::Report;

/// Decode one IKE message and print every header field and payload.
///
/// The message is hex (whitespace, colons and a leading 0x are ignored) given as the argument,
/// in a file (--file), or on stdin; or raw bytes (--raw) from a file or stdin. A message
/// captured on UDP port 4500 may keep its 4-byte non-ESP marker (00000000): it is recognised,
/// or required and removed with --strip-marker. Exits 1, saying where and why, when the
/// message is malformed.
#[derive(Debug, clap::Args)]
#[command(long_about)]
#[command(after_long_help = "Examples:
  ikerctl decode 6a1b2c3d4e5f60710000000000000000212022080000000000000150...
  ikerctl decode --json --file ike-sa-init.hex
  ikerctl decode --raw --file udp-4500-payload.bin      (the marker is recognised)")]
pub struct Args {
    /// The message in hex; "-" or nothing reads stdin.
    #[arg(value_name = "HEX", conflicts_with = "file")]
    pub hex: Option<String>,
    /// Read the message from this file (hex, or raw bytes with --raw).
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// The input (file or stdin) is raw bytes, not hex.
    #[arg(long, conflicts_with = "hex")]
    pub raw: bool,
    /// The message starts with the non-ESP marker; remove it (it is otherwise detected).
    #[arg(long)]
    pub strip_marker: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Runs `decode`: 0 when the message decodes, 1 when the input cannot be read or the message
/// is malformed.
pub fn run(args: &Args) -> ExitCode {
    let bytes = match read_input(args) {
        Ok(bytes) => bytes,
        Err(message) => return fail(&message),
    };
    if bytes.is_empty() {
        return fail("the input is empty: no message to decode");
    }
    let mode = if args.strip_marker {
        Marker::Strip
    } else {
        Marker::Detect
    };
    let marker = match input::marker_len(&bytes, mode) {
        Ok(len) => len,
        Err(message) => return fail(&message),
    };
    let report = walk::decode(&bytes, marker);
    let out = if args.json {
        json(&report)
    } else {
        text(&report)
    };
    // A closed pipe (`| head`) is not an error worth reporting.
    let _ = std::io::stdout().write_all(out.as_bytes());
    match &report.failure {
        Some(failure) => fail(&failure_text(failure)),
        None => ExitCode::SUCCESS,
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("ikerctl decode: {message}");
    ExitCode::FAILURE
}

fn read_input(args: &Args) -> Result<Vec<u8>, String> {
    let (data, what) = match (&args.file, args.hex.as_deref()) {
        (Some(path), _) => {
            let what = format!("file {}", path.display());
            let file = std::fs::File::open(path).map_err(|e| format!("cannot open {what}: {e}"))?;
            (input::read_limited(file, &what)?, what)
        }
        (None, Some(hex)) if hex != "-" => return input::parse_hex(hex),
        (None, _) => (
            input::read_limited(std::io::stdin().lock(), "stdin")?,
            "stdin".to_owned(),
        ),
    };
    if args.raw {
        return Ok(data);
    }
    let text = String::from_utf8(data)
        .map_err(|_| format!("{what} is not hex text (use --raw for binary input)"))?;
    input::parse_hex(&text)
}

/// `at byte 24 (IKE header length): bad length in IKE header; the header says ...`.
fn failure_text(f: &walk::Failure) -> String {
    let mut out = format!(
        "decoding stopped at byte {} ({}): {}",
        f.offset, f.structure, f.error
    );
    if let Some(detail) = &f.detail {
        let _ = write!(out, "; {detail}");
    }
    out
}

fn text(report: &Report) -> String {
    let mut out = String::new();
    if report.marker > 0 {
        let _ = writeln!(out, "non-ESP marker (4 bytes, removed)");
    }
    if let Some(header) = &report.header {
        out.push_str("IKE header\n");
        write_text(&mut out, header, 2);
    }
    for (i, p) in report.payloads.iter().enumerate() {
        let critical = if p.critical {
            "critical"
        } else {
            "not critical"
        };
        let _ = writeln!(
            out,
            "payload {}: {}, {critical}, {} bytes at byte {}",
            i + 1,
            p.ty.name()
                .map_or_else(|| format!("type {}", p.ty.0), str::to_owned),
            p.length,
            p.offset
        );
        write_text(&mut out, &p.fields, 2);
    }
    match &report.rules {
        Some((message, Ok(()))) => {
            let _ = writeln!(out, "rules: a valid {message}");
        }
        Some((message, Err(e))) => {
            let _ = writeln!(out, "rules: not a valid {message}: {e}");
        }
        None => {}
    }
    out
}

fn json(report: &Report) -> String {
    let mut fields = vec![("non_esp_marker", Value::Bool(report.marker > 0))];
    if let Some(header) = &report.header {
        fields.push(("header", Value::Obj(header.clone())));
    }
    let payloads = report
        .payloads
        .iter()
        .enumerate()
        .map(|(i, p)| p.to_value(i + 1))
        .collect();
    fields.push(("payloads", Value::List(payloads)));
    if let Some((message, result)) = &report.rules {
        let mut rules = vec![
            ("message", Value::str(message.as_str())),
            ("valid", result.is_ok().into()),
        ];
        if let Err(e) = result {
            rules.push(("error", Value::str(e.to_string())));
        }
        fields.push(("rules", Value::Obj(rules)));
    }
    if let Some(f) = &report.failure {
        let mut error = vec![
            ("offset", (f.offset as u64).into()),
            ("structure", Value::str(f.structure.as_str())),
            ("reason", Value::str(f.error.to_string())),
        ];
        if let Some(detail) = &f.detail {
            error.push(("detail", Value::str(detail.as_str())));
        }
        fields.push(("error", Value::Obj(error)));
    }
    let mut out = String::new();
    write_json(&mut out, &Value::Obj(fields));
    out.push('\n');
    out
}
