//! The XFRM client against the host's kernel, in throwaway network namespaces. Needs root:
//! `scripts/test` runs these (`cargo nextest run --run-ignored only`) as root. The host kernel
//! may lack ESP: these tests use what works without it (policies, ALLOCSPI, dumps, flush,
//! ACQUIRE, POLEXPIRE); SAs are tested on a real kernel by the `esp_` tests (tests/esp.rs).

mod common;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use common::*;
use xfrm::{
    Action, Change, Direction, ErrorKind, Event, Events, Limits, Mode, NetNs, Owner, PolicyClass,
    Priority, Proto, SpiRequest, Xfrm,
};

#[test]
#[ignore = "root: needs CAP_NET_ADMIN"]
fn root_policy_add_get_update_delete() {
    block_on(async {
        let ns = NetNs::create().unwrap();
        let x = Xfrm::open_in(&ns).unwrap();
        let mut p = tunnel_policy(Direction::Out, OWNED_REQID);
        x.add_policy(&p).await.unwrap();

        let got = x.policy(&p.id).await.unwrap();
        assert_eq!(got.id, p.id);
        assert_eq!(got.templates, p.templates);
        assert_eq!(got.priority, p.effective_priority());
        assert_eq!(got.action, Action::Allow);

        let again = x.add_policy(&p).await.unwrap_err();
        assert_eq!(again.kind(), ErrorKind::Exists, "{again}");
        assert_eq!(again.errno(), Some(libc::EEXIST));
        // Another priority does not make it another policy.
        let mut trap = p.clone();
        trap.priority = Priority::Auto(PolicyClass::Trap);
        let again = x.add_policy(&trap).await.unwrap_err();
        assert_eq!(again.kind(), ErrorKind::Exists, "{again}");

        p.priority = Priority::Fixed(1000);
        p.templates[0].reqid = OWNED_REQID + 1;
        x.update_policy(&p).await.unwrap();
        let got = x.policy(&p.id).await.unwrap();
        assert_eq!(got.priority, 1000);
        assert_eq!(got.templates[0].reqid, OWNED_REQID + 1);

        x.delete_policy(&p.id).await.unwrap();
        let gone = x.delete_policy(&p.id).await.unwrap_err();
        assert_eq!(gone.kind(), ErrorKind::NotFound, "{gone}");
        let gone = x.policy(&p.id).await.unwrap_err();
        assert_eq!(gone.kind(), ErrorKind::NotFound, "{gone}");
        assert!(gone.to_string().starts_with("get policy: "), "{gone}");
    });
}

#[test]
#[ignore = "root: needs CAP_NET_ADMIN"]
fn root_policies_are_listed_as_ip_xfrm_sees_them() {
    block_on(async {
        let ns = NetNs::create().unwrap();
        let x = Xfrm::open_in(&ns).unwrap();
        let mut specs = Vec::new();
        for dir in [Direction::Out, Direction::In, Direction::Fwd] {
            specs.push(tunnel_policy(dir, OWNED_REQID));
        }
        let mut v6 = tunnel_policy_v6(Direction::Out, OWNED_REQID);
        v6.id.mark = Some(xfrm::Mark {
            value: 5,
            mask: 0xff,
        });
        v6.id.if_id = Some(3);
        specs.push(v6);
        for p in &specs {
            x.add_policy(p).await.unwrap();
        }
        let listed = x.policies().await.unwrap();
        assert_eq!(listed.len(), specs.len(), "{listed:#?}");
        for p in &specs {
            let found = listed.iter().find(|l| l.id == p.id);
            let found = found.unwrap_or_else(|| panic!("{:?} not listed: {listed:#?}", p.id));
            assert_eq!(found.templates, p.templates);
        }
        // iproute2 reads the same policies and priorities back.
        let shown = ns.run(|| ip(&["xfrm", "policy", "list"])).unwrap();
        let priority = specs[0].effective_priority();
        assert!(shown.contains(&format!("priority {priority}")), "{shown}");
        assert!(
            shown.contains("src 198.51.100.0/24 dst 203.0.113.0/24"),
            "{shown}"
        );
        assert!(shown.contains("dir fwd"), "{shown}");
        assert!(shown.contains("mark 0x5/0xff"), "{shown}");
        assert!(shown.contains("if_id 0x3"), "{shown}");
    });
}

