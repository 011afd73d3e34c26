//! The daemon: one task owns the protocol core ([`ike::endpoint::Endpoint`]) and loops: wait
//! for a datagram, a control request, a signal, or the core's next timer; hand it to the core;
//! carry out what the core asks, in order, feeding each kernel reply back (DESIGN: the daemon).
//! Nothing else touches the sockets, netlink or the core: other tasks ask through [`Control`].

pub mod control;
pub mod counters;
pub mod failures;
mod log;
mod news;
mod settings;
pub mod socket;
pub mod updown;
pub mod view;
mod watch;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use ike::config::Connection;
use ike::crypto::Random;
use ike::endpoint::{Command, Endpoint, Settings, WallClock};
use ike::sa::{Event, Output, State};
use tokio::net::UdpSocket;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{broadcast, mpsc};
use tracing::{debug, info, warn};

pub use self::control::{Control, News, Stats};
use crate::config::Store;
use crate::kernel::KernelBackend;
use ike::task::nat::NAT_T_PORT;

/// How long a shutdown waits for peers to acknowledge our Deletes.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);
/// Alerts about junk datagrams raised per second at most.
const ALERTS_PER_SECOND: u32 = 10;
/// RFC 7296 2: the largest IKE message we accept over UDP.
const MAX_DATAGRAM: usize = 65535;

/// The operating system's generator, for keys, nonces and SPIs.
struct OsRandom(ring::rand::SystemRandom);

impl Random for OsRandom {
    fn fill(&mut self, buf: &mut [u8]) {
        use ring::rand::SecureRandom;
        // SystemRandom reads getrandom(2); it fails only when the kernel has no entropy source
        // at all, in which case no key we could make would be safe.
        self.0
            .fill(buf)
            .expect("the kernel's random generator failed");
    }
}

/// A datagram received on one of our sockets.
struct Received {
    local: SocketAddr,
    remote: SocketAddr,
    bytes: Vec<u8>,
}

/// The running daemon.
pub struct Daemon<K: KernelBackend> {
    endpoint: Endpoint,
    kernel: K,
    /// Port 500 and port 4500 sockets, by the address they are bound to.
    sockets: Vec<(SocketAddr, Arc<UdpSocket>)>,
    received: mpsc::Receiver<Received>,
    requests: mpsc::Receiver<control::Request>,
    /// Kept to hand out [`Control`]s; it also keeps `requests` open.
    control: Control,
    /// Where news for the control plane's listeners goes.
    news: broadcast::Sender<Arc<News>>,
    /// Unique ids of SAs, as VICI clients know them.
    ids: view::Ids,
    /// Commands answered when their SAs are up or gone.
    waiters: Vec<watch::Waiter>,
    started: (Instant, SystemTime),
    /// The swanctl.conf SIGHUP reads again.
    config: Option<std::path::PathBuf>,
    /// Where received datagrams go, for sockets bound on a reload.
    received_tx: mpsc::Sender<Received>,
    /// The updown scripts' runner, started with the first script.
    updown: Option<mpsc::Sender<updown::Run>>,
    /// The configuration: what the endpoint's connections come from.
    store: Store,
    /// IKE event counters, for VICI's get-counters.
    counters: counters::Counters,
    /// When the current second of datagram alerts began, and how many went out in it.
    alerts: (Instant, u32),
    /// The last failure of each connection.
    failures: failures::Failures,
    /// The strongswan.conf SIGHUP and `reload-settings` read again, and what it said.
    settings_path: Option<std::path::PathBuf>,
    charon: crate::config::strongswan::Charon,
}

impl<K: KernelBackend> core::fmt::Debug for Daemon<K> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Daemon")
            .field("sockets", &self.sockets.len())
            .finish_non_exhaustive()
    }
}

