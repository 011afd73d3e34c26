//! Deterministic simulation for tests (DESIGN: "simulate, don't sleep"): an in-memory kernel,
//! a seeded network that drops, duplicates and delays datagrams, and two endpoints, moon and
//! sun, driven in virtual time.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant, SystemTime};

use crate::crypto::Random;
use crate::endpoint::{Command, Endpoint, Settings, WallClock};
use crate::kernel::{
    KernelEvent, KernelOp, KernelOpId, KernelReply, PolicyParams, SaParams, SaRef,
};
use crate::sa::{Event, Output};

/// A seeded generator (SplitMix64): reproducible runs, not for real keys.
#[derive(Debug, Clone)]
pub struct SeededRandom(pub u64);

impl SeededRandom {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p && p > 0.0
    }
}

impl Random for SeededRandom {
    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

/// The kernel state an endpoint built: SAs, reserved SPIs, policies.
#[derive(Debug, Default)]
pub struct MemKernel {
    pub sas: HashMap<SaRef, SaParams>,
    pub reserved: HashSet<SaRef>,
    pub policies: Vec<PolicyParams>,
    /// When each SA was added (a counter): the kernel sends on the newest outbound SA of a
    /// reqid, as XFRM does.
    pub added: HashMap<SaRef, u64>,
    adds: u64,
    next_spi: u32,
    /// Operations for which the kernel answers with an error instead.
    pub fail: Option<fn(&KernelOp) -> bool>,
    /// What each SA has carried (see [`MemKernel::count`]).
    pub carried: HashMap<SaRef, Carried>,
}

/// The traffic an SA has carried, and which of its limits were reported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Carried {
    pub bytes: u64,
    pub packets: u64,
    pub soft_reported: bool,
    pub hard_reported: bool,
}

impl MemKernel {
    pub fn new(first_spi: u32) -> MemKernel {
        MemKernel {
            next_spi: first_spi,
            ..MemKernel::default()
        }
    }

    /// Carries out one operation, as XFRM would.
    pub fn apply(&mut self, op: &KernelOp) -> KernelReply {
        if self.fail.is_some_and(|fail| fail(op)) {
            return failed(22, "injected failure");
        }
        match op {
            KernelOp::AllocSpi { dst, protocol, .. } => {
                self.next_spi += 1;
                let sa = SaRef {
                    dst: *dst,
                    protocol: *protocol,
                    spi: self.next_spi,
                };
                self.reserved.insert(sa);
                KernelReply::Spi(self.next_spi)
            }
            KernelOp::UpdateSa(params) if self.reserved.remove(&params.sa) => {
                self.insert(params);
                KernelReply::Done
            }
            KernelOp::UpdateSa(_) => failed(3, "no such SA"),
            KernelOp::AddSa(params) if self.sas.contains_key(&params.sa) => failed(17, "SA exists"),
            KernelOp::AddSa(params) => {
                self.insert(params);
                KernelReply::Done
            }
            KernelOp::DelSa(sa) => {
                self.added.remove(sa);
                if self.sas.remove(sa).is_some() || self.reserved.remove(sa) {
                    KernelReply::Done
                } else {
                    failed(3, "no such SA")
                }
            }
            KernelOp::AddPolicy(p) => {
                self.policies.push(p.clone());
                KernelReply::Done
            }
            KernelOp::DelPolicy(p) => match self.policies.iter().position(|q| q == p) {
                Some(at) => {
                    self.policies.remove(at);
                    KernelReply::Done
                }
                None => failed(2, "no such policy"),
            },
        }
    }
}

