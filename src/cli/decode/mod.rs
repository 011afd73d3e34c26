//! `ikerctl decode`: prints one IKE message field by field, as text or JSON, and opens its
//! encrypted payload when given the keys.
//!
//! The input is read ([`input`]), decoded into a [`walk::Report`] whose fields are described
//! by [`describe`], [`notify`], [`proposal`] and [`selector`], and rendered from one tree of
//! [`value::Value`]s, so text and JSON say the same.
//!
//! Encrypted payloads (SK, SKF) are described from the outside. Given the SK_e and SK_a keys
//! of the sender's direction (`--sk-ei`, `--sk-er`, `--sk-ai`, `--sk-ar`) and the negotiated
//! algorithms (`--encr`, `--integ`, or the keys' lengths), checked together by [`keys`],
//! [`walk::decode`] opens the SK payload ([`decrypt`]) and [`describe::payload`] describes
//! the inner payloads like the outer ones. Fragments (SKF) are not reassembled yet.

pub mod decrypt;
pub mod describe;
pub mod input;
pub mod keys;
pub mod notify;
pub mod proposal;
pub mod selector;
pub mod value;
pub mod walk;

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use ike::crypto::Secret;
use ike::crypto::encr::Encr;
use ike::crypto::integ::Integ;
use input::Marker;
use keys::{Given, KeyParser, Keyring};
use value::{Value, write_json, write_text};
use walk::{PayloadReport, Report, Unopened};

/// Decode one IKE message and print every header field and payload.
///
/// The message is hex (whitespace, colons and a leading 0x are ignored) given as the argument,
/// in a file (--file), or on stdin; or raw bytes (--raw) from a file or stdin. A message
/// captured on UDP port 4500 may keep its 4-byte non-ESP marker (00000000): it is recognised,
/// or required and removed with --strip-marker. Exits 1, saying where and why, when the
/// message is malformed.
///
/// Given the keys of the sender's direction, decode opens the Encrypted (SK) payload and
/// prints the payloads inside like the others, with the IV, the ICV's check and the padding
/// length. The I flag of the header says whose keys those are: a message from the original
/// initiator, request or response, opens with SK_ei (and SK_ai), one from the original
/// responder with SK_er (and SK_ar); the keys of the other direction may be left out. Keys are
/// hex as strongSwan logs them at `ike 4` ("Sk_ei secret => ..."); with an AEAD (AES-GCM,
/// ChaCha20-Poly1305) SK_e ends with the 4-byte salt and there is no SK_a.
///
/// The algorithms are those of the IKE SA's proposal, named with --encr and --integ by
/// strongSwan's keyword or the IANA name. Either may be left out when the keys' lengths say
/// it: SK_e of 16, 24 or 32 bytes is AES_CBC_128/192/256, of 20 bytes AES_GCM_16_128; SK_a of
/// 20, 32, 48 or 64 bytes is HMAC_SHA1_96, HMAC_SHA2_256_128, HMAC_SHA2_384_192 or
/// HMAC_SHA2_512_256. A 36-byte SK_e is AES_GCM_16_256 or CHACHA20_POLY1305: --encr is needed.
///
/// Exits 1 when the integrity check fails ("integrity check failed: wrong keys, or the
/// message was altered") or the message is a fragment (SKF: reassembly is not supported yet),
/// and 2 when the keys or algorithms given do not fit together or the message needs the keys
/// of the other direction. No key is ever printed; but anything on a command line can be read
/// by other users of the machine (ps), so decode keys of live SAs on a machine you trust.
#[derive(Debug, clap::Args)]
#[command(long_about)]
#[command(after_long_help = "Examples:
  ikerctl decode 6a1b2c3d4e5f60710000000000000000212022080000000000000150...
  ikerctl decode --json --file ike-sa-init.hex
  ikerctl decode --raw --file udp-4500-payload.bin      (the marker is recognised)
  ikerctl decode --file ike-auth-request.hex --encr aes256gcm16 --sk-ei 5c0f...e1d2
  ikerctl decode --file ike-auth-response.hex --sk-er 8263...24ba --sk-ar d142...0ab0
                                                        (AES_CBC_128/HMAC_SHA2_256_128)")]
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
    /// SK_ei: encryption key of what the original initiator sends (AEAD: with the salt).
    #[arg(long, value_name = "HEX", value_parser = KeyParser, help_heading = "Decryption")]
    pub sk_ei: Option<Secret>,
    /// SK_er: encryption key of what the original responder sends (AEAD: with the salt).
    #[arg(long, value_name = "HEX", value_parser = KeyParser, help_heading = "Decryption")]
    pub sk_er: Option<Secret>,
    /// SK_ai: integrity key of what the original initiator sends (none with an AEAD).
    #[arg(long, value_name = "HEX", value_parser = KeyParser, help_heading = "Decryption")]
    pub sk_ai: Option<Secret>,
    /// SK_ar: integrity key of what the original responder sends (none with an AEAD).
    #[arg(long, value_name = "HEX", value_parser = KeyParser, help_heading = "Decryption")]
    pub sk_ar: Option<Secret>,
    /// Encryption algorithm: aes128, aes192, aes256, aes128gcm16, aes256gcm16,
    /// chacha20poly1305, or the IANA name (AES_GCM_16_256, AES_CBC_128, ...).
    #[arg(long, value_name = "NAME", value_parser = keys::parse_encr, help_heading = "Decryption")]
    pub encr: Option<Encr>,
    /// Integrity algorithm (not with an AEAD): sha1, sha256, sha384, sha512, or the IANA name
    /// (AUTH_HMAC_SHA2_256_128, ...).
    #[arg(long, value_name = "NAME", value_parser = keys::parse_integ, help_heading = "Decryption")]
    pub integ: Option<Integ>,
}