impl<K: KernelBackend> Daemon<K> {
    /// Binds the IKE sockets for `connections` and readies the core. Must run inside a tokio
    /// runtime.
    pub fn new(
        connections: Vec<Connection>,
        kernel: K,
        first_reqid: u32,
    ) -> std::io::Result<Daemon<K>> {
        let settings = Settings {
            first_reqid,
            // Certificate validity is counted from here on the monotonic clock the endpoint
            // is driven by.
            wall_clock: Some(WallClock {
                at: Instant::now(),
                time: SystemTime::now(),
            }),
            ..Settings::default()
        };
        let mut endpoint = Endpoint::new(
            settings,
            Box::new(OsRandom(ring::rand::SystemRandom::new())),
        );
        let addrs: Vec<std::net::IpAddr> = connections.iter().map(|c| c.local_addr).collect();
        let mut store = Store::with_connections(connections.clone());
        store.take_changed();
        for conn in connections {
            endpoint.add_connection(conn);
        }
        let (tx, received) = mpsc::channel(1024);
        let (requests_tx, requests) = mpsc::channel(control::QUEUE);
        let (news, _) = broadcast::channel(control::NEWS);
        let mut daemon = Daemon {
            endpoint,
            kernel,
            sockets: Vec::new(),
            received,
            requests,
            control: Control {
                requests: requests_tx,
                news: news.clone(),
            },
            news,
            ids: view::Ids::default(),
            waiters: Vec::new(),
            started: (Instant::now(), SystemTime::now()),
            config: None,
            received_tx: tx,
            updown: None,
            store,
            counters: counters::Counters::default(),
            alerts: (Instant::now(), 0),
            failures: failures::Failures::default(),
            settings_path: None,
            charon: Default::default(),
        };
        for ip in addrs {
            daemon.listen(ip)?;
        }
        Ok(daemon)
    }

    /// A handle for tasks that ask the daemon for things (the VICI server).
    pub fn control(&self) -> Control {
        self.control.clone()
    }

    fn stats(&self) -> Stats {
        let sas = || self.endpoint.ike_sas().filter(|sa| sa.state != State::Dead);
        let half_open = sas()
            .filter(|sa| !matches!(sa.state, State::Established | State::Deleting))
            .count();
        Stats {
            running: self.started.0.elapsed(),
            since: self.started.1,
            ike_sas: sas().count(),
            half_open,
            queued: self.received.len() + self.requests.len(),
            scheduled: usize::from(self.endpoint.poll_timeout().is_some()),
        }
    }

    /// Carries out outputs in order; kernel replies produce more, handled after them.
    async fn carry_out(&mut self, outputs: Vec<Output>) {
        let mut queue: VecDeque<Output> = outputs.into();
        while let Some(output) = queue.pop_front() {
            match output {
                Output::Transmit {
                    local,
                    remote,
                    bytes,
                } => {
                    self.count_sent(&bytes);
                    self.transmit(local, remote, &bytes).await;
                }
                Output::Kernel { id, op } => {
                    let reply = self.kernel.execute(&op).await;
                    debug!("kernel {op:?} -> {reply:?}");
                    queue.extend(self.endpoint.handle_kernel(Instant::now(), id, reply));
                }
                Output::Event(event) => {
                    self.log_event(&event);
                    self.count_event(&event);
                    match &event {
                        Event::ChildUp { info, .. } => self.kernel.routes(info, true).await,
                        Event::ChildDown { info, .. } if info.last => {
                            self.kernel.routes(info, false).await;
                        }
                        _ => {}
                    }
                    self.updown(&event);
                    self.on_event(&event);
                }
            }
        }
    }

    /// Runs the updown command of a Child SA that came up, or finally went down.
    fn updown(&mut self, event: &Event) {
        let (connection, child, info, up) = match event {
            Event::ChildUp {
                connection,
                child,
                info,
                ..
            } => (connection, child, info, true),
            Event::ChildDown {
                connection,
                child,
                info,
                ..
            } if info.last => (connection, child, info, false),
            _ => return,
        };
        let command = self
            .endpoint
            .connections()
            .find(|c| c.name == *connection)
            .and_then(|c| c.children.iter().find(|ch| ch.name == *child))
            .and_then(|ch| ch.updown.clone());
        let Some(command) = command else {
            return;
        };
        let runner = self.updown.get_or_insert_with(updown::spawn);
        let uniqueid = self.ids.ike(info.ike_spi);
        let tag = format!("{connection}[{uniqueid}]");
        for mut run in updown::runs(&command, child, uniqueid, info, up) {
            run.tag.clone_from(&tag);
            if runner.try_send(run).is_err() {
                warn!("{tag}: updown for {child} dropped: too many waiting");
            }
        }
    }

