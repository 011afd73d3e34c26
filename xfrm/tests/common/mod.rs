//! Helpers shared by the root and ESP test binaries.
// Each test binary uses a different subset.
#![allow(dead_code)]

pub mod esp_kit;
pub mod pair;

use std::future::Future;
use std::net::IpAddr;
use std::process::Command;
use std::time::Duration;

use xfrm::{
    Action, Aead, Crypto, Direction, Key, Lifetime, Mode, NetNs, PolicyClass, PolicyId, PolicySpec,
    Prefix, Priority, Proto, SaId, SaSpec, Selector, Spi, Template,
};

/// Inside the default `Owner` range.
pub const OWNED_REQID: u32 = 0x4b00_0010;

pub fn block_on<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// `f`'s result, or a panic naming the limit.
pub async fn within<F: Future>(limit: Duration, f: F) -> F::Output {
    tokio::time::timeout(limit, f)
        .await
        .unwrap_or_else(|_| panic!("nothing within {limit:?}"))
}

/// Runs `ip ARGS` in the calling thread's namespace; panics with its stderr if it fails.
pub fn ip(args: &[&str]) -> String {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Sends one UDP datagram from `from` to `to`, inside `ns`.
pub fn send_udp(ns: &NetNs, from: &str, to: &str) {
    let (from, to) = (from.to_owned(), to.to_owned());
    ns.run(move || {
        let socket = std::net::UdpSocket::bind(&from).unwrap();
        // With larval drop (the default), a packet waiting for its SA is dropped, and send
        // may say so: that is expected here.
        let _ = socket.send_to(b"ikerd test", &to);
    })
    .unwrap();
}

pub fn addr(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn policy(selector: Selector, dir: Direction, reqid: u32, outer: (&str, &str)) -> PolicySpec {
    let (src, dst) = match dir {
        Direction::Out => (outer.0, outer.1),
        Direction::In | Direction::Fwd => (outer.1, outer.0),
    };
    PolicySpec {
        id: PolicyId {
            selector,
            dir,
            mark: None,
            if_id: None,
        },
        action: Action::Allow,
        templates: vec![Template {
            src: addr(src),
            dst: addr(dst),
            proto: Proto::Esp,
            mode: Mode::Tunnel,
            reqid,
            spi: None,
            optional: false,
        }],
        priority: Priority::Auto(PolicyClass::Ipsec),
        lifetime: Lifetime::default(),
    }
}

/// alice's net to bob's net (or back, for in and fwd), tunnelled moon -> sun.
pub fn tunnel_policy(dir: Direction, reqid: u32) -> PolicySpec {
    let (src, dst) = match dir {
        Direction::Out => ("198.51.100.0", "203.0.113.0"),
        _ => ("203.0.113.0", "198.51.100.0"),
    };
    let selector = Selector::new(
        Prefix::new(addr(src), 24).unwrap(),
        Prefix::new(addr(dst), 24).unwrap(),
    )
    .unwrap();
    policy(selector, dir, reqid, ("192.0.2.1", "192.0.2.2"))
}

pub fn tunnel_policy_v6(dir: Direction, reqid: u32) -> PolicySpec {
    let selector = Selector::new(
        Prefix::new(addr("2001:db8:a::"), 48).unwrap(),
        Prefix::new(addr("2001:db8:b::"), 48).unwrap(),
    )
    .unwrap();
    policy(selector, dir, reqid, ("2001:db8::1", "2001:db8::2"))
}

/// The `i`th of many host-to-host policies (distinct selectors).
pub fn host_policy(i: u32, reqid: u32) -> PolicySpec {
    // 198.51.100.0/24 and 203.0.113.0/24 hold 256 hosts each: vary both for up to 65536.
    let s = IpAddr::from([198, 51, 100, (i & 0xff) as u8]);
    let d = IpAddr::from([203, 0, 113, ((i >> 8) & 0xff) as u8]);
    let selector = Selector::hosts(s, d).unwrap();
    policy(selector, Direction::Out, reqid, ("192.0.2.1", "192.0.2.2"))
}

/// A tunnel-mode AES-GCM-128 ESP SA.
pub fn gcm_sa(src: IpAddr, dst: IpAddr, spi: u32) -> SaSpec {
    SaSpec {
        id: SaId {
            dst,
            spi: Spi(spi),
            proto: Proto::Esp,
            mark: None,
        },
        src,
        mode: Mode::Tunnel,
        reqid: OWNED_REQID,
        crypto: Crypto::Aead {
            alg: Aead::AesGcm16,
            key: Key::new((0..20).collect()),
        },
        selector: None,
        encap: None,
        replay_window: 32,
        esn: false,
        lifetime: Lifetime::default(),
        if_id: None,
        set_mark: None,
    }
}
