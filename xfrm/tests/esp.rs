//! SAs against a kernel with ESP, AH and the crypto modules: every algorithm added, read back
//! and removed; tunnel, transport and UDP-encapsulated SA pairs carrying traffic between
//! namespaces; ACQUIRE and EXPIRE. The host kernels here lack ESP, so these are `#[ignore]`d
//! with an `esp:` reason and kept out of the root tier; `scripts/e2e` builds this binary on
//! the host and runs it in its VM (tests/e2e/020-xfrm-crate.sh).

mod common;

use std::time::Duration;

use common::esp_kit::*;
use common::pair::{MOON_EXT, MOON_EXT6, MOON_INT, Pair, SUN_EXT, SUN_EXT6, SUN_INT};
use common::*;
use xfrm::{
    Aead, Crypto, Direction, Encap, ErrorKind, Event, Events, Integrity, Key, Lifetime, Limits,
    Mark, Mode, NetNs, PolicyClass, Priority, Proto, Selector, Spi, SpiRequest, Xfrm,
};

#[test]
#[ignore = "esp: needs a kernel with ESP; scripts/e2e runs them"]
fn esp_every_algorithm_is_added_read_back_and_deleted() {
    block_on(async {
        let ns = NetNs::create().unwrap();
        let x = Xfrm::open_in(&ns).unwrap();
        for (i, (name, proto, crypto)) in all_cryptos().into_iter().enumerate() {
            let mode = if i % 2 == 0 {
                Mode::Tunnel
            } else {
                Mode::Transport
            };
            let mut spec = sa(
                "192.0.2.1",
                "192.0.2.2",
                0xc000_1000 + i as u32,
                proto,
                mode,
                crypto,
            );
            // Vary the optional settings across the list, so each is read back somewhere.
            spec.replay_window = [0, 32, 64, 1024][i % 4];
            spec.esn = i % 4 == 3;
            spec.lifetime.soft.bytes = Some(1 << 30);
            spec.lifetime.hard.add_seconds = Some(3600 + i as u64);
            spec.lifetime.soft.packets = (i % 3 == 0).then_some(1 << 20);
            spec.id.mark = (i % 3 == 1).then_some(Mark {
                value: i as u32,
                mask: 0xffff,
            });
            spec.if_id = (i % 3 == 2).then_some(7);
            spec.set_mark = (i % 5 == 0).then_some(Mark {
                value: 0x10,
                mask: 0xf0,
            });
            if mode == Mode::Transport {
                spec.selector =
                    Some(Selector::hosts(addr("192.0.2.1"), addr("192.0.2.2")).unwrap());
            }
            if proto == Proto::Esp && i % 4 == 1 {
                spec.encap = Some(Encap::NAT_T);
            }
            x.add_sa(&spec)
                .await
                .unwrap_or_else(|e| panic!("{name} {proto:?}: {e}"));
            let back = x.sa(&spec.id).await.unwrap();
            assert_eq!(back.spec, spec, "{name} {proto:?} read back differently");
            let shown = ns.run(|| ip(&["xfrm", "state", "list"])).unwrap();
            let expected = iproute2_algorithm_line(&spec.crypto);
            assert!(
                shown.contains(&expected),
                "{name}: no '{expected}' in {shown}"
            );
            assert_eq!(back.counters.packets, 0);
            assert_ne!(back.counters.add_time, 0);

            let again = x.add_sa(&spec).await.unwrap_err();
            assert_eq!(again.kind(), ErrorKind::Exists, "{again}");
            let mut longer = spec.clone();
            longer.lifetime.hard.add_seconds = Some(7200);
            x.update_sa(&longer).await.unwrap();
            assert_eq!(x.sa(&spec.id).await.unwrap().spec, longer);

            x.delete_sa(&spec.id).await.unwrap();
            let gone = x.sa(&spec.id).await.unwrap_err();
            assert_eq!(gone.kind(), ErrorKind::NotFound, "{gone}");
        }
        assert!(x.sas().await.unwrap().is_empty());
    });
}

