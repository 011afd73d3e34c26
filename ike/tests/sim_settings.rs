//! The endpoint's tunables (strongswan.conf's `charon.*` in the daemon) reach the protocol:
//! the retransmission schedule, its limit and jitter, and the NAT keepalive interval.

mod sim_common;

use std::net::IpAddr;
use std::time::Duration;

use ike::endpoint::Settings;
use ike::sa::window::Retransmit;
use ike::sa::{DownReason, Event};
use ike::testing::{MOON, Pair, SUN};
use sim_common::*;

const PSK: &[u8] = b"a pre-shared key of some length";

fn with_settings(pair: &mut Pair, peer: usize, settings: impl FnOnce(&mut Settings)) {
    let mut s = pair.peers[peer].endpoint.settings().clone();
    settings(&mut s);
    pair.peers[peer].endpoint.set_settings(s);
}

/// When moon's IKE SA went down for want of an answer, if it did.
fn timed_out(pair: &Pair) -> bool {
    pair.peers[MOON].events.iter().any(|e| {
        matches!(
            e,
            Event::IkeDown {
                reason: DownReason::Timeout,
                ..
            }
        )
    })
}

/// The times moon sent its IKE_SA_INIT to a sun that never answers, under `retransmit`, and
/// whether it gave up within `limit`.
fn sends_to_a_silent_peer(seed: u64, retransmit: Retransmit, limit: Duration) -> (usize, bool) {
    let mut pair = pair(seed, moon(PSK), sun(PSK));
    with_settings(&mut pair, MOON, |s| s.retransmit = retransmit);
    pair.up[SUN] = false;
    initiate(&mut pair);
    pair.run_for(limit);
    (pair.peers[MOON].sent.len(), timed_out(&pair))
}

#[test]
fn retransmit_tries_and_timeout_decide_when_an_initiator_gives_up() {
    // retransmit_tries = 2, retransmit_timeout = 1, retransmit_base = 2: sent at 0, 1 and 3 s,
    // given up at 7 s.
    let quick = Retransmit {
        timeout: Duration::from_secs(1),
        base: 2.0,
        tries: 2,
        ..Retransmit::default()
    };
    assert_eq!(
        sends_to_a_silent_peer(1, quick, Duration::from_millis(6900)),
        (3, false)
    );
    assert_eq!(
        sends_to_a_silent_peer(1, quick, Duration::from_millis(7100)),
        (3, true)
    );
    // strongSwan's defaults: five retransmits, given up after 165 s.
    let default = Retransmit::default();
    assert_eq!(
        sends_to_a_silent_peer(2, default, Duration::from_secs(165)),
        (6, false)
    );
    assert_eq!(
        sends_to_a_silent_peer(2, default, Duration::from_secs(166)),
        (6, true)
    );
    // retransmit_limit = 5: 4, then 5, 5, 5, 5 and 5 s: given up at 29 s.
    let limited = Retransmit {
        limit: Some(Duration::from_secs(5)),
        ..Retransmit::default()
    };
    assert_eq!(
        sends_to_a_silent_peer(3, limited, Duration::from_millis(28_900)),
        (6, false)
    );
    assert_eq!(
        sends_to_a_silent_peer(3, limited, Duration::from_millis(29_100)),
        (6, true)
    );
}

#[test]
fn retransmit_jitter_shortens_each_wait_by_up_to_its_share() {
    let jittery = Retransmit {
        timeout: Duration::from_secs(10),
        base: 1.0,
        tries: 3,
        jitter: 20,
        limit: None,
    };
    let mut ends = std::collections::BTreeSet::new();
    for seed in 0..8 {
        // Four waits of 8 to 10 s each: never given up before 32 s, always by 40 s.
        let (_, gave_up) = sends_to_a_silent_peer(seed, jittery, Duration::from_millis(31_900));
        assert!(!gave_up, "seed {seed}: given up before 32 s");
        let mut pair = pair(seed, moon(PSK), sun(PSK));
        with_settings(&mut pair, MOON, |s| s.retransmit = jittery);
        pair.up[SUN] = false;
        initiate(&mut pair);
        let start = pair.now;
        while !timed_out(&pair) {
            pair.run_for(Duration::from_millis(100));
            assert!(
                pair.now - start <= Duration::from_secs(40),
                "seed {seed}: not given up"
            );
        }
        ends.insert((pair.now - start).as_millis() / 100);
    }
    assert!(ends.len() > 2, "the jitter is random: {ends:?}");
}

#[test]
fn keep_alive_sets_the_interval_of_nat_keepalives() {
    for (interval, expected) in [(5, 12), (0, 0)] {
        let mut sun_conn = sun(PSK);
        sun_conn.remote_addr = IpAddr::from([0, 0, 0, 0]);
        let mut pair = pair(42, moon(PSK), sun_conn);
        pair.moon_nat = Some(IpAddr::from([203, 0, 113, 99]));
        with_settings(&mut pair, MOON, |s| {
            s.keep_alive = Duration::from_secs(interval)
        });
        initiate(&mut pair);
        pair.run_for(Duration::from_secs(1));
        assert!(child_up(&pair.peers[MOON].events).is_some());
        let before = pair.peers[MOON].sent.len();
        pair.run_for(Duration::from_secs(61));
        let keepalives = pair.peers[MOON].sent[before..]
            .iter()
            .filter(|b| b.as_slice() == [0xff])
            .count();
        assert_eq!(keepalives, expected, "keep_alive = {interval}s");
    }
}