impl Args {
    fn given(&self) -> Given<'_> {
        Given {
            encr: self.encr,
            integ: self.integ,
            sk_ei: self.sk_ei.as_ref(),
            sk_er: self.sk_er.as_ref(),
            sk_ai: self.sk_ai.as_ref(),
            sk_ar: self.sk_ar.as_ref(),
        }
    }
}

/// Runs `decode`: 0 when the message decodes (and opens, given keys); 1 when the input
/// cannot be read, the message is malformed, or its encrypted payload does not open; 2 when
/// the keys and algorithms given do not fit together or the message.
pub fn run(args: &Args) -> ExitCode {
    let keys = match Keyring::new(&args.given()) {
        Ok(keys) => keys,
        Err(message) => return usage(&message),
    };
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
    let report = walk::decode(&bytes, marker, keys.as_ref());
    if let Some(Unopened::Usage(message)) = &report.unopened {
        return usage(message);
    }
    let out = if args.json {
        json(&report)
    } else {
        text(&report)
    };
    // A closed pipe (`| head`) is not an error worth reporting.
    let _ = std::io::stdout().write_all(out.as_bytes());
    if let Some(failure) = &report.failure {
        return fail(&failure_text(failure));
    }
    if let Some(Unopened::Failed {
        offset,
        structure,
        reason,
    }) = &report.unopened
    {
        return fail(&format!("{structure} at byte {offset}: {reason}"));
    }
    if report.keys_unused {
        eprintln!(
            "ikerctl decode: note: the message has no encrypted payload; the keys were not used"
        );
    }
    ExitCode::SUCCESS
}

fn fail(message: &str) -> ExitCode {
    eprintln!("ikerctl decode: {message}");
    ExitCode::FAILURE
}

/// Options that do not fit together, or not the message: exit status 2, as for clap's own
/// usage errors.
fn usage(message: &str) -> ExitCode {
    eprintln!("ikerctl decode: {message}\n\nFor more information, try '--help'.");
    ExitCode::from(2)
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
    write_payloads(&mut out, &report.payloads, 0, None);
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

/// The payloads one after the other, `indent` deep; those inside an SK payload are numbered
/// and placed within the decrypted data (`within`).
fn write_payloads(
    out: &mut String,
    payloads: &[PayloadReport],
    indent: usize,
    within: Option<&str>,
) {
    let (word, place) = match within {
        Some(data) => ("inner payload", format!(" of {data}")),
        None => ("payload", String::new()),
    };
    for (i, p) in payloads.iter().enumerate() {
        let critical = if p.critical {
            "critical"
        } else {
            "not critical"
        };
        let _ = writeln!(
            out,
            "{:indent$}{word} {}: {}, {critical}, {} bytes at byte {}{place}",
            "",
            i + 1,
            walk::type_name(p.ty),
            p.length,
            p.offset
        );
        match &p.decrypted {
            None => write_text(out, &p.fields, indent + 2),
            Some(decrypted) => {
                // One block, so the labels line up.
                let fields: Vec<_> = p.fields.iter().chain(&decrypted.fields).cloned().collect();
                write_text(out, &fields, indent + 2);
                write_payloads(
                    out,
                    &decrypted.payloads,
                    indent + 2,
                    Some("the decrypted data"),
                );
            }
        }
    }
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
    if let Some(Unopened::Failed {
        offset,
        structure,
        reason,
    }) = &report.unopened
    {
        let error = vec![
            ("offset", (*offset as u64).into()),
            ("structure", Value::str(structure.as_str())),
            ("reason", Value::str(reason.as_str())),
        ];
        fields.push(("error", Value::Obj(error)));
    }
    let mut out = String::new();
    write_json(&mut out, &Value::Obj(fields));
    out.push('\n');
    out
}
