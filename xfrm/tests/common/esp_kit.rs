//! Building blocks of the `esp_` tests (tests/esp.rs): SA specs for every algorithm, what
//! iproute2 prints for them, SA pairs with their policies between the two gateways of
//! [`super::pair::Pair`], and wire counters.

use xfrm::{
    Aead, Crypto, Direction, Encap, Integrity, Key, Mode, NetNs, Prefix, Proto, SaId, SaSpec,
    Selector, Spi, Xfrm,
};

use super::pair::{MOON_EXT, Pair, SUN_EXT};
use super::{OWNED_REQID, addr, gcm_sa, tunnel_policy};

pub const SPI_TO_SUN: u32 = 0xc000_0101;
pub const SPI_TO_MOON: u32 = 0xc000_0102;

pub fn key(len: usize, seed: u8) -> Key {
    Key::new(
        (0..len)
            .map(|i| seed.wrapping_add((i as u8).wrapping_mul(7)))
            .collect(),
    )
}

/// Every transform of issue 5, keyed.
pub fn all_cryptos() -> Vec<(&'static str, Proto, Crypto)> {
    let mut out = vec![
        (
            "aes128gcm16",
            Proto::Esp,
            Crypto::Aead {
                alg: Aead::AesGcm16,
                key: key(20, 1),
            },
        ),
        (
            "aes256gcm16",
            Proto::Esp,
            Crypto::Aead {
                alg: Aead::AesGcm16,
                key: key(36, 2),
            },
        ),
        (
            "chacha20poly1305",
            Proto::Esp,
            Crypto::Aead {
                alg: Aead::ChaCha20Poly1305,
                key: key(36, 3),
            },
        ),
    ];
    let integrities = [
        ("sha1_96", Integrity::HmacSha1_96, 20),
        ("sha256_128", Integrity::HmacSha256_128, 32),
        ("sha384_192", Integrity::HmacSha384_192, 48),
        ("sha512_256", Integrity::HmacSha512_256, 64),
    ];
    for (i, (name, integrity, len)) in integrities.into_iter().enumerate() {
        let aes = if i % 2 == 0 { 16 } else { 32 };
        out.push((
            name,
            Proto::Esp,
            Crypto::AesCbc {
                key: key(aes, 4 + i as u8),
                integrity,
                integrity_key: key(len, 9 + i as u8),
            },
        ));
        out.push((
            name,
            Proto::Ah,
            Crypto::Auth {
                integrity,
                key: key(len, 20 + i as u8),
            },
        ));
    }
    out
}