    /// Counts a datagram and hands it to the core.
    async fn handle_received(&mut self, r: Received) {
        match self.counters.header(counters::Direction::In, &r.bytes) {
            Some((seen, header)) => {
                let sa = self.endpoint.ike_sa(seen.ours);
                let connection = sa.map(|sa| sa.conn.name.clone());
                let known = seen.new || sa.is_some();
                self.counters.message(
                    counters::Direction::In,
                    &header,
                    connection.as_deref(),
                    known,
                );
                if !known {
                    self.alert("invalid-ike-spi");
                }
            }
            None if r.bytes != [0xff] => self.alert("parse-error-header"),
            None => {}
        }
        let outputs = self
            .endpoint
            .handle_datagram(Instant::now(), r.local, r.remote, &r.bytes);
        self.carry_out(outputs).await;
    }

    /// Raises an `alert` about a datagram for listeners, at most [`ALERTS_PER_SECOND`] a
    /// second: a flood of junk must not push listeners' news out.
    fn alert(&mut self, kind: &'static str) {
        if self.news.receiver_count() == 0 {
            return;
        }
        let now = Instant::now();
        let (since, count) = &mut self.alerts;
        if now.duration_since(*since) >= Duration::from_secs(1) {
            (*since, *count) = (now, 0);
        }
        if *count < ALERTS_PER_SECOND {
            *count += 1;
            let _ = self.news.send(Arc::new(News::Alert { kind, ike: None }));
        }
    }

    /// Counts a message going out.
    fn count_sent(&mut self, bytes: &[u8]) {
        if let Some((seen, header)) = self.counters.header(counters::Direction::Out, bytes) {
            let sa = self.endpoint.ike_sa(seen.ours);
            let connection = sa.map(|sa| sa.conn.name.clone());
            self.counters.message(
                counters::Direction::Out,
                &header,
                connection.as_deref(),
                true,
            );
        }
    }

    /// Counts the rekeyings an event reports.
    fn count_event(&mut self, event: &Event) {
        match event {
            Event::ChildRekeyed { connection, .. } => {
                self.counters.count(counters::CHILD_REKEY, Some(connection));
            }
            Event::IkeRekeyed {
                connection, new, ..
            } => {
                // The side that rekeyed is the new IKE SA's original initiator (RFC 7296 2.18).
                let ours = [new.0, new.1]
                    .into_iter()
                    .find_map(|s| self.endpoint.ike_sa(s));
                let index = match ours.map(|sa| sa.role) {
                    Some(ike::sa::Role::Initiator) => counters::IKE_REKEY_INIT,
                    _ => counters::IKE_REKEY_RESP,
                };
                self.counters.count(index, Some(connection));
            }
            _ => {}
        }
    }

    async fn transmit(&self, local: SocketAddr, remote: SocketAddr, bytes: &[u8]) {
        let socket = self
            .sockets
            .iter()
            .find(|(addr, _)| *addr == local)
            .or(self.sockets.first())
            .map(|(_, s)| s);
        let Some(socket) = socket else {
            return;
        };
        let sent = if local.port() == NAT_T_PORT {
            socket.send_to(&socket::mark(bytes), remote).await
        } else {
            socket.send_to(bytes, remote).await
        };
        if let Err(e) = sent {
            warn!("send to {remote}: {e}");
        }
    }

    /// The kernel backend, for tests that look at what was installed.
    pub fn kernel(&self) -> &K {
        &self.kernel
    }

    /// Starts the named connections.
    pub async fn initiate(&mut self, names: &[String]) {
        for name in names {
            let outputs = self.endpoint.handle_command(
                Instant::now(),
                Command::Initiate {
                    connection: name.clone(),
                },
            );
            self.carry_out(outputs).await;
        }
    }

