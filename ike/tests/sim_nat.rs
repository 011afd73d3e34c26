//! NAT traversal over the simulated network: moon behind a NAT that rewrites its address and
//! ports, sun accepting it from anywhere (RFC 7296 2.23, RFC 3948).

mod sim_common;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use ike::endpoint::Command;
use ike::testing::{MOON, Pair, SUN};
use sim_common::*;

const PSK: &[u8] = b"a pre-shared key of some length";
const PUBLIC: [u8; 4] = [203, 0, 113, 99];

fn natted(seed: u64) -> Pair {
    let mut sun_conn = sun(PSK);
    sun_conn.remote_addr = IpAddr::from([0, 0, 0, 0]);
    let mut pair = pair(seed, moon(PSK), sun_conn);
    pair.moon_nat = Some(IpAddr::from(PUBLIC));
    pair
}

#[test]
fn behind_a_nat_ike_moves_to_4500_and_esp_goes_in_udp() {
    let mut pair = natted(41);
    initiate(&mut pair);
    pair.run_for(Duration::from_secs(1));
    assert!(
        child_up(&pair.peers[SUN].events).is_some(),
        "{:?}",
        pair.peers[SUN].events
    );
    let moon_sa = pair.peers[MOON].endpoint.ike_sas().next().unwrap();
    let sun_sa = pair.peers[SUN].endpoint.ike_sas().next().unwrap();
    assert!(
        moon_sa.nat.local && !moon_sa.nat.remote,
        "{:?}",
        moon_sa.nat
    );
    assert!(sun_sa.nat.remote && !sun_sa.nat.local, "{:?}", sun_sa.nat);
    assert_eq!(moon_sa.local.port(), 4500);
    assert_eq!(
        moon_sa.remote,
        "192.0.2.2:4500".parse::<SocketAddr>().unwrap()
    );
    // Sun follows moon to its public address and translated port 4500.
    assert_eq!(sun_sa.remote, SocketAddr::new(PUBLIC.into(), 14500));
    // IKE_SA_INIT went on port 500, IKE_AUTH on 4500 (through the NAT as 14500).
    for (peer, ours, theirs) in [(MOON, 4500, 4500), (SUN, 4500, 14500)] {
        for sa in pair.peers[peer].kernel.sas.values() {
            let outbound = sa.src == pair.peers[peer].addr.ip();
            let want = if outbound {
                (ours, theirs)
            } else {
                (theirs, ours)
            };
            assert_eq!(sa.encap, Some(want), "{}: {sa:?}", pair.peers[peer].name);
        }
    }
    // Sun's SAs and policies point at the NAT's address.
    let child = &sun_sa.children[0];
    assert_eq!(child.remote, IpAddr::from(PUBLIC));
}

#[test]
fn the_side_behind_the_nat_sends_keepalives_and_rekeys_still_work() {
    let mut pair = natted(42);
    initiate(&mut pair);
    pair.run_for(Duration::from_secs(1));
    let before = pair.peers[MOON].sent.len();
    pair.run_for(Duration::from_secs(61));
    let keepalives = pair.peers[MOON].sent[before..]
        .iter()
        .filter(|b| b.as_slice() == [0xff])
        .count();
    assert_eq!(keepalives, 3, "one every 20 s");
    assert!(!pair.peers[SUN].sent.iter().any(|b| b.as_slice() == [0xff]));
    pair.command(
        MOON,
        Command::RekeyIke {
            connection: "moon-sun".into(),
        },
    );
    pair.command(
        SUN,
        Command::RekeyChild {
            connection: "moon-sun".into(),
            child: None,
        },
    );
    pair.run_for(Duration::from_secs(5));
    let moon_sa = pair.peers[MOON].endpoint.ike_sas().next().unwrap();
    assert_eq!(pair.peers[MOON].endpoint.ike_sas().count(), 1);
    assert!(moon_sa.nat.local, "the new IKE SA knows it is behind a NAT");
    assert_eq!(moon_sa.children.len(), 1);
    for peer in &pair.peers {
        assert_eq!(peer.kernel.sas.len(), 2, "{}", peer.name);
        assert!(peer.kernel.sas.values().all(|sa| sa.encap.is_some()));
    }
}