#[test]
#[ignore = "root: needs CAP_NET_ADMIN"]
fn root_policy_priorities_pick_the_most_specific_selector() {
    block_on(async {
        let ns = NetNs::create().unwrap();
        let x = Xfrm::open_in(&ns).unwrap();
        let wide = tunnel_policy(Direction::Out, OWNED_REQID);
        let mut narrow = tunnel_policy(Direction::Out, OWNED_REQID + 1);
        narrow.id.selector = narrow.id.selector.with_proto(17);
        let mut trap = tunnel_policy(Direction::Out, OWNED_REQID + 2);
        trap.id.selector.dst = xfrm::Prefix::new(ip_addr("203.0.113.0"), 25).unwrap();
        trap.priority = Priority::Auto(PolicyClass::Trap);
        for p in [&wide, &narrow, &trap] {
            x.add_policy(p).await.unwrap();
        }
        // The kernel lists the SPD of a direction in the order it matches: best first.
        let order: Vec<u32> = x
            .policies()
            .await
            .unwrap()
            .iter()
            .map(|p| p.priority)
            .collect();
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order.len(), 3);
        let expected = [&trap, &narrow, &wide].map(|p| p.effective_priority());
        assert_eq!(
            sorted, expected,
            "a /25 trap beats a /24 with a protocol beats a bare /24"
        );
    });
}

#[test]
#[ignore = "root: needs CAP_NET_ADMIN"]
fn root_alloc_spi_stays_in_range_and_reports_exhaustion() {
    block_on(async {
        let ns = NetNs::create().unwrap();
        let x = Xfrm::open_in(&ns).unwrap();
        let req = |reqid: u32, range| SpiRequest {
            src: ip_addr("192.0.2.1"),
            dst: ip_addr("192.0.2.2"),
            proto: Proto::Esp,
            mode: Mode::Tunnel,
            reqid,
            range,
            acquire_seq: 0,
        };
        let spi = x
            .alloc_spi(&req(OWNED_REQID, 0xc000_1000..=0xc000_10ff))
            .await
            .unwrap();
        assert!((0xc000_1000..=0xc000_10ff).contains(&spi.0), "{spi}");
        let shown = ns.run(|| ip(&["xfrm", "state", "list"])).unwrap();
        assert!(shown.contains(&format!("spi {spi}")), "{shown}");

        let one = x
            .alloc_spi(&req(OWNED_REQID + 1, 0xc000_2000..=0xc000_2000))
            .await
            .unwrap();
        assert_eq!(one.0, 0xc000_2000);
        let none = x
            .alloc_spi(&req(OWNED_REQID + 2, 0xc000_2000..=0xc000_2000))
            .await
            .unwrap_err();
        assert_eq!(none.kind(), ErrorKind::SpiRangeExhausted, "{none}");

        let bad = x.alloc_spi(&req(OWNED_REQID, 5..=10)).await.unwrap_err();
        assert_eq!(bad.kind(), ErrorKind::BadInput);
    });
}

#[test]
#[ignore = "root: needs CAP_NET_ADMIN"]
fn root_flush_removes_only_owned_objects() {
    block_on(async {
        let ns = NetNs::create().unwrap();
        let x = Xfrm::open_in(&ns).unwrap().with_owner(Owner {
            reqids: OWNED_REQID..=OWNED_REQID + 0xff,
        });
        let ours = [
            tunnel_policy(Direction::Out, OWNED_REQID),
            tunnel_policy(Direction::In, OWNED_REQID + 5),
            tunnel_policy_v6(Direction::Fwd, OWNED_REQID + 0xff),
        ];
        let mut theirs = vec![
            tunnel_policy(Direction::Fwd, 1),
            tunnel_policy_v6(Direction::Out, OWNED_REQID + 0x100),
        ];
        let mut shunt = tunnel_policy_v6(Direction::In, 0);
        shunt.templates.clear();
        shunt.action = Action::Block;
        theirs.push(shunt);
        let changes: Vec<Change> = ours
            .iter()
            .chain(&theirs)
            .cloned()
            .map(Change::AddPolicy)
            .collect();
        for r in x.apply(&changes).await.unwrap() {
            r.unwrap();
        }
        let spi = |reqid| SpiRequest {
            src: ip_addr("192.0.2.1"),
            dst: ip_addr("192.0.2.2"),
            proto: Proto::Esp,
            mode: Mode::Tunnel,
            reqid,
            range: 0xc000_0100..=0xc000_ffff,
            acquire_seq: 0,
        };
        x.alloc_spi(&spi(OWNED_REQID + 1)).await.unwrap();
        let foreign = x.alloc_spi(&spi(7)).await.unwrap();

        let flushed = x.flush_owned().await.unwrap();
        assert_eq!((flushed.policies, flushed.sas), (3, 1));

        let left = x.policies().await.unwrap();
        assert_eq!(left.len(), theirs.len(), "{left:#?}");
        for p in &theirs {
            assert!(left.iter().any(|l| l.id == p.id), "{:?} was flushed", p.id);
        }
        let states = ns.run(|| ip(&["xfrm", "state", "list"])).unwrap();
        assert!(states.contains(&format!("spi {foreign}")), "{states}");
        assert_eq!(states.matches("spi ").count(), 1, "{states}");
        assert_eq!(x.flush_owned().await.unwrap(), Default::default());
    });
}