impl MemKernel {
    /// Counts `packets` packets of `size` bytes through `sa`, as XFRM counts them, and returns
    /// the expiry XFRM would report when that crossed a limit: the soft one once, the hard one
    /// once, after which the SA is gone (XFRM deletes an SA at its hard limit).
    pub fn count(&mut self, sa: SaRef, packets: u64, size: u64) -> Option<KernelEvent> {
        let lifetime = self.sas.get(&sa)?.lifetime;
        let carried = self.carried.entry(sa).or_default();
        carried.packets += packets;
        carried.bytes += packets * size;
        let over = |limit: u64, count: u64| limit != 0 && count >= limit;
        let hard = over(lifetime.hard_bytes, carried.bytes)
            || over(lifetime.hard_packets, carried.packets);
        let soft = over(lifetime.soft_bytes, carried.bytes)
            || over(lifetime.soft_packets, carried.packets);
        if hard && !carried.hard_reported {
            carried.hard_reported = true;
            self.sas.remove(&sa);
            self.added.remove(&sa);
            return Some(KernelEvent::Expire { sa, hard: true });
        }
        if soft && !carried.soft_reported {
            carried.soft_reported = true;
            return Some(KernelEvent::Expire { sa, hard: false });
        }
        None
    }

    fn insert(&mut self, params: &SaParams) {
        self.adds += 1;
        self.added.insert(params.sa, self.adds);
        self.sas.insert(params.sa, params.clone());
    }

    /// The SA a packet matching `policy` (outbound) leaves on: the newest SA of its reqid
    /// towards its template's destination.
    pub fn outbound_sa(&self, policy: &PolicyParams) -> Option<&SaParams> {
        self.sas
            .values()
            .filter(|sa| sa.reqid == policy.reqid && sa.sa.dst == policy.tmpl_dst)
            .max_by_key(|sa| self.added.get(&sa.sa))
    }
}

fn failed(errno: i32, message: &str) -> KernelReply {
    KernelReply::Failed {
        errno,
        message: message.into(),
    }
}

/// How the simulated network misbehaves.
#[derive(Debug, Clone, Copy, Default)]
pub struct Weather {
    pub drop: f64,
    pub duplicate: f64,
    /// Each datagram is delayed between 0 and this.
    pub jitter: Duration,
}

/// One side of the simulation.
#[derive(Debug)]
pub struct Peer {
    pub name: &'static str,
    pub addr: SocketAddr,
    pub endpoint: Endpoint,
    pub kernel: MemKernel,
    pub events: Vec<Event>,
    /// Kernel operations not yet answered, answered at the next step.
    pending_ops: Vec<(KernelOpId, KernelOp)>,
    /// Datagrams this side sent, for tests that look at the wire.
    pub sent: Vec<Vec<u8>>,
}

/// A datagram on its way: to which peer, from where, to where, what.
type InFlight = (usize, SocketAddr, SocketAddr, Vec<u8>);

/// Two endpoints, a network between them, and virtual time.
#[derive(Debug)]
pub struct Pair {
    pub now: Instant,
    pub peers: [Peer; 2],
    pub weather: Weather,
    net_rng: SeededRandom,
    /// Datagrams in flight, by delivery time and sequence.
    in_flight: BTreeMap<(Instant, u64), InFlight>,
    seq: u64,
    /// Whether a peer is reachable; a cut peer neither sends nor receives.
    pub up: [bool; 2],
    /// Moon sits behind a NAT with this public address: its datagrams leave from it, port P
    /// becoming P + 10000, and what comes back to it is translated back.
    pub moon_nat: Option<IpAddr>,
}

pub const MOON: usize = 0;
pub const SUN: usize = 1;

/// The calendar at the start of every simulation, for certificate validity: 2026-09-21
/// 01:06:40 UTC (1,790,000,000 seconds after the epoch), fixed so runs are reproducible.
pub const SIM_WALL_CLOCK: Duration = Duration::from_secs(1_790_000_000);