#[test]
fn without_a_nat_nothing_moves() {
    let mut pair = pair(43, moon(PSK), sun(PSK));
    initiate(&mut pair);
    pair.run_for(Duration::from_secs(30));
    let moon_sa = pair.peers[MOON].endpoint.ike_sas().next().unwrap();
    assert!(moon_sa.nat.supported && !moon_sa.nat.local && !moon_sa.nat.remote);
    assert_eq!(moon_sa.local.port(), 500);
    assert!(
        pair.peers[MOON]
            .kernel
            .sas
            .values()
            .all(|sa| sa.encap.is_none())
    );
    assert!(!pair.peers[MOON].sent.iter().any(|b| b.as_slice() == [0xff]));
}

#[test]
fn encap_yes_puts_esp_in_udp_without_a_nat() {
    let mut moon = moon(PSK);
    moon.encap = true;
    let mut pair = pair(88, moon, sun(PSK));
    initiate(&mut pair);
    pair.run_for(Duration::from_secs(2));
    pair.traffic_flows(MOON).unwrap();
    pair.traffic_flows(SUN).unwrap();
    for peer in [MOON, SUN] {
        let sa = pair.peers[peer].endpoint.ike_sas().next().unwrap();
        assert_eq!((sa.local.port(), sa.remote.port()), (4500, 4500));
        let sas = pair.peers[peer].kernel.sas.values();
        assert!(
            sas.clone().count() == 2 && sas.into_iter().all(|sa| sa.encap == Some((4500, 4500)))
        );
    }
    // Moon believes itself behind a NAT: it keeps the mapping open.
    let sent = pair.peers[MOON].sent.len();
    pair.run_for(Duration::from_secs(45));
    assert!(pair.peers[MOON].sent[sent..].iter().any(|m| m == &[0xff]));
}

#[test]
fn interface_ids_and_priority_reach_the_kernel() {
    let mut moon = moon(PSK);
    moon.children[0].xfrm = ike::config::XfrmOptions {
        if_id_in: Some(42),
        if_id_out: Some(43),
        priority: Some(1000),
        mark_in: Some((7, 0xff)),
        mark_in_sa: false,
        mark_out: Some((8, 0xff)),
        reqid: Some(77),
    };
    let mut pair = pair(89, moon, sun(PSK));
    initiate(&mut pair);
    pair.run_for(Duration::from_secs(2));
    pair.traffic_flows(SUN).unwrap();
    let kernel = &pair.peers[MOON].kernel;
    // Marks: the out policies' and the outbound SA's; the in and fwd policies' only (no
    // mark_in_sa). The configured reqid ties them.
    for sa in kernel.sas.values() {
        let inbound = sa.sa.dst == "192.0.2.1".parse::<std::net::IpAddr>().unwrap();
        assert_eq!(sa.if_id, Some(if inbound { 42 } else { 43 }), "{sa:?}");
        assert_eq!(
            sa.mark,
            if inbound { None } else { Some((8, 0xff)) },
            "{sa:?}"
        );
        assert_eq!(sa.reqid, 77);
    }
    assert_eq!(kernel.policies.len(), 3);
    for p in &kernel.policies {
        let out = p.dir == ike::kernel::Direction::Out;
        let (id, mark) = if out {
            (43, (8, 0xff))
        } else {
            (42, (7, 0xff))
        };
        let got = (p.if_id, p.priority, p.mark, p.reqid);
        assert_eq!(got, (Some(id), Some(1000), Some(mark), 77), "{p:?}");
    }
    // Sun's side has none.
    assert!(
        pair.peers[SUN]
            .kernel
            .policies
            .iter()
            .all(|p| p.if_id.is_none())
    );
}