/// How `ip xfrm state` prints an SA's algorithm: name, key in hex, and the ICV or truncation
/// length in bits.
pub fn iproute2_algorithm_line(crypto: &Crypto) -> String {
    let hex = |k: &Key| {
        k.as_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let auth = |name: &str, k: &Key, bits: u32| format!("auth-trunc {name} 0x{} {bits}", hex(k));
    match crypto {
        Crypto::Aead { alg, key } => {
            let name = match alg {
                Aead::AesGcm16 => "rfc4106(gcm(aes))",
                Aead::ChaCha20Poly1305 => "rfc7539esp(chacha20,poly1305)",
            };
            format!("aead {name} 0x{} 128", hex(key))
        }
        Crypto::AesCbc {
            integrity,
            integrity_key,
            ..
        } => integrity_line(*integrity, integrity_key, auth),
        Crypto::Auth { integrity, key } => integrity_line(*integrity, key, auth),
    }
}

pub fn integrity_line(i: Integrity, key: &Key, auth: impl Fn(&str, &Key, u32) -> String) -> String {
    match i {
        Integrity::HmacSha1_96 => auth("hmac(sha1)", key, 96),
        Integrity::HmacSha256_128 => auth("hmac(sha256)", key, 128),
        Integrity::HmacSha384_192 => auth("hmac(sha384)", key, 192),
        Integrity::HmacSha512_256 => auth("hmac(sha512)", key, 256),
    }
}

pub fn sa(src: &str, dst: &str, spi: u32, proto: Proto, mode: Mode, crypto: Crypto) -> SaSpec {
    let mut s = gcm_sa(addr(src), addr(dst), spi);
    s.id.proto = proto;
    s.mode = mode;
    s.crypto = crypto;
    s
}

/// The SA moon -> sun (or sun -> moon) of [`install_pair`].
pub fn pair_sa(to_sun: bool, mode: Mode, encap: Option<Encap>) -> SaSpec {
    let (src, dst, spi, seed) = if to_sun {
        (MOON_EXT, SUN_EXT, SPI_TO_SUN, 1)
    } else {
        (SUN_EXT, MOON_EXT, SPI_TO_MOON, 2)
    };
    let crypto = Crypto::Aead {
        alg: Aead::AesGcm16,
        key: key(20, seed),
    };
    let mut spec = sa(src, dst, spi, Proto::Esp, mode, crypto);
    spec.encap = encap;
    spec
}

/// Installs an SA pair and the policies of a tunnel between moon's and sun's inner addresses
/// (or, in transport mode, between their outer addresses) on both gateways.
pub async fn install_pair(moon: &Xfrm, sun: &Xfrm, mode: Mode, encap: Option<Encap>) {
    let to_sun = pair_sa(true, mode, encap);
    let to_moon = pair_sa(false, mode, encap);
    for x in [moon, sun] {
        for s in [&to_sun, &to_moon] {
            x.add_sa(s).await.unwrap();
        }
    }
    let (moon_net, sun_net) = match mode {
        Mode::Tunnel => (
            Prefix::new(addr("198.51.100.0"), 24).unwrap(),
            Prefix::new(addr("203.0.113.0"), 24).unwrap(),
        ),
        Mode::Transport => (Prefix::host(addr(MOON_EXT)), Prefix::host(addr(SUN_EXT))),
    };
    let sides = [
        (moon, moon_net, sun_net, MOON_EXT, SUN_EXT),
        (sun, sun_net, moon_net, SUN_EXT, MOON_EXT),
    ];
    for (x, mine, theirs, me, peer) in sides {
        for (dir, sel, src, dst) in [
            (
                Direction::Out,
                Selector::new(mine, theirs).unwrap(),
                me,
                peer,
            ),
            (
                Direction::In,
                Selector::new(theirs, mine).unwrap(),
                peer,
                me,
            ),
        ] {
            let mut p = tunnel_policy(dir, OWNED_REQID);
            p.id.selector = sel;
            p.templates[0].src = addr(src);
            p.templates[0].dst = addr(dst);
            p.templates[0].mode = mode;
            x.add_policy(&p).await.unwrap();
        }
    }
}

pub fn id(src_is_moon: bool) -> SaId {
    let (dst, spi) = if src_is_moon {
        (SUN_EXT, SPI_TO_SUN)
    } else {
        (MOON_EXT, SPI_TO_MOON)
    };
    SaId {
        dst: addr(dst),
        spi: Spi(spi),
        proto: Proto::Esp,
        mark: None,
    }
}

/// Both SAs, on both gateways, counted at least `min` packets.
pub async fn expect_counters(moon: &Xfrm, sun: &Xfrm, min: u64) {
    for (name, x) in [("moon", moon), ("sun", sun)] {
        for dir in [true, false] {
            let c = x.sa_counters(&id(dir)).await.unwrap();
            let which = if dir { "moon->sun" } else { "sun->moon" };
            eprintln!(
                "{name}: SA {which}: {} packets, {} bytes",
                c.packets, c.bytes
            );
            assert!(
                c.packets >= min && c.bytes > 0,
                "{name}'s {which} SA: {c:?}"
            );
            assert_ne!(c.use_time, 0);
            // Linux 6.1 sends no XFRMA_LASTUSED for these SAs; when a kernel does, it is no
            // earlier than the first use.
            assert!(c.last_used.is_none_or(|t| t >= c.use_time), "{name}: {c:?}");
        }
    }
}

pub fn watch_wire(pair: &Pair) {
    for rule in [
        ["-p", "esp", "-m", "comment", "--comment", "esp"].as_slice(),
        &[
            "-p",
            "udp",
            "--dport",
            "4500",
            "-m",
            "comment",
            "--comment",
            "natt",
        ],
        &[
            "-s",
            "198.51.100.0/24",
            "-m",
            "policy",
            "--dir",
            "in",
            "--pol",
            "none",
            "-m",
            "comment",
            "--comment",
            "plain",
        ],
    ] {
        let mut args = vec!["-t", "raw", "-A", "PREROUTING", "-i", "ext"];
        args.extend_from_slice(rule);
        Pair::iptables(&pair.sun_name, &args);
    }
}

/// A UDP socket on port 4500 that hands ESP-in-UDP to the kernel's ESP (RFC 3948): without
/// it, encapsulated packets reach no SA.
pub fn encap_socket(ns: &NetNs, ip: &str) -> std::net::UdpSocket {
    let socket = Pair::udp(ns, &format!("{ip}:4500"));
    let on: libc::c_int = 2; // UDP_ENCAP_ESPINUDP
    // SAFETY: the fd is a live UDP socket; the option value is a c_int with its size given.
    #[allow(unsafe_code)]
    let rc = unsafe {
        libc::setsockopt(
            std::os::fd::AsRawFd::as_raw_fd(&socket),
            libc::SOL_UDP,
            100, // UDP_ENCAP
            (&on as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "UDP_ENCAP: {}", std::io::Error::last_os_error());
    socket
}

/// The same policy seen from sun: selector and template turned around.
pub fn mirrored(mut p: xfrm::PolicySpec) -> xfrm::PolicySpec {
    let s = p.id.selector;
    p.id.selector = Selector::new(s.dst, s.src).unwrap();
    let t = &mut p.templates[0];
    (t.src, t.dst) = (t.dst, t.src);
    p
}

pub trait WithDir {
    fn with_dir(self, dir: Direction) -> Self;
}

impl WithDir for xfrm::PolicySpec {
    fn with_dir(mut self, dir: Direction) -> Self {
        self.id.dir = dir;
        self
    }
}
