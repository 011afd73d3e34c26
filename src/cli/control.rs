//! The commands that drive tunnels: `initiate`, `terminate`, `rekey`, `install` and
//! `uninstall`. `initiate` and `terminate` print the daemon's `control-log` lines as they come
//! and exit 0 once the SAs are up or gone, 1 with the daemon's reason when not.

use std::process::ExitCode;
use std::time::Duration;

use clap::ArgGroup;

use super::log::line;
use super::{connect, fail, print};
use crate::vici::client::failed;
use crate::vici::wire::Message;

/// Start a connection: its IKE SA and the Child SA named (swanctl --initiate, -i).
///
/// Sends initiate for the child (and the connection, --ike, when a child name is not enough
/// or no child is wanted) and prints the negotiation's log as the daemon streams it. Exits 0
/// when the Child SA (or, with --ike alone, the IKE SA) is up, 1 with the daemon's reason when
/// it failed or did not come up within --timeout.
#[derive(Debug, clap::Args)]
#[command(long_about, group(ArgGroup::new("which").required(true).multiple(true).args(["child", "ike"])))]
#[command(after_long_help = "Examples:
  ikerctl initiate --child net
  ikerctl --initiate --ike gw --child net --timeout 30
  ikerctl initiate --ike gw            (answered once the IKE SA is up)")]
pub struct InitiateArgs {
    /// The child to start.
    #[arg(short = 'c', long, value_name = "NAME")]
    pub child: Option<String>,
    /// The connection to start.
    #[arg(short = 'i', long, value_name = "NAME")]
    pub ike: Option<String>,
    #[command(flatten)]
    pub wait: Wait,
}

/// How long to wait, and how much of the log to see.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct Wait {
    /// Give up after this many seconds (0: wait as long as it takes).
    #[arg(short = 't', long, value_name = "SECONDS", default_value_t = 0)]
    pub timeout: u32,
    /// The most detailed log level to print (-1 for none, 0 to 4).
    #[arg(
        short = 'l',
        long,
        value_name = "LEVEL",
        default_value_t = 1,
        allow_negative_numbers = true
    )]
    pub loglevel: i32,
}

/// Close IKE SAs and their Child SAs (swanctl --terminate, -t).
///
/// Selects the SAs by connection name (--ike), unique id (--ike-id) or child (--child,
/// --child-id), prints the daemon's log while it deletes them, and exits 0 when they are gone,
/// 1 with the daemon's reason when nothing matched or it failed.
#[derive(Debug, clap::Args)]
#[command(long_about, group(ArgGroup::new("which").required(true).multiple(true).args(["child", "ike", "child_id", "ike_id"])))]
#[command(after_long_help = "Examples:
  ikerctl terminate --ike gw
  ikerctl --terminate --ike-id 3")]
pub struct TerminateArgs {
    #[command(flatten)]
    pub which: SaSelector,
    /// Delete without waiting for the peer's answer.
    #[arg(short = 'f', long)]
    pub force: bool,
    #[command(flatten)]
    pub wait: Wait,
}

/// Which SAs terminate and rekey mean: by child or connection name, or by unique id (the
/// request's `child`, `ike`, `child-id` and `ike-id`).
#[derive(Debug, clap::Args)]
pub struct SaSelector {
    /// The Child SAs of this child.
    #[arg(short = 'c', long, value_name = "NAME")]
    pub child: Option<String>,
    /// The IKE SAs of this connection.
    #[arg(short = 'i', long, value_name = "NAME")]
    pub ike: Option<String>,
    /// The Child SA with this unique id.
    #[arg(short = 'C', long, value_name = "ID")]
    pub child_id: Option<u32>,
    /// The IKE SA with this unique id.
    #[arg(short = 'I', long, value_name = "ID")]
    pub ike_id: Option<u32>,
}

impl SaSelector {
    fn request(&self) -> Message {
        let request = with(Message::new(), "child", self.child.as_ref());
        let request = with(request, "ike", self.ike.as_ref());
        let request = with(request, "child-id", self.child_id);
        with(request, "ike-id", self.ike_id)
    }
}

