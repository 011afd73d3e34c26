use std::time::Duration;

use ike::crypto::encr::Encr;
use ike::crypto::keys::IkeSuite;
use ike::crypto::prf::Prf;
use ike::task::nat::Nat;
use ike::wire::sa::Transform;
use ike::wire::{EncrId, EsnId, IkeSpi, KeId, ProtocolId, TransformType};

use super::*;
use crate::daemon::control::LogLine;
use crate::kernel::Traffic;
use crate::vici::wire::{Item, Value};
use std::time::SystemTime;

fn child() -> ChildView {
    ChildView {
        name: "net".into(),
        uniqueid: 3,
        reqid: 1,
        state: "INSTALLED",
        mode: Mode::Tunnel,
        protocol: IpsecProtocol::Esp,
        encap: true,
        spi_in: 0xc000_0001,
        spi_out: 0x0000_00ab,
        proposal: Proposal {
            number: 1,
            protocol: ProtocolId::ESP,
            spi: vec![0xc0, 0, 0, 1],
            transforms: vec![
                Transform::encr(EncrId::ENCR_AES_GCM_16, Some(256)),
                Transform::new(TransformType::ESN, EsnId::ESN.0),
            ],
        },
        rekey_in: Some(Duration::from_secs(3000)),
        expires_in: Some(Duration::from_secs(3900)),
        installed: Duration::from_secs(12),
        local_ts: vec![ike::config::host_selector("198.51.100.1".parse().unwrap())],
        remote_ts: vec![TrafficSelector::V4 {
            protocol: 6,
            start_port: 443,
            end_port: 443,
            start: "203.0.113.0".parse().unwrap(),
            end: "203.0.113.9".parse().unwrap(),
        }],
        traffic_in: Some(Traffic {
            bytes: 8400,
            packets: 100,
            last_used: Some(SystemTime::now() - Duration::from_secs(3)),
        }),
        traffic_out: None,
    }
}

fn ike() -> IkeView {
    IkeView {
        name: "gw".into(),
        uniqueid: 7,
        state: "ESTABLISHED",
        local: "192.0.2.1:4500".parse().unwrap(),
        remote: "198.51.100.9:4500".parse().unwrap(),
        local_id: "moon.example".into(),
        remote_id: "%any".into(),
        initiator: true,
        spi_i: IkeSpi([0, 1, 2, 3, 4, 5, 6, 7]),
        spi_r: IkeSpi([0xff, 0xee, 0, 0, 0, 0, 0, 0x10]),
        nat: Nat {
            supported: true,
            local: true,
            remote: false,
        },
        algorithms: Some((
            IkeSuite {
                encr: Encr::AesGcm16 { key_len: 32 },
                integ: None,
                prf: Prf::HmacSha384,
            },
            KeId::CURVE25519,
        )),
        established: Some(Duration::from_secs(65)),
        rekey_in: Some(Duration::from_secs(14000)),
        children: vec![child()],
    }
}

fn keys(m: &Message) -> Vec<&str> {
    m.items.iter().map(|(n, _)| n.as_str()).collect()
}

