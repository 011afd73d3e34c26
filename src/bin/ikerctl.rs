//! `ikerctl`, the command-line client of ikerd; the commands are in `ikerd::cli`.

use std::process::ExitCode;

use clap::Parser;
use ikerd::cli::{Cli, run};

fn main() -> ExitCode {
    run(Cli::parse_from(ikerd::cli::swanctl_spelling(
        std::env::args_os(),
    )))
}
