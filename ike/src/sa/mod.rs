//! An IKE SA: its keys, its Message ID windows, its Child SAs, and the exchanges running on it.
//!
//! The exchanges themselves live in `crate::task`, one file per job, as `impl IkeSa` blocks;
//! this module holds the state they share and the plumbing every exchange uses: protecting and
//! sending requests and responses, retransmitting, and emitting kernel operations.

pub mod child;
mod dispatch;
pub mod window;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::Connection;
use crate::crypto::Random;
use crate::crypto::ke::KeyExchange;
use crate::crypto::keys::{IkeSaKeys, IkeSuite};
use crate::crypto::sk::{self, SkKeys};
use crate::kernel::{KernelOp, KernelOpId};
use crate::wire::message::{Message, Payload};
use crate::wire::sa::Proposal;
use crate::wire::{ExchangeType, Flags, Header, IkeSpi, KeId, MessageId, PayloadType};
use child::{ChildSa, PendingChild};
use window::{Requests, Responses, Retransmit};

/// Something the core wants done or known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Send a datagram.
    Transmit {
        local: SocketAddr,
        remote: SocketAddr,
        bytes: Vec<u8>,
    },
    /// Carry out a kernel operation and hand its reply back with the same id.
    Kernel { id: KernelOpId, op: KernelOp },
    /// Tell the operator.
    Event(Event),
}

/// Why an IKE SA went away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownReason {
    /// We were asked to close it.
    Terminated,
    /// The peer deleted it.
    DeletedByPeer,
    /// No response after the last retransmission.
    Timeout,
    /// The peer refused it, with this notify.
    Refused(crate::wire::NotifyType),
    /// The peer's authentication failed: which check, and why.
    AuthenticationFailed(String),
    /// The peer's answer broke the protocol.
    ProtocolError(String),
    /// Replaced by a new IKE SA, which took its Child SAs (RFC 7296 2.18).
    Rekeyed,
    /// Deleted to be negotiated afresh (`reauth_time`).
    Reauthenticating,
    /// Neither rekeyed nor reauthenticated in time (`over_time`).
    Expired,
    /// Another IKE SA between the same identities took its place (`unique`, or the peer's
    /// INITIAL_CONTACT).
    Duplicate,
}

/// How an IKE SA ended, for what the endpoint does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ended {
    pub reason: DownReason,
    /// The names of the Child SAs it had.
    pub children: Vec<String>,
    /// Where the peer was.
    pub remote: SocketAddr,
    /// The child it was started for (None: all of the connection's).
    pub first_child: Option<String>,
    /// Whether it was ever established.
    pub established: bool,
    pub attempt: u32,
}

/// What a Child SA coming up or going down means outside the core (updown scripts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildInfo {
    /// Our SPI of its IKE SA.
    pub ike_spi: IkeSpi,
    pub reqid: u32,
    pub protocol: crate::kernel::IpsecProtocol,
    pub mode: crate::kernel::Mode,
    /// The IKE SA's addresses and ports.
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub local_ts: Vec<crate::wire::ts::TrafficSelector>,
    pub remote_ts: Vec<crate::wire::ts::TrafficSelector>,
    pub local_id: String,
    pub remote_id: String,
    /// ESP in UDP.
    pub encap: bool,
    /// On the way down: no other pair of its reqid is left (it was not replaced by a rekey,
    /// nor a redundant pair of colliding rekeys).
    pub last: bool,
    /// Its SAs belong to an XFRM interface (`if_id_in`/`if_id_out`): traffic is routed into
    /// the interface by whoever set it up, so no routes are installed for it.
    pub xfrm_interface: bool,
}

