//! Scenario tests over the simulated network: two endpoints, two in-memory kernels.

mod sim_common;

use std::time::Duration;

use ike::endpoint::Command;
use ike::kernel::Direction;
use ike::sa::{DownReason, Event, State};
use ike::testing::{MOON, SUN, Weather};
use ike::wire::NotifyType;
use sim_common::*;

const PSK: &[u8] = b"a pre-shared key of some length";

#[test]
fn psk_tunnel_comes_up_with_matching_sas_and_policies() {
    let mut pair = pair(1, moon(PSK), sun(PSK));
    initiate(&mut pair);
    // moon -> sun  IKE_SA_INIT request;  sun -> moon  response
    // moon: ALLOCSPI; moon -> sun  IKE_AUTH request
    // sun: ALLOCSPI, install in/out SAs and policies; sun -> moon  IKE_AUTH response
    // moon: install in/out SAs and policies
    pair.run_for(Duration::from_secs(1));

    let (moon_in, moon_out) = child_up(&pair.peers[MOON].events).expect("moon's child up");
    let (sun_in, sun_out) = child_up(&pair.peers[SUN].events).expect("sun's child up");
    assert_eq!((moon_in, moon_out), (sun_out, sun_in));
    for peer in &pair.peers {
        let sa = peer.endpoint.ike_sas().next().expect("an IKE SA");
        assert_eq!(sa.state, State::Established, "{}", peer.name);
        assert_eq!(peer.kernel.sas.len(), 2, "{}: SAs", peer.name);
        assert!(
            peer.kernel.reserved.is_empty(),
            "{}: larval SAs left",
            peer.name
        );
        let dirs: Vec<Direction> = peer.kernel.policies.iter().map(|p| p.dir).collect();
        assert_eq!(
            dirs,
            [Direction::Out, Direction::In, Direction::Fwd],
            "{}",
            peer.name
        );
    }
    // The keys agree: moon's outbound SA is sun's inbound one, byte for byte.
    let moon_out_sa = pair.peers[MOON]
        .kernel
        .sas
        .values()
        .find(|s| s.sa.spi == moon_out)
        .unwrap();
    let sun_in_sa = pair.peers[SUN]
        .kernel
        .sas
        .values()
        .find(|s| s.sa.spi == sun_in)
        .unwrap();
    assert_eq!(moon_out_sa.encr_key, sun_in_sa.encr_key);
    assert_eq!(moon_out_sa.integ, sun_in_sa.integ);
    assert_eq!(moon_out_sa.src, sun_in_sa.src);
    // Moon's out policy carries alice's network to bob's.
    let out = &pair.peers[MOON].kernel.policies[0];
    assert_eq!((&out.src, &out.dst), (&subnet(ALICE_NET), &subnet(BOB_NET)));
}

#[test]
fn wrong_psk_fails_authentication_on_both_sides() {
    let mut pair = pair(2, moon(PSK), sun(b"another key entirely"));
    initiate(&mut pair);
    pair.run_for(Duration::from_secs(1));
    let down = |events: &[Event]| {
        events.iter().find_map(|e| match e {
            Event::IkeDown { reason, .. } => Some(reason.clone()),
            _ => None,
        })
    };
    assert!(matches!(
        down(&pair.peers[SUN].events),
        Some(DownReason::AuthenticationFailed(why)) if why.contains("pre-shared key")
    ));
    assert_eq!(
        down(&pair.peers[MOON].events),
        Some(DownReason::Refused(NotifyType::AUTHENTICATION_FAILED))
    );
    for peer in &pair.peers {
        assert_eq!(peer.endpoint.ike_sas().count(), 0, "{}", peer.name);
        assert!(
            peer.kernel.sas.is_empty() && peer.kernel.reserved.is_empty(),
            "{}",
            peer.name
        );
    }
}

#[test]
fn invalid_ke_payload_makes_the_initiator_retry_with_the_group_asked_for() {
    let mut moon_conn = moon(PSK);
    let mut proposal = ike_proposal(ike::wire::KeId::ECP_256);
    proposal
        .transforms
        .push(ike::wire::sa::Transform::ke(ike::wire::KeId::CURVE25519));
    moon_conn.proposals = vec![proposal];
    let mut pair = pair(3, moon_conn, sun(PSK));
    initiate(&mut pair);
    pair.run_for(Duration::from_secs(1));
    assert!(child_up(&pair.peers[MOON].events).is_some());
    // Two IKE_SA_INIT requests went out: ECP-256 first, then X25519.
    let inits = pair.peers[MOON].sent.iter().filter(|m| m[18] == 34).count();
    assert_eq!(inits, 2);
}

