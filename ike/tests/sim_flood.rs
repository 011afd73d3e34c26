//! Half-open IKE SAs: stateless cookies above the threshold (RFC 7296 2.6), the half-open
//! timeout, and a flood of spoofed IKE_SA_INIT requests during which a real initiator still
//! gets through.

mod sim_common;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use ike::testing::{MOON, Pair, SUN, SeededRandom};
use ike::wire::message::Message;
use ike::wire::rules::{IkeSaInitRequest, Typed};
use ike::wire::{
    ExchangeType, Flags, Header, IkeSpi, KeId, MessageId, NotifyType, PayloadType, ke, nonce, sa,
};
use sim_common::*;

const PSK: &[u8] = b"a pre-shared key of some length";

/// Moon and sun, sun accepting initiators from any address (remote_addrs = %any), as a
/// gateway for roaming clients does: the target a spoofer goes for.
fn open_pair(seed: u64) -> Pair {
    let mut sun_conn = sun(PSK);
    sun_conn.remote_addr = IpAddr::from([0, 0, 0, 0]);
    pair(seed, moon(PSK), sun_conn)
}

/// An IKE_SA_INIT request as a spoofer sends it: valid, from an address it cannot receive at.
fn spoofed_init(rng: &mut SeededRandom) -> (SocketAddr, Vec<u8>) {
    let n = rng.next_u64();
    let from = SocketAddr::new(IpAddr::from([198, 18, (n >> 8) as u8, n as u8]), 500);
    let mut bytes = [0u8; 32];
    let mut fill = |b: &mut [u8]| b.iter_mut().for_each(|x| *x = rng.next_u64() as u8);
    fill(&mut bytes);
    let ke_value = bytes.to_vec();
    fill(&mut bytes);
    let request = Typed::IkeSaInitRequest(IkeSaInitRequest {
        sa: sa::Repr {
            proposals: vec![ike_proposal(KeId::CURVE25519)],
        },
        ke: ke::Repr {
            group: KeId::CURVE25519,
            data: ke_value,
        },
        nonce: nonce::Repr {
            data: bytes.to_vec(),
        },
        notifies: Vec::new(),
        vendor_ids: Vec::new(),
    });
    let message = Message {
        header: Header {
            spi_i: IkeSpi(n.to_be_bytes()),
            spi_r: IkeSpi::ZERO,
            next_payload: PayloadType::NONE,
            major_version: Header::MAJOR_VERSION,
            minor_version: 0,
            exchange: ExchangeType::IKE_SA_INIT,
            flags: Flags::INITIATOR,
            message_id: MessageId(0),
            length: 0,
        },
        payloads: request.into_payloads(),
    };
    (from, message.emit().expect("emit"))
}

fn notifies_of(bytes: &[u8]) -> Vec<NotifyType> {
    Message::parse(bytes)
        .map(|m| {
            m.payloads
                .into_iter()
                .filter_map(|p| match p {
                    ike::wire::Payload::Notify(n) => Some(n.ty),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_half_open_ike_sa_goes_after_30_seconds() {
    let mut pair = open_pair(31);
    let mut rng = SeededRandom(5);
    let (from, bytes) = spoofed_init(&mut rng);
    pair.inject(SUN, from, &bytes);
    assert_eq!(pair.peers[SUN].endpoint.half_open(), 1);
    pair.run_for(Duration::from_secs(29));
    assert_eq!(pair.peers[SUN].endpoint.ike_sas().count(), 1);
    pair.run_for(Duration::from_secs(2));
    assert_eq!(pair.peers[SUN].endpoint.ike_sas().count(), 0);
    assert_eq!(pair.peers[SUN].endpoint.half_open(), 0);
    assert!(
        pair.peers[SUN].events.is_empty(),
        "{:?}",
        pair.peers[SUN].events
    );
}

#[test]
fn above_the_threshold_initiators_must_return_a_cookie() {
    let mut pair = open_pair(32);
    let mut rng = SeededRandom(6);
    for _ in 0..10 {
        let (from, bytes) = spoofed_init(&mut rng);
        pair.inject(SUN, from, &bytes);
    }
    assert_eq!(pair.peers[SUN].endpoint.half_open(), 10);
    let sent = pair.peers[SUN].sent.len();
    // The eleventh gets N(COOKIE) alone and leaves no state.
    let (from, bytes) = spoofed_init(&mut rng);
    pair.inject(SUN, from, &bytes);
    assert_eq!(pair.peers[SUN].endpoint.half_open(), 10);
    assert_eq!(pair.peers[SUN].sent.len(), sent + 1);
    let answer = pair.peers[SUN].sent.last().unwrap();
    assert_eq!(notifies_of(answer), [NotifyType::COOKIE]);
    let header = Header::parse(answer).unwrap();
    assert!(header.spi_r.is_zero() && header.flags.is_response());
    // Moon, a real initiator, sends its request again with the cookie and gets through.
    initiate(&mut pair);
    pair.run_for(Duration::from_secs(1));
    assert!(
        child_up(&pair.peers[MOON].events).is_some(),
        "{:?}",
        pair.peers[MOON].events
    );
    let moon_sent = &pair.peers[MOON].sent;
    assert_eq!(
        notifies_of(&moon_sent[1])[0],
        NotifyType::COOKIE,
        "cookie first"
    );
    // A cookie does not open the door for anyone else: the same cookie with another nonce.
    let mut forged = Message::parse(&moon_sent[1]).unwrap();
    forged.header.spi_i = IkeSpi([9; 8]);
    pair.inject(
        SUN,
        SocketAddr::from(([192, 0, 2, 1], 500)),
        &forged.emit().unwrap(),
    );
    assert_eq!(pair.peers[SUN].endpoint.half_open(), 10);
}

#[test]
fn a_30_second_flood_of_spoofed_requests_keeps_state_bounded_and_lets_moon_in() {
    let mut pair = open_pair(33);
    let mut rng = SeededRandom(7);
    let mut most = 0;
    // 1000 spoofed requests a second for 30 s; moon starts after 5 s.
    for ms in 0..30_000u32 {
        let (from, bytes) = spoofed_init(&mut rng);
        pair.inject(SUN, from, &bytes);
        if ms == 5_000 {
            initiate(&mut pair);
        }
        pair.run_for(Duration::from_millis(1));
        most = most.max(pair.peers[SUN].endpoint.ike_sas().count());
    }
    assert!((10..=11).contains(&most), "sun held {most} IKE SAs");
    assert!(
        child_up(&pair.peers[SUN].events).is_some(),
        "moon got through"
    );
    // The spoofed half-open SAs time out; moon's stays.
    pair.run_for(Duration::from_secs(31));
    assert_eq!(pair.peers[SUN].endpoint.ike_sas().count(), 1);
    assert_eq!(pair.peers[SUN].endpoint.half_open(), 0);
}
