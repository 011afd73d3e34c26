//! The commands that ask the daemon about itself: `stats`, `version` and `counters`.

use std::process::ExitCode;

use super::human::{Block, commas, joined, number, sections, size};
use super::json::{self, Json};
use super::{Output, connect, fail, print};
use crate::vici::client::failed;
use crate::vici::wire::{Item, Message};

/// Show the daemon's figures (swanctl --stats, -S).
///
/// How long it has run and since when, its IKE SAs (and how many are half-open), its worker
/// threads and job queues by priority, the jobs scheduled, its memory and its plugins, as far
/// as the daemon reports them.
///
/// With --json the daemon's answer is printed as one object.
#[derive(Debug, clap::Args)]
#[command(long_about)]
#[command(after_long_help = "Examples:
  ikerctl stats
  ikerctl --stats --json | jq -r .ikesas.total")]
pub struct StatsArgs {
    #[command(flatten)]
    pub output: Output,
}

/// Show ikerctl's version, or the daemon's (swanctl --version, -V).
///
/// Without --daemon ikerctl prints its own version and does not connect, as swanctl
/// --version does; with it, the daemon's name and version and the system it runs on.
#[derive(Debug, clap::Args)]
#[command(long_about)]
#[command(after_long_help = "Examples:
  ikerctl --version
  ikerctl version --daemon")]
pub struct VersionArgs {
    /// The daemon's version, not ikerctl's.
    #[arg(short = 'd', long)]
    pub daemon: bool,
    #[command(flatten)]
    pub output: Output,
}

/// Show (or reset) the IKE message counters (swanctl --counters, -C).
///
/// The daemon's counters of IKE messages in and out by exchange and kind, for all
/// connections together, one connection (--name) or each connection (--all).
///
/// With --json the daemon's answer is printed as one object.
#[derive(Debug, clap::Args)]
#[command(long_about)]
#[command(after_long_help = "Examples:
  ikerctl counters
  ikerctl --counters --name gw
  ikerctl counters --all --json")]
pub struct CountersArgs {
    /// The counters of this connection.
    #[arg(short = 'n', long, value_name = "NAME", conflicts_with = "all")]
    pub name: Option<String>,
    /// The counters of every connection.
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Reset the counters instead of showing them.
    #[arg(short = 'R', long)]
    pub reset: bool,
    #[command(flatten)]
    pub output: Output,
}

/// Sends a command that answers with one message; prints it as JSON or with `text`.
fn query(
    uri: &str,
    command: &str,
    request: &Message,
    output: &Output,
    text: fn(&Message) -> String,
) -> ExitCode {
    let response = match connect(uri).and_then(|mut c| c.command(command, request)) {
        Ok(response) => response,
        Err(e) => return fail(command, e),
    };
    if let Some(why) = failed(&response) {
        return fail(command, why);
    }
    if output.json {
        print(&json::message(&response).pretty());
    } else {
        print(&text(&response));
    }
    ExitCode::SUCCESS
}

pub fn stats(uri: &str, args: &StatsArgs) -> ExitCode {
    query(uri, "stats", &Message::new(), &args.output, stats_text)
}

/// `critical/high/medium/low` of a section of counts by priority.
fn priorities(m: &Message) -> Option<String> {
    let counts: Option<Vec<&str>> = ["critical", "high", "medium", "low"]
        .iter()
        .map(|p| m.str(p))
        .collect();
    counts.map(|c| c.join("/"))
}

/// The text of a `stats` answer.
pub fn stats_text(m: &Message) -> String {
    let mut block = Block::new();
    let uptime = m.section("uptime");
    block.row(
        "uptime",
        uptime.map(|u| {
            commas([
                u.str("running").map(str::to_owned),
                u.str("since").map(|s| format!("since {s}")),
            ])
        }),
    );
    block.row(
        "IKE SAs",
        m.section("ikesas").map(|s| {
            commas([
                s.str("total").map(|t| format!("{t} total")),
                s.str("half-open").map(|h| format!("{h} half-open")),
            ])
        }),
    );
    block.row(
        "workers",
        m.section("workers").map(|w| {
            commas([
                w.str("total").map(|t| format!("{t} total")),
                w.str("idle").map(|i| format!("{i} idle")),
                w.section("active")
                    .and_then(priorities)
                    .map(|a| format!("active {a} (critical/high/medium/low)")),
            ])
        }),
    );
    block.row("job queues", m.section("queues").and_then(priorities));
    block.row("scheduled", m.str("scheduled").map(str::to_owned));
    block.row(
        "memory",
        m.section("mallinfo").map(|mi| {
            commas(
                ["sbrk", "mmap", "used", "free"]
                    .iter()
                    .map(|k| number(mi, k).map(|n| format!("{k} {}", size(n)))),
            )
        }),
    );
    block.row(
        "plugins",
        joined(m, "plugins", " ").map(|p| if p.is_empty() { "none".to_owned() } else { p }),
    );
    let mut out = String::new();
    block.write(&mut out, 0);
    out
}

pub fn version(uri: &str, args: &VersionArgs) -> ExitCode {
    if !args.daemon {
        let version = env!("CARGO_PKG_VERSION");
        if args.output.json {
            let own = Json::Object(vec![
                ("client".into(), Json::str("ikerctl")),
                ("version".into(), Json::str(version)),
            ]);
            print(&own.pretty());
        } else {
            print(&format!("ikerctl {version}\n"));
        }
        return ExitCode::SUCCESS;
    }
    query(uri, "version", &Message::new(), &args.output, version_text)
}

/// `ikerd 0.1.0 (Linux, 6.1.0-28-amd64, x86_64)`.
pub fn version_text(m: &Message) -> String {
    let name = m.str("daemon").unwrap_or("daemon");
    let version = m.str("version").unwrap_or("(version unknown)");
    let system: Vec<&str> = ["sysname", "release", "machine"]
        .iter()
        .filter_map(|k| m.str(k))
        .collect();
    if system.is_empty() {
        format!("{name} {version}\n")
    } else {
        format!("{name} {version} ({})\n", system.join(", "))
    }
}

pub fn counters(uri: &str, args: &CountersArgs) -> ExitCode {
    let mut request = Message::new();
    if let Some(name) = &args.name {
        request = request.with_value("name", name.as_str());
    }
    if args.all {
        request = request.with_value("all", "yes");
    }
    if args.reset {
        return match connect(uri).and_then(|mut c| c.command("reset-counters", &request)) {
            Ok(response) => match failed(&response) {
                Some(why) => fail("counters", why),
                None => {
                    print("counters reset\n");
                    ExitCode::SUCCESS
                }
            },
            Err(e) => fail("counters", e),
        };
    }
    query(uri, "get-counters", &request, &args.output, counters_text)
}

/// The text of a `get-counters` answer: a block per connection (the unnamed one is the sum
/// over all of them).
pub fn counters_text(m: &Message) -> String {
    let mut out = String::new();
    let Some(counters) = m.section("counters") else {
        return "no counters\n".to_owned();
    };
    for (name, section) in sections(counters) {
        let name = if name.is_empty() {
            "all connections"
        } else {
            name
        };
        out.push_str(&format!("{name}:\n"));
        let mut block = Block::new();
        for (key, item) in &section.items {
            if let Item::Value(v) = item {
                block.row(key, v.as_str().map(str::to_owned));
            }
        }
        block.write(&mut out, 2);
    }
    out
}
