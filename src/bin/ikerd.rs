//! `ikerd`, the IKEv2 daemon.

use std::process::ExitCode;

use clap::Parser;

/// IKEv2 daemon for Linux.
///
/// ikerd negotiates IPsec SAs with IKEv2 (RFC 7296), as initiator and responder, and installs
/// them with their policies into the kernel's XFRM framework, so kernel ESP/AH carries every
/// packet. It reads strongSwan's swanctl.conf and answers strongSwan's VICI protocol.
#[derive(Debug, Parser)]
#[command(name = "ikerd", version, about, long_about)]
#[command(
    after_help = "Status: this version negotiates nothing yet; see the status table in \
                        README.md for what works today."
)]
struct Args {}

fn main() -> ExitCode {
    let Args {} = Args::parse();
    eprintln!(
        "ikerd: cannot start: the IKE daemon is not built yet in version {} \
         (only --help and --version work; see README.md, \"Status\")",
        env!("CARGO_PKG_VERSION")
    );
    ExitCode::FAILURE
}
