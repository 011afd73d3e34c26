//! `ikerctl`, the command-line client of ikerd: its command line and one module per command.

pub mod decode;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Control and inspect a running ikerd.
///
/// ikerctl will talk to ikerd over the VICI protocol, the same one strongSwan's swanctl
/// speaks, to list, start and stop tunnels of ikerd (and of strongSwan's charon). Today it has
/// one command, which needs no daemon: decode, which prints an IKE message field by field.
#[derive(Debug, Parser)]
#[command(name = "ikerctl", version)]
#[command(
    after_help = "Status: decode is the only command yet; the VICI commands (list-sas, \
                  initiate, terminate, ...) come with the daemon. See the status table in \
                  README.md for what works today."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    Decode(decode::Args),
}

/// Runs the command line's command, printing its output; returns the process's exit status.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Decode(args) => decode::run(&args),
    }
}
