//! `ikerctl`, the command-line client of ikerd: its command line and one module per command
//! or group of commands. A new command is a variant of [`Command`], a module with its `Args`
//! and `run`, and a line in [`run`]; its swanctl spelling, if it has one, a row of
//! [`SWANCTL`].

pub mod completions;
pub mod control;
pub mod decode;
pub mod human;
pub mod info;
pub mod json;
pub mod list_certs;
pub mod list_conns;
pub mod list_pols;
pub mod list_sas;
pub mod load;
pub mod log;
pub mod status;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::vici::client::{Client, ClientError, DEFAULT_URI};
use crate::vici::wire::Message;

const STATUS: &str = "Status: every command works against ikerd and strongSwan's charon.";

/// Control and inspect a running ikerd (or strongSwan's charon).
///
/// ikerctl talks to the daemon over the VICI protocol, the one strongSwan's swanctl speaks, on
/// the Unix socket --uri names (default unix:///var/run/charon.vici). It has swanctl's
/// commands, spelled either as subcommands (ikerctl list-sas) or as swanctl's options
/// (ikerctl --list-sas, ikerctl -l), prints them readably, and as JSON with --json on every
/// listing. `status` shows every configured connection, up or down, with its last failure.
///
/// Only root and the members of the socket's group may open the socket; anyone else is told
/// so, and which group. Exit status: 0 on success, 1 when the command or the connection to the
/// daemon failed, 2 for a command line that does not parse.
#[derive(Debug, Parser)]
#[command(name = "ikerctl", version, disable_version_flag = true)]
#[command(
    long_about,
    after_help = STATUS,
    after_long_help = concat!(
        "Status: every command works against ikerd and strongSwan's charon.

Examples:
  ikerctl status
  ikerctl --list-sas                       (swanctl's spelling)
  ikerctl list-sas --json | jq .
  ikerctl initiate --child net
  ikerctl load-all --file /etc/swanctl/swanctl.conf
  ikerctl --uri unix:///run/ikerd/charon.vici list-conns
  ikerctl completions bash > /etc/bash_completion.d/ikerctl"
    )
)]
pub struct Cli {
    /// The daemon's VICI socket, unix:///PATH (swanctl's --uri).
    #[arg(
        short = 'u',
        long,
        global = true,
        value_name = "URI",
        default_value = DEFAULT_URI
    )]
    pub uri: String,
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    Status(status::Args),
    ListSas(list_sas::Args),
    ListConns(list_conns::Args),
    ListPols(list_pols::Args),
    ListCerts(list_certs::Args),
    Initiate(control::InitiateArgs),
    Terminate(control::TerminateArgs),
    Rekey(control::RekeyArgs),
    #[command(about = "Install a child's trap policies (swanctl --install, -p)")]
    Install(control::TrapArgs),
    #[command(about = "Remove a child's trap policies (swanctl --uninstall, -U)")]
    Uninstall(control::TrapArgs),
    Stats(info::StatsArgs),
    Version(info::VersionArgs),
    Counters(info::CountersArgs),
    #[command(
        about = "Load connections, credentials, authorities and pools (swanctl --load-all, -q)"
    )]
    LoadAll(load::Args),
    #[command(about = "Load the connections (swanctl --load-conns, -c)")]
    LoadConns(load::Args),
    #[command(about = "Load certificates, keys and secrets (swanctl --load-creds, -s)")]
    LoadCreds(load::Args),
    #[command(about = "Load the certification authorities (swanctl --load-authorities, -b)")]
    LoadAuthorities(load::Args),
    #[command(about = "Load the address pools (swanctl --load-pools, -a)")]
    LoadPools(load::Args),
    Log(log::Args),
    Decode(decode::Args),
    Completions(completions::Args),
}

