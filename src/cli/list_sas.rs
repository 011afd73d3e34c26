//! `ikerctl list-sas`: the IKE SAs and their Child SAs (VICI `list-sas`, streamed as `list-sa`
//! events), as text or JSON.

use std::process::ExitCode;

use super::human::{Block, ago, algorithms, commas, due, joined, number, sections, size};
use super::{Listing, Output, connect, fail, json, print};
use crate::vici::wire::{Item, Message};

/// List the IKE SAs and their Child SAs (swanctl --list-sas, -l).
///
/// One block per IKE SA: the connection's name and the SA's unique id, its state and age,
/// both ends (identity, address and port, NAT), the SPIs (ours marked *), the algorithms and
/// when it rekeys or reauthenticates. Under it each Child SA: state, mode, protocol, reqid,
/// SPIs, algorithms, traffic in and out with when it was last used, when it rekeys and
/// expires, and its traffic selectors. What the daemon does not report is left out.
///
/// With --json the daemon's list-sa events are printed as an array, the shape strongSwan's
/// vici clients give: [{"conn-name": {"uniqueid": "1", ..., "child-sas": {...}}}].
#[derive(Debug, clap::Args)]
#[command(long_about)]
#[command(after_long_help = "Examples:
  ikerctl list-sas
  ikerctl --list-sas --ike gw
  ikerctl list-sas --json | jq '.[] | to_entries[] | .value.state'")]
pub struct Args {
    /// Only the IKE SAs of this connection.
    #[arg(short = 'i', long, value_name = "NAME")]
    pub ike: Option<String>,
    /// Only the IKE SA with this unique id.
    #[arg(short = 'I', long, value_name = "ID")]
    pub ike_id: Option<u32>,
    /// Only the Child SAs of this child (and the IKE SAs that hold one).
    #[arg(short = 'c', long, value_name = "NAME")]
    pub child: Option<String>,
    /// Only the Child SA with this unique id (and its IKE SA).
    #[arg(short = 'C', long, value_name = "ID")]
    pub child_id: Option<u32>,
    #[command(flatten)]
    pub output: Output,
}

/// Runs `list-sas` against the daemon at `uri`.
pub fn run(uri: &str, args: &Args) -> ExitCode {
    let mut request = Message::new();
    if let Some(ike) = &args.ike {
        request = request.with_value("ike", ike.as_str());
    }
    if let Some(id) = args.ike_id {
        request = request.with_value("ike-id", id.to_string());
    }
    if let Some(child) = &args.child {
        request = request.with_value("child", child.as_str());
    }
    if let Some(id) = args.child_id {
        request = request.with_value("child-id", id.to_string());
    }
    let listing = Listing {
        command: "list-sas",
        event: "list-sa",
        request,
        text,
    };
    let events = match connect(uri).and_then(|mut c| listing.fetch(&mut c)) {
        Ok(events) => events,
        Err(e) => return fail(listing.command, e),
    };
    // A daemon that does not filter by child (ikerd does not yet) is filtered here.
    let events = if args.child.is_some() || args.child_id.is_some() {
        only_children(events, args.child.as_deref(), args.child_id)
    } else {
        events
    };
    if args.output.json {
        print(&json::messages(&events).pretty());
    } else {
        print(&text(&events));
    }
    ExitCode::SUCCESS
}

/// The events with only the Child SAs of child `name` and unique id `id` (what is given), and
/// only the IKE SAs left with one.
pub fn only_children(events: Vec<Message>, name: Option<&str>, id: Option<u32>) -> Vec<Message> {
    let id = id.map(|id| id.to_string());
    let wanted = |c: &Message| {
        name.is_none_or(|n| c.str("name") == Some(n))
            && id.as_deref().is_none_or(|i| c.str("uniqueid") == Some(i))
    };
    let mut kept = Vec::new();
    for event in events {
        let mut out = Message::new();
        for (conn, item) in event.items {
            let Item::Section(mut sa) = item else {
                continue;
            };
            let mut any = false;
            for (key, item) in &mut sa.items {
                if key != "child-sas" {
                    continue;
                }
                if let Item::Section(children) = item {
                    children
                        .items
                        .retain(|(_, c)| matches!(c, Item::Section(c) if wanted(c)));
                    any |= !children.items.is_empty();
                }
            }
            if any {
                out.push(conn, Item::Section(sa));
            }
        }
        if !out.is_empty() {
            kept.push(out);
        }
    }
    kept
}

/// The text of `list-sa` events.
pub fn text(events: &[Message]) -> String {
    let mut out = String::new();
    for (name, sa) in events.iter().flat_map(sections) {
        ike_sa(&mut out, name, sa);
    }
    if out.is_empty() {
        out.push_str("no IKE SAs\n");
    }
    out
}