/// Rekey IKE SAs or Child SAs (swanctl --rekey, -R).
///
/// With --child or --child-id the Child SAs are rekeyed, else the IKE SAs --ike or --ike-id
/// select; the daemon answers how many matched and rekeys them in the background (list-sas
/// shows the new SPIs).
#[derive(Debug, clap::Args)]
#[command(long_about, group(ArgGroup::new("which").required(true).multiple(true).args(["child", "ike", "child_id", "ike_id"])))]
#[command(after_long_help = "Examples:
  ikerctl rekey --child net
  ikerctl --rekey --ike gw")]
pub struct RekeyArgs {
    #[command(flatten)]
    pub which: SaSelector,
    /// Reauthenticate the IKE SA instead of rekeying it.
    #[arg(short = 'a', long)]
    pub reauth: bool,
}

/// Install a child's trap policies (swanctl --install, -p), or remove them with uninstall
/// (swanctl --uninstall, -U).
///
/// A trap policy makes the kernel ask the daemon for a Child SA when the first packet it
/// covers comes (start_action = trap in swanctl.conf installs them at start).
#[derive(Debug, clap::Args)]
#[command(long_about)]
#[command(after_long_help = "Examples:
  ikerctl install --child net
  ikerctl --uninstall --child net --ike gw")]
pub struct TrapArgs {
    /// The child.
    #[arg(short = 'c', long, value_name = "NAME")]
    pub child: String,
    /// The connection the child belongs to, when several have one of that name.
    #[arg(short = 'i', long, value_name = "NAME")]
    pub ike: Option<String>,
}

fn with(m: Message, key: &str, value: Option<impl ToString>) -> Message {
    match value {
        Some(value) => m.with_value(key, value.to_string()),
        None => m,
    }
}

/// Sends `command`, printing its `control-log` lines as they come; exit 0 on success.
fn streamed(uri: &str, command: &str, request: Message, wait: &Wait) -> ExitCode {
    let request = request
        .with_value("timeout", (u64::from(wait.timeout) * 1000).to_string())
        .with_value("loglevel", wait.loglevel.to_string());
    let mut client = match connect(uri) {
        Ok(client) => client,
        Err(e) => return fail(command, e),
    };
    // The daemon answers once it is done, or at the timeout it was given; a margin over that.
    client
        .set_timeout((wait.timeout > 0).then(|| Duration::from_secs(u64::from(wait.timeout) + 5)));
    let mut log = |event: &str, message: &Message| {
        if event == "control-log" {
            print(&line(message));
        }
    };
    match client.streamed(command, &request, &["control-log"], &mut log) {
        Ok(response) => match failed(&response) {
            Some(why) => fail(command, why),
            None => {
                print(&format!("{command} completed successfully\n"));
                ExitCode::SUCCESS
            }
        },
        Err(e) => fail(command, e),
    }
}

pub fn initiate(uri: &str, args: &InitiateArgs) -> ExitCode {
    let request = with(Message::new(), "child", args.child.as_ref());
    let request = with(request, "ike", args.ike.as_ref());
    streamed(uri, "initiate", request, &args.wait)
}

pub fn terminate(uri: &str, args: &TerminateArgs) -> ExitCode {
    let mut request = args.which.request();
    if args.force {
        request = request.with_value("force", "yes");
    }
    streamed(uri, "terminate", request, &args.wait)
}

/// Sends a command answered at once; exit 0 on success.
fn simple(uri: &str, command: &str, request: &Message) -> ExitCode {
    match connect(uri).and_then(|mut c| c.command(command, request)) {
        Ok(response) => match failed(&response) {
            Some(why) => fail(command, why),
            None => {
                let matches = response
                    .str("matches")
                    .map_or_else(String::new, |m| format!(" ({m} matched)"));
                print(&format!("{command} completed successfully{matches}\n"));
                ExitCode::SUCCESS
            }
        },
        Err(e) => fail(command, e),
    }
}

pub fn rekey(uri: &str, args: &RekeyArgs) -> ExitCode {
    let mut request = args.which.request();
    if args.reauth {
        request = request.with_value("reauth", "yes");
    }
    simple(uri, "rekey", &request)
}

pub fn trap(uri: &str, args: &TrapArgs, install: bool) -> ExitCode {
    let request = Message::new().with_value("child", args.child.as_str());
    let request = with(request, "ike", args.ike.as_ref());
    simple(uri, if install { "install" } else { "uninstall" }, &request)
}
