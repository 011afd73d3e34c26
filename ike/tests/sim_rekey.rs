//! CREATE_CHILD_SA over the simulated network: more Child SAs, Child SA and IKE SA rekeys
//! (with and without a key exchange), colliding rekeys, lifetimes and kernel expiries.
//!
//! Every rekey test checks make before break after each step: from the moment the tunnel is
//! up, each side's outbound policies leave on an SA the other side has installed inbound
//! with the same keys (`Pair::traffic_flows`), so no packet would be lost.

mod sim_common;

use std::time::Duration;

use ike::endpoint::Command;
use ike::kernel::{KernelEvent, Lifetime};
use ike::sa::{Event, State};
use ike::testing::{MOON, Pair, SUN, Weather};
use ike::wire::KeId;
use ike::wire::sa::Transform;
use sim_common::*;

const PSK: &[u8] = b"a pre-shared key of some length";

/// Establishes moon-sun and returns the pair.
fn established(
    seed: u64,
    moon_conn: ike::config::Connection,
    sun_conn: ike::config::Connection,
) -> Pair {
    let mut pair = pair(seed, moon_conn, sun_conn);
    initiate(&mut pair);
    pair.run_for(Duration::from_secs(1));
    assert!(child_up(&pair.peers[MOON].events).is_some(), "tunnel up");
    pair
}

/// Runs `limit`, failing at the first step where traffic in either direction would be lost.
fn run_flowing(pair: &mut Pair, limit: Duration) {
    pair.run_checked(limit, |p| {
        for from in [MOON, SUN] {
            if let Err(e) = p.traffic_flows(from) {
                panic!("at {:?}: {e}", p.now);
            }
        }
    });
}

