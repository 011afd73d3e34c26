//! `ikerctl log`: the daemon's log as it happens (VICI `log` events), until interrupted.

use std::process::ExitCode;

use super::json;
use super::{Output, connect, fail, written};
use crate::vici::wire::Message;

/// Follow the daemon's log until interrupted (swanctl --log, -T).
///
/// Each line as swanctl --log prints it: the subsystem in brackets, the IKE SA's name and
/// unique id when the line is about one, then the message. The daemon sends what its log
/// level lets through.
///
/// A note on standard error says when the log is followed.
///
/// With --json each event is one JSON object on a line of its own (JSON Lines), its keys
/// those of strongSwan's log event: group, level, thread, ikesa-name, ikesa-uniqueid, msg.
#[derive(Debug, clap::Args)]
#[command(long_about)]
#[command(after_long_help = "Examples:
  ikerctl log
  ikerctl --log --json | jq -r .msg")]
pub struct Args {
    #[command(flatten)]
    pub output: Output,
}

pub fn run(uri: &str, args: &Args) -> ExitCode {
    let mut client = match connect(uri) {
        Ok(client) => client,
        Err(e) => return fail("log", e),
    };
    if let Err(e) = client.register("log") {
        return fail("log", e);
    }
    eprintln!("ikerctl log: following the daemon's log; Ctrl-C stops");
    let json = args.output.json;
    let followed = client.follow(&[], &mut |_, message| {
        if json {
            written(&format!("{}\n", json::message(message).compact()))
        } else {
            written(&line(message))
        }
    });
    match followed {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail("log", e),
    }
}

/// A `log` or `control-log` event as one line: `[IKE] <gw|1> message`.
pub fn line(m: &Message) -> String {
    let group = m.str("group").unwrap_or("---");
    let sa = match (m.str("ikesa-name"), m.str("ikesa-uniqueid")) {
        (Some(name), Some(id)) => format!("<{name}|{id}> "),
        (Some(name), None) => format!("<{name}> "),
        _ => String::new(),
    };
    let msg = m.str("msg").unwrap_or_default();
    format!("[{group}] {sa}{msg}\n")
}
