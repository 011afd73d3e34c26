use std::net::IpAddr;

use super::*;
use crate::types::Prefix;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn spec(crypto: Crypto, proto: Proto) -> SaSpec {
    SaSpec {
        id: SaId {
            dst: ip("192.0.2.2"),
            spi: Spi(0xc000_0102),
            proto,
            mark: None,
        },
        src: ip("192.0.2.1"),
        mode: Mode::Tunnel,
        reqid: 0x4b00_0007,
        crypto,
        selector: None,
        encap: None,
        replay_window: 32,
        esn: false,
        lifetime: Lifetime::default(),
        if_id: None,
        set_mark: None,
    }
}

fn gcm() -> Crypto {
    Crypto::Aead {
        alg: Aead::AesGcm16,
        key: Key::new((1..=20).collect()),
    }
}

/// Encodes, then decodes as the kernel would echo it back.
fn round_trip(sa: &SaSpec) -> SaInfo {
    let (info, mut attrs) = sa.to_wire();
    SaSpec::from_wire(&info, &mut attrs).unwrap()
}

#[test]
fn every_algorithm_round_trips() {
    let cryptos = [
        (gcm(), Proto::Esp),
        (
            Crypto::Aead {
                alg: Aead::AesGcm16,
                key: Key::new(vec![9; 36]),
            },
            Proto::Esp,
        ),
        (
            Crypto::Aead {
                alg: Aead::ChaCha20Poly1305,
                key: Key::new(vec![3; 36]),
            },
            Proto::Esp,
        ),
        (
            Crypto::AesCbc {
                key: Key::new(vec![1; 16]),
                integrity: Integrity::HmacSha256_128,
                integrity_key: Key::new(vec![2; 32]),
            },
            Proto::Esp,
        ),
        (
            Crypto::Auth {
                integrity: Integrity::HmacSha512_256,
                key: Key::new(vec![4; 64]),
            },
            Proto::Ah,
        ),
    ];
    for (crypto, proto) in cryptos {
        let sa = spec(crypto, proto);
        sa.validate(Op::AddSa).unwrap();
        assert_eq!(round_trip(&sa).spec, sa);
    }
}

#[test]
fn aead_goes_in_alg_aead_with_bits_and_icv() {
    let (_, attrs) = spec(gcm(), Proto::Esp).to_wire();
    let XfrmAttrs::EncryptionAlgAead(a) = &attrs[0] else {
        panic!("{attrs:?}")
    };
    assert_eq!(name_of(&a.alg_name), "rfc4106(gcm(aes))");
    assert_eq!(a.alg_key_len, 160);
    assert_eq!(a.alg_icv_len, 128);
}

#[test]
fn hmac_uses_the_truncating_attribute() {
    let crypto = Crypto::Auth {
        integrity: Integrity::HmacSha256_128,
        key: Key::new(vec![4; 32]),
    };
    let (_, attrs) = spec(crypto, Proto::Ah).to_wire();
    let XfrmAttrs::AuthenticationAlgTrunc(a) = &attrs[0] else {
        panic!("{attrs:?}")
    };
    assert_eq!(a.alg_trunc_len, 128);
    assert_eq!(a.alg_key_len, 256);
}

#[test]
fn small_window_stays_in_the_legacy_field() {
    let (info, attrs) = spec(gcm(), Proto::Esp).to_wire();
    assert_eq!(info.replay_window, 32);
    assert!(
        !attrs
            .iter()
            .any(|a| matches!(a, XfrmAttrs::ReplayStateEsn(_)))
    );
}

