//! `ikerctl list-pols`: the trap, pass and drop policies the daemon installed (VICI
//! `list-policies`, streamed as `list-policy` events), as text or JSON.

use std::process::ExitCode;

use super::human::{Block, joined, sections};
use super::{Listing, Output};
use crate::vici::wire::Message;

/// List the installed trap, pass and drop policies (swanctl --list-pols, -P).
///
/// One block per policy: its child (and connection), its kind, and its local and remote
/// traffic selectors. Without --trap, --drop or --pass all three kinds are listed, as swanctl
/// lists them.
///
/// With --json the daemon's list-policy events are printed as an array:
/// [{"conn/child": {"child": ..., "mode": "TRAP", "local-ts": [...], ...}}].
#[derive(Debug, clap::Args)]
#[command(long_about)]
#[command(after_long_help = "Examples:
  ikerctl list-pols
  ikerctl --list-pols --trap --child net")]
pub struct Args {
    /// Only the policies of this child.
    #[arg(short = 'c', long, value_name = "NAME")]
    pub child: Option<String>,
    /// Trap policies.
    #[arg(short = 't', long)]
    pub trap: bool,
    /// Drop policies.
    #[arg(short = 'd', long)]
    pub drop: bool,
    /// Pass (bypass) policies.
    #[arg(short = 'p', long)]
    pub pass: bool,
    #[command(flatten)]
    pub output: Output,
}

/// The `list-policies` request for these options.
pub fn request(args: &Args) -> Message {
    let all = !(args.trap || args.drop || args.pass);
    let mut request = Message::new();
    if let Some(child) = &args.child {
        request = request.with_value("child", child.as_str());
    }
    for (key, on) in [
        ("trap", args.trap),
        ("drop", args.drop),
        ("pass", args.pass),
    ] {
        if all || on {
            request = request.with_value(key, "yes");
        }
    }
    request
}

pub fn run(uri: &str, args: &Args) -> ExitCode {
    Listing {
        command: "list-policies",
        event: "list-policy",
        request: request(args),
        text,
    }
    .run(uri, &args.output)
}

/// The text of `list-policy` events.
pub fn text(events: &[Message]) -> String {
    let mut out = String::new();
    for (name, policy) in events.iter().flat_map(sections) {
        let mode = policy.str("mode").unwrap_or("policy");
        out.push_str(&format!("{name}: {mode}\n"));
        let mut block = Block::new();
        block.row("local", joined(policy, "local-ts", ", "));
        block.row("remote", joined(policy, "remote-ts", ", "));
        block.write(&mut out, 2);
    }
    if out.is_empty() {
        out.push_str("no policies\n");
    }
    out
}