impl Pair {
    /// Moon at 192.0.2.1 and sun at 192.0.2.2, each with its own seeded endpoint.
    pub fn new(seed: u64) -> Pair {
        let now = Instant::now();
        let settings = Settings {
            wall_clock: Some(WallClock {
                at: now,
                time: SystemTime::UNIX_EPOCH + SIM_WALL_CLOCK,
            }),
            ..Settings::default()
        };
        let peer = |name, ip: [u8; 4], seed, first_spi| Peer {
            name,
            addr: SocketAddr::new(IpAddr::from(ip), crate::IKE_PORT),
            endpoint: Endpoint::new(settings.clone(), Box::new(SeededRandom(seed))),
            kernel: MemKernel::new(first_spi),
            events: Vec::new(),
            pending_ops: Vec::new(),
            sent: Vec::new(),
        };
        Pair {
            now,
            peers: [
                peer("moon", [192, 0, 2, 1], seed, 0xc100_0000),
                peer("sun", [192, 0, 2, 2], seed ^ 0x5eed, 0xc200_0000),
            ],
            weather: Weather::default(),
            net_rng: SeededRandom(seed ^ 0x0e7),
            in_flight: BTreeMap::new(),
            seq: 0,
            up: [true, true],
            moon_nat: None,
        }
    }

    pub fn command(&mut self, peer: usize, command: Command) {
        let outputs = self.peers[peer].endpoint.handle_command(self.now, command);
        self.absorb(peer, outputs);
    }

    /// Carries out outputs `peer`'s endpoint returned from a call the test made itself.
    pub fn absorb_outputs(&mut self, peer: usize, outputs: Vec<Output>) {
        self.absorb(peer, outputs);
    }

    /// Routes one endpoint's outputs: datagrams onto the network, kernel operations into its
    /// kernel's queue, events into its log.
    fn absorb(&mut self, peer: usize, outputs: Vec<Output>) {
        for output in outputs {
            match output {
                Output::Transmit {
                    local,
                    remote,
                    bytes,
                } => self.send(peer, local, remote, bytes),
                Output::Kernel { id, op } => self.peers[peer].pending_ops.push((id, op)),
                Output::Event(event) => self.peers[peer].events.push(event),
            }
        }
    }

    fn send(&mut self, from: usize, local: SocketAddr, remote: SocketAddr, bytes: Vec<u8>) {
        self.peers[from].sent.push(bytes.clone());
        // Through moon's NAT, if any: out with the public address, back to the private one.
        let (mut src, mut dst) = (local, remote);
        if let Some(public) = self.moon_nat {
            if from == MOON {
                src = SocketAddr::new(public, local.port().wrapping_add(10_000));
            } else if remote.ip() == public {
                dst = SocketAddr::new(
                    self.peers[MOON].addr.ip(),
                    remote.port().wrapping_sub(10_000),
                );
            }
        }
        let Some(to) = self.peers.iter().position(|p| p.addr.ip() == dst.ip()) else {
            return;
        };
        if !self.up[from] || !self.up[to] || self.net_rng.chance(self.weather.drop) {
            return;
        }
        let copies = if self.net_rng.chance(self.weather.duplicate) {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let jitter = self
                .weather
                .jitter
                .mul_f64((self.net_rng.next_u64() % 1000) as f64 / 1000.0);
            self.seq += 1;
            let key = (self.now + Duration::from_millis(1) + jitter, self.seq);
            self.in_flight.insert(key, (to, src, dst, bytes.clone()));
        }
    }

    /// Answers every queued kernel operation. Returns whether there were any.
    fn run_kernels(&mut self) -> bool {
        let mut any = false;
        for peer in 0..2 {
            let ops = std::mem::take(&mut self.peers[peer].pending_ops);
            for (id, op) in ops {
                any = true;
                let reply = self.peers[peer].kernel.apply(&op);
                let outputs = self.peers[peer].endpoint.handle_kernel(self.now, id, reply);
                self.absorb(peer, outputs);
            }
        }
        any
    }

    /// The next moment something happens: a delivery or a timer.
    fn next_event(&self) -> Option<Instant> {
        let delivery = self.in_flight.keys().next().map(|(t, _)| *t);
        let timers = self.peers.iter().filter_map(|p| p.endpoint.poll_timeout());
        delivery.into_iter().chain(timers).min()
    }

    /// Runs until nothing is left to do or `limit` of virtual time has passed.
    pub fn run_for(&mut self, limit: Duration) {
        self.run_checked(limit, |_| {});
    }

