//! `ikerctl list-conns`: the configured connections (VICI `list-conns`, streamed as
//! `list-conn` events), as text or JSON.

use std::process::ExitCode;

use super::human::{Block, commas, joined, number, sections, span};
use super::{Listing, Output};
use crate::vici::wire::Message;

/// List the configured connections (swanctl --list-conns, -L).
///
/// One block per connection: its IKE version, addresses, rekeying, reauthentication and dead
/// peer detection; each round of local and remote authentication with its identity and
/// certificates; and each child with its mode, rekeying and traffic selectors.
///
/// With --json the daemon's list-conn events are printed as an array:
/// [{"conn-name": {"local_addrs": [...], ..., "children": {...}}}].
#[derive(Debug, clap::Args)]
#[command(long_about)]
#[command(after_long_help = "Examples:
  ikerctl list-conns
  ikerctl --list-conns --ike gw
  ikerctl list-conns --json | jq '.[] | keys[]'")]
pub struct Args {
    /// Only this connection.
    #[arg(short = 'i', long, value_name = "NAME")]
    pub ike: Option<String>,
    #[command(flatten)]
    pub output: Output,
}

pub fn run(uri: &str, args: &Args) -> ExitCode {
    let mut request = Message::new();
    if let Some(ike) = &args.ike {
        request = request.with_value("ike", ike.as_str());
    }
    Listing {
        command: "list-conns",
        event: "list-conn",
        request,
        text,
    }
    .run(uri, &args.output)
}

/// The text of `list-conn` events.
pub fn text(events: &[Message]) -> String {
    let mut out = String::new();
    for (name, conn) in events.iter().flat_map(sections) {
        connection(&mut out, name, conn);
    }
    if out.is_empty() {
        out.push_str("no connections\n");
    }
    out
}

/// `every 4h00m`, `no` for zero: a configured interval.
fn every(m: &Message, key: &str) -> Option<String> {
    number(m, key).map(|s| match s {
        0 => "no".to_owned(),
        s => format!("every {}", span(s)),
    })
}

fn connection(out: &mut String, name: &str, conn: &Message) {
    let addrs = match (
        joined(conn, "local_addrs", ", "),
        joined(conn, "remote_addrs", ", "),
    ) {
        (Some(l), Some(r)) => Some(format!("{l} ... {r}")),
        _ => None,
    };
    out.push_str(&format!(
        "{name}: {}\n",
        commas([conn.str("version").map(str::to_owned), addrs])
    ));
    let mut block = Block::new();
    block.row("rekey", every(conn, "rekey_time"));
    block.row("reauth", every(conn, "reauth_time"));
    block.row("DPD", every(conn, "dpd_delay"));
    block.row("local VIPs", joined(conn, "local_vips", ", "));
    block.row("pools", joined(conn, "pools", ", "));
    for (round, auth) in sections(conn) {
        let label = match round.split_once('-') {
            Some((side @ ("local" | "remote"), "1")) => side.to_owned(),
            Some((side @ ("local" | "remote"), n)) => format!("{side} #{n}"),
            _ => continue,
        };
        block.row(&label, authentication(auth));
    }
    block.write(out, 2);
    if let Some(children) = conn.section("children") {
        for (child, c) in sections(children) {
            let head = commas([
                c.str("mode").map(str::to_owned),
                every(c, "rekey_time").map(|r| format!("rekey {r}")),
                c.str("dpd_action")
                    .filter(|a| *a != "none" && *a != "clear")
                    .map(|a| format!("dpd_action {a}")),
                c.str("close_action")
                    .filter(|a| *a != "none" && *a != "clear")
                    .map(|a| format!("close_action {a}")),
            ]);
            out.push_str(&format!("  {child}: {head}\n"));
            let mut block = Block::new();
            block.row("local", joined(c, "local-ts", ", "));
            block.row("remote", joined(c, "remote-ts", ", "));
            block.write(out, 4);
        }
    }
}

/// `pre-shared key, id moon.example, certs ...`: one round of authentication.
fn authentication(auth: &Message) -> Option<String> {
    let nonempty = |key: &str, label: &str| {
        joined(auth, key, ", ")
            .filter(|l| !l.is_empty())
            .map(|l| format!("{label} {l}"))
    };
    let text = commas([
        auth.str("class").map(str::to_owned),
        auth.str("id").map(|id| format!("id {id}")),
        auth.str("eap_id").map(|id| format!("EAP id {id}")),
        nonempty("certs", "certs"),
        nonempty("cacerts", "CA"),
        nonempty("groups", "groups"),
    ]);
    (!text.is_empty()).then_some(text)
}