#[test]
#[ignore = "root: needs CAP_NET_ADMIN"]
fn root_batch_of_policies_is_applied_and_reported_per_change() {
    block_on(async {
        let ns = NetNs::create().unwrap();
        let x = Xfrm::open_in(&ns).unwrap();
        let n = 3000u32;
        let mut changes: Vec<Change> = (0..n)
            .map(|i| Change::AddPolicy(host_policy(i, OWNED_REQID)))
            .collect();
        // A duplicate in the middle fails alone; the rest still go in.
        changes.insert(1500, Change::AddPolicy(host_policy(7, OWNED_REQID)));
        let start = Instant::now();
        let results = x.apply(&changes).await.unwrap();
        let took = start.elapsed();
        assert_eq!(results.len(), changes.len());
        let failed: Vec<usize> = results
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.as_ref().err().map(|_| i))
            .collect();
        assert_eq!(failed, [1500]);
        assert_eq!(
            results[1500].as_ref().unwrap_err().kind(),
            ErrorKind::Exists
        );
        assert_eq!(x.policies().await.unwrap().len(), n as usize);
        eprintln!("{n} policies in one batch: {took:?}");
        assert_eq!(x.flush_owned().await.unwrap().policies, n as usize);
    });
}

#[test]
#[ignore = "root: needs CAP_NET_ADMIN"]
fn root_acquire_is_raised_by_a_packet_without_sa() {
    block_on(async {
        let ns = NetNs::create().unwrap();
        // A route out of a real interface: traffic to an address on lo never leaves, so no
        // outbound policy applies to it.
        ns.run(|| {
            ip(&["link", "add", "v0", "type", "veth", "peer", "name", "v1"]);
            ip(&["addr", "add", "192.0.2.1/24", "dev", "v0"]);
            ip(&["link", "set", "v0", "up"]);
            ip(&["link", "set", "v1", "up"]);
        })
        .unwrap();
        let x = Xfrm::open_in(&ns).unwrap();
        let mut events = Events::subscribe_in(&ns).unwrap();
        let mut trap = tunnel_policy(Direction::Out, OWNED_REQID);
        trap.id.selector = xfrm::Selector::hosts(ip_addr("192.0.2.1"), ip_addr("192.0.2.2"))
            .unwrap()
            .with_proto(17);
        trap.priority = Priority::Auto(PolicyClass::Trap);
        x.add_policy(&trap).await.unwrap();

        send_udp(&ns, "192.0.2.1:0", "192.0.2.2:9");
        let event = within(Duration::from_secs(5), events.next()).await.unwrap();
        let Event::Acquire(acq) = event else {
            panic!("expected an ACQUIRE, got {event:?}")
        };
        assert_eq!(acq.reqid, OWNED_REQID);
        assert_eq!(acq.proto, Some(Proto::Esp));
        assert_eq!(acq.src, ip_addr("192.0.2.1"));
        assert_eq!(acq.dst, ip_addr("192.0.2.2"));
        assert_eq!(acq.policy_dir, Some(Direction::Out));
        let packet = acq.packet.expect("the packet's selector");
        assert_eq!(packet.dport.port, 9);
        assert_ne!(acq.seq, 0);
        let policy = x
            .policy(&acq.policy_id().expect("policy id"))
            .await
            .unwrap();
        assert_eq!(policy.id, trap.id);

        // Answering the ACQUIRE: ALLOCSPI with its seq completes the kernel's larval SA.
        let spi = x
            .alloc_spi(&SpiRequest {
                src: acq.src,
                dst: acq.dst,
                proto: Proto::Esp,
                mode: Mode::Tunnel,
                reqid: acq.reqid,
                range: 0xc000_0100..=0xc000_01ff,
                acquire_seq: acq.seq,
            })
            .await
            .unwrap();
        let states = ns.run(|| ip(&["xfrm", "state", "list"])).unwrap();
        assert_eq!(states.matches("spi ").count(), 1, "{states}");
        assert!(states.contains(&format!("spi {spi}")), "{states}");
    });
}

