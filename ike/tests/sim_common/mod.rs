//! Connections for the simulation scenarios: moon (192.0.2.1, alice's network
//! 198.51.100.0/24 behind it) and sun (192.0.2.2, bob's 203.0.113.0/24), as in TESTING.md.

use std::net::IpAddr;
use std::time::Duration;

use ike::config::{Auth, ChildConfig, Connection, SendCert};
use ike::crypto::Secret;
use ike::endpoint::Command;
use ike::kernel::{IpsecProtocol, Lifetime, Mode};
use ike::proposal::Preference;
use ike::sa::Event;
use ike::testing::{MOON, Pair, SUN};
use ike::wire::sa::{Proposal, Transform};
use ike::wire::ts::TrafficSelector;
use ike::wire::{EncrId, EsnId, IntegId, KeId, PrfId, ProtocolId, id};

pub fn ike_proposal(ke: KeId) -> Proposal {
    Proposal {
        number: 1,
        protocol: ProtocolId::IKE,
        spi: vec![],
        transforms: vec![
            Transform::encr(EncrId::ENCR_AES_GCM_16, Some(256)),
            Transform::prf(PrfId::PRF_HMAC_SHA2_384),
            Transform::ke(ke),
        ],
    }
}

pub fn esp_proposal() -> Proposal {
    Proposal {
        number: 1,
        protocol: ProtocolId::ESP,
        spi: vec![],
        transforms: vec![
            Transform::encr(EncrId::ENCR_AES_CBC, Some(128)),
            Transform::integ(IntegId::AUTH_HMAC_SHA2_256_128),
            Transform::esn(EsnId::NO_ESN),
        ],
    }
}

pub fn subnet(a: [u8; 3]) -> TrafficSelector {
    TrafficSelector::V4 {
        protocol: 0,
        start_port: 0,
        end_port: 65535,
        start: [a[0], a[1], a[2], 0].into(),
        end: [a[0], a[1], a[2], 255].into(),
    }
}

pub const ALICE_NET: [u8; 3] = [198, 51, 100];
pub const BOB_NET: [u8; 3] = [203, 0, 113];

/// One side of the moon-sun tunnel.
pub fn connection(
    me: &str,
    local: [u8; 4],
    remote: [u8; 4],
    local_net: [u8; 3],
    remote_net: [u8; 3],
    psk: &[u8],
) -> Connection {
    let other = if me == "moon" { "sun" } else { "moon" };
    Connection {
        name: "moon-sun".into(),
        local_addr: IpAddr::from(local),
        remote_addr: IpAddr::from(remote),
        proposals: vec![ike_proposal(KeId::CURVE25519)],
        preference: Preference::Initiator,
        local_id: id::Repr::fqdn(&format!("{me}.example")),
        remote_id: Some(id::Repr::fqdn(&format!("{other}.example"))),
        local_auth: Auth::Psk(Secret::from_slice(psk)),
        remote_auth: Auth::Psk(Secret::from_slice(psk)),
        children: vec![ChildConfig {
            name: "net-net".into(),
            local_ts: vec![subnet(local_net)],
            remote_ts: vec![subnet(remote_net)],
            proposals: vec![esp_proposal()],
            protocol: IpsecProtocol::Esp,
            mode: Mode::Tunnel,
            lifetime: Lifetime::default(),
            jitter: Default::default(),
            replay_window: 32,
            start_action: Default::default(),
            close_action: Default::default(),
            dpd_action: Default::default(),
            updown: None,
            xfrm: Default::default(),
        }],
        dpd_delay: Duration::ZERO,
        rekey_time: Duration::from_secs(4 * 3600),
        reauth_time: Duration::ZERO,
        over_time: Duration::from_secs(1440),
        rand_time: Duration::from_secs(1440),
        keyingtries: 1,
        encap: false,
        unique: Default::default(),
        send_cert: SendCert::IfAsked,
        send_certreq: true,
    }
}

pub fn moon(psk: &[u8]) -> Connection {
    connection(
        "moon",
        [192, 0, 2, 1],
        [192, 0, 2, 2],
        ALICE_NET,
        BOB_NET,
        psk,
    )
}

pub fn sun(psk: &[u8]) -> Connection {
    connection(
        "sun",
        [192, 0, 2, 2],
        [192, 0, 2, 1],
        BOB_NET,
        ALICE_NET,
        psk,
    )
}

/// Moon and sun with these connections, on a seeded network.
pub fn pair(seed: u64, moon_conn: Connection, sun_conn: Connection) -> Pair {
    let mut pair = Pair::new(seed);
    pair.peers[MOON].endpoint.add_connection(moon_conn);
    pair.peers[SUN].endpoint.add_connection(sun_conn);
    pair
}

/// Moon starts the moon-sun connection.
pub fn initiate(pair: &mut Pair) {
    pair.command(
        MOON,
        Command::Initiate {
            connection: "moon-sun".into(),
        },
    );
}

/// The SPIs (in, out) of the first Child SA that came up.
pub fn child_up(events: &[Event]) -> Option<(u32, u32)> {
    events.iter().find_map(|e| match e {
        Event::ChildUp {
            spi_in, spi_out, ..
        } => Some((*spi_in, *spi_out)),
        _ => None,
    })
}
