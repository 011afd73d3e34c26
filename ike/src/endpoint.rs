//! The public surface of the protocol core: an [`Endpoint`] owns every IKE SA of one daemon
//! (or one shard of it) and turns inputs into outputs.
//!
//! # Contract
//!
//! The caller owns all IO. It hands in, in any order:
//! - datagrams received on the IKE ports: [`Endpoint::handle_datagram`];
//! - the replies to the kernel operations the endpoint asked for: [`Endpoint::handle_kernel`]
//!   (each exactly once, with the id it was asked with);
//! - operator commands: [`Endpoint::handle_command`];
//! - the passing of time: [`Endpoint::handle_timeout`], no later than
//!   [`Endpoint::poll_timeout`] says.
//!
//! Each call returns the [`Output`]s to carry out, in order: datagrams to send, kernel
//! operations, events. Time never goes backwards between calls. Randomness comes from the
//! generator given to [`Endpoint::new`], so a seeded generator makes a run reproducible. No
//! input, however malformed, panics the endpoint; unauthenticated garbage is dropped silently.

mod lifecycle;
mod traps;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use crate::config::Connection;

use crate::cookie::Cookies;
use crate::crypto::Random;
use crate::kernel::{KernelEvent, KernelOpId, KernelReply};
use crate::kernel::{KernelOp, PolicyParams};

use crate::sa::window::Retransmit;
use crate::sa::{Ctx, Event, IkeSa, Job, Output, Role, State, TrapReqids};
use crate::wire::message::Message;
use crate::wire::rules::Typed;
use crate::wire::{ExchangeType, Header, IkeSpi, NotifyType, Payload, notify};

/// What an operator can ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Start the connection's IKE SA (and its first Child SA).
    Initiate { connection: String },
    /// Bring up one child of the connection, as strongSwan's `initiate` of a child does: on
    /// the connection's IKE SA that is up or coming up, or else on a new one with this child
    /// alone.
    InitiateChild { connection: String, child: String },
    /// Close every IKE SA of the connection.
    Terminate { connection: String },
    /// Delete one Child SA of the connection (the one we receive on `spi_in`); its IKE SA
    /// stays.
    TerminateChild { connection: String, spi_in: u32 },
    /// Rekey the connection's Child SAs of this name (all of them with None).
    RekeyChild {
        connection: String,
        child: Option<String>,
    },
    /// Rekey the connection's IKE SAs.
    RekeyIke { connection: String },
    /// Reauthenticate the connection's IKE SAs: each is deleted and negotiated afresh with its
    /// Child SAs, as `reauth_time` does.
    ReauthIke { connection: String },
    /// Install trap policies for the connection's child (all its children with None): the
    /// first packet they catch starts the negotiation (swanctl's `start_action = trap`).
    Install {
        connection: String,
        child: Option<String>,
    },
    /// Remove those trap policies again.
    Uninstall {
        connection: String,
        child: Option<String>,
    },
}

/// Tunables of the endpoint.
#[derive(Debug, Clone)]
pub struct Settings {
    pub retransmit: Retransmit,
    /// The first reqid given to a Child SA; the daemon picks a range the kernel interface
    /// recognises as its own.
    pub first_reqid: u32,
    /// From this many half-open IKE SAs on, new initiators must return a cookie
    /// (strongSwan's `charon.cookie_threshold`; 10 here, sooner than strongSwan's 30).
    pub cookie_threshold: usize,
    /// How long a responder waits for IKE_AUTH after answering IKE_SA_INIT (strongSwan's
    /// `charon.half_open_timeout`, 30 s).
    pub half_open_timeout: std::time::Duration,
    /// How often an IKE SA behind a NAT sends keepalives (strongSwan's `charon.keep_alive`,
    /// 20 s); zero sends none. IKE SAs keep the interval they were made with.
    pub keep_alive: std::time::Duration,
    /// The calendar, for certificate validity. The core reads no clock: the caller says once
    /// what the wall clock read at some instant of the monotonic clock it drives the endpoint
    /// with, and the core counts on from there. None refuses every certificate.
    pub wall_clock: Option<WallClock>,
}