    /// Like [`Pair::run_for`], calling `check` whenever the kernels have settled.
    pub fn run_checked(&mut self, limit: Duration, mut check: impl FnMut(&Pair)) {
        let end = self.now + limit;
        loop {
            while self.run_kernels() {}
            check(self);
            let Some(next) = self.next_event().filter(|t| *t <= end) else {
                self.now = end;
                return;
            };
            self.now = self.now.max(next);
            if let Some(entry) = self
                .in_flight
                .first_entry()
                .filter(|e| e.key().0 <= self.now)
            {
                let (to, from, local, bytes) = entry.remove();
                let outputs = self.peers[to]
                    .endpoint
                    .handle_datagram(self.now, local, from, &bytes);
                self.absorb(to, outputs);
                continue;
            }
            for peer in 0..2 {
                let outputs = self.peers[peer].endpoint.handle_timeout(self.now);
                self.absorb(peer, outputs);
            }
        }
    }

    /// Whether traffic `from` one peer reaches the other: every outbound policy of `from`
    /// leaves on an SA that the other peer has installed inbound, with the same keys.
    /// Returns the first policy whose packets would be lost.
    pub fn traffic_flows(&self, from: usize) -> Result<(), String> {
        let (sender, receiver) = (&self.peers[from], &self.peers[1 - from]);
        for policy in &sender.kernel.policies {
            if policy.dir != crate::kernel::Direction::Out {
                continue;
            }
            let Some(out) = sender.kernel.outbound_sa(policy) else {
                return Err(format!("{}: no SA for reqid {}", sender.name, policy.reqid));
            };
            match receiver.kernel.sas.get(&out.sa) {
                Some(inbound) if inbound.encr_key == out.encr_key && inbound.integ == out.integ => {
                }
                Some(_) => {
                    return Err(format!(
                        "{}: SPI {:08x} keys differ",
                        sender.name, out.sa.spi
                    ));
                }
                None => {
                    return Err(format!(
                        "{}: sends on SPI {:08x}, which {} has not installed",
                        sender.name, out.sa.spi, receiver.name
                    ));
                }
            }
        }
        Ok(())
    }

    /// Delivers `bytes` to `peer` at once as if sent from `from`, which may be an address
    /// nobody answers at (answers to it are lost).
    pub fn inject(&mut self, peer: usize, from: SocketAddr, bytes: &[u8]) {
        let local = self.peers[peer].addr;
        let outputs = self.peers[peer]
            .endpoint
            .handle_datagram(self.now, local, from, bytes);
        self.absorb(peer, outputs);
    }

    /// Sends `packets` packets of `size` bytes from `from` to the other peer on each of its
    /// outbound policies' SAs, counting them in both kernels and reporting the expiries that
    /// crosses, as XFRM does. Returns the packets that found no SA at the receiver (lost).
    pub fn carry(&mut self, from: usize, packets: u64, size: u64) -> u64 {
        let to = 1 - from;
        let mut sas: Vec<SaRef> = self.peers[from]
            .kernel
            .policies
            .iter()
            .filter(|p| p.dir == crate::kernel::Direction::Out)
            .filter_map(|p| self.peers[from].kernel.outbound_sa(p).map(|sa| sa.sa))
            .collect();
        sas.sort_by_key(|sa| sa.spi);
        sas.dedup();
        let mut lost = 0;
        for sa in sas {
            if !self.peers[to].kernel.sas.contains_key(&sa) {
                lost += packets;
            }
            for (peer, sa) in [(from, sa), (to, sa)] {
                if let Some(event) = self.peers[peer].kernel.count(sa, packets, size) {
                    self.kernel_event(peer, event);
                }
            }
        }
        lost
    }

    /// Injects a kernel event at `peer`, as XFRM would report it.
    pub fn kernel_event(&mut self, peer: usize, event: crate::kernel::KernelEvent) {
        let outputs = self.peers[peer]
            .endpoint
            .handle_kernel_event(self.now, event);
        self.absorb(peer, outputs);
    }
}