#[test]
fn no_common_proposal_is_refused() {
    let mut sun_conn = sun(PSK);
    sun_conn.proposals = vec![ike_proposal(ike::wire::KeId::MODP_2048)];
    sun_conn.proposals[0].transforms[1] =
        ike::wire::sa::Transform::prf(ike::wire::PrfId::PRF_HMAC_SHA2_256);
    let mut pair = pair(4, moon(PSK), sun_conn);
    initiate(&mut pair);
    pair.run_for(Duration::from_secs(1));
    assert!(pair.peers[MOON].events.iter().any(|e| matches!(
        e,
        Event::IkeDown {
            reason: DownReason::Refused(NotifyType::NO_PROPOSAL_CHOSEN),
            ..
        }
    )));
    assert_eq!(pair.peers[SUN].endpoint.ike_sas().count(), 0);
    // Sun says what moon offered and what it has itself.
    let refused = pair.peers[SUN].events.iter().find_map(|e| match e {
        Event::NoProposalChosen {
            exchange,
            theirs,
            ours,
            ..
        } => Some((*exchange, theirs.clone(), ours.clone())),
        _ => None,
    });
    let (exchange, theirs, ours) = refused.expect("sun reports the refusal");
    assert_eq!(exchange, ike::wire::ExchangeType::IKE_SA_INIT);
    assert_eq!(theirs, moon(PSK).proposals);
    assert_eq!(
        ours,
        pair.peers[SUN]
            .endpoint
            .connections()
            .next()
            .unwrap()
            .proposals
    );
}

#[test]
fn no_common_esp_proposal_is_reported_with_both_sides_offers() {
    let mut sun_conn = sun(PSK);
    sun_conn.children[0].proposals[0].transforms[0] =
        ike::wire::sa::Transform::encr(ike::wire::EncrId::ENCR_AES_CBC, Some(256));
    let sun_esp = sun_conn.children[0].proposals.clone();
    let mut pair = pair(6, moon(PSK), sun_conn);
    initiate(&mut pair);
    pair.run_for(Duration::from_secs(1));
    assert!(child_up(&pair.peers[MOON].events).is_none());
    let refused = pair.peers[SUN].events.iter().find_map(|e| match e {
        Event::NoProposalChosen {
            exchange,
            theirs,
            ours,
            ..
        } => Some((*exchange, theirs.len(), ours.clone())),
        _ => None,
    });
    assert_eq!(
        refused,
        Some((ike::wire::ExchangeType::IKE_AUTH, 1, sun_esp))
    );
}

#[test]
fn child_sa_refused_keeps_the_ike_sa() {
    let mut sun_conn = sun(PSK);
    // Sun only protects a network moon does not ask for.
    sun_conn.children[0].remote_ts = vec![subnet([192, 0, 2])];
    let mut pair = pair(5, moon(PSK), sun_conn);
    initiate(&mut pair);
    pair.run_for(Duration::from_secs(1));
    assert!(child_up(&pair.peers[MOON].events).is_none());
    assert!(pair.peers[MOON].events.iter().any(
        |e| matches!(e, Event::ChildFailed { reason, .. } if reason.contains("TS_UNACCEPTABLE"))
    ));
    // Sun says what moon asked for and what it has.
    let refused = pair.peers[SUN].events.iter().find_map(|e| match e {
        Event::TsUnacceptable {
            ts_i, ts_r, ours, ..
        } => Some((ts_i.clone(), ts_r.clone(), ours.clone())),
        _ => None,
    });
    assert_eq!(
        refused,
        Some((
            vec![subnet(ALICE_NET)],
            vec![subnet(BOB_NET)],
            vec![(vec![subnet(BOB_NET)], vec![subnet([192, 0, 2])])]
        ))
    );
    for peer in &pair.peers {
        let sa = peer
            .endpoint
            .ike_sas()
            .next()
            .expect("IKE SA kept (RFC 7296 2.21.3)");
        assert_eq!(sa.state, State::Established);
        assert!(
            peer.kernel.sas.is_empty() && peer.kernel.reserved.is_empty(),
            "{}",
            peer.name
        );
    }
}

#[test]
fn terminate_deletes_both_sides_and_their_kernel_state() {
    let mut pair = pair(6, moon(PSK), sun(PSK));
    initiate(&mut pair);
    pair.run_for(Duration::from_secs(1));
    pair.command(
        MOON,
        Command::Terminate {
            connection: "moon-sun".into(),
        },
    );
    pair.run_for(Duration::from_secs(1));
    for peer in &pair.peers {
        assert_eq!(peer.endpoint.ike_sas().count(), 0, "{}", peer.name);
        assert!(peer.kernel.sas.is_empty(), "{}: SAs left", peer.name);
        assert!(
            peer.kernel.policies.is_empty(),
            "{}: policies left",
            peer.name
        );
    }
    assert!(pair.peers[SUN].events.iter().any(|e| matches!(
        e,
        Event::IkeDown {
            reason: DownReason::DeletedByPeer,
            ..
        }
    )));
    assert!(pair.peers[MOON].events.iter().any(|e| matches!(
        e,
        Event::IkeDown {
            reason: DownReason::Terminated,
            ..
        }
    )));
}