#[test]
fn esn_and_large_windows_use_the_bitmap() {
    let mut sa = spec(gcm(), Proto::Esp);
    sa.esn = true;
    sa.replay_window = 1024;
    let (info, attrs) = sa.to_wire();
    assert_eq!(info.flags & XFRM_STATE_ESN, XFRM_STATE_ESN);
    assert_eq!(info.replay_window, 0);
    let esn = attrs
        .iter()
        .find_map(|a| match a {
            XfrmAttrs::ReplayStateEsn(r) => Some(r),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        (esn.replay_window, esn.bmp_len, esn.bmp.len()),
        (1024, 32, 32)
    );
    assert_eq!(round_trip(&sa).spec, sa);
}

#[test]
fn esn_without_window_is_refused_before_sending() {
    let mut sa = spec(gcm(), Proto::Esp);
    sa.esn = true;
    sa.replay_window = 0;
    assert_eq!(
        sa.validate(Op::AddSa).unwrap_err().kind(),
        crate::ErrorKind::BadInput
    );
    sa.replay_window = MAX_REPLAY_WINDOW + 1;
    assert!(sa.validate(Op::AddSa).is_err());
}

#[test]
fn everything_optional_round_trips() {
    let mut sa = spec(gcm(), Proto::Esp);
    sa.mode = Mode::Transport;
    sa.selector = Some(
        crate::types::Selector::new(Prefix::host(ip("192.0.2.1")), Prefix::host(ip("192.0.2.2")))
            .unwrap()
            .with_proto(17),
    );
    sa.encap = Some(Encap::NAT_T);
    sa.id.mark = Some(Mark {
        value: 7,
        mask: 0xff,
    });
    sa.if_id = Some(42);
    sa.set_mark = Some(Mark {
        value: 0x100,
        mask: 0xf00,
    });
    sa.lifetime = Lifetime {
        soft: Limits {
            bytes: Some(1 << 30),
            packets: Some(1000),
            add_seconds: Some(3000),
            use_seconds: None,
        },
        hard: Limits {
            bytes: Some(1 << 31),
            packets: None,
            add_seconds: Some(3600),
            use_seconds: Some(600),
        },
    };
    assert_eq!(round_trip(&sa).spec, sa);
    let (info, _) = sa.to_wire();
    assert_eq!(info.lifetime_cfg.hard_packet_limit, u64::MAX);
}

#[test]
fn encap_only_for_esp() {
    let mut sa = spec(
        Crypto::Auth {
            integrity: Integrity::HmacSha1_96,
            key: Key::new(vec![1; 20]),
        },
        Proto::Ah,
    );
    sa.encap = Some(Encap::NAT_T);
    assert!(sa.validate(Op::AddSa).is_err());
}

#[test]
fn decoding_wipes_the_key_bytes_it_read() {
    let (info, mut attrs) = spec(gcm(), Proto::Esp).to_wire();
    SaSpec::from_wire(&info, &mut attrs).unwrap();
    let XfrmAttrs::EncryptionAlgAead(a) = &attrs[0] else {
        panic!()
    };
    assert!(a.alg_key.is_empty(), "key left in the codec's buffer");
}

#[test]
fn wipe_attrs_clears_every_key() {
    let crypto = Crypto::AesCbc {
        key: Key::new(vec![1; 32]),
        integrity: Integrity::HmacSha384_192,
        integrity_key: Key::new(vec![2; 48]),
    };
    let (_, mut attrs) = spec(crypto, Proto::Esp).to_wire();
    wipe_attrs(&mut attrs);
    for a in &attrs {
        match a {
            XfrmAttrs::EncryptionAlg(a) => assert!(a.alg_key.is_empty()),
            XfrmAttrs::AuthenticationAlgTrunc(a) => assert!(a.alg_key.is_empty()),
            _ => {}
        }
    }
}

#[test]
fn kernel_key_shorter_than_stated_is_a_protocol_error() {
    let (info, mut attrs) = spec(gcm(), Proto::Esp).to_wire();
    if let XfrmAttrs::EncryptionAlgAead(a) = &mut attrs[0] {
        a.alg_key.truncate(4);
    }
    let err = SaSpec::from_wire(&info, &mut attrs).unwrap_err();
    assert_eq!(err.kind(), crate::ErrorKind::Protocol);
}

#[test]
fn unknown_protocol_or_mode_is_an_error_not_a_panic() {
    let (mut info, mut attrs) = spec(gcm(), Proto::Esp).to_wire();
    info.mode = 4; // BEET
    assert!(SaSpec::from_wire(&info, &mut attrs).is_err());
    let (mut info, mut attrs) = spec(gcm(), Proto::Esp).to_wire();
    info.id.proto = 108;
    assert!(SaSpec::from_wire(&info, &mut attrs).is_err());
}

#[test]
fn ipv6_sa_round_trips() {
    let mut sa = spec(gcm(), Proto::Esp);
    sa.src = ip("2001:db8::1");
    sa.id.dst = ip("2001:db8::2");
    let (info, _) = sa.to_wire();
    assert_eq!(info.family, crate::wire::AF_INET6);
    assert_eq!(round_trip(&sa).spec, sa);
    sa.src = ip("192.0.2.1");
    assert!(sa.validate(Op::AddSa).is_err());
}

#[test]
fn open_tunnel_sa_takes_either_inner_family() {
    let (info, _) = spec(gcm(), Proto::Esp).to_wire();
    assert_eq!(info.flags & XFRM_STATE_AF_UNSPEC, XFRM_STATE_AF_UNSPEC);
    assert_eq!(info.selector.family, 0);
    let mut transport = spec(gcm(), Proto::Esp);
    transport.mode = Mode::Transport;
    let (info, _) = transport.to_wire();
    assert_eq!(info.flags & XFRM_STATE_AF_UNSPEC, 0);
    assert_eq!(info.selector.family, crate::wire::AF_INET);
}