/// A reading of the wall clock at an instant of the endpoint's monotonic clock. The daemon
/// takes one at start (and may take new ones, see [`Endpoint::set_wall_clock`], e.g. after a
/// suspend the monotonic clock did not count); the simulation fixes one, so certificate
/// checks are reproducible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WallClock {
    pub at: Instant,
    pub time: SystemTime,
}

impl WallClock {
    /// The calendar time at `now` (never earlier than the reading).
    pub fn time_at(&self, now: Instant) -> SystemTime {
        self.time + now.saturating_duration_since(self.at)
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            retransmit: Retransmit::default(),
            first_reqid: 1,
            cookie_threshold: 10,
            half_open_timeout: std::time::Duration::from_secs(30),
            keep_alive: crate::task::nat::KEEPALIVE_INTERVAL,
            wall_clock: None,
        }
    }
}

/// Every IKE SA, by our SPI.
pub struct Endpoint {
    settings: Settings,
    connections: Vec<Arc<Connection>>,
    /// Boxed: the table's spare capacity then costs a pointer per slot, not an IKE SA.
    sas: HashMap<IkeSpi, Box<IkeSa>>,
    /// Half-open responder SAs by the initiator's SPI and address, to recognise IKE_SA_INIT
    /// retransmissions (the responder SPI is still zero in them) and to count them.
    half_open: HashMap<(IkeSpi, SocketAddr), IkeSpi>,
    /// Made at the first IKE_SA_INIT that needs one.
    cookies: Option<Cookies>,
    /// Installed traps: their reqids by connection and child, and their policies by reqid.
    traps: TrapReqids,
    trap_policies: HashMap<u32, Vec<PolicyParams>>,
    /// Which IKE SA waits for which kernel reply.
    ops: HashMap<KernelOpId, IkeSpi>,
    next_op: u64,
    next_reqid: u32,
    rng: Box<dyn Random + Send>,
}

