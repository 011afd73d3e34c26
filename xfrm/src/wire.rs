//! Shared translations between this crate's values and netlink-packet-xfrm's structures.
//!
//! netlink-packet-xfrm takes SPIs and ports in host byte order and converts them itself (its
//! "big-endian" comments are stale): never call `to_be()` here.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netlink_packet_xfrm::{Address, Selector as NlSelector};

use crate::types::{PortMatch, Prefix, Selector};

pub(crate) const AF_INET: u16 = libc::AF_INET as u16;
pub(crate) const AF_INET6: u16 = libc::AF_INET6 as u16;

pub(crate) fn family_of(addr: &IpAddr) -> u16 {
    if addr.is_ipv4() { AF_INET } else { AF_INET6 }
}

pub(crate) fn addr_from_wire(addr: &Address, v4: bool) -> IpAddr {
    if v4 {
        IpAddr::V4(Ipv4Addr::new(
            addr.addr[0],
            addr.addr[1],
            addr.addr[2],
            addr.addr[3],
        ))
    } else {
        IpAddr::V6(Ipv6Addr::from(addr.addr))
    }
}

pub(crate) fn selector_to_wire(sel: &Selector) -> NlSelector {
    NlSelector {
        daddr: Address::from_ip(&sel.dst.addr()),
        saddr: Address::from_ip(&sel.src.addr()),
        dport: sel.dport.port,
        dport_mask: sel.dport.mask,
        sport: sel.sport.port,
        sport_mask: sel.sport.mask,
        family: family_of(&sel.src.addr()),
        prefixlen_d: sel.dst.prefix_len(),
        prefixlen_s: sel.src.prefix_len(),
        proto: sel.proto,
        ifindex: sel.ifindex,
        user: 0,
    }
}

/// A kernel selector as ours; `None` for one that matches everything (an SA's open selector)
/// or has no family we know.
pub(crate) fn selector_from_wire(sel: &NlSelector) -> Option<Selector> {
    let v4 = match sel.family {
        AF_INET => true,
        AF_INET6 => false,
        _ => return None,
    };
    let open = sel.prefixlen_s == 0
        && sel.prefixlen_d == 0
        && sel.proto == 0
        && sel.sport_mask == 0
        && sel.dport_mask == 0
        && sel.ifindex == 0;
    if open {
        return None;
    }
    let src = Prefix::new(addr_from_wire(&sel.saddr, v4), sel.prefixlen_s).ok()?;
    let dst = Prefix::new(addr_from_wire(&sel.daddr, v4), sel.prefixlen_d).ok()?;
    Some(Selector {
        src,
        dst,
        proto: sel.proto,
        sport: PortMatch {
            port: sel.sport,
            mask: sel.sport_mask,
        },
        dport: PortMatch {
            port: sel.dport,
            mask: sel.dport_mask,
        },
        ifindex: sel.ifindex,
    })
}

/// The same as [`selector_from_wire`], but an all-matching selector is kept as one: policies
/// always have a selector.
pub(crate) fn policy_selector_from_wire(sel: &NlSelector) -> Option<Selector> {
    if let Some(s) = selector_from_wire(sel) {
        return Some(s);
    }
    let v4 = match sel.family {
        AF_INET => true,
        AF_INET6 => false,
        _ => return None,
    };
    let any = Prefix::any_like(if v4 {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    } else {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    });
    Some(Selector {
        src: Prefix::new(addr_from_wire(&sel.saddr, v4), 0).unwrap_or(any),
        dst: Prefix::new(addr_from_wire(&sel.daddr, v4), 0).unwrap_or(any),
        proto: 0,
        sport: PortMatch::ANY,
        dport: PortMatch::ANY,
        ifindex: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selector_round_trips_with_ports_in_host_order() {
        let sel = Selector::new(
            Prefix::new("198.51.100.0".parse().unwrap(), 24).unwrap(),
            Prefix::host("203.0.113.10".parse().unwrap()),
        )
        .unwrap()
        .with_proto(17)
        .with_ports(PortMatch::ANY, PortMatch::exactly(4500));
        let nl = selector_to_wire(&sel);
        assert_eq!(nl.dport, 4500);
        assert_eq!(nl.family, AF_INET);
        assert_eq!(nl.prefixlen_s, 24);
        assert_eq!(selector_from_wire(&nl), Some(sel));
    }

    #[test]
    fn open_selector_reads_as_none_for_sas_but_any_for_policies() {
        let nl = NlSelector {
            family: AF_INET6,
            ..Default::default()
        };
        assert_eq!(selector_from_wire(&nl), None);
        let any = policy_selector_from_wire(&nl).unwrap();
        assert!(any.src.is_any() && any.dst.is_any() && !any.is_ipv4());
    }

    #[test]
    fn unknown_family_is_not_a_selector() {
        let nl = NlSelector {
            family: 99,
            prefixlen_s: 8,
            ..Default::default()
        };
        assert_eq!(selector_from_wire(&nl), None);
        assert_eq!(policy_selector_from_wire(&nl), None);
    }

    #[test]
    fn bad_prefix_length_from_the_kernel_does_not_panic() {
        let nl = NlSelector {
            family: AF_INET,
            prefixlen_s: 200,
            ..Default::default()
        };
        assert_eq!(selector_from_wire(&nl), None);
    }
}