#[test]
fn list_sa_has_strongswans_keys_order_and_formats() {
    let event = list_sa(&ike());
    assert_eq!(keys(&event), ["gw"]);
    let sa = event.section("gw").unwrap();
    assert_eq!(
        keys(sa),
        [
            "uniqueid",
            "version",
            "state",
            "local-host",
            "local-port",
            "local-id",
            "remote-host",
            "remote-port",
            "remote-id",
            "initiator",
            "initiator-spi",
            "responder-spi",
            "nat-local",
            "nat-any",
            "encr-alg",
            "encr-keysize",
            "prf-alg",
            "dh-group",
            "established",
            "rekey-time",
            "child-sas",
        ]
    );
    for (path, value) in [
        ("gw.uniqueid", "7"),
        ("gw.version", "2"),
        ("gw.local-port", "4500"),
        ("gw.initiator", "yes"),
        ("gw.initiator-spi", "0001020304050607"),
        ("gw.responder-spi", "ffee000000000010"),
        ("gw.encr-alg", "AES_GCM_16"),
        ("gw.encr-keysize", "256"),
        ("gw.prf-alg", "PRF_HMAC_SHA2_384"),
        ("gw.dh-group", "CURVE_25519"),
        ("gw.established", "65"),
        ("gw.child-sas.net-3.name", "net"),
        ("gw.child-sas.net-3.uniqueid", "3"),
        ("gw.child-sas.net-3.state", "INSTALLED"),
        ("gw.child-sas.net-3.mode", "TUNNEL"),
        ("gw.child-sas.net-3.protocol", "ESP"),
        ("gw.child-sas.net-3.encap", "yes"),
        ("gw.child-sas.net-3.spi-in", "c0000001"),
        ("gw.child-sas.net-3.spi-out", "000000ab"),
        ("gw.child-sas.net-3.encr-alg", "AES_GCM_16"),
        ("gw.child-sas.net-3.encr-keysize", "256"),
        ("gw.child-sas.net-3.esn", "1"),
        ("gw.child-sas.net-3.bytes-in", "8400"),
        ("gw.child-sas.net-3.packets-in", "100"),
        ("gw.child-sas.net-3.use-in", "3"),
        ("gw.child-sas.net-3.bytes-out", "0"),
        ("gw.child-sas.net-3.packets-out", "0"),
        ("gw.child-sas.net-3.rekey-time", "3000"),
        ("gw.child-sas.net-3.life-time", "3900"),
        ("gw.child-sas.net-3.install-time", "12"),
    ] {
        assert_eq!(event.find_str(path), Some(value), "{path}");
    }
    let child = event
        .section("gw")
        .and_then(|s| s.section("child-sas"))
        .and_then(|s| s.section("net-3"))
        .unwrap();
    assert!(child.value("integ-alg").is_none());
    // The kernel did not say when the outbound SA was last used.
    assert!(child.value("use-out").is_none());
    assert_eq!(
        child.list("local-ts").unwrap(),
        [Value::from("198.51.100.1/32")]
    );
    assert_eq!(
        child.list("remote-ts").unwrap(),
        [Value::from("203.0.113.0..203.0.113.9[tcp/443]")]
    );
}

#[test]
fn a_responder_without_nat_or_keys_leaves_those_keys_out() {
    let mut v = ike();
    v.initiator = false;
    v.nat = Nat::default();
    v.algorithms = None;
    v.state = "CONNECTING";
    v.established = None;
    v.children.clear();
    let sa = ike_sa(&v);
    for absent in [
        "initiator",
        "nat-local",
        "nat-any",
        "encr-alg",
        "established",
        "rekey-time",
    ] {
        assert!(sa.item(absent).is_none(), "{absent}");
    }
    assert_eq!(sa.str("state"), Some("CONNECTING"));
}

#[test]
fn sa_events_have_strongswans_layout() {
    let (name, up) = news_event(&News::IkeUpDown {
        up: true,
        ike: ike(),
    });
    assert_eq!(name, "ike-updown");
    assert_eq!(keys(&up), ["up", "gw"]);
    assert_eq!(up.str("up"), Some("yes"));
    assert!(up.section("gw").unwrap().item("child-sas").is_none());

    let (_, down) = news_event(&News::IkeUpDown {
        up: false,
        ike: ike(),
    });
    assert_eq!(keys(&down), ["gw"]);

    let (name, child_up) = news_event(&News::ChildUpDown {
        up: true,
        ike: ike(),
        child: child(),
    });
    assert_eq!(name, "child-updown");
    assert_eq!(
        child_up.find_str("gw.child-sas.net-3.spi-in"),
        Some("c0000001")
    );

    let mut new = child();
    new.uniqueid = 4;
    new.spi_in = 0xc000_0002;
    let (name, rekey) = news_event(&News::ChildRekey {
        ike: ike(),
        old: Box::new(child()),
        new: Box::new(new),
    });
    assert_eq!(name, "child-rekey");
    assert_eq!(
        rekey.find_str("gw.child-sas.net.old.spi-in"),
        Some("c0000001")
    );
    assert_eq!(
        rekey.find_str("gw.child-sas.net.new.spi-in"),
        Some("c0000002")
    );

    let mut next = ike();
    next.uniqueid = 8;
    let (name, rekey) = news_event(&News::IkeRekey {
        old: ike(),
        new: next,
    });
    assert_eq!(name, "ike-rekey");
    assert_eq!(rekey.find_str("gw.old.uniqueid"), Some("7"));
    assert_eq!(rekey.find_str("gw.new.uniqueid"), Some("8"));
}

#[test]
fn log_lines_carry_strongswans_fields() {
    let line = LogLine {
        group: "IKE",
        level: 0,
        ike: Some(("gw".into(), 7)),
        msg: "IKE_SA gw[7] established".into(),
    };
    let m = log(&line);
    assert_eq!(
        keys(&m),
        ["group", "level", "ikesa-name", "ikesa-uniqueid", "msg"]
    );
    assert_eq!(m.str("level"), Some("0"));
    let (name, _) = news_event(&News::Log(line));
    assert_eq!(name, "log");
    assert!(matches!(m.item("msg"), Some(Item::Value(_))));
}
