//! Two gateways in their own network namespaces, `moon` and `sun`, joined by a veth pair:
//!   moon  ext 192.0.2.1/24, lo 198.51.100.1/32  ====  sun  ext 192.0.2.2/24, lo 203.0.113.1/32
//!         ext 2001:db8::1/64                             ext 2001:db8::2/64
//! Each routes the other's inner address over the link, with its own inner address as source,
//! so that traffic between the inner addresses can be tunnelled. Namespaces are named (so
//! `ip link ... netns NAME` can join them) and deleted on drop.

use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::time::Duration;

use xfrm::{NetNs, Xfrm};

use super::ip;

pub const MOON_EXT: &str = "192.0.2.1";
pub const SUN_EXT: &str = "192.0.2.2";
pub const MOON_INT: &str = "198.51.100.1";
pub const SUN_INT: &str = "203.0.113.1";
pub const MOON_EXT6: &str = "2001:db8::1";
pub const SUN_EXT6: &str = "2001:db8::2";

pub struct Pair {
    pub moon: NetNs,
    pub sun: NetNs,
    pub moon_name: String,
    pub sun_name: String,
}

impl Pair {
    pub fn new(tag: &str) -> Pair {
        let id = std::process::id();
        let moon_name = format!("ikerd-{tag}-{id}-moon");
        let sun_name = format!("ikerd-{tag}-{id}-sun");
        let pair = Pair {
            moon: {
                ip(&["netns", "add", &moon_name]);
                NetNs::named(&moon_name).unwrap()
            },
            sun: {
                ip(&["netns", "add", &sun_name]);
                NetNs::named(&sun_name).unwrap()
            },
            moon_name,
            sun_name,
        };
        ip(&[
            "link",
            "add",
            "ext",
            "netns",
            &pair.moon_name,
            "type",
            "veth",
            "peer",
            "name",
            "ext",
            "netns",
            &pair.sun_name,
        ]);
        configure(
            &pair.moon_name,
            [MOON_EXT, MOON_EXT6],
            MOON_INT,
            "203.0.113.0/24",
            SUN_EXT,
        );
        configure(
            &pair.sun_name,
            [SUN_EXT, SUN_EXT6],
            SUN_INT,
            "198.51.100.0/24",
            MOON_EXT,
        );
        pair
    }

    pub fn xfrm(&self) -> (Xfrm, Xfrm) {
        (
            Xfrm::open_in(&self.moon).unwrap(),
            Xfrm::open_in(&self.sun).unwrap(),
        )
    }

    /// A UDP socket in `ns`, bound to `addr`, with a receive timeout.
    pub fn udp(ns: &NetNs, addr: &str) -> UdpSocket {
        let addr = addr.to_owned();
        let socket = ns.run(move || UdpSocket::bind(&addr).unwrap()).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        socket
    }

    /// `count` datagrams from moon's `from` to sun's `to` and each echoed back; panics unless
    /// every one arrives intact both ways.
    pub fn echo(&self, from: &str, to: &str, count: usize) {
        let a = Self::udp(&self.moon, from);
        let b = Self::udp(&self.sun, to);
        let to = b.local_addr().unwrap();
        for i in 0..count {
            let payload = format!("ikerd esp test datagram {i}");
            a.send_to(payload.as_bytes(), to).unwrap();
            let mut buf = [0u8; 256];
            let (n, peer) = b
                .recv_from(&mut buf)
                .unwrap_or_else(|e| panic!("datagram {i} did not reach sun: {e}"));
            assert_eq!(&buf[..n], payload.as_bytes());
            b.send_to(&buf[..n], peer).unwrap();
            let (n, _) = a
                .recv_from(&mut buf)
                .unwrap_or_else(|e| panic!("echo {i} did not come back to moon: {e}"));
            assert_eq!(&buf[..n], payload.as_bytes());
        }
    }

    /// Runs `iptables ARGS` in the namespace `name` and returns its output.
    pub fn iptables(name: &str, args: &[&str]) -> String {
        let out = Command::new("ip")
            .args(["netns", "exec", name, "iptables"])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run iptables");
        assert!(
            out.status.success(),
            "iptables {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Packets counted by the raw-table PREROUTING rule tagged `tag` in `name`.
    pub fn counted(name: &str, tag: &str) -> u64 {
        let table = Self::iptables(name, &["-t", "raw", "-L", "PREROUTING", "-v", "-n", "-x"]);
        table
            .lines()
            .find(|l| l.contains(&format!("/* {tag} */")))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no rule {tag} in {name}: {table}"))
    }
}

fn configure(name: &str, ext: [&str; 2], int: &str, peer_net: &str, peer_ext: &str) {
    let [ext, ext6] = ext;
    // nodad: the address is usable at once, not after duplicate address detection.
    let batch = format!(
        "link set lo up\n\
         link set ext up\n\
         addr add {ext}/24 dev ext\n\
         addr add {ext6}/64 dev ext nodad\n\
         addr add {int}/32 dev lo\n\
         route add {peer_net} via {peer_ext} src {int}\n"
    );
    let mut child = Command::new("ip")
        .args(["-n", name, "-batch", "-"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("run ip -batch");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(batch.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success(), "configure {name}: {batch}");
}

impl Drop for Pair {
    fn drop(&mut self) {
        for name in [&self.moon_name, &self.sun_name] {
            let _ = Command::new("ip").args(["netns", "del", name]).status();
        }
    }
}
