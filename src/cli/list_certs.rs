//! `ikerctl list-certs`: the certificates the daemon holds (VICI `list-certs`, streamed as
//! `list-cert` events), as text or JSON.

use std::process::ExitCode;

use ike::auth::dn;
use ike::auth::x509::Certificate;

use super::human::{Block, commas, size};
use super::{Listing, Output};
use crate::vici::wire::Message;

/// List the certificates the daemon holds (swanctl --list-certs, -x).
///
/// One block per certificate: its type and flag (CA, AA, OCSP signer), whether the daemon
/// has its private key, and for X.509 certificates the subject and issuer.
///
/// With --json the daemon's list-cert events are printed as an array; the DER of each
/// certificate (`data`) is not UTF-8, so it is written as 0x and hex.
#[derive(Debug, clap::Args)]
#[command(long_about)]
#[command(after_long_help = "Examples:
  ikerctl list-certs
  ikerctl --list-certs --flag ca")]
pub struct Args {
    /// Only certificates of this type: x509, x509_ac, x509_crl, ocsp_response, pubkey, any.
    #[arg(short = 't', long, value_name = "TYPE")]
    pub r#type: Option<String>,
    /// Only certificates with this flag: none, ca, aa, ocsp, any.
    #[arg(short = 'f', long, value_name = "FLAG")]
    pub flag: Option<String>,
    /// Only certificates with this subject.
    #[arg(short = 's', long, value_name = "DN")]
    pub subject: Option<String>,
    #[command(flatten)]
    pub output: Output,
}

pub fn run(uri: &str, args: &Args) -> ExitCode {
    let mut request = Message::new();
    // strongSwan reads the type and flag by their upper-case names.
    for (key, value) in [("type", &args.r#type), ("flag", &args.flag)] {
        if let Some(value) = value {
            request = request.with_value(key, value.to_ascii_uppercase());
        }
    }
    if let Some(subject) = &args.subject {
        request = request.with_value("subject", subject.as_str());
    }
    Listing {
        command: "list-certs",
        event: "list-cert",
        request,
        text,
    }
    .run(uri, &args.output)
}

/// The text of `list-cert` events.
pub fn text(events: &[Message]) -> String {
    let mut out = String::new();
    for cert in events {
        let kind = cert.str("type").unwrap_or("certificate");
        let flag = cert
            .str("flag")
            .filter(|f| *f != "NONE")
            .map(|f| format!("flag {f}"));
        let key = (cert.str("has_privkey") == Some("yes")).then(|| "has private key".to_owned());
        let der = cert.value("data").map(|v| v.0.as_slice());
        let bytes = der.map(|d| size(d.len() as u64));
        out.push_str(&format!(
            "{}\n",
            commas([Some(kind.to_owned()), flag, key, bytes])
        ));
        let mut block = Block::new();
        if let Some(parsed) = der.and_then(|d| Certificate::parse(d).ok()) {
            block.row("subject", dn::to_text(parsed.subject));
            block.row("issuer", dn::to_text(parsed.issuer));
        } else {
            block.row("subject", cert.str("subject").map(str::to_owned));
        }
        block.row(
            "valid",
            match (cert.str("not-before"), cert.str("not-after")) {
                (Some(from), Some(to)) => Some(format!("{from} to {to}")),
                _ => None,
            },
        );
        block.write(&mut out, 2);
    }
    if out.is_empty() {
        out.push_str("no certificates\n");
    }
    out
}