    /// Makes SIGHUP read `path` again.
    pub fn reload_from(&mut self, path: std::path::PathBuf) {
        self.config = Some(path);
    }

    /// Takes the configuration the daemon's connections came from, for VICI's load commands to
    /// change (the connections given to [`Daemon::new`] are its connections).
    pub fn set_store(&mut self, mut store: Store) {
        store.take_changed();
        for note in store.take_notes() {
            warn!("{note}");
        }
        self.store = store;
    }

    /// SIGHUP: reads the configuration again and applies what changed. Tunnels whose
    /// connection is unchanged are not touched; changed or removed ones are closed, and new or
    /// changed ones take their start actions. A configuration with errors changes nothing.
    /// Whatever VICI clients loaded is replaced by the file's contents.
    pub async fn reload(&mut self) {
        let Some(path) = self.config.clone() else {
            return warn!("SIGHUP: no configuration file to read again");
        };
        match Store::from_file(&path) {
            Ok(store) => {
                self.store = store;
                info!("reloading {}", path.display());
                self.apply_store().await;
            }
            Err(errors) => {
                for line in errors.to_string().lines() {
                    warn!("reload: {line}");
                }
                warn!(
                    "reload: {} has errors; the running configuration stays",
                    path.display()
                );
            }
        }
    }

    /// Hands the store's connections to the endpoint if they changed: unchanged tunnels are
    /// not touched, changed or removed ones are closed, and new or changed ones take their
    /// start actions.
    async fn apply_store(&mut self) {
        for note in self.store.take_notes() {
            warn!("{note}");
        }
        if !self.store.take_changed() {
            return;
        }
        let connections = self.store.connections();
        for conn in &connections {
            if let Err(e) = self.listen(conn.local_addr) {
                warn!("{}: {e}", conn.name);
            }
        }
        let total = connections.len();
        let (outputs, changed) = self
            .endpoint
            .update_connections(Instant::now(), connections);
        self.carry_out(outputs).await;
        info!(
            "{} connections, {} new or changed{}",
            total,
            changed.len(),
            if changed.is_empty() {
                String::new()
            } else {
                format!(" ({})", changed.join(", "))
            }
        );
        self.install_traps_of(&changed).await;
        let start: Vec<String> = self
            .store
            .start()
            .into_iter()
            .filter(|name| changed.contains(name))
            .collect();
        self.initiate(&start).await;
    }

    /// Binds the port 500 and 4500 sockets of `ip` unless they are bound.
    fn listen(&mut self, ip: std::net::IpAddr) -> std::io::Result<()> {
        let addr = SocketAddr::new(ip, ike::IKE_PORT);
        if self.sockets.iter().any(|(a, _)| *a == addr) {
            return Ok(());
        }
        let nat_t = SocketAddr::new(ip, NAT_T_PORT);
        let bound = [
            (addr, socket::bind(addr)?),
            (nat_t, socket::bind_nat_t(nat_t)?),
        ];
        for (addr, socket) in bound {
            let socket = Arc::new(socket);
            tokio::spawn(receive(addr, socket.clone(), self.received_tx.clone()));
            self.sockets.push((addr, socket));
        }
        info!("listening on {addr} and port {NAT_T_PORT}");
        Ok(())
    }

    /// Installs the trap policies of every child with `start_action = trap`.
    pub async fn install_traps(&mut self) {
        let all: Vec<String> = self
            .endpoint
            .connections()
            .map(|c| c.name.clone())
            .collect();
        self.install_traps_of(&all).await;
    }

    /// Installs the trap policies of the children with `start_action = trap` of `names`.
    async fn install_traps_of(&mut self, names: &[String]) {
        let traps: Vec<(String, String)> = self
            .endpoint
            .connections()
            .filter(|c| names.contains(&c.name))
            .flat_map(|c| {
                c.children
                    .iter()
                    .filter(|ch| ch.start_action == ike::config::Action::Trap)
                    .map(|ch| (c.name.clone(), ch.name.clone()))
            })
            .collect();
        for (connection, child) in traps {
            info!("{connection}: trap policies for {child}");
            let command = Command::Install {
                connection,
                child: Some(child),
            };
            let outputs = self.endpoint.handle_command(Instant::now(), command);
            self.carry_out(outputs).await;
        }
    }

