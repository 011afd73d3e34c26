//! `cargo bench -p ike --bench handshake`: what one tunnel costs the protocol core.
//!
//! - CPU: moon and sun, two endpoints in one process with in-memory kernels, set up tunnels
//!   (IKE_SA_INIT and IKE_AUTH, PSK, X25519, AES-GCM-16-256 with PRF HMAC-SHA2-384, one ESP
//!   Child SA); the median time per tunnel (both sides' work) is set against the crypto
//!   floor: the same handshake's cryptographic operations, each timed alone in the same run
//!   and summed. The ratio is what the protocol machinery adds.
//! - Memory: the heap one endpoint holds per established IKE SA with its Child SA, at 10,000
//!   and 100,000 of them (sun's side, counted by a global allocator that tracks live bytes;
//!   the in-memory kernels are not counted: XFRM holds that state in a real kernel).
//! - Flood: 30 s of spoofed IKE_SA_INIT requests (1,000 a second, virtual time) at sun, which
//!   accepts initiators from any address: the heap it holds at the end, and whether moon,
//!   starting in the middle, still got its tunnel.
//!
//! `--bench` runs everything; `--quick` stops the memory figure at 10,000.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::VecDeque;
use std::hint::black_box;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ike::auth::octets::Signer;
use ike::auth::psk;
use ike::crypto::Secret;
use ike::crypto::encr::Encr;
use ike::crypto::ke::KeyExchange;
use ike::crypto::keys::{IkeSuite, child_sa_keys, ike_sa_keys, skeyseed};
use ike::crypto::prf::Prf;
use ike::crypto::sk::{SkKeys, protect, unprotect};
use ike::endpoint::{Command, Endpoint, Settings};
use ike::sa::{Event, Output};
use ike::testing::MemKernel;
use ike::wire::message::Payload;
use ike::wire::{ExchangeType, Flags, Header, IkeSpi, KeId, MessageId, PayloadType, id, vendor};

#[path = "../tests/sim_common/mod.rs"]
#[allow(dead_code)]
mod sim_common;
mod timing;
use timing::{Counter, bench};

/// Counts the bytes allocated and not yet freed.
struct Live;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call goes to the system allocator unchanged; the counter only observes sizes.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Live {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract for `realloc` is passed on as is.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Live = Live;

const PSK: &[u8] = b"a pre-shared key of some length";

/// One side: its endpoint and kernel.
struct Side {
    addr: SocketAddr,
    endpoint: Endpoint,
    kernel: MemKernel,
}

/// Moon and sun, delivering datagrams at once and answering kernel operations in order.
struct Link {
    now: Instant,
    sides: [Side; 2],
    queue: VecDeque<(usize, Output)>,
    tunnels: usize,
}

impl Link {
    fn new(seed: u64, settings: Settings, sun_conn: ike::config::Connection) -> Link {
        let side = |ip: [u8; 4], seed: u64, conn, first_spi| {
            let mut endpoint = Endpoint::new(settings.clone(), Box::new(Counter(seed)));
            endpoint.add_connection(conn);
            Side {
                addr: SocketAddr::new(IpAddr::from(ip), 500),
                endpoint,
                kernel: MemKernel::new(first_spi),
            }
        };
        Link {
            now: Instant::now(),
            sides: [
                side([192, 0, 2, 1], seed, sim_common::moon(PSK), 0x1000_0000),
                side([192, 0, 2, 2], seed ^ 0x5eed, sun_conn, 0x2000_0000),
            ],
            queue: VecDeque::new(),
            tunnels: 0,
        }
    }

    fn initiate(&mut self) {
        let command = Command::Initiate {
            connection: "moon-sun".into(),
        };
        let outputs = self.sides[0].endpoint.handle_command(self.now, command);
        self.queue.extend(outputs.into_iter().map(|o| (0, o)));
    }

