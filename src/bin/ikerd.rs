//! `ikerd`, the IKEv2 daemon.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use ikerd::daemon::Daemon;
use ikerd::kernel::xfrm::XfrmBackend;
use ikerd::vici::server::Server;

/// IKEv2 daemon for Linux.
///
/// ikerd negotiates IPsec SAs with IKEv2 (RFC 7296), as initiator and responder, and installs
/// them with their policies into the kernel's XFRM framework, so kernel ESP carries every
/// packet. It reads strongSwan's swanctl.conf. It runs in the foreground; SIGTERM closes every
/// IKE SA with a Delete to the peer and removes every kernel object it installed. strongSwan's
/// swanctl talks to it over VICI.
#[derive(Debug, Parser)]
#[command(name = "ikerd", version, about, long_about)]
#[command(
    after_help = "Status: site-to-site and host-to-host tunnels with pre-shared keys or \
                        certificates (ESP or AH, tunnel or transport mode, IPv4 and IPv6, NAT \
                        traversal), rekeying by time and volume, dead peer detection, traps, \
                        reloads on SIGHUP; VICI for strongSwan's swanctl and ikerctl (every \
                        command of swanctl --load-all, listings, counters, initiate, \
                        terminate, rekey, install); strongswan.conf's charon \
                        settings for retransmission, cookies, keepalives and routes. Road \
                        warriors, MOBIKE and CRLs do not work yet. See README.md."
)]
struct Args {
    /// The swanctl.conf to read (its `include`s are resolved relative to it).
    #[arg(long, default_value = "/etc/swanctl/swanctl.conf", value_name = "FILE")]
    config: PathBuf,
    /// strongSwan's strongswan.conf, for the `charon` settings ikerd acts on (retransmission,
    /// cookies, NAT keepalives, routes); a missing file means the defaults. Read again on
    /// SIGHUP and on VICI's reload-settings.
    #[arg(long, default_value = ikerd::config::strongswan::DEFAULT_PATH, value_name = "FILE")]
    settings: PathBuf,
    /// Check the configuration, print what is wrong with it (file, line, key), and exit.
    #[arg(long)]
    check_config: bool,
    /// The VICI socket, where swanctl and ikerctl reach the daemon (`swanctl --uri
    /// unix://PATH` for another path than the default). Default: strongswan.conf's
    /// `charon.plugins.vici.socket`, else /var/run/charon.vici.
    #[arg(long, value_name = "PATH")]
    vici: Option<PathBuf>,
    /// Where runtime files go.
    #[arg(long, default_value = "/run/ikerd", value_name = "DIR")]
    run_dir: PathBuf,
    /// How much to log: error, warn, info, debug or trace.
    #[arg(long, default_value = "info", value_name = "LEVEL")]
    log_level: tracing::Level,
}

fn main() -> ExitCode {
    let args = Args::parse();
    // Journal lines with priorities under systemd, the usual ones elsewhere.
    ikerd::logging::init(args.log_level);
    let store = ikerd::config::Store::from_file(&args.config);
    let charon = ikerd::config::strongswan::load(&args.settings);
    let (store, charon) = match (store, charon) {
        (Ok(store), Ok(charon)) => (store, charon),
        (store, charon) => {
            for errors in [store.err(), charon.err()].into_iter().flatten() {
                eprintln!("{errors}");
            }
            return ExitCode::FAILURE;
        }
    };
    if args.check_config {
        let mut store = store;
        for note in store.take_notes() {
            eprintln!("note: {note}");
        }
        println!(
            "{}: {} connections, no errors",
            args.config.display(),
            store.connection_names().len()
        );
        println!("{}: no errors", args.settings.display());
        for warning in &charon.warnings {
            println!("{warning}");
        }
        return ExitCode::SUCCESS;
    }
    match run(store, charon, &args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ikerd: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(
    store: ikerd::config::Store,
    charon: ikerd::config::strongswan::Charon,
    args: &Args,
) -> Result<(), String> {
    std::fs::create_dir_all(&args.run_dir)
        .map_err(|e| format!("run dir {}: {e}", args.run_dir.display()))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    runtime.block_on(async {
        let owner = xfrm::Owner::default();
        let first_reqid = *owner.reqids.start();
        let xfrm = xfrm::Xfrm::open()
            .map_err(|e| e.to_string())?
            .with_owner(owner);
        let mut kernel = XfrmBackend::new(xfrm).with_route_table(charon.routes());
        // A crashed run may have left SAs and policies behind: ours only, by reqid.
        use ikerd::kernel::KernelBackend;
        match kernel.flush().await {
            Ok(what) => tracing::debug!("removed kernel state of an earlier run: {what}"),
            Err(e) => return Err(format!("cannot reach the kernel's XFRM interface: {e}")),
        }
        let mut daemon =
            Daemon::new(store.connections(), kernel, first_reqid).map_err(|e| e.to_string())?;
        let start = store.start();
        daemon.set_store(store);
        let socket = args
            .vici
            .clone()
            .or_else(|| charon.vici_socket.clone())
            .unwrap_or_else(|| ikerd::vici::server::DEFAULT_SOCKET.into());
        let vici = Server::bind(&socket, daemon.control()).map_err(|e| format!("VICI: {e}"))?;
        tokio::spawn(vici.run());
        daemon.reload_from(args.config.clone());
        daemon.settings_from(args.settings.clone());
        daemon.apply_settings(charon);
        daemon.install_traps().await;
        daemon.initiate(&start).await;
        daemon.serve().await.map_err(|e| e.to_string())
    })
}
