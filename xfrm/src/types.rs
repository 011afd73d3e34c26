//! The plain values of the public API: SPIs, protocols, modes, marks, selectors, lifetimes.
//! Nothing here knows about netlink; `wire.rs` maps these to the kernel's structures.

use std::fmt;
use std::net::IpAddr;

use crate::error::{Error, Op, Result};

/// A Security Parameter Index (RFC 4303 2.1), in host byte order.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Spi(pub u32);

impl fmt::Debug for Spi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Spi({:#010x})", self.0)
    }
}

impl fmt::Display for Spi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#010x}", self.0)
    }
}

/// The IPsec protocol of an SA or template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Proto {
    /// RFC 4303, IP protocol 50.
    Esp,
    /// RFC 4302, IP protocol 51.
    Ah,
}

impl Proto {
    pub(crate) fn number(self) -> u8 {
        match self {
            Proto::Esp => 50,
            Proto::Ah => 51,
        }
    }

    pub(crate) fn from_number(n: u8) -> Option<Self> {
        match n {
            50 => Some(Proto::Esp),
            51 => Some(Proto::Ah),
            _ => None,
        }
    }
}

/// Tunnel or transport mode (RFC 4301 4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    Transport,
    Tunnel,
}

impl Mode {
    /// XFRM_MODE_* of linux/xfrm.h.
    pub(crate) fn number(self) -> u8 {
        match self {
            Mode::Transport => 0,
            Mode::Tunnel => 1,
        }
    }

    pub(crate) fn from_number(n: u8) -> Option<Self> {
        match n {
            0 => Some(Mode::Transport),
            1 => Some(Mode::Tunnel),
            _ => None,
        }
    }
}

/// A firewall mark and mask: an SA or policy with a mark applies to packets whose
/// `skb->mark & mask == value`; `set_mark` writes `value` under `mask`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Mark {
    pub value: u32,
    pub mask: u32,
}

/// An address prefix: `addr/len`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Prefix {
    addr: IpAddr,
    len: u8,
}

impl Prefix {
    /// A prefix; the length must fit the address family (32 or 128 at most).
    pub fn new(addr: IpAddr, len: u8) -> Result<Self> {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if len > max {
            return Err(Error::bad_input(
                Op::AddPolicy,
                format!("prefix length {len} is too long for {addr}"),
            ));
        }
        Ok(Prefix { addr, len })
    }

    /// A single host: /32 or /128.
    pub fn host(addr: IpAddr) -> Self {
        let len = if addr.is_ipv4() { 32 } else { 128 };
        Prefix { addr, len }
    }

    /// Everything of the family of `addr`: /0.
    pub fn any_like(addr: IpAddr) -> Self {
        let addr = if addr.is_ipv4() {
            IpAddr::from([0u8; 4])
        } else {
            IpAddr::from([0u8; 16])
        };
        Prefix { addr, len: 0 }
    }

    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    pub fn prefix_len(&self) -> u8 {
        self.len
    }

    /// Whether this prefix matches every address of its family.
    pub fn is_any(&self) -> bool {
        self.len == 0
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// A port (or, for ICMP, type and code) with a mask, as the kernel matches it: a packet's port
/// `p` matches when `p & mask == port & mask`. A traffic-selector range that is not a power of
/// two wide needs several selectors; splitting it is the caller's job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PortMatch {
    pub port: u16,
    pub mask: u16,
}

impl PortMatch {
    /// Any port.
    pub const ANY: PortMatch = PortMatch { port: 0, mask: 0 };

    /// Exactly `port`.
    pub fn exactly(port: u16) -> Self {
        PortMatch { port, mask: 0xffff }
    }

    /// The number of leading one bits of the mask, which is how specific the match is.
    pub fn mask_bits(&self) -> u32 {
        self.mask.leading_ones()
    }
}

/// A traffic selector as the kernel keeps it for SAs and policies (struct xfrm_selector).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Selector {
    pub src: Prefix,
    pub dst: Prefix,
    /// IP protocol number; 0 for any.
    pub proto: u8,
    pub sport: PortMatch,
    pub dport: PortMatch,
    /// Restrict to packets on this interface index; 0 for any.
    pub ifindex: i32,
}