/// What an operator hears about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    IkeUp {
        connection: String,
        spi_i: IkeSpi,
        spi_r: IkeSpi,
    },
    IkeDown {
        connection: String,
        spi_i: IkeSpi,
        spi_r: IkeSpi,
        reason: DownReason,
    },
    ChildUp {
        connection: String,
        child: String,
        spi_in: u32,
        spi_out: u32,
        info: Box<ChildInfo>,
    },
    ChildFailed {
        connection: String,
        child: String,
        reason: String,
    },
    /// A Child SA was replaced by a new one with the same reqid and policies.
    ChildRekeyed {
        connection: String,
        child: String,
        old_spi_in: u32,
        spi_in: u32,
        spi_out: u32,
    },
    /// A Child SA was deleted (by us, by the peer, by its lifetime, or with its IKE SA).
    ChildDown {
        connection: String,
        child: String,
        spi_in: u32,
        spi_out: u32,
        info: Box<ChildInfo>,
    },
    /// The IKE SA was replaced by a new one with these SPIs.
    IkeRekeyed {
        connection: String,
        old: (IkeSpi, IkeSpi),
        new: (IkeSpi, IkeSpi),
    },
    /// We answered the peer's proposals with NO_PROPOSAL_CHOSEN (RFC 7296 2.7): what it
    /// offered and what we have, so the log says why.
    NoProposalChosen {
        connection: String,
        exchange: crate::wire::ExchangeType,
        theirs: Vec<crate::wire::sa::Proposal>,
        ours: Vec<crate::wire::sa::Proposal>,
    },
    /// We answered the peer's traffic selectors with TS_UNACCEPTABLE (RFC 7296 2.9): what it
    /// asked for (TSi, its side; TSr, ours) and, for each child whose proposals fit, what we
    /// have (ours, theirs).
    TsUnacceptable {
        connection: String,
        ts_i: Vec<crate::wire::ts::TrafficSelector>,
        ts_r: Vec<crate::wire::ts::TrafficSelector>,
        ours: Vec<(
            Vec<crate::wire::ts::TrafficSelector>,
            Vec<crate::wire::ts::TrafficSelector>,
        )>,
    },
}

/// What an IKE SA needs from the endpoint while it handles one input.
#[allow(missing_debug_implementations)] // holds the generator and the output buffer only
pub struct Ctx<'a> {
    pub now: Instant,
    /// The calendar time at `now`, for certificate validity; None when the endpoint was given
    /// no wall clock (see [`crate::endpoint::WallClock`]).
    pub wall: Option<std::time::SystemTime>,
    pub rng: &'a mut dyn Random,
    pub out: &'a mut Vec<Output>,
    pub next_op: &'a mut u64,
    pub retransmit: &'a Retransmit,
    pub next_reqid: &'a mut u32,
    /// Kernel operations issued during this call, for the endpoint to route their replies.
    pub issued: Vec<KernelOpId>,
    /// IKE SAs created during this call by rekeying, for the endpoint to file.
    pub spawned: Vec<IkeSa>,
    /// Reqids of installed traps, by connection and child name: a Child SA negotiated for a
    /// trapped child takes the trap's reqid, and the trap's policies carry its traffic.
    pub traps: &'a TrapReqids,
}

/// Trap reqids by connection and child name.
pub type TrapReqids = std::collections::HashMap<(String, String), u32>;

impl Ctx<'_> {
    /// Emits a kernel operation and returns its id.
    pub fn kernel(&mut self, op: KernelOp) -> KernelOpId {
        *self.next_op += 1;
        let id = KernelOpId(*self.next_op);
        self.out.push(Output::Kernel { id, op });
        self.issued.push(id);
        id
    }

    /// The reqid for a new Child SA of `child` in `conn`: its trap's, or a fresh one.
    pub fn reqid_for(&mut self, conn: &str, child: &crate::config::ChildConfig) -> u32 {
        if let Some(reqid) = child.xfrm.reqid {
            return reqid;
        }
        match self.traps.get(&(conn.to_owned(), child.name.clone())) {
            Some(&reqid) => reqid,
            None => self.reqid(),
        }
    }

    /// Whether `reqid` is a trap's: its policies are in the kernel already.
    pub fn is_trap(&self, reqid: u32) -> bool {
        self.traps.values().any(|r| *r == reqid)
    }

    /// A reqid for a new Child SA, tying its SAs to its policies.
    pub fn reqid(&mut self) -> u32 {
        let reqid = *self.next_reqid;
        *self.next_reqid = self.next_reqid.wrapping_add(1).max(1);
        reqid
    }

    pub fn event(&mut self, event: Event) {
        self.out.push(Output::Event(event));
    }

    pub fn random(&mut self, len: usize) -> Vec<u8> {
        let mut bytes = vec![0; len];
        self.rng.fill(&mut bytes);
        bytes
    }

    /// `period` shortened by a random part of up to `spread` (strongSwan's `rand_time`), so
    /// both peers do not rekey at once.
    pub fn jittered(&mut self, period: Duration, spread: Duration) -> Duration {
        let mut b = [0u8; 4];
        self.rng.fill(&mut b);
        let fraction = f64::from(u32::from_le_bytes(b)) / f64::from(u32::MAX);
        period.saturating_sub(spread.min(period).mul_f64(fraction))
    }

    /// A random part of the retransmission jitter to take off the next wait; draws nothing
    /// when the schedule has no jitter.
    pub fn retransmit_fraction(&mut self) -> f64 {
        if self.retransmit.jitter == 0 {
            return 0.0;
        }
        let mut b = [0u8; 4];
        self.rng.fill(&mut b);
        f64::from(u32::from_le_bytes(b)) / f64::from(u32::MAX)
    }

    /// A byte or packet `limit` lowered by a random part of up to `spread` (strongSwan's
    /// `rand_bytes`, `rand_packets`), never to zero, which would mean no limit. Draws nothing
    /// when there is nothing to randomise.
    pub fn jittered_limit(&mut self, limit: u64, spread: u64) -> u64 {
        let spread = spread.min(limit.saturating_sub(1));
        if spread == 0 {
            return limit;
        }
        let mut b = [0u8; 8];
        self.rng.fill(&mut b);
        // A uniform cut in 0..=spread: the high half of a 64x64-bit product.
        let cut = (u128::from(u64::from_le_bytes(b)) * (u128::from(spread) + 1)) >> 64;
        limit - cut as u64
    }
}