    /// Carries out every output until nothing is left.
    fn settle(&mut self) {
        while let Some((at, output)) = self.queue.pop_front() {
            let outputs = match output {
                Output::Transmit { remote, bytes, .. } => {
                    let Some(to) = self.sides.iter().position(|s| s.addr == remote) else {
                        continue;
                    };
                    let from = self.sides[at].addr;
                    let side = &mut self.sides[to];
                    let out = side
                        .endpoint
                        .handle_datagram(self.now, side.addr, from, &bytes);
                    self.queue.extend(out.into_iter().map(|o| (to, o)));
                    continue;
                }
                Output::Kernel { id, op } => {
                    let side = &mut self.sides[at];
                    let reply = side.kernel.apply(&op);
                    side.endpoint.handle_kernel(self.now, id, reply)
                }
                Output::Event(Event::ChildUp { .. }) if at == 1 => {
                    self.tunnels += 1;
                    continue;
                }
                Output::Event(_) => continue,
            };
            self.queue.extend(outputs.into_iter().map(|o| (at, o)));
        }
    }
}

/// Median CPU time per tunnel, both sides' work.
fn handshake() -> f64 {
    let mut seed = 0;
    bench("tunnel: IKE_SA_INIT + IKE_AUTH, both sides", || {
        seed += 1;
        let mut link = Link::new(seed, Settings::default(), sim_common::sun(PSK));
        link.initiate();
        link.settle();
        assert_eq!(link.tunnels, 1);
        black_box(&link);
    })
}

/// The cryptographic operations of one such handshake, each timed alone; returns their sum.
fn crypto_floor() -> f64 {
    let mut rng = Counter(9);
    let group = KeId::CURVE25519;
    let peer = KeyExchange::generate(group, &mut rng)
        .unwrap()
        .public_value();
    let generate = bench("  X25519 key pair (x2)", || {
        black_box(
            KeyExchange::generate(group, &mut rng)
                .unwrap()
                .public_value(),
        );
    });
    let ke = KeyExchange::generate(group, &mut rng).unwrap();
    let shared = bench("  X25519 shared secret (x2)", || {
        black_box(ke.shared_secret(black_box(&peer)).unwrap());
    });
    let suite = IkeSuite {
        encr: Encr::AesGcm16 { key_len: 32 },
        integ: None,
        prf: Prf::HmacSha384,
    };
    let g = Secret::new(vec![3; 32]);
    let keys = ike_sa_keys(
        &suite,
        &skeyseed(suite.prf, &[1; 32], &[2; 32], &g),
        &[1; 32],
        &[2; 32],
        IkeSpi([1; 8]),
        IkeSpi([2; 8]),
    )
    .unwrap();
    let schedule = bench("  SKEYSEED + 7 IKE SA keys (x2)", || {
        let seed = skeyseed(suite.prf, &[1; 32], &[2; 32], &g);
        black_box(
            ike_sa_keys(
                &suite,
                &seed,
                &[1; 32],
                &[2; 32],
                IkeSpi([1; 8]),
                IkeSpi([2; 8]),
            )
            .unwrap(),
        );
    });
    // AUTH: each side makes its own and checks the other's, over an IKE_SA_INIT message of
    // the size ours are (about 250 bytes).
    let init_message = vec![7u8; 250];
    let who = id::Repr::fqdn("moon.example");
    let secret = Secret::from_slice(PSK);
    let auth = bench("  PSK AUTH payload (x4)", || {
        let signer = Signer {
            prf: suite.prf,
            sk_p: &keys.sk_pi,
            init_message: &init_message,
            peer_nonce: &[2; 32],
            id: &who,
            int_auth: &[],
        };
        black_box(psk::auth_payload(
            suite.prf,
            &secret,
            &signer.signed_octets(),
        ));
    });
    // IKE_AUTH request and response: protected by one side, opened by the other. The inner
    // payloads are sized as ours are (about 250 bytes).
    let sk_keys = SkKeys {
        encr: suite.encr,
        encr_key: keys.sk_ei.clone(),
        integ: None,
    };
    let header = Header {
        spi_i: IkeSpi([1; 8]),
        spi_r: IkeSpi([2; 8]),
        next_payload: PayloadType::NONE,
        major_version: Header::MAJOR_VERSION,
        minor_version: 0,
        exchange: ExchangeType::IKE_AUTH,
        flags: Flags::INITIATOR,
        message_id: MessageId(1),
        length: 0,
    };
    let inner = [Payload::VendorId(vendor::Repr {
        id: vec![0x5a; 246],
    })];
    let message = protect(&sk_keys, &header, &[], &inner, &mut rng).unwrap();
    let sk = bench("  SK protect + open, IKE_AUTH (x2)", || {
        let bytes = protect(&sk_keys, &header, &[], &inner, &mut rng).unwrap();
        black_box(unprotect(&sk_keys, black_box(&bytes)).unwrap());
    });
    black_box(message);
    let child = bench("  Child SA KEYMAT (x2)", || {
        black_box(child_sa_keys(suite.prf, &keys.sk_d, None, &[1; 32], &[2; 32], 16, 32).unwrap());
    });
    2.0 * (generate + shared + schedule + sk + child) + 4.0 * auth
}

fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// Heap bytes sun's endpoint holds per established IKE SA with one Child SA, at `n` tunnels.
fn memory(n: usize) {
    let before = live();
    let mut link = Link::new(n as u64, Settings::default(), sim_common::sun(PSK));
    for i in 0..n {
        link.initiate();
        link.settle();
        assert_eq!(link.tunnels, i + 1);
    }
    assert_eq!(link.sides[1].endpoint.ike_sas().count(), n);
    // Keep only sun's endpoint: moon's side and both kernels go.
    let [moon, sun] = link.sides;
    drop(moon);
    drop(sun.kernel);
    drop(link.queue);
    let held = live().saturating_sub(before);
    println!(
        "memory: {n:>7} tunnels, sun's endpoint holds {:>7.1} MiB: {:>5} bytes per IKE SA + Child SA",
        held as f64 / (1 << 20) as f64,
        held / n
    );
    black_box(sun.endpoint);
}

/// 30 s of 1,000 spoofed IKE_SA_INIT requests a second; moon starts after 15 s.
fn flood() {
    let before = live();
    let mut sun_conn = sim_common::sun(PSK);
    sun_conn.remote_addr = IpAddr::from([0, 0, 0, 0]);
    let mut link = Link::new(77, Settings::default(), sun_conn);
    let mut spoof = Counter(0x5b00f);
    let template = {
        // A real request, captured from moon, re-sent from random addresses with random SPIs.
        let outputs = link.sides[0].endpoint.handle_command(
            link.now,
            Command::Initiate {
                connection: "moon-sun".into(),
            },
        );
        let Some(Output::Transmit { bytes, .. }) = outputs.into_iter().next() else {
            panic!("moon sent no IKE_SA_INIT");
        };
        bytes
    };
    let moon_endpoint = std::mem::replace(
        &mut link.sides[0].endpoint,
        Endpoint::new(Settings::default(), Box::new(Counter(1))),
    );
    drop(moon_endpoint);
    link.sides[0].endpoint.add_connection(sim_common::moon(PSK));
    let start = Instant::now();
    let mut most = 0;
    for ms in 0..30_000u64 {
        link.now += Duration::from_millis(1);
        let mut bytes = template.clone();
        let mut spi = [0u8; 8];
        ike::crypto::Random::fill(&mut spoof, &mut spi);
        bytes[..8].copy_from_slice(&spi);
        let from = SocketAddr::new(IpAddr::from([198, 18, spi[0], spi[1]]), 500);
        let sun = &mut link.sides[1];
        let out = sun
            .endpoint
            .handle_datagram(link.now, sun.addr, from, &bytes);
        link.queue.extend(out.into_iter().map(|o| (1, o)));
        if ms == 15_000 {
            link.initiate();
        }
        link.settle();
        let timers = link.sides[1].endpoint.handle_timeout(link.now);
        link.queue.extend(timers.into_iter().map(|o| (1, o)));
        let timers = link.sides[0].endpoint.handle_timeout(link.now);
        link.queue.extend(timers.into_iter().map(|o| (0, o)));
        link.settle();
        most = most.max(live().saturating_sub(before));
    }
    println!(
        "flood: 30,000 spoofed IKE_SA_INIT in {:.2} s of CPU; sun's half-open SAs {}, heap at most {} KiB; moon's tunnel {}",
        start.elapsed().as_secs_f64(),
        link.sides[1].endpoint.half_open(),
        most / 1024,
        if link.tunnels == 1 { "up" } else { "NOT up" }
    );
}

fn main() {
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let quick = std::env::args().any(|arg| arg == "--quick");
    let tunnel = handshake();
    println!("crypto floor of that handshake:");
    let floor = crypto_floor();
    println!(
        "tunnel {:.1} µs, crypto floor {:.1} µs: {:.2}x",
        tunnel * 1e6,
        floor * 1e6,
        tunnel / floor
    );
    memory(10_000);
    if !quick {
        memory(100_000);
    }
    flood();
}