#[test]
#[ignore = "root: needs CAP_NET_ADMIN"]
fn root_policy_expire_events_soft_then_hard() {
    block_on(async {
        let ns = NetNs::create().unwrap();
        let x = Xfrm::open_in(&ns).unwrap();
        let mut events = Events::subscribe_in(&ns).unwrap();
        let mut p = tunnel_policy(Direction::Out, OWNED_REQID);
        p.lifetime.soft = Limits {
            add_seconds: Some(1),
            ..Limits::default()
        };
        // Three seconds apart: the kernel reports only the hard expiry when one timer pass
        // finds both due, as it can on a loaded machine with them a second apart.
        p.lifetime.hard = Limits {
            add_seconds: Some(4),
            ..Limits::default()
        };
        x.add_policy(&p).await.unwrap();
        let mut seen = Vec::new();
        while seen.len() < 2 {
            // The kernel checks policy lifetimes once a second; allow for a loaded machine.
            let next = tokio::time::timeout(Duration::from_secs(10), events.next()).await;
            let Ok(event) = next else {
                panic!("no POLEXPIRE within 10 s; hard flags seen so far: {seen:?}")
            };
            match event.unwrap() {
                Event::PolicyExpire(e) => {
                    assert_eq!(e.policy.id, p.id);
                    seen.push(e.hard);
                }
                other => panic!("unexpected event {other:?}"),
            }
        }
        assert_eq!(seen, [false, true]);
        let gone = x.policy(&p.id).await.unwrap_err();
        assert_eq!(gone.kind(), ErrorKind::NotFound);
    });
}

#[test]
#[ignore = "root: needs CAP_NET_ADMIN"]
fn root_sa_on_this_kernel_installs_or_says_what_is_missing() {
    block_on(async {
        let ns = NetNs::create().unwrap();
        let x = Xfrm::open_in(&ns).unwrap();
        let sa = gcm_sa(ip_addr("192.0.2.1"), ip_addr("192.0.2.2"), 0xc000_0042);
        match x.add_sa(&sa).await {
            Ok(()) => {
                eprintln!("this kernel has ESP and GCM: SA installed");
                x.delete_sa(&sa.id).await.unwrap();
            }
            Err(e) => {
                eprintln!("skipping SA install, as expected on a kernel without ESP: {e}");
                assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
                let text = e.to_string();
                assert!(text.starts_with("add SA: kernel lacks "), "{text}");
                assert!(text.contains("esp4"), "{text}");
            }
        }
        let missing = x.delete_sa(&sa.id).await.unwrap_err();
        assert_eq!(missing.kind(), ErrorKind::NotFound, "{missing}");
        assert_eq!(missing.errno(), Some(libc::ESRCH));
    });
}