/// Both sides have one established IKE SA with the same SPIs and `children` mirrored Child
/// SAs, and their kernels hold exactly those SAs, no reserved SPI, and `policies` policies.
fn assert_mirrored(pair: &Pair, children: usize, policies: usize) {
    let ike: Vec<_> = pair
        .peers
        .iter()
        .map(|p| {
            let sas: Vec<_> = p.endpoint.ike_sas().collect();
            assert_eq!(sas.len(), 1, "{}: IKE SAs {sas:?}", p.name);
            assert_eq!(sas[0].state, State::Established, "{}", p.name);
            sas[0]
        })
        .collect();
    assert_eq!((ike[0].spi_i, ike[0].spi_r), (ike[1].spi_i, ike[1].spi_r));
    let pairs = |sa: &ike::sa::IkeSa, flip: bool| {
        let mut v: Vec<(u32, u32)> = sa
            .children
            .iter()
            .map(|c| {
                if flip {
                    (c.spi_out, c.spi_in)
                } else {
                    (c.spi_in, c.spi_out)
                }
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        pairs(ike[0], false),
        pairs(ike[1], true),
        "Child SAs mirrored"
    );
    assert_eq!(ike[0].children.len(), children);
    for (peer, sa) in pair.peers.iter().zip(&ike) {
        let mut want: Vec<_> = sa
            .children
            .iter()
            .flat_map(|c| [c.sa_in(), c.sa_out()])
            .collect();
        let mut have: Vec<_> = peer.kernel.sas.keys().copied().collect();
        want.sort_by_key(|s| s.spi);
        have.sort_by_key(|s| s.spi);
        assert_eq!(have, want, "{}: kernel SAs", peer.name);
        assert!(
            peer.kernel.reserved.is_empty(),
            "{}: reserved SPIs",
            peer.name
        );
        assert_eq!(
            peer.kernel.policies.len(),
            policies,
            "{}: policies",
            peer.name
        );
    }
}

fn count(events: &[Event], f: impl Fn(&Event) -> bool) -> usize {
    events.iter().filter(|e| f(e)).count()
}

fn rekey_child(pair: &mut Pair, peer: usize) {
    pair.command(
        peer,
        Command::RekeyChild {
            connection: "moon-sun".into(),
            child: None,
        },
    );
}

fn rekey_ike(pair: &mut Pair, peer: usize) {
    pair.command(
        peer,
        Command::RekeyIke {
            connection: "moon-sun".into(),
        },
    );
}

/// Child SA proposals with a key exchange: PFS on rekeys.
fn with_pfs(mut conn: ike::config::Connection, groups: &[KeId]) -> ike::config::Connection {
    let base = conn.children[0].proposals[0].clone();
    conn.children[0].proposals = groups
        .iter()
        .map(|g| {
            let mut p = base.clone();
            p.transforms.push(Transform::ke(*g));
            p
        })
        .collect();
    conn
}

#[test]
fn child_rekey_by_either_side_replaces_the_pair_without_a_gap() {
    for initiator in [MOON, SUN] {
        let mut pair = established(11, moon(PSK), sun(PSK));
        let before = child_up(&pair.peers[MOON].events).unwrap();
        // moon -> sun  CREATE_CHILD_SA { N(REKEY_SA), SA, Ni, TSi, TSr }
        // sun: ALLOCSPI, install the new inbound SA; sun -> moon  { SA, Nr, TSi, TSr }
        // moon: install new in and out, remove the old out; moon -> sun  INFORMATIONAL { D }
        // sun: install the new out, remove the old pair; sun -> moon  { D }
        // moon: remove the old in
        rekey_child(&mut pair, initiator);
        run_flowing(&mut pair, Duration::from_secs(2));
        assert_mirrored(&pair, 1, 3);
        let after = pair.peers[MOON].endpoint.ike_sas().next().unwrap().children[0].spi_in;
        assert_ne!(after, before.0, "new SPIs");
        for peer in &pair.peers {
            let rekeyed = count(&peer.events, |e| matches!(e, Event::ChildRekeyed { .. }));
            assert_eq!(rekeyed, 1, "{}: {:?}", peer.name, peer.events);
            let down = count(&peer.events, |e| matches!(e, Event::ChildDown { .. }));
            assert_eq!(down, 1, "{}: the old pair is reported down", peer.name);
        }
    }
}

#[test]
fn child_rekey_with_pfs_follows_the_peers_key_exchange_method() {
    // moon offers ECP-256 first and X25519 second; sun only X25519: INVALID_KE_PAYLOAD, then
    // moon sends the request again with an X25519 key exchange.
    let moon_conn = with_pfs(moon(PSK), &[KeId::ECP_256, KeId::CURVE25519]);
    let sun_conn = with_pfs(sun(PSK), &[KeId::CURVE25519]);
    let mut pair = established(12, moon_conn, sun_conn);
    let sent_before = pair.peers[MOON].sent.len();
    rekey_child(&mut pair, MOON);
    run_flowing(&mut pair, Duration::from_secs(2));
    assert_mirrored(&pair, 1, 3);
    // Two CREATE_CHILD_SA requests and the Delete.
    assert_eq!(pair.peers[MOON].sent.len() - sent_before, 3);
    let child = &pair.peers[SUN].endpoint.ike_sas().next().unwrap().children[0];
    let ke = child
        .proposal
        .transforms
        .iter()
        .find(|t| t.ty == ike::wire::TransformType::KE);
    assert_eq!(ke.map(|t| t.id), Some(KeId::CURVE25519.0));
}

#[test]
fn ike_rekey_moves_the_child_sas_and_restarts_message_ids() {
    for initiator in [MOON, SUN] {
        let mut pair = established(13, moon(PSK), sun(PSK));
        let old = pair.peers[MOON].endpoint.ike_sas().next().unwrap().spi_i;
        let kernel_before: Vec<_> = pair.peers[MOON].kernel.sas.keys().copied().collect();
        rekey_ike(&mut pair, initiator);
        run_flowing(&mut pair, Duration::from_secs(2));
        assert_mirrored(&pair, 1, 3);
        let sa = pair.peers[MOON].endpoint.ike_sas().next().unwrap();
        assert_ne!(sa.spi_i, old);
        let new_initiator = pair.peers[initiator].endpoint.ike_sas().next().unwrap();
        assert_eq!(
            new_initiator.role,
            ike::sa::Role::Initiator,
            "RFC 7296 2.18"
        );
        // The Child SAs did not change.
        let kernel_after: Vec<_> = pair.peers[MOON].kernel.sas.keys().copied().collect();
        assert_eq!(kernel_before.len(), kernel_after.len());
        assert!(kernel_before.iter().all(|k| kernel_after.contains(k)));
        for peer in &pair.peers {
            assert_eq!(
                count(&peer.events, |e| matches!(e, Event::IkeRekeyed { .. })),
                1,
                "{}",
                peer.name
            );
            assert_eq!(
                count(&peer.events, |e| matches!(e, Event::IkeDown { .. })),
                0
            );
        }
        // The new IKE SA works: a Child SA rekey on it, then a delete clears everything.
        rekey_child(&mut pair, 1 - initiator);
        run_flowing(&mut pair, Duration::from_secs(2));
        assert_mirrored(&pair, 1, 3);
        pair.command(
            MOON,
            Command::Terminate {
                connection: "moon-sun".into(),
            },
        );
        pair.run_for(Duration::from_secs(2));
        for peer in &pair.peers {
            assert_eq!(peer.endpoint.ike_sas().count(), 0, "{}", peer.name);
            assert!(peer.kernel.sas.is_empty() && peer.kernel.policies.is_empty());
        }
    }
}

#[test]
fn simultaneous_child_rekeys_leave_one_pair_and_lose_nothing() {
    // Both sides start rekeying the same Child SA at the same instant (RFC 7296 2.8.1): each
    // answers the other's request, the exchange with the lowest nonce made the redundant pair,
    // and its initiator deletes it; the other initiator deletes the old pair.
    for seed in 0..20 {
        let mut pair = established(100 + seed, moon(PSK), sun(PSK));
        pair.weather.jitter = Duration::from_millis(5);
        rekey_child(&mut pair, MOON);
        rekey_child(&mut pair, SUN);
        run_flowing(&mut pair, Duration::from_secs(5));
        assert_mirrored(&pair, 1, 3);
    }
}

#[test]
fn simultaneous_ike_rekeys_settle_on_one_ike_sa() {
    for seed in 0..10 {
        let mut pair = established(200 + seed, moon(PSK), sun(PSK));
        rekey_ike(&mut pair, MOON);
        rekey_ike(&mut pair, SUN);
        run_flowing(&mut pair, Duration::from_secs(60));
        assert_mirrored(&pair, 1, 3);
    }
}

#[test]
fn lifetimes_rekey_both_sas_over_and_over_without_a_gap() {
    let lifetime = Lifetime {
        soft_seconds: 60,
        hard_seconds: 66,
        ..Lifetime::default()
    };
    let mut moon_conn = moon(PSK);
    let mut sun_conn = sun(PSK);
    for conn in [&mut moon_conn, &mut sun_conn] {
        conn.children[0].lifetime = lifetime;
        conn.children[0].jitter.seconds = 6;
        conn.rekey_time = Duration::from_secs(150);
    }
    let mut pair = established(14, moon_conn, sun_conn);
    run_flowing(&mut pair, Duration::from_secs(30 * 60));
    assert_mirrored(&pair, 1, 3);
    let rekeys: usize = pair
        .peers
        .iter()
        .map(|p| count(&p.events, |e| matches!(e, Event::ChildRekeyed { .. })))
        .sum();
    let ike_rekeys = count(&pair.peers[MOON].events, |e| {
        matches!(e, Event::IkeRekeyed { .. })
    });
    // Each side counts every rekey once; one every 54 to 60 s.
    assert!(rekeys / 2 >= 29, "{rekeys} Child SA rekey events");
    assert!(ike_rekeys >= 12, "{ike_rekeys} IKE SA rekeys");
    // Every SA installed carries the randomised soft limit before the hard one.
    for peer in &pair.peers {
        for sa in peer.kernel.sas.values() {
            let l = sa.lifetime;
            assert!(
                (54..=60).contains(&l.soft_seconds) && l.hard_seconds == 66,
                "{l:?}"
            );
        }
    }
}

/// 20 minutes of rekeys every few minutes with 10 % loss, 10 % duplicates and 300 ms of
/// jitter, over 16 seeds; `SIM_SEEDS=1000 SIM_DROP=0.3` widens the search.
#[test]
fn rekeys_on_a_bad_network_end_mirrored_or_cleanly_gone() {
    let lifetime = Lifetime {
        soft_seconds: 120,
        hard_seconds: 200,
        ..Lifetime::default()
    };
    let seeds: u64 = std::env::var("SIM_SEEDS").map_or(16, |s| s.parse().unwrap_or(16));
    for seed in 0..seeds {
        let mut moon_conn = moon(PSK);
        let mut sun_conn = sun(PSK);
        for conn in [&mut moon_conn, &mut sun_conn] {
            conn.children[0].lifetime = lifetime;
            conn.children[0].jitter.seconds = 12;
            conn.rekey_time = Duration::from_secs(300);
        }
        let mut pair = established(300 + seed, moon_conn, sun_conn);
        pair.weather = Weather {
            drop: std::env::var("SIM_DROP").map_or(0.1, |s| s.parse().unwrap_or(0.1)),
            duplicate: 0.1,
            jitter: Duration::from_millis(300),
        };
        pair.run_for(Duration::from_secs(20 * 60));
        pair.weather = Weather::default();
        // Let the last retransmissions and deletes finish.
        pair.run_for(Duration::from_secs(300));
        let alive: Vec<usize> = pair
            .peers
            .iter()
            .map(|p| p.endpoint.ike_sas().count())
            .collect();
        if alive == [1, 1] {
            assert_mirrored(&pair, 1, 3);
        } else {
            for peer in &pair.peers {
                let children: usize = peer
                    .endpoint
                    .ike_sas()
                    .map(|sa| sa.children.len() * 2)
                    .sum();
                assert_eq!(peer.kernel.sas.len(), children, "seed {seed}: SAs");
                assert_eq!(peer.kernel.policies.len(), children / 2 * 3, "seed {seed}");
                assert!(
                    peer.kernel.reserved.is_empty(),
                    "seed {seed}: reserved SPIs"
                );
            }
        }
        assert_message_ids_never_go_back(&pair, seed);
        // Closing leaves nothing: no IKE SA, no timer, no kernel state, no awaited reply.
        for peer in [MOON, SUN] {
            pair.command(
                peer,
                Command::Terminate {
                    connection: "moon-sun".into(),
                },
            );
        }
        pair.run_for(Duration::from_secs(300));
        for peer in &pair.peers {
            let e = &peer.endpoint;
            assert_eq!(e.ike_sas().count(), 0, "seed {seed}: {}", peer.name);
            assert_eq!((e.half_open(), e.awaited_kernel_replies()), (0, 0));
            assert_eq!(e.poll_timeout(), None, "seed {seed}: timers left");
            assert!(peer.kernel.sas.is_empty() && peer.kernel.policies.is_empty());
            assert!(peer.kernel.reserved.is_empty());
        }
    }
}

/// RFC 7296 2.2: on every IKE SA, the Message IDs of the requests each side sends go up by
/// one per new request and never back (a retransmission repeats the last).
fn assert_message_ids_never_go_back(pair: &Pair, seed: u64) {
    use std::collections::HashMap;
    for peer in &pair.peers {
        let mut last: HashMap<(ike::wire::IkeSpi, bool), u32> = HashMap::new();
        for bytes in &peer.sent {
            let h = ike::wire::Header::parse(bytes).expect("we send what we can parse");
            if h.flags.is_response() || h.exchange == ike::wire::ExchangeType::IKE_SA_INIT {
                continue;
            }
            // Our SPI names the IKE SA on our side.
            let ours = if h.flags.is_initiator() {
                h.spi_i
            } else {
                h.spi_r
            };
            let id = h.message_id.0;
            if let Some(prev) = last.insert((ours, h.flags.is_initiator()), id) {
                assert!(
                    id == prev || id == prev + 1,
                    "seed {seed}: {} sent request {id} after {prev}",
                    peer.name
                );
            }
        }
    }
}

#[test]
fn a_second_child_sa_comes_with_create_child_sa() {
    let mut moon_conn = moon(PSK);
    let mut sun_conn = sun(PSK);
    for conn in [&mut moon_conn, &mut sun_conn] {
        let mut second = conn.children[0].clone();
        second.name = "host-host".into();
        second.local_ts = Vec::new();
        second.remote_ts = Vec::new();
        conn.children.push(second);
    }
    let mut pair = established(15, moon_conn, sun_conn);
    pair.run_for(Duration::from_secs(1));
    // net-net: out, in, fwd; host-host: the same between the gateways.
    assert_mirrored(&pair, 2, 6);
    let names: Vec<String> = pair.peers[SUN]
        .events
        .iter()
        .filter_map(|e| match e {
            Event::ChildUp { child, .. } => Some(child.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(names, ["net-net", "host-host"]);
    rekey_child(&mut pair, SUN);
    run_flowing(&mut pair, Duration::from_secs(2));
    assert_mirrored(&pair, 2, 6);
}

#[test]
fn kernel_expiries_rekey_on_soft_and_delete_on_hard() {
    let mut pair = established(16, moon(PSK), sun(PSK));
    let child = pair.peers[SUN].endpoint.ike_sas().next().unwrap().children[0].clone();
    pair.kernel_event(
        SUN,
        KernelEvent::Expire {
            sa: child.sa_out(),
            hard: false,
        },
    );
    run_flowing(&mut pair, Duration::from_secs(2));
    assert_mirrored(&pair, 1, 3);
    assert!(
        pair.peers[SUN]
            .events
            .iter()
            .any(|e| matches!(e, Event::ChildRekeyed { .. }))
    );

    let child = pair.peers[MOON].endpoint.ike_sas().next().unwrap().children[0].clone();
    pair.peers[MOON].kernel.sas.remove(&child.sa_in());
    pair.kernel_event(
        MOON,
        KernelEvent::Expire {
            sa: child.sa_in(),
            hard: true,
        },
    );
    pair.run_for(Duration::from_secs(2));
    assert_mirrored(&pair, 0, 0);
    assert!(
        pair.peers[SUN]
            .events
            .iter()
            .any(|e| matches!(e, Event::ChildDown { .. }))
    );
}

#[test]
fn an_ah_child_sa_authenticates_only_and_rekeys_like_esp() {
    let ah = |mut conn: ike::config::Connection| {
        let child = &mut conn.children[0];
        child.protocol = ike::kernel::IpsecProtocol::Ah;
        child.proposals = vec![ike::wire::sa::Proposal {
            number: 1,
            protocol: ike::wire::ProtocolId::AH,
            spi: vec![],
            transforms: vec![
                Transform::integ(ike::wire::IntegId::AUTH_HMAC_SHA2_256_128),
                Transform::esn(ike::wire::EsnId::NO_ESN),
            ],
        }];
        conn
    };
    let mut pair = established(18, ah(moon(PSK)), ah(sun(PSK)));
    rekey_child(&mut pair, SUN);
    run_flowing(&mut pair, Duration::from_secs(2));
    assert_mirrored(&pair, 1, 3);
    for peer in &pair.peers {
        for sa in peer.kernel.sas.values() {
            assert_eq!(sa.sa.protocol, ike::kernel::IpsecProtocol::Ah);
            assert!(
                sa.encr.is_none() && sa.encr_key.as_bytes().is_empty(),
                "{sa:?}"
            );
            assert_eq!(sa.integ.as_ref().map(|(_, k)| k.as_bytes().len()), Some(32));
        }
        assert!(
            peer.kernel
                .policies
                .iter()
                .all(|p| p.protocol == ike::kernel::IpsecProtocol::Ah)
        );
    }
}

/// Moon and sun whose Child SAs have these byte and packet limits and no time limit.
fn volume_limited(seed: u64, lifetime: Lifetime, jitter: ike::config::Jitter) -> Pair {
    let mut moon_conn = moon(PSK);
    let mut sun_conn = sun(PSK);
    for conn in [&mut moon_conn, &mut sun_conn] {
        conn.children[0].lifetime = lifetime;
        conn.children[0].jitter = jitter;
    }
    established(seed, moon_conn, sun_conn)
}

/// rekey_bytes = 100000 (life_bytes and rand_bytes as strongSwan derives them): 10 packets of
/// 1,000 bytes a second each way for 10 minutes make the kernels report soft expiries, each of
/// which rekeys the Child SA before its hard limit, and not one packet is lost.
#[test]
fn byte_limits_rekey_under_traffic_without_a_loss() {
    let lifetime = Lifetime {
        soft_bytes: 100_000,
        hard_bytes: 110_000,
        ..Lifetime::default()
    };
    let jitter = ike::config::Jitter {
        bytes: 10_000,
        ..Default::default()
    };
    let mut soft_limits = std::collections::BTreeSet::new();
    for seed in 0..4 {
        let mut pair = volume_limited(400 + seed, lifetime, jitter);
        let mut lost = 0;
        for _ in 0..600 {
            run_flowing(&mut pair, Duration::from_secs(1));
            lost += pair.carry(MOON, 10, 1000) + pair.carry(SUN, 10, 1000);
        }
        run_flowing(&mut pair, Duration::from_secs(10));
        assert_eq!(
            lost, 0,
            "seed {seed}: packets without an SA at the receiver"
        );
        assert_mirrored(&pair, 1, 3);
        let rekeys = count(&pair.peers[MOON].events, |e| {
            matches!(e, Event::ChildRekeyed { .. })
        });
        // 6 MB each way, a rekey every 90-100 kB of either direction: about 120.
        assert!(rekeys >= 100, "seed {seed}: {rekeys} rekeys");
        for peer in &pair.peers {
            let hard = peer.kernel.carried.values().filter(|c| c.hard_reported);
            assert_eq!(
                hard.count(),
                0,
                "{}: an SA reached its hard limit",
                peer.name
            );
            for sa in peer.kernel.sas.values() {
                let l = sa.lifetime;
                assert!(
                    (90_000..=100_000).contains(&l.soft_bytes) && l.hard_bytes == 110_000,
                    "{l:?}"
                );
                assert_eq!((l.soft_packets, l.hard_packets, l.soft_seconds), (0, 0, 0));
                soft_limits.insert(l.soft_bytes);
            }
        }
    }
    assert!(
        soft_limits.len() > 2,
        "each SA pair has its own random soft limit: {soft_limits:?}"
    );
}

/// A packet limit's soft expiry rekeys like a byte limit's; with `rand_packets = 0` the soft
/// limit is exact.
#[test]
fn packet_limits_rekey_at_the_exact_count_without_jitter() {
    let lifetime = Lifetime {
        soft_packets: 200,
        hard_packets: 220,
        ..Lifetime::default()
    };
    let mut pair = volume_limited(7, lifetime, ike::config::Jitter::default());
    let (old_in, _) = child_up(&pair.peers[MOON].events).unwrap();
    assert_eq!(pair.carry(MOON, 199, 100), 0);
    run_flowing(&mut pair, Duration::from_secs(5));
    assert_eq!(
        count(&pair.peers[MOON].events, |e| matches!(
            e,
            Event::ChildRekeyed { .. }
        )),
        0
    );
    assert_eq!(pair.carry(MOON, 1, 100), 0);
    run_flowing(&mut pair, Duration::from_secs(5));
    let rekeyed = pair.peers[MOON]
        .events
        .iter()
        .any(|e| matches!(e, Event::ChildRekeyed { old_spi_in, .. } if *old_spi_in == old_in));
    assert!(rekeyed, "the 200th packet rekeys");
    assert_mirrored(&pair, 1, 3);
    for peer in &pair.peers {
        for sa in peer.kernel.sas.values() {
            assert_eq!(
                (sa.lifetime.soft_packets, sa.lifetime.hard_packets),
                (200, 220)
            );
        }
    }
}

/// A hard limit with no soft one (rekey_bytes = 0, life_bytes set): the kernel drops the SA
/// and reports it, and both sides delete the Child SA; the IKE SA stays.
#[test]
fn a_hard_byte_limit_deletes_the_child_sa() {
    let lifetime = Lifetime {
        hard_bytes: 50_000,
        ..Lifetime::default()
    };
    let mut pair = volume_limited(8, lifetime, ike::config::Jitter::default());
    assert_eq!(pair.carry(SUN, 49, 1000), 0);
    pair.run_for(Duration::from_secs(5));
    assert!(pair.peers.iter().all(|p| p.kernel.sas.len() == 2));
    pair.carry(SUN, 1, 1000);
    pair.run_for(Duration::from_secs(5));
    for peer in &pair.peers {
        assert_eq!(peer.endpoint.ike_sas().count(), 1, "{}", peer.name);
        assert!(
            peer.kernel.sas.is_empty(),
            "{}: {:?}",
            peer.name,
            peer.kernel.sas.keys()
        );
        assert!(
            peer.events
                .iter()
                .any(|e| matches!(e, Event::ChildDown { .. })),
            "{}",
            peer.name
        );
        let children: usize = peer.endpoint.ike_sas().map(|sa| sa.children.len()).sum();
        assert_eq!(children, 0, "{}", peer.name);
    }
}