impl Selector {
    /// Traffic from `src` to `dst`, any protocol and port. Both prefixes must be of one family.
    pub fn new(src: Prefix, dst: Prefix) -> Result<Self> {
        if src.addr.is_ipv4() != dst.addr.is_ipv4() {
            return Err(Error::bad_input(
                Op::AddPolicy,
                format!("selector mixes address families: {src} -> {dst}"),
            ));
        }
        Ok(Selector {
            src,
            dst,
            proto: 0,
            sport: PortMatch::ANY,
            dport: PortMatch::ANY,
            ifindex: 0,
        })
    }

    /// Traffic between two hosts.
    pub fn hosts(src: IpAddr, dst: IpAddr) -> Result<Self> {
        Self::new(Prefix::host(src), Prefix::host(dst))
    }

    /// Only protocol `proto`.
    pub fn with_proto(mut self, proto: u8) -> Self {
        self.proto = proto;
        self
    }

    /// Only these ports.
    pub fn with_ports(mut self, sport: PortMatch, dport: PortMatch) -> Self {
        self.sport = sport;
        self.dport = dport;
        self
    }

    pub fn is_ipv4(&self) -> bool {
        self.src.addr.is_ipv4()
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -> {}", self.src, self.dst)?;
        if self.proto != 0 {
            write!(f, " proto {}", self.proto)?;
        }
        Ok(())
    }
}

/// Limits after which an SA (or policy) expires; `None` is no limit. Soft limits raise an
/// EXPIRE event (time to rekey), hard limits delete the SA and raise another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    pub bytes: Option<u64>,
    pub packets: Option<u64>,
    /// Seconds after the SA was added.
    pub add_seconds: Option<u64>,
    /// Seconds after the SA was first used.
    pub use_seconds: Option<u64>,
}

/// Soft and hard limits of an SA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Lifetime {
    pub soft: Limits,
    pub hard: Limits,
}

/// What an SA has carried, and when it was added and last used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counters {
    pub bytes: u64,
    pub packets: u64,
    /// Seconds since the epoch when the SA was added.
    pub add_time: u64,
    /// Seconds since the epoch when the SA first carried a packet (0: never).
    pub use_time: u64,
    /// Seconds since the epoch of the last packet (XFRMA_LASTUSED), when the kernel says:
    /// Linux 6.1 (Debian 12) did not, for SAs carrying traffic in our tests.
    pub last_used: Option<u64>,
    /// Packets dropped by the replay check.
    pub replay_dropped: u32,
    /// Packets that failed the integrity check.
    pub integrity_failed: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_rejects_overlong_lengths() {
        assert!(Prefix::new("192.0.2.0".parse().unwrap(), 33).is_err());
        assert!(Prefix::new("2001:db8::".parse().unwrap(), 129).is_err());
        assert!(Prefix::new("2001:db8::".parse().unwrap(), 128).is_ok());
    }

    #[test]
    fn selector_rejects_mixed_families() {
        let v4 = Prefix::host("192.0.2.1".parse().unwrap());
        let v6 = Prefix::host("2001:db8::1".parse().unwrap());
        let err = Selector::new(v4, v6).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::BadInput);
    }

    #[test]
    fn port_mask_bits_count_leading_ones() {
        assert_eq!(PortMatch::ANY.mask_bits(), 0);
        assert_eq!(PortMatch::exactly(4500).mask_bits(), 16);
        assert_eq!(
            PortMatch {
                port: 0x1000,
                mask: 0xff00
            }
            .mask_bits(),
            8
        );
    }

    #[test]
    fn spi_prints_as_hex() {
        assert_eq!(Spi(0xc0000001).to_string(), "0xc0000001");
    }
}
