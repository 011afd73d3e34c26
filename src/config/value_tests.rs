//! Values: proposals, traffic selectors, identities, secrets, times and addresses.

use std::net::IpAddr;
use std::time::Duration;

use ike::crypto::Secret;
use ike::wire::sa::{Proposal, Transform};
use ike::wire::ts::TrafficSelector;
use ike::wire::{EncrId, EsnId, IntegId, KeId, PrfId, ProtocolId, TransformType, id};

use super::identity::{self, Identity};
use super::proposals::{Kind, parse_list};
use super::secrets::{Secrets, SharedKey, from_base64};
use super::values;

fn ike(list: &str) -> Vec<Proposal> {
    parse_list(Some(list), Kind::Ike).unwrap()
}

fn esp(list: &str) -> Vec<Proposal> {
    parse_list(Some(list), Kind::Esp).unwrap()
}

#[test]
fn ike_proposal_keywords() {
    let proposals = ike("aes256gcm16-prfsha384-x25519, aes128-sha256-modp3072");
    assert_eq!(proposals.len(), 2);
    assert_eq!(proposals[0].number, 1);
    assert_eq!(proposals[0].protocol, ProtocolId::IKE);
    assert_eq!(
        proposals[0].transforms,
        [
            Transform::encr(EncrId::ENCR_AES_GCM_16, Some(256)),
            Transform::prf(PrfId::PRF_HMAC_SHA2_384),
            Transform::ke(KeId::CURVE25519),
        ]
    );
    // No prf keyword: the PRF of the integrity algorithm's hash; strongSwan's type order.
    assert_eq!(proposals[1].number, 2);
    assert_eq!(
        proposals[1].transforms,
        [
            Transform::encr(EncrId::ENCR_AES_CBC, Some(128)),
            Transform::integ(IntegId::AUTH_HMAC_SHA2_256_128),
            Transform::prf(PrfId::PRF_HMAC_SHA2_256),
            Transform::ke(KeId::MODP_3072),
        ]
    );
    let p = &ike("modp2048-sha1-sha512-aes192-aes256-prfsha512-ecp521")[0].transforms;
    let ids = |ty| {
        p.iter()
            .filter(|t| t.ty == ty)
            .map(|t| t.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(TransformType::ENCR), [12, 12]);
    assert_eq!(ids(TransformType::INTEG), [2, 14]);
    assert_eq!(
        ids(TransformType::PRF),
        [7],
        "an explicit PRF replaces the derived ones"
    );
    assert_eq!(ids(TransformType::KE), [14, 21]);
    let chacha = &ike("chacha20poly1305-prfsha256-curve25519-ecp256-ecp384")[0];
    assert_eq!(
        chacha.transforms[0],
        Transform::encr(EncrId::ENCR_CHACHA20_POLY1305, None)
    );
    assert_eq!(chacha.transforms.len(), 5);
}

#[test]
fn esp_proposal_keywords() {
    let p = &esp("aes128gcm16-x25519")[0];
    assert_eq!(p.protocol, ProtocolId::ESP);
    // A key exchange in an ESP proposal asks for PFS; no ESN keyword means no ESN.
    assert_eq!(
        p.transforms,
        [
            Transform::encr(EncrId::ENCR_AES_GCM_16, Some(128)),
            Transform::ke(KeId::CURVE25519),
            Transform::esn(EsnId::NO_ESN),
        ]
    );
    let p = &esp("aes256-sha384-esn-noesn")[0].transforms;
    assert_eq!(p[2], Transform::esn(EsnId::ESN));
    assert_eq!(p[3], Transform::esn(EsnId::NO_ESN));
    // strongSwan drops PRFs from ESP, and integrity algorithms from AEAD proposals.
    let p = &esp("aes128gcm128-sha256-prfsha256")[0].transforms;
    assert_eq!(p.len(), 2);
}

#[test]
fn default_proposals() {
    let absent = parse_list(None, Kind::Ike).unwrap();
    assert_eq!(absent, ike("default"));
    assert_eq!(absent.len(), 2);
    let count = |p: &Proposal, ty| p.transforms.iter().filter(|t| t.ty == ty).count();
    assert_eq!(
        count(&absent[0], TransformType::ENCR),
        3,
        "AES-CBC 128/192/256"
    );
    assert_eq!(count(&absent[0], TransformType::INTEG), 4);
    assert_eq!(
        count(&absent[1], TransformType::INTEG),
        0,
        "the AEAD proposal"
    );
    assert_eq!(
        count(&absent[1], TransformType::ENCR),
        3,
        "AES-GCM-16 128/256, ChaCha20"
    );
    assert_eq!(
        absent[0].transforms.last(),
        Some(&Transform::ke(KeId::MODP_2048))
    );
    assert_eq!(count(&absent[1], TransformType::PRF), 4);
    // ESP: without esp_proposals the AEAD proposal is first; `default` written out puts it
    // second (vici_config.c).
    let absent = parse_list(None, Kind::Esp).unwrap();
    let written = esp("default");
    assert!(absent[0].transforms[0] == Transform::encr(EncrId::ENCR_AES_GCM_16, Some(128)));
    assert!(written[0].transforms[0] == Transform::encr(EncrId::ENCR_AES_CBC, Some(128)));
    assert_eq!(absent[0].transforms, written[1].transforms);
    assert_eq!([written[0].number, written[1].number], [1, 2]);
    // `default` among others keeps its place, and the numbering runs on.
    let mixed = esp("aes256gcm16, DEFAULT");
    assert_eq!(mixed.len(), 3);
    assert_eq!(mixed[2].number, 3);
}

#[test]
fn proposal_errors_name_the_problem() {
    let cases = [
        ("aes128-sha256-frobnicate", "unknown algorithm 'frobnicate'"),
        (
            "aes128ctr-sha256-x25519",
            "'aes128ctr' is not supported yet",
        ),
        ("aes128-sha256", "key exchange method is required"),
        ("aes128gcm16-x25519", "PRF is required"),
        ("aes128-prfsha256-x25519", "integrity algorithm is required"),
        ("aes128-aes128gcm16-sha256-x25519", "AEAD and classic"),
        ("sha256-x25519", "encryption algorithm is required"),
        ("aes128-sha256-x25519-esn", "ESP proposals"),
        ("aes128--sha256-x25519", "empty algorithm"),
    ];
    for (text, message) in cases {
        let error = parse_list(Some(text), Kind::Ike).unwrap_err();
        assert!(error.contains(message), "{text}: {error}");
        assert!(error.starts_with(&format!("'{text}'")), "{error}");
    }
    assert!(parse_list(Some(" , "), Kind::Esp).is_err());
    assert!(
        parse_list(Some("AES128-SHA256-X25519"), Kind::Ike).is_err(),
        "keywords are case-sensitive"
    );
}

fn v4(protocol: u8, ports: (u16, u16), start: [u8; 4], end: [u8; 4]) -> TrafficSelector {
    TrafficSelector::V4 {
        protocol,
        start_port: ports.0,
        end_port: ports.1,
        start: start.into(),
        end: end.into(),
    }
}

#[test]
fn traffic_selectors() {
    let ts = |s| values::traffic_selector(s).unwrap().unwrap();
    assert_eq!(
        ts("10.1.0.0/16"),
        v4(0, (0, 65535), [10, 1, 0, 0], [10, 1, 255, 255])
    );
    // Host bits are ignored, as strongSwan ignores them.
    assert_eq!(ts("10.1.2.3/16"), ts("10.1.0.0/16"));
    assert_eq!(
        ts("192.0.2.7"),
        v4(0, (0, 65535), [192, 0, 2, 7], [192, 0, 2, 7])
    );
    assert_eq!(ts("0.0.0.0/0"), v4(0, (0, 65535), [0; 4], [255; 4]));
    assert_eq!(
        ts("10.0.0.5-10.0.0.9"),
        v4(0, (0, 65535), [10, 0, 0, 5], [10, 0, 0, 9])
    );
    assert_eq!(
        ts("10.0.0.0/8[tcp/http]"),
        v4(6, (80, 80), [10, 0, 0, 0], [10, 255, 255, 255])
    );
    assert_eq!(
        ts("10.0.0.1[udp/500-0x1f4]"),
        v4(17, (500, 500), [10, 0, 0, 1], [10, 0, 0, 1])
    );
    assert_eq!(
        ts("10.0.0.1[udp/1000-2000]"),
        v4(17, (1000, 2000), [10, 0, 0, 1], [10, 0, 0, 1])
    );
    assert_eq!(
        ts("10.0.0.1[47]"),
        v4(47, (0, 65535), [10, 0, 0, 1], [10, 0, 0, 1])
    );
    assert_eq!(
        ts("10.0.0.1[any/22]"),
        v4(0, (22, 22), [10, 0, 0, 1], [10, 0, 0, 1])
    );
    // ICMP type 8 goes in the high byte of the port (strongSwan's traffic_selector.c).
    assert_eq!(
        ts("10.0.0.1[icmp/8]"),
        v4(1, (0x800, 0x800), [10, 0, 0, 1], [10, 0, 0, 1])
    );
    let TrafficSelector::V6 {
        start,
        end,
        protocol,
        ..
    } = ts("2001:db8::/32[ipv6-icmp]")
    else {
        panic!("not IPv6");
    };
    assert_eq!(
        (start.segments()[1], end.segments()[7], protocol),
        (0xdb8, 0xffff, 58)
    );
    assert_eq!(values::traffic_selector("dynamic"), Ok(None));
    let errors = [
        ("10.0.0.0/33", "not an address"),
        ("moon.example.org", "not an address"),
        (
            "10.0.0.0/8[sctp]",
            "protocol name 'sctp' is not supported yet",
        ),
        ("10.0.0.0/8[tcp/gopher-ish]", "port 'gopher-ish'"),
        ("10.0.0.0/8[tcp/70000]", "port '70000'"),
        ("10.0.0.0/8[tcp/opaque]", "OPAQUE"),
        ("10.0.0.0/8[tcp", "missing ']'"),
        ("10.0.0.0/8[300]", "not 0..255"),
        ("dynamic[tcp/80]", "not supported yet"),
        ("10.0.0.9-10.0.0.1", "ends before"),
        ("10.0.0.1-2001:db8::1", "mixes IPv4 and IPv6"),
    ];
    for (text, message) in errors {
        let error = values::traffic_selector(text).unwrap_err();
        assert!(error.contains(message), "{text}: {error}");
    }
}

#[test]
fn times_numbers_addresses() {
    let secs = |s| values::time(s).map(|d: Duration| d.as_secs());
    assert_eq!(secs("5400"), Ok(5400));
    assert_eq!(secs("30s"), Ok(30));
    assert_eq!(secs("10m"), Ok(600));
    assert_eq!(secs("4h"), Ok(14400));
    assert_eq!(secs("1d"), Ok(86400));
    assert_eq!(secs("0x10"), Ok(16));
    assert_eq!(secs("2 H"), Ok(7200));
    assert!(secs("1w").is_err() && secs("").is_err() && secs("-1s").is_err());
    assert!(secs("99999999999999999999d").is_err());
    assert_eq!(values::number("0x20"), Ok(32));
    assert_eq!(
        values::number("010"),
        Ok(8),
        "strtoul base 0 reads a leading 0 as octal"
    );
    assert!(values::number("08").is_err() && values::number_u32("4294967296").is_err());
    assert_eq!(values::bytes("1000"), Ok(1000));
    assert_eq!(values::bytes("100k"), Ok(102_400));
    assert_eq!(values::bytes("2 M"), Ok(2 << 20));
    assert_eq!(values::bytes("1g"), Ok(1 << 30));
    assert_eq!(values::bytes("0x10K"), Ok(16 << 10));
    for bad in ["", "1kb", "1t", "-1", "lots", "99999999999g"] {
        assert!(values::bytes(bad).is_err(), "{bad}");
    }
    let addr = |s| values::single_address(s);
    assert_eq!(addr("192.0.2.1"), Ok("192.0.2.1".parse().unwrap()));
    assert_eq!(addr("%any"), Ok(IpAddr::from([0, 0, 0, 0])));
    assert!(addr("%any6").unwrap().is_unspecified());
    assert_eq!(addr(" 2001:db8::1 "), Ok("2001:db8::1".parse().unwrap()));
    for (text, message) in [
        ("192.0.2.1, 192.0.2.2", "lists of addresses"),
        ("sun.example.org", "DNS names are not supported yet"),
        ("192.0.2.0/24", "subnets are not supported yet"),
        (
            "192.0.2.1-192.0.2.9",
            "address ranges are not supported yet",
        ),
    ] {
        let error = addr(text).unwrap_err();
        assert!(error.contains(message), "{text}: {error}");
    }
}

#[test]
fn identities_parse_like_strongswan() {
    let id = |s| match identity::parse(s).unwrap() {
        Identity::Id(repr) => repr,
        other => panic!("{s}: {other:?}"),
    };
    assert_eq!(id("moon.example.org"), id::Repr::fqdn("moon.example.org"));
    assert_eq!(id("@moon.example.org"), id::Repr::fqdn("moon.example.org"));
    assert_eq!(id("@@carol"), id::Repr::rfc822("carol"));
    assert_eq!(
        id("carol@example.org"),
        id::Repr::rfc822("carol@example.org")
    );
    assert_eq!(
        id("192.0.2.1"),
        id::Repr::addr("192.0.2.1".parse().unwrap())
    );
    assert_eq!(
        id("2001:db8::1"),
        id::Repr::addr("2001:db8::1".parse().unwrap())
    );
    assert_eq!(id("@#0a0b"), id::Repr::key_id(&[10, 11]));
    assert_eq!(id("keyid:#0a:0b"), id::Repr::key_id(&[10, 11]));
    assert_eq!(id("fqdn:192.0.2.1"), id::Repr::fqdn("192.0.2.1"));
    assert_eq!(
        id("EMAIL:carol@example.org"),
        id::Repr::rfc822("carol@example.org")
    );
    assert_eq!(
        id("ipv4:#c0000201"),
        id::Repr::addr("192.0.2.1".parse().unwrap())
    );
    // Not an address and no colon: an FQDN; with a colon: a key ID (strongSwan's fallbacks).
    assert_eq!(id("gw-1"), id::Repr::fqdn("gw-1"));
    assert_eq!(id("not:an:address"), id::Repr::key_id(b"not:an:address"));
    for any in ["%any", "%any6", "*", "0.0.0.0", "::", ""] {
        assert_eq!(identity::parse(any), Ok(Identity::Any), "{any}");
    }
    assert!(matches!(
        identity::parse("10.0.0.0/8"),
        Ok(Identity::Subnet { prefix: 8, .. })
    ));
    // Distinguished names, as text or as DER in hex.
    let dn = ike::auth::dn::from_text("C=CH, O=strongSwan, CN=moon").unwrap();
    assert_eq!(id("C=CH, O=strongSwan, CN=moon"), id::Repr::der_dn(&dn));
    assert_eq!(id("asn1dn:#3000"), id::Repr::der_dn(&[0x30, 0]));
    for (text, message) in [
        (
            "C=CH, Q=strongSwan",
            "distinguished name: unknown attribute 'Q'",
        ),
        ("asn1gn:#3000", "not supported yet"),
        ("{9}:#3000", "numeric identity types"),
        ("ipv4:192.0.2.1", "without the ipv4: prefix"),
    ] {
        let error = identity::parse(text).unwrap_err();
        assert!(error.contains(message), "{text}: {error}");
    }
    let usable = |s| identity::check_usable(s, &identity::parse(s).unwrap());
    assert!(usable("*.example.org").is_err() && usable("10.0.0.0/8").is_err());
    assert!(usable("10.0.0.1-10.0.0.9").is_err() && usable("moon.example.org").is_ok());
}

#[test]
fn identity_ranks() {
    let p = |s| identity::parse(s).unwrap();
    let rank = |a, b| identity::rank(&p(a), &p(b));
    assert_eq!(
        rank("moon.example.org", "MOON.example.org"),
        identity::MATCH_PERFECT
    );
    assert_eq!(
        rank("moon.example.org", "*.example.org"),
        identity::MATCH_ONE_WILDCARD
    );
    assert_eq!(rank("moon.example.org", "*"), identity::MATCH_ANY);
    assert_eq!(
        rank("moon.example.org", "sun.example.org"),
        identity::MATCH_NONE
    );
    assert_eq!(
        rank("moon.example.org", "@@moon.example.org"),
        identity::MATCH_NONE
    );
    assert_eq!(
        rank("192.0.2.1", "192.0.2.0/24"),
        identity::MATCH_ONE_WILDCARD
    );
    assert_eq!(rank("192.0.2.1", "192.0.2.1/32"), identity::MATCH_PERFECT);
    assert_eq!(
        rank("192.0.2.1", "0.0.0.0/0"),
        identity::MATCH_MAX_WILDCARDS
    );
    assert_eq!(rank("198.51.100.1", "192.0.2.0/24"), identity::MATCH_NONE);
    assert_eq!(rank("%any", "moon.example.org"), identity::MATCH_NONE);
    assert_eq!(rank("%any", "%any"), identity::MATCH_ANY);
}

fn key(name: &str, secret: &[u8], owners: &[&str]) -> SharedKey {
    SharedKey {
        name: name.into(),
        secret: Secret::from_slice(secret),
        owners: match owners {
            [] => vec![Identity::Any],
            _ => owners.iter().map(|o| identity::parse(o).unwrap()).collect(),
        },
    }
}

#[test]
fn psk_lookup_prefers_the_peers_identity_then_ours() {
    let secrets = Secrets {
        ike: vec![
            key("mine", b"1", &["moon.example.org"]),
            key("theirs", b"2", &["sun.example.org"]),
            key("both", b"3", &["moon.example.org", "sun.example.org"]),
            key("anyone", b"4", &[]),
            key("domain", b"5", &["*.example.net"]),
            key("address", b"6", &["192.0.2.1"]),
        ],
    };
    let find = |me: &str, other: &str| {
        let p = |s| identity::parse(s).unwrap();
        secrets.ike_psk(&p(me), &p(other)).map(|k| k.name.as_str())
    };
    assert_eq!(find("moon.example.org", "sun.example.org"), Some("both"));
    // The peer's identity counts first: a key only we own loses to a %any key.
    assert_eq!(
        find("moon.example.org", "carol.example.org"),
        Some("anyone")
    );
    assert_eq!(find("moon.example.org", "%any"), Some("anyone"));
    assert_eq!(find("sun.example.org", "gw.example.net"), Some("domain"));
    assert_eq!(find("192.0.2.1", "192.0.2.2"), Some("anyone"));
    let only_ours = Secrets {
        ike: vec![key("mine", b"1", &["moon.example.org"])],
    };
    let p = |s| identity::parse(s).unwrap();
    let found = only_ours.ike_psk(&p("moon.example.org"), &p("sun.example.org"));
    assert_eq!(found.map(|k| k.name.as_str()), Some("mine"));
    assert!(
        only_ours
            .ike_psk(&p("sun.example.org"), &p("carol"))
            .is_none()
    );
}

#[test]
fn base64_and_hex() {
    assert_eq!(
        from_base64("c3VuIGFuZCBtb29u").as_deref(),
        Some(&b"sun and moon"[..])
    );
    assert_eq!(from_base64("YQ==").as_deref(), Some(&b"a"[..]));
    assert_eq!(from_base64("YWI").as_deref(), Some(&b"ab"[..]));
    assert_eq!(from_base64("").as_deref(), Some(&b""[..]));
    assert!(
        from_base64("Y").is_none()
            && from_base64("YW!=").is_none()
            && from_base64("YQ===").is_none()
    );
    assert_eq!(identity::from_hex("0a:0B:c"), Ok(vec![0x00, 0xa0, 0xbc]));
    assert!(identity::from_hex("zz").is_err());
}