/// Work that needs a request of its own, started when the Message ID window is free.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    /// Another Child SA from the named configuration.
    CreateChild(String),
    /// Rekey the Child SA we receive on this SPI.
    RekeyChild(u32),
    /// Delete the Child SA we receive on this SPI.
    DeleteChild(u32),
    RekeyIke,
    /// Delete the IKE SA to negotiate it afresh.
    Reauth,
}

/// What our INFORMATIONAL request in flight is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Informing {
    Liveness,
    /// A Delete of the Child SAs we receive on these SPIs.
    DeleteChildren(Vec<u32>),
    DeleteIke,
}

/// Which side started the IKE SA (RFC 7296 2.2: "original initiator").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Initiator,
    Responder,
}

/// Where an IKE SA is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Initiator: IKE_SA_INIT request sent.
    InitSent,
    /// Initiator: keys derived, reserving the first Child SA's SPI before IKE_AUTH.
    AllocatingSpi,
    /// Initiator: IKE_AUTH request sent.
    AuthSent,
    /// Responder: IKE_SA_INIT answered, waiting for IKE_AUTH.
    InitDone,
    /// Responder: IKE_AUTH accepted, installing the first Child SA before answering.
    AuthInstalling,
    Established,
    /// A Delete for the IKE SA is in flight.
    Deleting,
    /// Replaced by a new IKE SA; waiting for (rekey responder) or sending (initiator) the
    /// Delete of this one.
    Rekeyed,
    /// Gone: the endpoint removes it.
    Dead,
}

/// The keys of an established exchange direction pair.
#[derive(Debug, Clone)]
pub struct Keys {
    pub suite: IkeSuite,
    /// The key exchange method the keys came from, offered first when rekeying.
    pub group: KeId,
    pub ike: IkeSaKeys,
}