#[test]
#[ignore = "esp: needs a kernel with ESP; scripts/e2e runs them"]
fn esp_sas_match_what_iproute2_installs() {
    block_on(async {
        let ns = NetNs::create().unwrap();
        let x = Xfrm::open_in(&ns).unwrap();
        let gcm_key = "0x0102030405060708090a0b0c0d0e0f1011121314";
        let enc_key = "0x000102030405060708090a0b0c0d0e0f";
        let auth_key = "0x202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f";
        let common = "xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp";
        let gcm_sa_args = format!(
            "{common} spi 0xc0002001 reqid 0x4b000010 mode tunnel replay-window 32 \
             aead rfc4106(gcm(aes)) {gcm_key} 128 encap espinudp 4500 4500 0.0.0.0 \
             mark 0x7 mask 0xff if_id 0x9"
        );
        let cbc_sa_args = format!(
            "{common} spi 0xc0002002 reqid 0x4b000010 mode transport flag esn replay-window 128 \
             enc cbc(aes) {enc_key} auth-trunc hmac(sha256) {auth_key} 128 \
             sel src 192.0.2.1/32 dst 192.0.2.2/32 limit time-hard 3600 limit byte-soft 1000000"
        );
        ns.run(|| {
            for args in [&gcm_sa_args, &cbc_sa_args] {
                ip(&args.split_whitespace().collect::<Vec<_>>());
            }
        })
        .unwrap();
        let hex = |s: &str| -> Vec<u8> {
            (2..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
                .collect()
        };
        let mut gcm = gcm_sa(addr("192.0.2.1"), addr("192.0.2.2"), 0xc000_2001);
        gcm.crypto = Crypto::Aead {
            alg: Aead::AesGcm16,
            key: Key::new(hex(gcm_key)),
        };
        gcm.encap = Some(Encap::NAT_T);
        gcm.id.mark = Some(Mark {
            value: 7,
            mask: 0xff,
        });
        gcm.if_id = Some(9);
        let mut cbc = gcm_sa(addr("192.0.2.1"), addr("192.0.2.2"), 0xc000_2002);
        cbc.mode = Mode::Transport;
        cbc.esn = true;
        cbc.replay_window = 128;
        cbc.crypto = Crypto::AesCbc {
            key: Key::new(hex(enc_key)),
            integrity: Integrity::HmacSha256_128,
            integrity_key: Key::new(hex(auth_key)),
        };
        cbc.selector = Some(Selector::hosts(addr("192.0.2.1"), addr("192.0.2.2")).unwrap());
        cbc.lifetime.hard.add_seconds = Some(3600);
        cbc.lifetime.soft.bytes = Some(1_000_000);
        for expected in [gcm, cbc] {
            let back = x.sa(&expected.id).await.unwrap();
            assert_eq!(back.spec, expected, "iproute2's SA reads back differently");
        }
        assert_eq!(x.sas().await.unwrap().len(), 2);
    });
}

#[test]
#[ignore = "esp: needs a kernel with ESP; scripts/e2e runs them"]
fn esp_tunnel_pair_carries_traffic() {
    block_on(async {
        let pair = Pair::new("tun");
        let (moon, sun) = pair.xfrm();
        install_pair(&moon, &sun, Mode::Tunnel, None).await;
        watch_wire(&pair);
        pair.echo(&format!("{MOON_INT}:0"), &format!("{SUN_INT}:7000"), 5);
        expect_counters(&moon, &sun, 5).await;
        assert!(Pair::counted(&pair.sun_name, "esp") >= 5);
        assert_eq!(Pair::counted(&pair.sun_name, "plain"), 0);
        assert_eq!(Pair::counted(&pair.sun_name, "natt"), 0);
    });
}

#[test]
#[ignore = "esp: needs a kernel with ESP; scripts/e2e runs them"]
fn esp_transport_pair_carries_traffic() {
    block_on(async {
        let pair = Pair::new("trn");
        let (moon, sun) = pair.xfrm();
        install_pair(&moon, &sun, Mode::Transport, None).await;
        watch_wire(&pair);
        pair.echo(&format!("{MOON_EXT}:0"), &format!("{SUN_EXT}:7000"), 5);
        expect_counters(&moon, &sun, 5).await;
        assert!(Pair::counted(&pair.sun_name, "esp") >= 5);
    });
}

#[test]
#[ignore = "esp: needs a kernel with ESP; scripts/e2e runs them"]
fn esp_udp_encapsulated_pair_carries_traffic_over_4500() {
    block_on(async {
        let pair = Pair::new("nat");
        let (moon, sun) = pair.xfrm();
        let _moon_4500 = encap_socket(&pair.moon, MOON_EXT);
        let _sun_4500 = encap_socket(&pair.sun, SUN_EXT);
        install_pair(&moon, &sun, Mode::Tunnel, Some(Encap::NAT_T)).await;
        watch_wire(&pair);
        pair.echo(&format!("{MOON_INT}:0"), &format!("{SUN_INT}:7000"), 5);
        expect_counters(&moon, &sun, 5).await;
        assert!(Pair::counted(&pair.sun_name, "natt") >= 5);
        assert_eq!(
            Pair::counted(&pair.sun_name, "esp"),
            0,
            "plain ESP on the wire"
        );
        assert_eq!(Pair::counted(&pair.sun_name, "plain"), 0);
        let back = moon.sa(&id(true)).await.unwrap();
        assert_eq!(back.spec.encap, Some(Encap::NAT_T));
    });
}

#[test]
#[ignore = "esp: needs a kernel with ESP; scripts/e2e runs them"]
fn esp_acquire_from_a_trap_policy_then_sas_carry_the_traffic() {
    block_on(async {
        let pair = Pair::new("acq");
        let (moon, sun) = pair.xfrm();
        let mut events = Events::subscribe_in(&pair.moon).unwrap();
        let mut trap = tunnel_policy(Direction::Out, OWNED_REQID);
        trap.priority = Priority::Auto(PolicyClass::Trap);
        moon.add_policy(&trap).await.unwrap();

        send_udp(
            &pair.moon,
            &format!("{MOON_INT}:0"),
            &format!("{SUN_INT}:7000"),
        );
        let event = within(Duration::from_secs(10), events.next())
            .await
            .unwrap();
        let Event::Acquire(acq) = event else {
            panic!("expected an ACQUIRE, got {event:?}")
        };
        assert_eq!((acq.src, acq.dst), (addr(MOON_EXT), addr(SUN_EXT)));
        assert_eq!(acq.reqid, OWNED_REQID);
        assert_eq!(acq.packet.map(|p| p.dst.addr()), Some(addr(SUN_INT)));

        // What IKE does next: reserve the inbound SPI, then install the SAs and policies. The
        // kernel keeps one policy per selector, direction and mark whatever the priority, so
        // the IPsec policy replaces the trap (update, not add).
        let spi = moon
            .alloc_spi(&SpiRequest {
                src: addr(SUN_EXT),
                dst: addr(MOON_EXT),
                proto: Proto::Esp,
                mode: Mode::Tunnel,
                reqid: OWNED_REQID,
                range: SPI_TO_MOON..=SPI_TO_MOON,
                acquire_seq: 0,
            })
            .await
            .unwrap();
        assert_eq!(spi, Spi(SPI_TO_MOON));
        let inbound = pair_sa(false, Mode::Tunnel, None);
        sun.add_sa(&inbound).await.unwrap();
        moon.update_sa(&inbound).await.unwrap();
        let outbound = pair_sa(true, Mode::Tunnel, None);
        moon.add_sa(&outbound).await.unwrap();
        sun.add_sa(&outbound).await.unwrap();
        for (x, ours) in [(&moon, true), (&sun, false)] {
            for dir in [Direction::Out, Direction::In] {
                let mut p = tunnel_policy(dir, OWNED_REQID);
                if !ours {
                    p = mirrored(p);
                }
                x.update_policy(&p).await.unwrap();
            }
        }
        assert_eq!(
            moon.policies().await.unwrap().len(),
            2,
            "the trap was not replaced"
        );
        pair.echo(&format!("{MOON_INT}:0"), &format!("{SUN_INT}:7000"), 3);
        expect_counters(&moon, &sun, 3).await;
    });
}

#[test]
#[ignore = "esp: needs a kernel with ESP; scripts/e2e runs them"]
fn esp_short_lifetime_raises_soft_then_hard_expire() {
    block_on(async {
        let ns = NetNs::create().unwrap();
        let x = Xfrm::open_in(&ns).unwrap();
        let mut events = Events::subscribe_in(&ns).unwrap();
        let mut spec = gcm_sa(addr("192.0.2.1"), addr("192.0.2.2"), 0xc000_3001);
        spec.lifetime = Lifetime {
            soft: Limits {
                add_seconds: Some(1),
                ..Limits::default()
            },
            hard: Limits {
                add_seconds: Some(3),
                ..Limits::default()
            },
        };
        x.add_sa(&spec).await.unwrap();
        let mut seen = Vec::new();
        while seen.len() < 2 {
            match within(Duration::from_secs(10), events.next())
                .await
                .unwrap()
            {
                Event::Expire(e) => {
                    assert_eq!(e.id.spi, spec.id.spi);
                    assert_eq!(e.id.dst, spec.id.dst);
                    assert_eq!(e.reqid, OWNED_REQID);
                    assert_eq!(e.src, spec.src);
                    seen.push(e.hard);
                }
                other => panic!("unexpected event {other:?}"),
            }
        }
        assert_eq!(seen, [false, true], "soft first, then hard");
        let gone = x.sa(&spec.id).await.unwrap_err();
        assert_eq!(gone.kind(), ErrorKind::NotFound, "{gone}");
    });
}

#[test]
#[ignore = "esp: needs a kernel with ESP; scripts/e2e runs them"]
fn esp_migrate_moves_the_sa_with_its_policy() {
    block_on(async {
        let ns = NetNs::create().unwrap();
        let x = Xfrm::open_in(&ns).unwrap();
        let out = sa(
            MOON_EXT,
            SUN_EXT,
            SPI_TO_SUN,
            Proto::Esp,
            Mode::Tunnel,
            Crypto::Aead {
                alg: Aead::AesGcm16,
                key: key(20, 1),
            },
        );
        x.add_sa(&out).await.unwrap();
        let policy = tunnel_policy(Direction::Out, OWNED_REQID);
        x.add_policy(&policy).await.unwrap();
        let moved = (addr("192.0.2.3"), addr(SUN_EXT));
        x.migrate(&xfrm::Migration {
            policy: policy.id,
            proto: Proto::Esp,
            mode: Mode::Tunnel,
            reqid: OWNED_REQID,
            old: (addr(MOON_EXT), addr(SUN_EXT)),
            new: moved,
            ike: None,
        })
        .await
        .unwrap();
        // Same destination and SPI, so the same id; the new source, keys kept.
        let back = x.sa(&out.id).await.unwrap();
        assert_eq!(back.spec.src, moved.0);
        assert_eq!(back.spec.crypto, out.crypto);
        let t = x.policy(&policy.id).await.unwrap().templates[0];
        assert_eq!((t.src, t.dst), moved);
        assert_eq!(
            x.sas().await.unwrap().len(),
            1,
            "the old SA was not replaced"
        );
    });
}

#[test]
#[ignore = "esp: needs a kernel with ESP; scripts/e2e runs them"]
fn esp_nat_mapping_change_is_reported() {
    block_on(async {
        let pair = Pair::new("map");
        let (moon, sun) = pair.xfrm();
        let _sun_4500 = encap_socket(&pair.sun, SUN_EXT);
        let mut events = Events::subscribe_in(&pair.sun).unwrap();
        let crypto = Crypto::Aead {
            alg: Aead::AesGcm16,
            key: key(20, 1),
        };
        let mut to_sun = sa(
            MOON_EXT,
            SUN_EXT,
            SPI_TO_SUN,
            Proto::Esp,
            Mode::Tunnel,
            crypto,
        );
        // Sun expects moon on 4500; moon sends from 4501, as if a NAT had moved it.
        to_sun.encap = Some(Encap::NAT_T);
        sun.add_sa(&to_sun).await.unwrap();
        to_sun.encap = Some(Encap {
            sport: 4501,
            dport: 4500,
        });
        moon.add_sa(&to_sun).await.unwrap();
        moon.add_policy(&tunnel_policy(Direction::Out, OWNED_REQID))
            .await
            .unwrap();
        sun.add_policy(
            &mirrored(tunnel_policy(Direction::Out, OWNED_REQID)).with_dir(Direction::In),
        )
        .await
        .unwrap();

        send_udp(
            &pair.moon,
            &format!("{MOON_INT}:0"),
            &format!("{SUN_INT}:7000"),
        );
        let event = within(Duration::from_secs(10), events.next())
            .await
            .unwrap();
        let Event::Mapping(m) = event else {
            panic!("expected a MAPPING, got {event:?}")
        };
        assert_eq!(
            (m.dst, m.spi, m.reqid),
            (addr(SUN_EXT), Spi(SPI_TO_SUN), OWNED_REQID)
        );
        assert_eq!(m.old, std::net::SocketAddr::new(addr(MOON_EXT), 4500));
        assert_eq!(m.new, std::net::SocketAddr::new(addr(MOON_EXT), 4501));
    });
}

#[test]
#[ignore = "esp: needs a kernel with ESP; scripts/e2e runs them"]
fn esp_packet_limit_raises_soft_expire_under_traffic() {
    block_on(async {
        let pair = Pair::new("lim");
        let (moon, sun) = pair.xfrm();
        install_pair(&moon, &sun, Mode::Tunnel, None).await;
        let mut events = Events::subscribe_in(&pair.moon).unwrap();
        // UPDSA on an installed SA replaces its lifetime in place.
        let mut limited = pair_sa(true, Mode::Tunnel, None);
        limited.lifetime.soft.packets = Some(3);
        moon.update_sa(&limited).await.unwrap();
        assert_eq!(
            moon.sa(&limited.id).await.unwrap().spec.lifetime,
            limited.lifetime
        );

        pair.echo(&format!("{MOON_INT}:0"), &format!("{SUN_INT}:7000"), 5);
        let event = within(Duration::from_secs(10), events.next())
            .await
            .unwrap();
        let Event::Expire(e) = event else {
            panic!("expected an EXPIRE, got {event:?}")
        };
        assert_eq!((e.id.spi, e.hard), (Spi(SPI_TO_SUN), false));
        // A soft limit leaves the SA in place, carrying traffic until IKE rekeys.
        let c = moon.sa_counters(&limited.id).await.unwrap();
        assert!(c.packets >= 5, "{c:?}");
    });
}

#[test]
#[ignore = "esp: needs a kernel with ESP; scripts/e2e runs them"]
fn esp_ipv4_traffic_crosses_an_ipv6_tunnel() {
    block_on(async {
        let pair = Pair::new("4o6");
        let (moon, sun) = pair.xfrm();
        let mut to_sun = pair_sa(true, Mode::Tunnel, None);
        let mut to_moon = pair_sa(false, Mode::Tunnel, None);
        (to_sun.src, to_sun.id.dst) = (addr(MOON_EXT6), addr(SUN_EXT6));
        (to_moon.src, to_moon.id.dst) = (addr(SUN_EXT6), addr(MOON_EXT6));
        for x in [&moon, &sun] {
            x.add_sa(&to_sun).await.unwrap();
            x.add_sa(&to_moon).await.unwrap();
        }
        for (x, mirror) in [(&moon, false), (&sun, true)] {
            for dir in [Direction::Out, Direction::In] {
                let mut p = tunnel_policy(dir, OWNED_REQID);
                let t = &mut p.templates[0];
                (t.src, t.dst) = match dir {
                    Direction::Out => (addr(MOON_EXT6), addr(SUN_EXT6)),
                    _ => (addr(SUN_EXT6), addr(MOON_EXT6)),
                };
                x.add_policy(&if mirror { mirrored(p) } else { p })
                    .await
                    .unwrap();
            }
        }
        pair.echo(&format!("{MOON_INT}:0"), &format!("{SUN_INT}:7000"), 3);
        for x in [&moon, &sun] {
            for id in [to_sun.id, to_moon.id] {
                let c = x.sa_counters(&id).await.unwrap();
                assert!(c.packets >= 3, "{id:?}: {c:?}");
            }
        }
    });
}
