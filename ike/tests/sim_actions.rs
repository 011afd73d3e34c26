//! Trap policies (`start_action = trap`) and what happens when the peer goes away
//! (`dpd_action`, `close_action`: clear, trap, restart) over the simulated network.

#[allow(dead_code)] // shared by several test binaries, each using a part
mod sim_common;

use std::time::Duration;

use ike::config::Action;
use ike::endpoint::Command;
use ike::kernel::{Direction, KernelEvent};
use ike::sa::{DownReason, Event, State};
use ike::testing::{MOON, Pair, SUN};
use sim_common::*;

const PSK: &[u8] = b"a pre-shared key of some length";

fn command(pair: &mut Pair, peer: usize, command: Command) {
    pair.command(peer, command);
}

fn install(pair: &mut Pair) {
    command(
        pair,
        MOON,
        Command::Install {
            connection: "moon-sun".into(),
            child: None,
        },
    );
}

/// The reqid of moon's trap (its out policy's).
fn trap_reqid(pair: &Pair) -> u32 {
    let out = pair.peers[MOON]
        .kernel
        .policies
        .iter()
        .find(|p| p.dir == Direction::Out);
    out.expect("moon's trap policies").reqid
}

fn acquire(pair: &mut Pair) {
    let reqid = trap_reqid(pair);
    let policy = pair.peers[MOON].kernel.policies[0].clone();
    pair.kernel_event(
        MOON,
        KernelEvent::Acquire {
            reqid,
            src: policy.src,
            dst: policy.dst,
        },
    );
}

fn established(pair: &Pair, peer: usize) -> usize {
    pair.peers[peer]
        .endpoint
        .ike_sas()
        .filter(|sa| sa.state == State::Established)
        .count()
}

#[test]
fn a_trap_starts_the_negotiation_on_the_first_packet_and_stays() {
    let mut pair = pair(51, moon(PSK), sun(PSK));
    install(&mut pair);
    pair.run_for(Duration::from_secs(1));
    // Out, in and fwd trap policies, no SA, nothing sent.
    assert_eq!(pair.peers[MOON].kernel.policies.len(), 3);
    assert!(pair.peers[MOON].kernel.sas.is_empty());
    assert!(pair.peers[MOON].sent.is_empty());
    let reqid = trap_reqid(&pair);
    acquire(&mut pair);
    // The kernel repeats the acquire while the negotiation runs: one IKE SA only.
    acquire(&mut pair);
    pair.run_for(Duration::from_secs(1));
    assert_eq!(established(&pair, MOON), 1);
    assert_eq!(pair.peers[MOON].endpoint.ike_sas().count(), 1);
    // The Child SA uses the trap's reqid and policies: no second set.
    assert!(
        pair.peers[MOON]
            .kernel
            .sas
            .values()
            .all(|sa| sa.reqid == reqid)
    );
    assert_eq!(pair.peers[MOON].kernel.sas.len(), 2);
    assert_eq!(pair.peers[MOON].kernel.policies.len(), 3);
    pair.traffic_flows(MOON).unwrap();
    pair.traffic_flows(SUN).unwrap();
    // Closed, the trap stays and catches the next packet.
    command(
        &mut pair,
        MOON,
        Command::Terminate {
            connection: "moon-sun".into(),
        },
    );
    pair.run_for(Duration::from_secs(1));
    assert!(pair.peers[MOON].kernel.sas.is_empty());
    assert_eq!(pair.peers[MOON].kernel.policies.len(), 3);
    acquire(&mut pair);
    pair.run_for(Duration::from_secs(1));
    assert_eq!(established(&pair, MOON), 1);
    pair.traffic_flows(MOON).unwrap();
    // Uninstalled, only the Child SA's own state goes with the IKE SA.
    command(
        &mut pair,
        MOON,
        Command::Uninstall {
            connection: "moon-sun".into(),
            child: None,
        },
    );
    pair.run_for(Duration::from_secs(1));
    assert!(pair.peers[MOON].kernel.policies.is_empty());
    assert_eq!(pair.peers[MOON].endpoint.traps().count(), 0);
}

