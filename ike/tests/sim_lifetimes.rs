//! The IKE SA's lifetime settings over the simulated network: reauthentication
//! (`reauth_time`), the hard end when neither rekey nor reauthentication happens in time
//! (`over_time`), and retries of an initiation that gets no answer (`keyingtries`).

#[allow(dead_code)] // shared by several test binaries, each using a part
mod sim_common;

use std::time::Duration;

use ike::sa::{DownReason, Event, State};
use ike::testing::{MOON, Pair, SUN};
use sim_common::*;

const PSK: &[u8] = b"a pre-shared key of some length";

fn established(pair: &Pair, peer: usize) -> Vec<(ike::wire::IkeSpi, u32)> {
    pair.peers[peer]
        .endpoint
        .ike_sas()
        .filter(|sa| sa.state == State::Established)
        .map(|sa| (sa.spi_i, sa.children.len() as u32))
        .collect()
}

fn downs(pair: &Pair, peer: usize) -> Vec<DownReason> {
    pair.peers[peer]
        .events
        .iter()
        .filter_map(|e| match e {
            Event::IkeDown { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .collect()
}

fn ups(pair: &Pair, peer: usize) -> usize {
    let ups = pair.peers[peer].events.iter();
    ups.filter(|e| matches!(e, Event::IkeUp { .. })).count()
}

#[test]
fn reauthentication_negotiates_a_new_ike_sa_with_every_child() {
    let mut moon = moon(PSK);
    moon.reauth_time = Duration::from_secs(600);
    moon.rand_time = Duration::from_secs(60);
    moon.over_time = Duration::from_secs(60);
    let mut second = moon.children[0].clone();
    second.name = "second".into();
    second.local_ts = vec![subnet([192, 0, 2])];
    moon.children.push(second.clone());
    let mut sun = sun(PSK);
    let mut mirrored = second;
    std::mem::swap(&mut mirrored.local_ts, &mut mirrored.remote_ts);
    mirrored.remote_ts = vec![subnet([192, 0, 2])];
    mirrored.local_ts = sun.children[0].local_ts.clone();
    sun.children.push(mirrored);
    let mut pair = pair(71, moon, sun);
    initiate(&mut pair);
    pair.run_for(Duration::from_secs(5));
    let first = established(&pair, MOON);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].1, 2, "both children up");

    // Due between 540 s and 600 s: the old IKE SA is deleted, a new one comes up with both
    // children, and traffic flows after each step.
    pair.run_for(Duration::from_secs(700));
    assert_eq!(downs(&pair, MOON), [DownReason::Reauthenticating]);
    assert_eq!(downs(&pair, SUN), [DownReason::DeletedByPeer]);
    let now = established(&pair, MOON);
    assert_eq!(now.len(), 1, "{now:?}");
    assert_ne!(now[0].0, first[0].0, "a new IKE SA");
    assert_eq!(now[0].1, 2, "both children again");
    assert_eq!(established(&pair, SUN).len(), 1);
    assert_eq!(ups(&pair, MOON), 2);
    pair.traffic_flows(MOON).unwrap();
    pair.traffic_flows(SUN).unwrap();
    // The old IKE SA's kernel state is gone: two children, two SAs each.
    assert_eq!(pair.peers[MOON].kernel.sas.len(), 4);
    assert_eq!(pair.peers[SUN].kernel.sas.len(), 4);
}

#[test]
fn an_ike_sa_neither_rekeyed_nor_reauthenticated_in_time_is_deleted() {
    let mut moon = moon(PSK);
    moon.rekey_time = Duration::from_secs(60);
    moon.rand_time = Duration::ZERO;
    moon.over_time = Duration::from_secs(20);
    let mut pair = pair(72, moon, sun(PSK));
    initiate(&mut pair);
    pair.run_for(Duration::from_secs(5));
    assert_eq!(established(&pair, MOON).len(), 1);
    // sun stops answering: the rekey at 60 s gets no answer, and at 80 s the IKE SA ends,
    // before its retransmissions would give up.
    pair.up[SUN] = false;
    pair.run_for(Duration::from_secs(70));
    assert!(downs(&pair, MOON).is_empty(), "not before 80 s");
    pair.run_for(Duration::from_secs(10));
    assert_eq!(downs(&pair, MOON), [DownReason::Expired]);
    assert!(established(&pair, MOON).is_empty());
    assert!(pair.peers[MOON].kernel.sas.is_empty());
    assert!(pair.peers[MOON].kernel.policies.is_empty());
}

#[test]
fn an_initiation_without_answer_is_tried_keyingtries_times() {
    let mut moon = moon(PSK);
    moon.keyingtries = 3;
    let mut pair = pair(73, moon, sun(PSK));
    pair.up[SUN] = false;
    initiate(&mut pair);
    // Each attempt gives up after about 165 s of retransmissions.
    pair.run_for(Duration::from_secs(600));
    assert_eq!(downs(&pair, MOON), vec![DownReason::Timeout; 3]);
    assert_eq!(pair.peers[MOON].endpoint.ike_sas().count(), 0);
    pair.run_for(Duration::from_secs(600));
    assert_eq!(downs(&pair, MOON).len(), 3, "no fourth try");

    // keyingtries = 0: until the peer answers.
    let mut moon = sim_common::moon(PSK);
    moon.keyingtries = 0;
    let mut pair = sim_common::pair(74, moon, sun(PSK));
    pair.up[SUN] = false;
    initiate(&mut pair);
    pair.run_for(Duration::from_secs(1000));
    assert!(downs(&pair, MOON).len() >= 5);
    pair.up[SUN] = true;
    pair.run_for(Duration::from_secs(200));
    assert_eq!(established(&pair, MOON).len(), 1);
    pair.traffic_flows(MOON).unwrap();
}

#[test]
fn a_reauthentication_on_request_negotiates_afresh() {
    let mut pair = pair(75, moon(PSK), sun(PSK));
    initiate(&mut pair);
    pair.run_for(Duration::from_secs(2));
    let first = established(&pair, MOON);
    pair.command(
        MOON,
        ike::endpoint::Command::ReauthIke {
            connection: "moon-sun".into(),
        },
    );
    pair.run_for(Duration::from_secs(3));
    assert_eq!(downs(&pair, MOON), [DownReason::Reauthenticating]);
    let now = established(&pair, MOON);
    assert_eq!(now.len(), 1);
    assert_ne!(now[0].0, first[0].0);
    assert_eq!(now[0].1, 1, "its Child SA again");
    pair.traffic_flows(MOON).unwrap();
    pair.traffic_flows(SUN).unwrap();
}