    /// Runs until SIGTERM or SIGINT, then closes every IKE SA and removes what we installed.
    pub async fn serve(&mut self) -> std::io::Result<()> {
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        let stop = async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        };
        self.serve_until(stop).await
    }

    /// Runs until `stop` completes, then closes every IKE SA and removes what we installed.
    pub async fn serve_until(&mut self, stop: impl Future<Output = ()>) -> std::io::Result<()> {
        let mut hup = signal(SignalKind::hangup())?;
        let mut kernel_events = self.kernel.events();
        tokio::pin!(stop);
        // Sockets are bound and the configuration is in: systemd (Type=notify) may go on.
        notify(&[
            sd_notify::NotifyState::Ready,
            sd_notify::NotifyState::Status("running"),
        ]);
        loop {
            let deadline = self
                .endpoint
                .poll_timeout()
                .map(tokio::time::Instant::from_std);
            tokio::select! {
                Some(r) = self.received.recv() => self.handle_received(r).await,
                _ = sleep_until(deadline) => {
                    let outputs = self.endpoint.handle_timeout(Instant::now());
                    self.carry_out(outputs).await;
                }
                Some(request) = self.requests.recv() => self.answer(request).await,
                Some(event) = next_event(&mut kernel_events) => {
                    debug!("kernel event {event:?}");
                    let outputs = self.endpoint.handle_kernel_event(Instant::now(), event);
                    self.carry_out(outputs).await;
                }
                _ = &mut stop => break,
                _ = hup.recv() => {
                    // Errors are logged; the running settings stay.
                    let _ = self.reload_settings();
                    self.reload().await;
                }
            }
        }
        self.shutdown().await;
        Ok(())
    }

    /// Sends Deletes for every IKE SA, waits briefly for the answers, then removes whatever
    /// is left of ours in the kernel.
    async fn shutdown(&mut self) {
        info!("shutting down");
        notify(&[sd_notify::NotifyState::Stopping]);
        let names: Vec<String> = self
            .endpoint
            .connections()
            .map(|c| c.name.clone())
            .collect();
        for name in names {
            let outputs = self
                .endpoint
                .handle_command(Instant::now(), Command::Terminate { connection: name });
            self.carry_out(outputs).await;
        }
        let until = tokio::time::Instant::now() + SHUTDOWN_GRACE;
        while self.endpoint.ike_sas().next().is_some() {
            tokio::select! {
                Some(r) = self.received.recv() => self.handle_received(r).await,
                _ = tokio::time::sleep_until(until) => break,
            }
        }
        match self.kernel.flush().await {
            Ok(what) => info!("removed our kernel state: {what}"),
            Err(e) => warn!("removing our kernel state: {e}"),
        }
    }
}

/// Tells systemd, when it started us with a notify socket; otherwise does nothing.
fn notify(states: &[sd_notify::NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(states) {
        warn!("telling systemd: {e}");
    }
}

/// The next kernel event, or never when there are none.
async fn next_event(
    events: &mut Option<mpsc::Receiver<ike::kernel::KernelEvent>>,
) -> Option<ike::kernel::KernelEvent> {
    match events {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Reads datagrams from one socket into the daemon's queue.
async fn receive(local: SocketAddr, socket: Arc<UdpSocket>, tx: mpsc::Sender<Received>) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        match socket.recv_from(&mut buf).await {
            Ok((len, remote)) => {
                let bytes = if local.port() == NAT_T_PORT {
                    // Keepalives and anything without the marker are not IKE.
                    let Some(ike) = socket::unmark(&buf[..len]) else {
                        continue;
                    };
                    ike.to_vec()
                } else {
                    buf[..len].to_vec()
                };
                let received = Received {
                    local,
                    remote,
                    bytes,
                };
                if tx.send(received).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                // ICMP errors surface here (ECONNREFUSED from an earlier send); a socket that
                // keeps failing must not spin the loop.
                warn!("receive on {local}: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    }
}