/// Moon with liveness checks every 10 s and `action` for dpd_action and close_action.
fn with_actions(seed: u64, action: Action) -> Pair {
    let mut moon_conn = moon(PSK);
    moon_conn.dpd_delay = Duration::from_secs(10);
    moon_conn.children[0].dpd_action = action;
    moon_conn.children[0].close_action = action;
    let mut pair = pair(seed, moon_conn, sun(PSK));
    initiate(&mut pair);
    pair.run_for(Duration::from_secs(1));
    assert_eq!(established(&pair, MOON), 1);
    pair
}

fn went_down(pair: &Pair, reason: DownReason) -> bool {
    pair.peers[MOON]
        .events
        .iter()
        .any(|e| matches!(e, Event::IkeDown { reason: r, .. } if *r == reason))
}

#[test]
fn dpd_action_clear_leaves_nothing() {
    let mut pair = with_actions(52, Action::None);
    pair.up[SUN] = false;
    pair.run_for(Duration::from_secs(400));
    assert!(went_down(&pair, DownReason::Timeout));
    assert_eq!(pair.peers[MOON].endpoint.ike_sas().count(), 0);
    assert!(pair.peers[MOON].kernel.sas.is_empty() && pair.peers[MOON].kernel.policies.is_empty());
}

#[test]
fn dpd_action_trap_installs_the_trap() {
    let mut pair = with_actions(53, Action::Trap);
    pair.up[SUN] = false;
    pair.run_for(Duration::from_secs(400));
    assert!(went_down(&pair, DownReason::Timeout));
    assert_eq!(pair.peers[MOON].endpoint.ike_sas().count(), 0);
    assert!(pair.peers[MOON].kernel.sas.is_empty());
    assert_eq!(pair.peers[MOON].kernel.policies.len(), 3, "trap policies");
    assert_eq!(pair.peers[MOON].endpoint.traps().count(), 1);
}

#[test]
fn dpd_action_restart_comes_back_when_the_peer_does() {
    let mut pair = with_actions(54, Action::Start);
    pair.up[SUN] = false;
    // The liveness check gives up after about 175 s; the restarted IKE SA finds nobody
    // either, gives up after 165 s more and tries again.
    pair.run_for(Duration::from_secs(400));
    assert!(went_down(&pair, DownReason::Timeout));
    assert_eq!(established(&pair, MOON), 0);
    pair.up[SUN] = true;
    pair.run_for(Duration::from_secs(200));
    assert_eq!(established(&pair, MOON), 1);
    pair.traffic_flows(MOON).unwrap();
}

#[test]
fn close_action_restart_reconnects_after_the_peers_delete() {
    let mut pair = with_actions(55, Action::Start);
    command(
        &mut pair,
        SUN,
        Command::Terminate {
            connection: "moon-sun".into(),
        },
    );
    pair.run_for(Duration::from_secs(2));
    assert!(went_down(&pair, DownReason::DeletedByPeer));
    assert_eq!(established(&pair, MOON), 1);
    assert_eq!(established(&pair, SUN), 1);
    pair.traffic_flows(MOON).unwrap();
    pair.traffic_flows(SUN).unwrap();
}