fn ike_sa(out: &mut String, name: &str, sa: &Message) {
    let id = sa
        .str("uniqueid")
        .map_or_else(String::new, |id| format!(" #{id}"));
    let state = match (sa.str("state"), ago(sa, "established")) {
        (Some(state), Some(age)) => Some(format!("{state} {age}")),
        (state, _) => state.map(str::to_owned),
    };
    let version = sa.str("version").map(|v| format!("IKEv{v}"));
    let role = Some(if sa.str("initiator") == Some("yes") {
        "initiator".to_owned()
    } else {
        "responder".to_owned()
    });
    out.push_str(&format!("{name}{id}: {}\n", commas([state, version, role])));

    let mut block = Block::new();
    block.row(
        "local",
        end(sa, "local", sa.str("nat-local") == Some("yes")),
    );
    block.row(
        "remote",
        end(sa, "remote", sa.str("nat-remote") == Some("yes")),
    );
    block.row("SPIs", spis(sa));
    block.row("algorithms", algorithms(sa));
    block.row(
        "rekey",
        commas([
            due(sa, "rekey-time"),
            due(sa, "reauth-time").map(|r| format!("reauthentication {r}")),
        ])
        .into(),
    );
    block.row("virtual IPs", joined(sa, "local-vips", ", "));
    block.row("remote VIPs", joined(sa, "remote-vips", ", "));
    block.write(out, 2);
    if let Some(children) = sa.section("child-sas") {
        for (key, child) in sections(children) {
            child_sa(out, key, child);
        }
    }
}

/// `id @ address[port]`, and whether that end is behind a NAT.
fn end(sa: &Message, side: &str, nat: bool) -> Option<String> {
    let host = sa.str(&format!("{side}-host"));
    let id = sa.str(&format!("{side}-id"));
    let port = sa.str(&format!("{side}-port"));
    let mut text = match (id, host) {
        (Some(id), Some(host)) => format!("{id} @ {host}"),
        (None, Some(host)) => host.to_owned(),
        (Some(id), None) => id.to_owned(),
        (None, None) => return None,
    };
    if let (Some(port), Some(_)) = (port, host) {
        text = format!("{text}[{port}]");
    }
    if nat {
        text.push_str(", behind NAT");
    }
    Some(text)
}

/// `SPIi_i* SPIr_r`, ours marked as swanctl marks it.
fn spis(sa: &Message) -> Option<String> {
    let (i, r) = (sa.str("initiator-spi")?, sa.str("responder-spi")?);
    let ours_i = sa.str("initiator") == Some("yes");
    Some(format!(
        "{i}_i{} {r}_r{}",
        if ours_i { "*" } else { "" },
        if ours_i { "" } else { "*" }
    ))
}

fn child_sa(out: &mut String, key: &str, c: &Message) {
    let name = c.str("name").unwrap_or(key);
    let id = c
        .str("uniqueid")
        .map_or_else(String::new, |id| format!(" #{id}"));
    let head = commas([
        c.str("state").map(str::to_owned),
        c.str("mode").map(str::to_owned),
        c.str("protocol").map(str::to_owned),
        c.str("reqid").map(|r| format!("reqid {r}")),
        ago(c, "install-time").map(|a| format!("installed {a}")),
    ]);
    out.push_str(&format!("  {name}{id}: {head}\n"));
    let mut block = Block::new();
    let encap = (c.str("encap") == Some("yes")).then(|| "UDP-encapsulated".to_owned());
    let spis = match (c.str("spi-in"), c.str("spi-out")) {
        (Some(i), Some(o)) => Some(format!("{i}_i {o}_o")),
        _ => None,
    };
    block.row("SPIs", Some(commas([spis, encap])));
    block.row("algorithms", algorithms(c));
    block.row("in", traffic(c, "in"));
    block.row("out", traffic(c, "out"));
    block.row(
        "rekey",
        Some(commas([
            due(c, "rekey-time"),
            due(c, "life-time").map(|l| format!("expires {l}")),
        ])),
    );
    block.row("local", joined(c, "local-ts", ", "));
    block.row("remote", joined(c, "remote-ts", ", "));
    block.write(out, 4);
}

/// `1.2 KiB, 12 packets, last used 2s ago` for direction `dir` (`in` or `out`).
fn traffic(c: &Message, dir: &str) -> Option<String> {
    let bytes = number(c, &format!("bytes-{dir}")).map(size);
    let packets = number(c, &format!("packets-{dir}")).map(|n| match n {
        1 => "1 packet".to_owned(),
        n => format!("{n} packets"),
    });
    let used = ago(c, &format!("use-{dir}")).map(|a| format!("last used {a}"));
    let text = commas([bytes, packets, used]);
    (!text.is_empty()).then_some(text)
}