#[test]
fn unreachable_peer_times_out_after_strongswans_schedule() {
    let mut pair = pair(7, moon(PSK), sun(PSK));
    pair.up[SUN] = false;
    initiate(&mut pair);
    // Sent at 0, then after 4, 7.2, 12.96, 23.33 and 41.99 s; given up 75.58 s after the last,
    // at 165.06 s.
    pair.run_for(Duration::from_secs(165));
    assert_eq!(
        pair.peers[MOON].sent.len(),
        6,
        "one request and five retransmissions"
    );
    assert!(pair.peers[MOON].events.is_empty(), "gave up early");
    pair.run_for(Duration::from_millis(100));
    assert_eq!(pair.peers[MOON].sent.len(), 6);
    assert!(pair.peers[MOON].events.iter().any(|e| matches!(
        e,
        Event::IkeDown {
            reason: DownReason::Timeout,
            ..
        }
    )));
    assert_eq!(pair.peers[MOON].endpoint.ike_sas().count(), 0);
}

#[test]
fn lossy_network_still_establishes_every_seed() {
    let mut established = 0;
    for seed in 0..40 {
        let mut pair = pair(100 + seed, moon(PSK), sun(PSK));
        pair.weather = Weather {
            drop: 0.3,
            duplicate: 0.2,
            jitter: Duration::from_millis(300),
        };
        initiate(&mut pair);
        pair.run_for(Duration::from_secs(300));
        let moon_up = child_up(&pair.peers[MOON].events);
        let moon_down = pair.peers[MOON]
            .events
            .iter()
            .any(|e| matches!(e, Event::IkeDown { .. }));
        // With 30 % loss a run may give up after its retransmissions; it must then leave
        // nothing behind on moon. Otherwise both sides agree.
        if let Some((moon_in, moon_out)) = moon_up {
            let sun_up = child_up(&pair.peers[SUN].events).expect("sun up when moon is");
            assert_eq!((moon_in, moon_out), (sun_up.1, sun_up.0), "seed {seed}");
            assert_eq!(pair.peers[MOON].kernel.sas.len(), 2, "seed {seed}");
            assert_eq!(pair.peers[SUN].kernel.sas.len(), 2, "seed {seed}");
            established += 1;
        } else {
            assert!(moon_down, "seed {seed}: neither up nor down");
            assert!(pair.peers[MOON].kernel.sas.is_empty(), "seed {seed}");
        }
    }
    // Five retransmissions make a 30 % loss survivable nearly always.
    assert!(
        established >= 36,
        "only {established} of 40 runs established"
    );
}

#[test]
fn dead_peer_detection_keeps_a_live_tunnel_and_drops_a_dead_one() {
    let (mut moon_conn, mut sun_conn) = (moon(PSK), sun(PSK));
    moon_conn.dpd_delay = Duration::from_secs(30);
    sun_conn.dpd_delay = Duration::from_secs(30);
    let mut pair = pair(8, moon_conn, sun_conn);
    initiate(&mut pair);
    pair.run_for(Duration::from_secs(100));
    // Liveness checks went both ways and the SAs stayed.
    assert!(
        pair.peers[MOON].sent.len() >= 4,
        "{} sent",
        pair.peers[MOON].sent.len()
    );
    assert!(pair.peers.iter().all(|p| p.endpoint.ike_sas().count() == 1));
    pair.up[SUN] = false;
    // The next check after 30 s, unanswered, gives up 165.06 s later.
    pair.run_for(Duration::from_secs(30 + 166));
    assert!(pair.peers[MOON].events.iter().any(|e| matches!(
        e,
        Event::IkeDown {
            reason: DownReason::Timeout,
            ..
        }
    )));
    assert!(pair.peers[MOON].kernel.sas.is_empty() && pair.peers[MOON].kernel.policies.is_empty());
}

#[test]
fn every_datagram_twice_installs_everything_once() {
    let mut pair = pair(9, moon(PSK), sun(PSK));
    pair.weather = Weather {
        drop: 0.0,
        duplicate: 1.0,
        jitter: Duration::from_millis(50),
    };
    initiate(&mut pair);
    pair.run_for(Duration::from_secs(5));
    for peer in &pair.peers {
        let ups = peer
            .events
            .iter()
            .filter(|e| matches!(e, Event::ChildUp { .. }))
            .count();
        assert_eq!(ups, 1, "{}", peer.name);
        assert_eq!(peer.kernel.sas.len(), 2, "{}", peer.name);
        assert_eq!(peer.kernel.policies.len(), 3, "{}", peer.name);
    }
}