/// swanctl's spellings of the commands: its long option and short letter, and ours.
pub const SWANCTL: &[(&str, char, &str)] = &[
    ("initiate", 'i', "initiate"),
    ("terminate", 't', "terminate"),
    ("rekey", 'R', "rekey"),
    ("install", 'p', "install"),
    ("uninstall", 'U', "uninstall"),
    ("list-sas", 'l', "list-sas"),
    ("list-pols", 'P', "list-pols"),
    ("list-conns", 'L', "list-conns"),
    ("list-certs", 'x', "list-certs"),
    ("stats", 'S', "stats"),
    ("version", 'V', "version"),
    ("log", 'T', "log"),
    ("counters", 'C', "counters"),
    ("load-all", 'q', "load-all"),
    ("load-conns", 'c', "load-conns"),
    ("load-creds", 's', "load-creds"),
    ("load-authorities", 'b', "load-authorities"),
    ("load-pools", 'a', "load-pools"),
];

/// The command line with a command given as swanctl's option (`--list-sas`, `-l`) turned into
/// the subcommand (`list-sas`). Only the first argument after a leading `--uri` (`-u`) is
/// looked at, as swanctl takes the command first; `--status`, `--decode` and the other commands
/// of ikerctl are accepted the same way.
pub fn swanctl_spelling(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut args: Vec<OsString> = args.into_iter().collect();
    let mut at = 1;
    while let Some(arg) = args.get(at).and_then(|a| a.to_str()) {
        if arg == "--uri" || arg == "-u" {
            at += 2;
        } else if arg.starts_with("--uri=") {
            at += 1;
        } else {
            break;
        }
    }
    let Some(arg) = args.get(at).and_then(|a| a.to_str()) else {
        return args;
    };
    let ours = |name: &str| {
        use clap::CommandFactory;
        Cli::command()
            .get_subcommands()
            .any(|c| c.get_name() == name)
    };
    let command = if let Some(long) = arg.strip_prefix("--") {
        SWANCTL
            .iter()
            .find(|(l, _, _)| *l == long)
            .map(|(_, _, c)| (*c).to_owned())
            .or_else(|| ours(long).then(|| long.to_owned()))
    } else {
        let mut chars = arg.chars();
        match (chars.next(), chars.next(), chars.next()) {
            (Some('-'), Some(short), None) => SWANCTL
                .iter()
                .find(|(_, s, _)| *s == short)
                .map(|(_, _, c)| (*c).to_owned()),
            _ => None,
        }
    };
    if let Some(command) = command {
        args[at] = command.into();
    }
    args
}

/// Runs the command line's command, printing its output; returns the process's exit status.
pub fn run(cli: Cli) -> ExitCode {
    let uri = cli.uri.as_str();
    match &cli.command {
        Command::Status(args) => status::run(uri, args),
        Command::ListSas(args) => list_sas::run(uri, args),
        Command::ListConns(args) => list_conns::run(uri, args),
        Command::ListPols(args) => list_pols::run(uri, args),
        Command::ListCerts(args) => list_certs::run(uri, args),
        Command::Initiate(args) => control::initiate(uri, args),
        Command::Terminate(args) => control::terminate(uri, args),
        Command::Rekey(args) => control::rekey(uri, args),
        Command::Install(args) => control::trap(uri, args, true),
        Command::Uninstall(args) => control::trap(uri, args, false),
        Command::Stats(args) => info::stats(uri, args),
        Command::Version(args) => info::version(uri, args),
        Command::Counters(args) => info::counters(uri, args),
        Command::LoadAll(args) => load::run(uri, args, load::Part::All),
        Command::LoadConns(args) => load::run(uri, args, load::Part::Conns),
        Command::LoadCreds(args) => load::run(uri, args, load::Part::Creds),
        Command::LoadAuthorities(args) => load::run(uri, args, load::Part::Authorities),
        Command::LoadPools(args) => load::run(uri, args, load::Part::Pools),
        Command::Log(args) => log::run(uri, args),
        Command::Decode(args) => decode::run(args),
        Command::Completions(args) => completions::run(args),
    }
}