impl core::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Endpoint")
            .field("sas", &self.sas.len())
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    pub fn new(settings: Settings, rng: Box<dyn Random + Send>) -> Endpoint {
        Endpoint {
            connections: Vec::new(),
            sas: HashMap::new(),
            half_open: HashMap::new(),
            cookies: None,
            traps: TrapReqids::new(),
            trap_policies: HashMap::new(),
            ops: HashMap::new(),
            next_op: 0,
            next_reqid: settings.first_reqid.max(1),
            settings,
            rng,
        }
    }

    /// The endpoint's tunables.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// New tunables from now on (strongswan.conf read again): requests in flight keep their
    /// deadlines, IKE SAs their keepalive interval, and `first_reqid` is not looked at again.
    pub fn set_settings(&mut self, settings: Settings) {
        self.settings = settings;
    }

    /// A new reading of the wall clock, for certificate validity from now on.
    pub fn set_wall_clock(&mut self, clock: WallClock) {
        self.settings.wall_clock = Some(clock);
    }

    pub fn add_connection(&mut self, connection: Connection) {
        self.connections.push(Arc::new(connection));
    }

    /// Replaces the configured connections, as a reload does. A connection whose
    /// configuration did not change keeps its IKE SAs, Child SAs and traps untouched; one that
    /// changed or went is closed (a Delete to the peer) and its traps removed. Returns what to
    /// carry out, and the names of the connections that are new or changed, whose start
    /// actions the caller takes.
    pub fn update_connections(
        &mut self,
        now: Instant,
        connections: Vec<Connection>,
    ) -> (Vec<Output>, Vec<String>) {
        let old = std::mem::take(&mut self.connections);
        let mut out = Vec::new();
        for conn in &old {
            if connections.iter().any(|c| c == conn.as_ref()) {
                continue;
            }
            let spis: Vec<IkeSpi> = self
                .sas
                .values()
                .filter(|sa| Arc::ptr_eq(&sa.conn, conn))
                .map(|sa| sa.local_spi())
                .collect();
            for spi in spis {
                out.extend(self.with_sa(now, spi, |sa, ctx| sa.terminate(ctx)));
            }
            for child in &conn.children {
                out.extend(self.uninstall_trap(&conn.name, &child.name));
            }
        }
        let mut changed = Vec::new();
        for conn in connections {
            match old.iter().find(|c| c.as_ref() == &conn) {
                Some(same) => self.connections.push(same.clone()),
                None => {
                    changed.push(conn.name.clone());
                    self.connections.push(Arc::new(conn));
                }
            }
        }
        (out, changed)
    }

    /// The configured connections, in the order they were added.
    pub fn connections(&self) -> impl Iterator<Item = &Connection> {
        self.connections.iter().map(|c| c.as_ref())
    }

    /// The IKE SAs, in no particular order.
    pub fn ike_sas(&self) -> impl Iterator<Item = &IkeSa> {
        self.sas.values().map(|sa| sa.as_ref())
    }

    /// The IKE SA the peer reaches us by `spi` (our SPI).
    pub fn ike_sa(&self, spi: IkeSpi) -> Option<&IkeSa> {
        self.sas.get(&spi).map(|sa| sa.as_ref())
    }

    /// Runs `f` on the SA with our SPI `spi` (see [`Endpoint::run_sa`]).
    fn with_sa(
        &mut self,
        now: Instant,
        spi: IkeSpi,
        f: impl FnOnce(&mut IkeSa, &mut Ctx<'_>),
    ) -> Vec<Output> {
        match self.sas.remove(&spi) {
            Some(sa) => self.run_sa(now, *sa, f),
            None => Vec::new(),
        }
    }

    /// Runs `f` on `sa` with a context for this call, then files the SA and the kernel
    /// operations it issued, or drops it if it died.
    fn run_sa(
        &mut self,
        now: Instant,
        mut sa: IkeSa,
        f: impl FnOnce(&mut IkeSa, &mut Ctx<'_>),
    ) -> Vec<Output> {
        let mut out = Vec::new();
        let mut ctx = Ctx {
            now,
            wall: self.settings.wall_clock.map(|c| c.time_at(now)),
            rng: self.rng.as_mut(),
            out: &mut out,
            next_op: &mut self.next_op,
            retransmit: &self.settings.retransmit,
            next_reqid: &mut self.next_reqid,
            issued: Vec::new(),
            spawned: Vec::new(),
            traps: &self.traps,
        };
        f(&mut sa, &mut ctx);
        // Whatever the input was, it may have freed the window for a queued request.
        sa.kick(&mut ctx);
        sa.compact();
        let issued = std::mem::take(&mut ctx.issued);
        let spawned = std::mem::take(&mut ctx.spawned);
        let ended = sa.ended.take().map(|end| (sa.conn.clone(), end));
        self.file(sa, issued);
        for successor in spawned {
            self.file(successor, Vec::new());
        }
        if let Some((conn, ended)) = ended {
            out.extend(self.after_end(now, &conn, &ended));
        }
        let up: Vec<IkeSpi> = out
            .iter()
            .filter_map(|o| match o {
                Output::Event(Event::IkeUp { spi_i, spi_r, .. }) => Some([*spi_i, *spi_r]),
                _ => None,
            })
            .flatten()
            .filter(|s| self.sas.contains_key(s))
            .collect();
        for spi in up {
            out.extend(self.enforce_unique(now, spi));
        }
        out
    }

    /// A kernel operation no IKE SA waits for (its reply is not routed).
    fn unowned_op(&mut self, op: KernelOp) -> Output {
        self.next_op += 1;
        Output::Kernel {
            id: KernelOpId(self.next_op),
            op,
        }
    }

    /// The children `Install`/`Uninstall` name.
    fn child_names(&self, connection: &str, child: Option<String>) -> Vec<String> {
        let Some(conn) = self.connections.iter().find(|c| c.name == connection) else {
            return Vec::new();
        };
        conn.children
            .iter()
            .map(|c| c.name.clone())
            .filter(|name| child.as_ref().is_none_or(|want| want == name))
            .collect()
    }

    /// The connection named `name`.
    fn connection(&self, name: &str) -> Option<Arc<Connection>> {
        self.connections.iter().find(|c| c.name == name).cloned()
    }

    /// The installed traps, as (connection, child) names.
    pub fn traps(&self) -> impl Iterator<Item = (&str, &str)> {
        self.traps.keys().map(|(c, ch)| (c.as_str(), ch.as_str()))
    }

    /// Puts an SA (back) in the tables under its current SPI, or drops it if it died.
    fn file(&mut self, sa: IkeSa, issued: Vec<KernelOpId>) {
        let spi = sa.local_spi();
        let key = (sa.spi_i, sa.remote);
        if sa.role == Role::Responder && sa.state == State::InitDone {
            self.half_open.insert(key, spi);
        } else if self.half_open.get(&key) == Some(&spi) {
            self.half_open.remove(&key);
        }
        if sa.state == State::Dead {
            return;
        }
        for id in issued {
            self.ops.insert(id, spi);
        }
        self.sas.insert(spi, Box::new(sa));
    }

    /// How many kernel operations the endpoint still waits to hear back about.
    pub fn awaited_kernel_replies(&self) -> usize {
        self.ops.len()
    }

    /// How many responder IKE SAs wait for IKE_AUTH.
    pub fn half_open(&self) -> usize {
        self.half_open.len()
    }

    /// A datagram arrived on `local` from `remote`.
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        bytes: &[u8],
    ) -> Vec<Output> {
        let Ok(header) = Header::parse(bytes) else {
            return Vec::new();
        };
        let from_initiator = header.flags.is_initiator();
        let ours = if from_initiator {
            header.spi_r
        } else {
            header.spi_i
        };
        if header.exchange == ExchangeType::IKE_SA_INIT
            && !header.flags.is_response()
            && ours.is_zero()
        {
            if let Some(&spi) = self.half_open.get(&(header.spi_i, remote)) {
                return self.with_sa(now, spi, |sa, ctx| {
                    sa.on_datagram(ctx, (local, remote), &header, bytes)
                });
            }
            return self.accept(now, local, remote, &header, bytes);
        }
        self.with_sa(now, ours, |sa, ctx| {
            // IKE_SA_INIT travels unauthenticated: only from where we sent ours. Later
            // messages are authenticated before anything happens, and may come from elsewhere
            // behind a NAT.
            if sa.remote == remote || header.exchange != ExchangeType::IKE_SA_INIT {
                sa.on_datagram(ctx, (local, remote), &header, bytes);
            }
        })
    }

    /// A new IKE_SA_INIT request: find its connection and start a responder SA.
    fn accept(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        header: &Header,
        bytes: &[u8],
    ) -> Vec<Output> {
        let Some(conn) = self.connection_for(local, remote) else {
            return Vec::new();
        };
        let Ok(message) = Message::parse(bytes) else {
            return Vec::new();
        };
        let Ok(Typed::IkeSaInitRequest(request)) =
            Typed::from_payloads(ExchangeType::IKE_SA_INIT, false, message.payloads)
        else {
            return Vec::new();
        };
        if self.half_open.len() >= self.settings.cookie_threshold {
            let cookies = self
                .cookies
                .get_or_insert_with(|| Cookies::new(now, self.rng.as_mut()));
            cookies.rotate(now, self.rng.as_mut());
            let (ni, ip) = (&request.nonce.data, remote.ip());
            let returned = request.notifies.iter().find(|n| n.ty == NotifyType::COOKIE);
            if !returned.is_some_and(|c| cookies.check(&c.data, ni, ip, header.spi_i)) {
                // RFC 7296 2.6: ask for a cookie and forget the request.
                let cookie = cookies.make(ni, ip, header.spi_i);
                return cookie_request(header, local, remote, &cookie);
            }
        }
        let mut sa = IkeSa::new(conn, Role::Responder, local, remote, now);
        sa.keepalive_interval = self.settings.keep_alive;
        sa.rekey_at = Some(now + self.settings.half_open_timeout);
        self.run_sa(now, sa, |sa, ctx| {
            sa.on_init_request(ctx, header, bytes, request)
        })
    }

    /// The first connection whose addresses admit this pair.
    fn connection_for(&self, local: SocketAddr, remote: SocketAddr) -> Option<Arc<Connection>> {
        self.connections
            .iter()
            .find(|c| {
                (c.local_addr.is_unspecified() || c.local_addr == local.ip())
                    && (c.remote_addr.is_unspecified() || c.remote_addr == remote.ip())
            })
            .cloned()
    }

    /// The reply to kernel operation `id`.
    pub fn handle_kernel(
        &mut self,
        now: Instant,
        id: KernelOpId,
        reply: KernelReply,
    ) -> Vec<Output> {
        let Some(spi) = self.ops.remove(&id) else {
            return Vec::new();
        };
        self.with_sa(now, spi, |sa, ctx| sa.on_kernel_reply(ctx, id, reply))
    }

    /// News from the kernel: a soft expiry rekeys the Child SA, a hard one deletes it, an
    /// acquire from a trap starts its child. NAT mapping changes are not acted on yet.
    pub fn handle_kernel_event(&mut self, now: Instant, event: KernelEvent) -> Vec<Output> {
        let (sa, hard) = match event {
            KernelEvent::Expire { sa, hard } => (sa, hard),
            KernelEvent::Acquire { reqid, .. } => return self.on_acquire(now, reqid),
            KernelEvent::Mapping { .. } => return Vec::new(),
        };
        let owner = self.sas.values().find_map(|ike| {
            let child = ike
                .children
                .iter()
                .find(|c| c.sa_in() == sa || c.sa_out() == sa)?;
            Some((ike.local_spi(), child.spi_in))
        });
        let Some((spi, spi_in)) = owner else {
            return Vec::new();
        };
        self.with_sa(now, spi, |ike, ctx| ike.on_child_expire(ctx, spi_in, hard))
    }

    /// An operator's command.
    pub fn handle_command(&mut self, now: Instant, command: Command) -> Vec<Output> {
        match command {
            Command::Initiate { connection } => self.initiate(now, &connection),
            Command::InitiateChild { connection, child } => {
                let Some(conn) = self.connection(&connection) else {
                    return Vec::new();
                };
                if !conn.children.iter().any(|c| c.name == child) {
                    return Vec::new();
                }
                let live = self
                    .sas
                    .values()
                    .filter(|sa| sa.conn.name == connection)
                    .filter(|sa| {
                        !matches!(sa.state, State::Dead | State::Rekeyed | State::Deleting)
                    })
                    .min_by_key(|sa| (sa.state != State::Established, sa.role != Role::Initiator))
                    .map(|sa| sa.local_spi());
                match live {
                    Some(spi) => self.with_sa(now, spi, |sa, ctx| {
                        sa.queue(ctx, Job::CreateChild(child));
                    }),
                    None => self.start(now, conn, Some(child), false),
                }
            }
            Command::Terminate { connection } => {
                let spis: Vec<IkeSpi> = self
                    .sas
                    .values()
                    .filter(|sa| sa.conn.name == connection)
                    .map(|sa| sa.local_spi())
                    .collect();
                spis.into_iter()
                    .flat_map(|spi| self.with_sa(now, spi, |sa, ctx| sa.terminate(ctx)))
                    .collect()
            }
            Command::RekeyChild { connection, child } => {
                self.for_each_sa(now, &connection, |sa, ctx| {
                    let spis: Vec<u32> = sa
                        .children
                        .iter()
                        .filter(|c| !c.rekeyed && child.as_ref().is_none_or(|n| *n == c.name))
                        .map(|c| c.spi_in)
                        .collect();
                    for spi in spis {
                        sa.queue(ctx, Job::RekeyChild(spi));
                    }
                })
            }
            Command::TerminateChild { connection, spi_in } => {
                self.for_each_sa(now, &connection, |sa, ctx| {
                    if sa.children.iter().any(|c| c.spi_in == spi_in && !c.rekeyed) {
                        sa.queue(ctx, Job::DeleteChild(spi_in));
                    }
                })
            }
            Command::ReauthIke { connection } => {
                self.for_each_sa(now, &connection, |sa, ctx| sa.queue(ctx, Job::Reauth))
            }
            Command::RekeyIke { connection } => {
                self.for_each_sa(now, &connection, |sa, ctx| sa.queue(ctx, Job::RekeyIke))
            }
            Command::Install { connection, child } => {
                let Some(conn) = self.connection(&connection) else {
                    return Vec::new();
                };
                self.child_names(&connection, child)
                    .iter()
                    .flat_map(|name| self.install_trap(now, &conn, name))
                    .collect()
            }
            Command::Uninstall { connection, child } => self
                .child_names(&connection, child)
                .iter()
                .flat_map(|name| self.uninstall_trap(&connection, name))
                .collect(),
        }
    }

    /// Runs `f` on every established IKE SA of `connection`.
    fn for_each_sa(
        &mut self,
        now: Instant,
        connection: &str,
        f: impl Fn(&mut IkeSa, &mut Ctx<'_>),
    ) -> Vec<Output> {
        let spis: Vec<IkeSpi> = self
            .sas
            .values()
            .filter(|sa| sa.conn.name == connection && sa.state == State::Established)
            .map(|sa| sa.local_spi())
            .collect();
        spis.into_iter()
            .flat_map(|spi| self.with_sa(now, spi, &f))
            .collect()
    }

    fn initiate(&mut self, now: Instant, name: &str) -> Vec<Output> {
        let Some(conn) = self.connection(name) else {
            return Vec::new();
        };
        self.start(now, conn, None, false)
    }

    /// Starts an IKE SA of `conn`, bringing up `first_child` (or the connection's children).
    fn start(
        &mut self,
        now: Instant,
        conn: Arc<Connection>,
        first_child: Option<String>,
        restarting: bool,
    ) -> Vec<Output> {
        let local = SocketAddr::new(conn.local_addr, crate::IKE_PORT);
        let remote = SocketAddr::new(conn.remote_addr, crate::IKE_PORT);
        let mut sa = IkeSa::new(conn, Role::Initiator, local, remote, now);
        sa.keepalive_interval = self.settings.keep_alive;
        sa.first_child = first_child;
        sa.restarting = restarting;
        sa.initial_contact = self.first_contact(&sa.conn);
        self.run_sa(now, sa, |sa, ctx| sa.initiate(ctx))
    }

    /// Time passed: retransmissions, give-ups, liveness checks.
    pub fn handle_timeout(&mut self, now: Instant) -> Vec<Output> {
        let due: Vec<IkeSpi> = self
            .sas
            .values()
            .filter(|sa| sa.next_timeout().is_some_and(|t| t <= now))
            .map(|sa| sa.local_spi())
            .collect();
        due.into_iter()
            .flat_map(|spi| self.with_sa(now, spi, |sa, ctx| sa.on_timeout(ctx)))
            .collect()
    }

    /// When [`Endpoint::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.sas.values().filter_map(|sa| sa.next_timeout()).min()
    }
}

/// The stateless answer to an IKE_SA_INIT request: N(COOKIE) alone (RFC 7296 2.6).
fn cookie_request(
    request: &Header,
    local: SocketAddr,
    remote: SocketAddr,
    cookie: &[u8],
) -> Vec<Output> {
    let header = Header {
        spi_r: IkeSpi::ZERO,
        next_payload: crate::wire::PayloadType::NONE,
        flags: crate::wire::Flags::RESPONSE,
        length: 0,
        ..*request
    };
    let message = Message {
        header,
        payloads: vec![Payload::Notify(notify::Repr::new(
            NotifyType::COOKIE,
            cookie,
        ))],
    };
    message
        .emit()
        .map(|bytes| {
            vec![Output::Transmit {
                local,
                remote,
                bytes,
            }]
        })
        .unwrap_or_default()
}