/// An IKE SA.
pub struct IkeSa {
    pub conn: Arc<Connection>,
    pub role: Role,
    pub spi_i: IkeSpi,
    pub spi_r: IkeSpi,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub state: State,
    /// Our IKE_SA_INIT key exchange, until the keys are derived.
    pub(crate) ke: Option<KeyExchange>,
    pub(crate) ni: Vec<u8>,
    pub(crate) nr: Vec<u8>,
    /// The IKE_SA_INIT messages as sent, for the AUTH octets.
    pub(crate) init_request: Vec<u8>,
    pub(crate) init_response: Vec<u8>,
    /// What we offered in IKE_SA_INIT (initiator), to check the answer against.
    pub(crate) offered: Vec<Proposal>,
    pub(crate) keys: Option<Keys>,
    pub(crate) requests: Requests,
    pub(crate) responses: Responses,
    pub children: Vec<ChildSa>,
    /// Child SAs under negotiation: at most one we started and one the peer started.
    pub(crate) pending: Vec<PendingChild>,
    /// Requests waiting for the window, and what the INFORMATIONAL in flight is for.
    pub(crate) jobs: VecDeque<Job>,
    pub(crate) informing: Option<Informing>,
    /// No job starts before this (after TEMPORARY_FAILURE).
    pub(crate) hold_until: Option<Instant>,
    /// Our IKE SA rekey in flight.
    pub(crate) ike_rekey: Option<crate::task::rekey_ike::IkeRekey>,
    /// When to rekey the IKE SA; for a replaced one, when to give up waiting for its Delete;
    /// for a half-open responder, when to give up waiting for IKE_AUTH.
    pub(crate) rekey_at: Option<Instant>,
    /// When we last heard from the peer (authenticated), for liveness checks.
    pub(crate) last_heard: Instant,
    /// What NAT detection found in IKE_SA_INIT.
    pub nat: crate::task::nat::Nat,
    /// The child to bring up with IKE_AUTH, if not the connection's first (a trap's).
    pub(crate) first_child: Option<String>,
    /// Started again by a `dpd_action` or `close_action` of `restart`: it tries again when
    /// it times out before it is up.
    pub(crate) restarting: bool,
    /// How it ended and the Child SAs it had, for the endpoint's close and DPD actions.
    pub(crate) ended: Option<Ended>,
    /// When it is reauthenticated (deleted and negotiated afresh).
    pub(crate) reauth_at: Option<Instant>,
    /// When it is deleted if neither rekeyed nor reauthenticated by then.
    pub(crate) expire_at: Option<Instant>,
    /// Which attempt at establishing it this is (1 for the first), for `keyingtries`.
    pub(crate) attempt: u32,
    /// Why we are deleting it, when not because we were asked to.
    pub(crate) close_reason: Option<DownReason>,
    /// The identity the peer proved.
    pub peer_id: Option<crate::wire::id::Repr>,
    /// Whether we tell the peer we hold no other IKE SA with it (INITIAL_CONTACT), as
    /// strongSwan does when none exists between the two identities.
    pub(crate) initial_contact: bool,
    /// The peer told us so in its IKE_AUTH request.
    pub peer_initial_contact: bool,
    pub(crate) last_keepalive: Instant,
    /// How often a keepalive goes out from behind a NAT (the endpoint's
    /// [`Settings::keep_alive`](crate::endpoint::Settings)); zero sends none.
    pub(crate) keepalive_interval: std::time::Duration,
    /// When it was authenticated both ways, or (the successor of a rekey) took over.
    pub(crate) established_at: Option<Instant>,
    /// The peer's SIGNATURE_HASH_ALGORITHMS from IKE_SA_INIT (RFC 7427 4), if it sent one.
    pub(crate) peer_hashes: Option<Vec<crate::wire::HashAlgorithm>>,
    /// Whether the peer sent a CERTREQ (for `send_cert = ifasked`).
    pub(crate) peer_asked_cert: bool,
}

impl core::fmt::Debug for IkeSa {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("IkeSa")
            .field("conn", &self.conn.name)
            .field("role", &self.role)
            .field("spi_i", &self.spi_i)
            .field("spi_r", &self.spi_r)
            .field("state", &self.state)
            .field("children", &self.children.len())
            .finish_non_exhaustive()
    }
}

impl IkeSa {
    pub(crate) fn new(
        conn: Arc<Connection>,
        role: Role,
        local: SocketAddr,
        remote: SocketAddr,
        now: Instant,
    ) -> IkeSa {
        IkeSa {
            conn,
            role,
            spi_i: IkeSpi::ZERO,
            spi_r: IkeSpi::ZERO,
            local,
            remote,
            state: if role == Role::Initiator {
                State::InitSent
            } else {
                State::InitDone
            },
            ke: None,
            ni: Vec::new(),
            nr: Vec::new(),
            init_request: Vec::new(),
            init_response: Vec::new(),
            offered: Vec::new(),
            keys: None,
            requests: Requests::default(),
            responses: Responses::default(),
            children: Vec::new(),
            pending: Vec::new(),
            jobs: VecDeque::new(),
            informing: None,
            hold_until: None,
            ike_rekey: None,
            rekey_at: None,
            last_heard: now,
            nat: Default::default(),
            first_child: None,
            restarting: false,
            ended: None,
            reauth_at: None,
            expire_at: None,
            attempt: 1,
            close_reason: None,
            peer_id: None,
            initial_contact: true,
            peer_initial_contact: false,
            last_keepalive: now,
            keepalive_interval: crate::task::nat::KEEPALIVE_INTERVAL,
            established_at: None,
            peer_hashes: None,
            peer_asked_cert: false,
        }
    }

    /// Our SPI: the one the peer's messages reach us by.
    pub fn local_spi(&self) -> IkeSpi {
        match self.role {
            Role::Initiator => self.spi_i,
            Role::Responder => self.spi_r,
        }
    }

    /// When it was established: authenticated both ways, or, for the successor of a rekey, when
    /// it took over.
    pub fn established_at(&self) -> Option<Instant> {
        self.established_at
    }