#[test]
fn a_reload_closes_changed_and_removed_connections_and_leaves_the_rest_alone() {
    let mut b = moon(PSK);
    b.name = "moon-sun-b".into();
    let mut pair = pair(56, moon(PSK), sun(PSK));
    pair.peers[MOON].endpoint.add_connection(b.clone());
    initiate(&mut pair);
    command(
        &mut pair,
        MOON,
        Command::Initiate {
            connection: "moon-sun-b".into(),
        },
    );
    pair.run_for(Duration::from_secs(1));
    assert_eq!(established(&pair, MOON), 2);
    let spis_of = |pair: &Pair, name: &str| {
        let sa = pair.peers[MOON]
            .endpoint
            .ike_sas()
            .find(|sa| sa.conn.name == name);
        sa.map(|sa| (sa.spi_i, sa.spi_r, sa.children[0].spi_in))
    };
    let a_before = spis_of(&pair, "moon-sun").unwrap();
    let events_before = pair.peers[MOON].events.len();

    // The same configuration again, but b's liveness checks changed.
    let mut b_changed = b.clone();
    b_changed.dpd_delay = Duration::from_secs(30);
    let now = pair.now;
    let (outputs, changed) = pair.peers[MOON]
        .endpoint
        .update_connections(now, vec![moon(PSK), b_changed.clone()]);
    assert_eq!(changed, ["moon-sun-b"]);
    assert!(!outputs.is_empty(), "a Delete for b's IKE SA");
    // Hand the outputs to the simulation as a command's would be.
    pair.absorb_outputs(MOON, outputs);
    pair.run_for(Duration::from_secs(1));
    assert_eq!(spis_of(&pair, "moon-sun"), Some(a_before), "untouched");
    assert_eq!(spis_of(&pair, "moon-sun-b"), None, "closed");
    assert_eq!(established(&pair, SUN), 1);
    let new_events = &pair.peers[MOON].events[events_before..];
    assert!(
        new_events.iter().all(|e| match e {
            Event::IkeDown { connection, .. } | Event::ChildDown { connection, .. } =>
                connection == "moon-sun-b",
            _ => false,
        }),
        "{new_events:?}"
    );
    // Unchanged again: nothing happens at all; removed: nothing left to close.
    let now = pair.now;
    let (outputs, changed) = pair.peers[MOON]
        .endpoint
        .update_connections(now, vec![moon(PSK), b_changed]);
    assert!(outputs.is_empty() && changed.is_empty());
    let (outputs, changed) = pair.peers[MOON]
        .endpoint
        .update_connections(now, vec![moon(PSK)]);
    assert!(outputs.is_empty() && changed.is_empty());
    assert_eq!(pair.peers[MOON].endpoint.connections().count(), 1);
    assert_eq!(spis_of(&pair, "moon-sun"), Some(a_before));
}

/// Moon and sun with a second child, `second`, for 192.0.2.0/24 on moon's side.
fn two_children(seed: u64) -> Pair {
    let mut moon = moon(PSK);
    let mut second = moon.children[0].clone();
    second.name = "second".into();
    second.local_ts = vec![subnet([192, 0, 2])];
    moon.children.push(second);
    let mut sun = sun(PSK);
    let mut mirrored = sun.children[0].clone();
    mirrored.name = "second".into();
    mirrored.remote_ts = vec![subnet([192, 0, 2])];
    sun.children.push(mirrored);
    pair(seed, moon, sun)
}

fn children_of(pair: &Pair, peer: usize) -> Vec<(ike::wire::IkeSpi, Vec<String>)> {
    let sas = pair.peers[peer].endpoint.ike_sas();
    let sas = sas.filter(|sa| sa.state == State::Established);
    sas.map(|sa| {
        let mut names: Vec<String> = sa.children.iter().map(|c| c.name.clone()).collect();
        names.sort();
        (sa.spi_i, names)
    })
    .collect()
}

#[test]
fn initiating_a_child_uses_the_ike_sa_that_is_up_or_makes_one_for_it_alone() {
    let mut pair = two_children(61);
    let child = |name: &str| Command::InitiateChild {
        connection: "moon-sun".into(),
        child: name.into(),
    };
    // No IKE SA yet: one is made, with this child alone.
    command(&mut pair, MOON, child("second"));
    pair.run_for(Duration::from_secs(2));
    let up = children_of(&pair, MOON);
    assert_eq!(up.len(), 1);
    assert_eq!(up[0].1, ["second"]);
    // The other child comes up on the same IKE SA.
    command(&mut pair, MOON, child("net-net"));
    pair.run_for(Duration::from_secs(2));
    let now = children_of(&pair, MOON);
    assert_eq!(now, [(up[0].0, vec!["net-net".into(), "second".into()])]);
    assert_eq!(children_of(&pair, SUN).len(), 1);
    pair.traffic_flows(MOON).unwrap();
    pair.traffic_flows(SUN).unwrap();
    // A child the connection does not have: nothing happens.
    command(&mut pair, MOON, child("nope"));
    pair.run_for(Duration::from_secs(2));
    assert_eq!(children_of(&pair, MOON), now);
}