fn ip_addr(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
#[ignore = "root: needs CAP_NET_ADMIN"]
fn root_sad_and_spd_info_count_what_is_installed() {
    block_on(async {
        let ns = NetNs::create().unwrap();
        let x = Xfrm::open_in(&ns).unwrap();
        assert_eq!(x.spd_info().await.unwrap().outbound, 0);
        for dir in [Direction::Out, Direction::In, Direction::Fwd] {
            x.add_policy(&tunnel_policy(dir, OWNED_REQID))
                .await
                .unwrap();
        }
        x.add_policy(&tunnel_policy_v6(Direction::Out, OWNED_REQID))
            .await
            .unwrap();
        let spd = x.spd_info().await.unwrap();
        assert_eq!(
            (spd.inbound, spd.outbound, spd.forward),
            (1, 2, 1),
            "{spd:?}"
        );
        assert!(spd.hash_buckets > 0, "{spd:?}");

        assert_eq!(x.sad_info().await.unwrap().sas, 0);
        x.alloc_spi(&SpiRequest {
            src: ip_addr("192.0.2.1"),
            dst: ip_addr("192.0.2.2"),
            proto: Proto::Esp,
            mode: Mode::Tunnel,
            reqid: OWNED_REQID,
            range: 0xc000_0100..=0xc000_01ff,
            acquire_seq: 0,
        })
        .await
        .unwrap();
        let sad = x.sad_info().await.unwrap();
        assert_eq!(sad.sas, 1, "{sad:?}");
    });
}

#[test]
#[ignore = "root: needs CAP_NET_ADMIN"]
fn root_migrate_moves_a_policy_template() {
    block_on(async {
        let ns = NetNs::create().unwrap();
        let x = Xfrm::open_in(&ns).unwrap();
        let p = tunnel_policy(Direction::Out, OWNED_REQID);
        x.add_policy(&p).await.unwrap();
        let migration = xfrm::Migration {
            policy: p.id,
            proto: Proto::Esp,
            mode: Mode::Tunnel,
            reqid: OWNED_REQID,
            old: (ip_addr("192.0.2.1"), ip_addr("192.0.2.2")),
            new: (ip_addr("192.0.2.3"), ip_addr("192.0.2.2")),
            ike: Some((ip_addr("192.0.2.3"), ip_addr("192.0.2.2"))),
        };
        match x.migrate(&migration).await {
            Ok(()) => {
                let t = x.policy(&p.id).await.unwrap().templates[0];
                assert_eq!((t.src, t.dst), migration.new);
                assert_eq!(t.reqid, OWNED_REQID);
            }
            // Kernels built without CONFIG_XFRM_MIGRATE have no handler for the message.
            Err(e)
                if e.errno() == Some(libc::ENOPROTOOPT) || e.errno() == Some(libc::EOPNOTSUPP) =>
            {
                eprintln!("skipping: this kernel lacks XFRM MIGRATE: {e}");
            }
            Err(e) => panic!("{e}"),
        }
        let mut missing = migration;
        missing.policy.dir = Direction::Fwd;
        let err = x.migrate(&missing).await.unwrap_err();
        assert!(
            err.to_string().starts_with("migrate policy and SAs: "),
            "{err}"
        );
    });
}

#[test]
#[ignore = "root: needs CAP_NET_ADMIN"]
fn root_cancelled_requests_leave_the_client_usable() {
    block_on(async {
        let ns = NetNs::create().unwrap();
        let x = Xfrm::open_in(&ns).unwrap();
        let n = 2000u32;
        let changes: Vec<Change> = (0..n)
            .map(|i| Change::AddPolicy(host_policy(i, OWNED_REQID)))
            .collect();
        for r in x.apply(&changes).await.unwrap() {
            r.unwrap();
        }
        // Give up on dumps at various points; their late replies must not leak into the
        // answers to later requests.
        for micros in [0, 50, 200, 1000] {
            let _ = tokio::time::timeout(Duration::from_micros(micros), x.policies()).await;
            assert_eq!(x.policies().await.unwrap().len(), n as usize);
        }
        // Concurrent callers take turns on the one socket.
        let extra = tunnel_policy(Direction::Fwd, OWNED_REQID);
        let (added, listed, info) = tokio::join!(x.add_policy(&extra), x.policies(), x.spd_info());
        added.unwrap();
        let listed = listed.unwrap().len();
        assert!(listed == n as usize || listed == n as usize + 1, "{listed}");
        assert!(info.unwrap().outbound == n);
        assert_eq!(x.policy(&extra.id).await.unwrap().id, extra.id);
    });
}

#[test]
#[ignore = "root: needs CAP_NET_ADMIN"]
fn root_invalid_changes_fail_alone_without_reaching_the_kernel() {
    block_on(async {
        let ns = NetNs::create().unwrap();
        let x = Xfrm::open_in(&ns).unwrap();
        let mut short_key = gcm_sa(ip_addr("192.0.2.1"), ip_addr("192.0.2.2"), 0xc000_0100);
        short_key.crypto = xfrm::Crypto::Aead {
            alg: xfrm::Aead::AesGcm16,
            key: xfrm::Key::new(vec![1; 16]),
        };
        let mut mixed = tunnel_policy(Direction::In, OWNED_REQID);
        mixed.templates[0].dst = ip_addr("2001:db8::2");
        let changes = [
            Change::AddPolicy(tunnel_policy(Direction::Out, OWNED_REQID)),
            Change::AddSa(short_key),
            Change::AddPolicy(mixed),
            Change::AddPolicy(tunnel_policy(Direction::Fwd, OWNED_REQID)),
        ];
        let results = x.apply(&changes).await.unwrap();
        let kinds: Vec<Option<ErrorKind>> = results
            .iter()
            .map(|r| r.as_ref().err().map(|e| e.kind()))
            .collect();
        let bad = Some(ErrorKind::BadInput);
        assert_eq!(kinds, [None, bad, bad, None]);
        let err = results[1].as_ref().unwrap_err().to_string();
        assert!(err.starts_with("add SA: rfc4106(gcm(aes)) takes"), "{err}");
        assert_eq!(x.policies().await.unwrap().len(), 2);
        assert_eq!(x.sad_info().await.unwrap().sas, 0);
    });
}