    /// The algorithms of its keys and the key exchange method they came from, once derived.
    pub fn algorithms(&self) -> Option<(IkeSuite, KeId)> {
        self.keys.as_ref().map(|k| (k.suite, k.group))
    }

    /// When an established IKE SA is due to be rekeyed, if its connection rekeys.
    pub fn rekey_time(&self) -> Option<Instant> {
        self.rekey_at.filter(|_| self.state == State::Established)
    }

    /// The header of a message we send.
    fn header(&self, exchange: ExchangeType, message_id: u32, response: bool) -> Header {
        let mut flags = if response { Flags::RESPONSE } else { Flags(0) };
        if self.role == Role::Initiator {
            flags = flags | Flags::INITIATOR;
        }
        Header {
            spi_i: self.spi_i,
            spi_r: self.spi_r,
            next_payload: PayloadType::NONE,
            major_version: Header::MAJOR_VERSION,
            minor_version: 0,
            exchange,
            flags,
            message_id: MessageId(message_id),
            length: 0,
        }
    }

    /// The SK keys for what we send (`outbound`) or receive.
    pub(crate) fn sk_keys(&self, outbound: bool) -> Option<SkKeys> {
        let keys = self.keys.as_ref()?;
        let initiators = (outbound && self.role == Role::Initiator)
            || (!outbound && self.role == Role::Responder);
        let (encr_key, integ_key) = if initiators {
            (&keys.ike.sk_ei, &keys.ike.sk_ai)
        } else {
            (&keys.ike.sk_er, &keys.ike.sk_ar)
        };
        Some(SkKeys {
            encr: keys.suite.encr,
            encr_key: encr_key.clone(),
            integ: keys.suite.integ.map(|i| (i, integ_key.clone())),
        })
    }

    /// Encodes a message: in the clear for IKE_SA_INIT, inside SK otherwise.
    fn encode(&self, ctx: &mut Ctx<'_>, header: &Header, payloads: &[Payload]) -> Option<Vec<u8>> {
        if header.exchange == ExchangeType::IKE_SA_INIT {
            return Message {
                header: *header,
                payloads: payloads.to_vec(),
            }
            .emit()
            .ok();
        }
        let keys = self.sk_keys(true)?;
        sk::protect(&keys, header, &[], payloads, ctx.rng).ok()
    }

    /// Sends a request of `exchange` and arms its retransmission.
    pub(crate) fn send_request(
        &mut self,
        ctx: &mut Ctx<'_>,
        exchange: ExchangeType,
        payloads: &[Payload],
    ) {
        let header = self.header(exchange, self.requests.next_id, false);
        let Some(bytes) = self.encode(ctx, &header, payloads) else {
            return;
        };
        if exchange == ExchangeType::IKE_SA_INIT {
            self.init_request.clone_from(&bytes);
        }
        self.transmit(ctx, bytes.clone());
        let fraction = ctx.retransmit_fraction();
        self.requests
            .sent(ctx.now, exchange, bytes, ctx.retransmit, fraction);
    }

    /// Answers request `message_id` and caches the answer for its retransmissions.
    pub(crate) fn send_response(
        &mut self,
        ctx: &mut Ctx<'_>,
        exchange: ExchangeType,
        message_id: MessageId,
        payloads: &[Payload],
    ) {
        let header = self.header(exchange, message_id.0, true);
        let Some(bytes) = self.encode(ctx, &header, payloads) else {
            return;
        };
        if exchange == ExchangeType::IKE_SA_INIT {
            self.init_response.clone_from(&bytes);
        }
        self.transmit(ctx, bytes.clone());
        self.responses.responded(message_id, bytes);
    }

    pub(crate) fn transmit(&self, ctx: &mut Ctx<'_>, bytes: Vec<u8>) {
        ctx.out.push(Output::Transmit {
            local: self.local,
            remote: self.remote,
            bytes,
        });
    }

