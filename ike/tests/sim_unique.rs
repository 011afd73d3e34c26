//! The uniqueness policy (`unique`) and INITIAL_CONTACT over the simulated network: what a new
//! IKE SA does to the others between the same two identities.

#[allow(dead_code)] // shared by several test binaries, each using a part
mod sim_common;

use std::time::Duration;

use ike::config::Unique;
use ike::endpoint::{Command, Endpoint, Settings};
use ike::sa::{DownReason, Event, State};
use ike::testing::{MOON, Pair, SUN, SeededRandom};
use sim_common::*;

const PSK: &[u8] = b"a pre-shared key of some length";

fn established(pair: &Pair, peer: usize) -> usize {
    let sas = pair.peers[peer].endpoint.ike_sas();
    sas.filter(|sa| sa.state == State::Established).count()
}

fn downs(pair: &Pair, peer: usize) -> Vec<DownReason> {
    let events = pair.peers[peer].events.iter();
    events
        .filter_map(|e| match e {
            Event::IkeDown { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .collect()
}

/// Moon with a second connection, b, between the same identities and networks.
fn with_b(seed: u64, sun_unique: Unique) -> Pair {
    let mut b = moon(PSK);
    b.name = "moon-sun-b".into();
    let mut sun = sun(PSK);
    sun.unique = sun_unique;
    let mut pair = pair(seed, moon(PSK), sun);
    pair.peers[MOON].endpoint.add_connection(b);
    initiate(&mut pair);
    pair.run_for(Duration::from_secs(2));
    pair.command(
        MOON,
        Command::Initiate {
            connection: "moon-sun-b".into(),
        },
    );
    pair.run_for(Duration::from_secs(2));
    pair
}

#[test]
fn a_second_ike_sa_between_the_same_identities_sends_no_initial_contact() {
    // With strongSwan's default (no), only INITIAL_CONTACT would replace: none is sent for
    // the second IKE SA, so both live, on both sides.
    let pair = with_b(91, Unique::No);
    assert_eq!(established(&pair, MOON), 2);
    assert_eq!(established(&pair, SUN), 2);
    assert!(downs(&pair, SUN).is_empty());
}

#[test]
fn unique_replace_deletes_the_older_ike_sa() {
    let pair = with_b(92, Unique::Replace);
    assert_eq!(established(&pair, SUN), 1);
    assert_eq!(downs(&pair, SUN), [DownReason::Duplicate]);
    assert_eq!(downs(&pair, MOON), [DownReason::DeletedByPeer]);
    let left = pair.peers[MOON].endpoint.ike_sas().next().unwrap();
    assert_eq!(left.conn.name, "moon-sun-b", "the newer one stays");
    pair.traffic_flows(MOON).unwrap();
}

#[test]
fn a_peer_that_starts_afresh_replaces_what_it_forgot() {
    for (seed, policy, replaced) in [(93, Unique::No, true), (94, Unique::Never, false)] {
        let mut sun = sun(PSK);
        sun.unique = policy;
        let mut pair = pair(seed, moon(PSK), sun);
        initiate(&mut pair);
        pair.run_for(Duration::from_secs(2));
        assert_eq!(established(&pair, SUN), 1);
        // Moon restarts: a new endpoint that knows no IKE SA, so it sends INITIAL_CONTACT.
        let settings = Settings {
            wall_clock: None,
            ..Settings::default()
        };
        let mut fresh = Endpoint::new(settings, Box::new(SeededRandom(seed * 7)));
        fresh.add_connection(moon(PSK));
        pair.peers[MOON].endpoint = fresh;
        pair.peers[MOON].kernel = ike::testing::MemKernel::new(0xc300_0000);
        initiate(&mut pair);
        pair.run_for(Duration::from_secs(2));
        assert_eq!(established(&pair, MOON), 1);
        let want = if replaced { 1 } else { 2 };
        assert_eq!(established(&pair, SUN), want, "{policy:?}");
        let gone = downs(&pair, SUN) == [DownReason::Duplicate];
        assert_eq!(gone, replaced, "{policy:?}");
        pair.traffic_flows(MOON).unwrap();
    }
}
