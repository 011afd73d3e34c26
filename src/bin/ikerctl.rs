//! `ikerctl`, the command-line client of ikerd.

use std::process::ExitCode;

use clap::Parser;

/// Control and inspect a running ikerd.
///
/// ikerctl talks to ikerd over the VICI protocol, the same one strongSwan's swanctl speaks,
/// so it lists, starts and stops tunnels of ikerd (and of strongSwan's charon).
#[derive(Debug, Parser)]
#[command(name = "ikerctl", version, about, long_about)]
#[command(
    after_help = "Status: this version has no commands yet; see the status table in \
                        README.md for what works today."
)]
struct Args {}

fn main() -> ExitCode {
    let Args {} = Args::parse();
    eprintln!(
        "ikerctl: no command given, and none exist yet in version {} \
         (only --help and --version work; see README.md, \"Status\")",
        env!("CARGO_PKG_VERSION")
    );
    ExitCode::FAILURE
}