/// How a listing is printed.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct Output {
    /// Print JSON: the daemon's messages with sections as objects, lists as arrays and values
    /// as strings (values that are not UTF-8 as 0x and hex); a streamed listing as an array of
    /// its events.
    #[arg(long)]
    pub json: bool,
}

/// Prints `text` to standard output; a closed pipe (`| head`) is not an error worth reporting.
pub fn print(text: &str) {
    written(text);
}

/// Prints `text` to standard output; whether it could be written (a reader that went away, as
/// `| head` does, ends a command that would print for ever).
pub fn written(text: &str) -> bool {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes()).is_ok() && stdout.flush().is_ok()
}

/// Reports a failure of `command` on standard error; exit status 1.
pub fn fail(command: &str, why: impl std::fmt::Display) -> ExitCode {
    eprintln!("ikerctl {command}: {why}");
    ExitCode::FAILURE
}

/// Connects to the daemon, or says why not.
pub fn connect(uri: &str) -> Result<Client, ClientError> {
    Client::connect_uri(uri)
}

/// A streamed listing: a command, the event its items come as, and their text.
#[derive(Debug)]
pub struct Listing {
    pub command: &'static str,
    pub event: &'static str,
    pub request: Message,
    pub text: fn(&[Message]) -> String,
}

impl Listing {
    /// The listing's events, or why there are none.
    pub fn fetch(&self, client: &mut Client) -> Result<Vec<Message>, ClientError> {
        let (events, _) = client.collect(self.command, &self.request, &[self.event])?;
        Ok(events
            .into_iter()
            .filter(|(name, _)| name == self.event)
            .map(|(_, m)| m)
            .collect())
    }

    pub fn run(&self, uri: &str, output: &Output) -> ExitCode {
        let events = match connect(uri).and_then(|mut c| self.fetch(&mut c)) {
            Ok(events) => events,
            Err(e) => return fail(self.command, e),
        };
        if output.json {
            print(&json::messages(&events).pretty());
        } else {
            print(&(self.text)(&events));
        }
        ExitCode::SUCCESS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spelled(args: &[&str]) -> Vec<String> {
        let args = args.iter().map(OsString::from);
        swanctl_spelling(std::iter::once("ikerctl".into()).chain(args))
            .into_iter()
            .skip(1)
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    #[test]
    fn swanctls_options_name_the_commands() {
        assert_eq!(
            spelled(&["--list-sas", "--ike", "gw"]),
            ["list-sas", "--ike", "gw"]
        );
        assert_eq!(spelled(&["-l", "-i", "gw"]), ["list-sas", "-i", "gw"]);
        assert_eq!(spelled(&["--status"]), ["status"]);
        assert_eq!(
            spelled(&["--uri", "unix:///x", "--initiate", "--child", "net"]),
            ["--uri", "unix:///x", "initiate", "--child", "net"]
        );
        assert_eq!(
            spelled(&["--uri=unix:///x", "-T"]),
            ["--uri=unix:///x", "log"]
        );
        assert_eq!(
            spelled(&["-u", "unix:///x", "-U", "-c", "net"]),
            ["-u", "unix:///x", "uninstall", "-c", "net"]
        );
        assert_eq!(spelled(&["-V"]), ["version"]);
        // Only the command's place is looked at.
        assert_eq!(spelled(&["initiate", "-t"]), ["initiate", "-t"]);
        assert_eq!(spelled(&["--help"]), ["--help"]);
        assert_eq!(spelled(&[]), Vec::<String>::new());
    }

    #[test]
    fn every_swanctl_spelling_is_a_command() {
        use clap::CommandFactory;
        let cli = Cli::command();
        for (_, _, ours) in SWANCTL {
            assert!(cli.find_subcommand(ours).is_some(), "{ours}");
        }
        cli.debug_assert();
    }
}