    /// Ends the IKE SA: tells the operator and marks it for removal. Kernel state of its Child
    /// SAs is removed by the caller first where the peer is still reachable.
    pub(crate) fn die(&mut self, ctx: &mut Ctx<'_>, reason: DownReason) {
        if self.state == State::Dead {
            return;
        }
        for op in self.children.iter().flat_map(ChildSa::removal_ops) {
            ctx.kernel(op);
        }
        for (at, c) in self.children.iter().enumerate() {
            let last = !self.children[at + 1..].iter().any(|d| d.reqid == c.reqid);
            ctx.event(Event::ChildDown {
                connection: self.conn.name.clone(),
                child: c.name.clone(),
                spi_in: c.spi_in,
                spi_out: c.spi_out,
                info: Box::new(self.child_info(c, last)),
            });
        }
        let mut names: Vec<String> = self.children.iter().map(|c| c.name.clone()).collect();
        names.dedup();
        if names.is_empty() && self.restarting {
            names.extend(self.first_child.clone());
        }
        self.ended = Some(Ended {
            reason: reason.clone(),
            children: names,
            remote: self.remote,
            first_child: self.first_child.clone(),
            established: self.established_at.is_some(),
            attempt: self.attempt,
        });
        self.children.clear();
        let pending = std::mem::take(&mut self.pending);
        for p in &pending {
            self.release(ctx, p);
        }
        // A replaced IKE SA lives on in its successor, however it ends.
        let replaced = self.state == State::Rekeyed || reason == DownReason::Rekeyed;
        self.state = State::Dead;
        if replaced {
            return;
        }
        ctx.event(Event::IkeDown {
            connection: self.conn.name.clone(),
            spi_i: self.spi_i,
            spi_r: self.spi_r,
            reason,
        });
    }

    /// What an updown script learns about `child`.
    pub fn child_info(&self, child: &ChildSa, last: bool) -> ChildInfo {
        ChildInfo {
            ike_spi: self.local_spi(),
            reqid: child.reqid,
            protocol: child.protocol,
            mode: child.mode,
            local: self.local,
            remote: self.remote,
            local_ts: child.local_ts.clone(),
            remote_ts: child.remote_ts.clone(),
            local_id: self.conn.local_id.to_string(),
            remote_id: self
                .conn
                .remote_id
                .as_ref()
                .map_or_else(|| "%any".to_string(), ToString::to_string),
            encap: self.nat.detected(),
            last,
            xfrm_interface: self
                .conn
                .children
                .iter()
                .find(|config| config.name == child.name)
                .is_some_and(|config| {
                    config.xfrm.if_id_in.is_some() || config.xfrm.if_id_out.is_some()
                }),
        }
    }

    /// Lets go of what an established IKE SA with nothing under way no longer needs: the
    /// IKE_SA_INIT messages and nonces (used for AUTH and the first Child SA's keys), SK_pi
    /// and SK_pr, and spare capacity. Thousands of IKE SAs sit in this state.
    pub(crate) fn compact(&mut self) {
        if self.state != State::Established || !self.pending.is_empty() {
            return;
        }
        if !self.ni.is_empty() {
            self.init_request = Vec::new();
            self.init_response = Vec::new();
            self.ni = Vec::new();
            self.nr = Vec::new();
            self.offered = Vec::new();
            if let Some(keys) = self.keys.as_mut() {
                keys.ike.sk_pi = crate::crypto::Secret::new(Vec::new());
                keys.ike.sk_pr = crate::crypto::Secret::new(Vec::new());
            }
        }
        if self.pending.capacity() != 0 {
            self.pending = Vec::new();
        }
        if self.jobs.is_empty() && self.jobs.capacity() != 0 {
            self.jobs = VecDeque::new();
        }
        if self.children.capacity() != self.children.len() {
            self.children.shrink_to_fit();
        }
    }

    /// The next time this IKE SA needs [`IkeSa::on_timeout`].
    pub fn next_timeout(&self) -> Option<Instant> {
        // A liveness check waits while a request is in flight: its retransmissions already ask.
        let idle = self.requests.is_idle();
        let dpd = self.dpd_deadline().filter(|_| idle);
        let hold = self.hold_until.filter(|_| idle && !self.jobs.is_empty());
        let child_rekey = self
            .children
            .iter()
            .filter(|c| !c.rekeyed)
            .filter_map(|c| c.rekey_at)
            .chain(self.children.iter().filter_map(|c| c.reap_at))
            .chain(self.keepalive_deadline())
            .min();
        // rekey_at means something only in these states (see its field); elsewhere a past one
        // would ask for timeouts nothing acts on.
        let timed = matches!(
            self.state,
            State::Established | State::Rekeyed | State::InitDone
        );
        let rekey = self.rekey_at.filter(|_| timed);
        let lifetime = [self.reauth_at, self.expire_at]
            .into_iter()
            .flatten()
            .filter(|_| self.state == State::Established)
            .min();
        [
            self.requests.deadline(),
            dpd,
            hold,
            rekey,
            child_rekey,
            lifetime,
        ]
        .into_iter()
        .flatten()
        .min()
    }
}
