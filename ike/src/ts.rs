//! Traffic selector narrowing (RFC 7296 2.9): the responder answers with the parts of the
//! initiator's selectors that its policy allows, and the initiator checks that the answer is
//! within what it asked for.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::wire::ts::TrafficSelector;

/// RFC 7296 3.13.1: start port 65535 and end port 0 mean OPAQUE (ports not available, e.g.
/// for fragments); a full range 0-65535 includes it.
fn is_opaque(start: u16, end: u16) -> bool {
    start == u16::MAX && end == 0
}

fn intersect_ports(a: (u16, u16), b: (u16, u16)) -> Option<(u16, u16)> {
    let full = |(s, e): (u16, u16)| s == 0 && e == u16::MAX;
    match (is_opaque(a.0, a.1), is_opaque(b.0, b.1)) {
        (true, true) => Some(a),
        (true, false) => full(b).then_some(a),
        (false, true) => full(a).then_some(b),
        (false, false) => {
            let (start, end) = (a.0.max(b.0), a.1.min(b.1));
            (start <= end).then_some((start, end))
        }
    }
}

/// 0 is "any protocol".
fn intersect_protocol(a: u8, b: u8) -> Option<u8> {
    match (a, b) {
        (0, p) | (p, 0) => Some(p),
        (p, q) => (p == q).then_some(p),
    }
}

fn intersect_range<T: Ord + Copy>(a: (T, T), b: (T, T)) -> Option<(T, T)> {
    let (start, end) = (a.0.max(b.0), a.1.min(b.1));
    (start <= end).then_some((start, end))
}

/// Protocol, ports and address range common to two selectors of one family.
type Common<A> = (u8, (u16, u16), (A, A));

fn meet<A: Ord + Copy>(a: Common<A>, b: Common<A>) -> Option<Common<A>> {
    Some((
        intersect_protocol(a.0, b.0)?,
        intersect_ports(a.1, b.1)?,
        intersect_range(a.2, b.2)?,
    ))
}

/// The selector both `a` and `b` cover, if any (same family; protocol, ports and addresses
/// intersected).
pub fn intersect(a: &TrafficSelector, b: &TrafficSelector) -> Option<TrafficSelector> {
    use TrafficSelector::{V4, V6};
    match (a, b) {
        (
            V4 {
                protocol: pa,
                start_port: sa,
                end_port: ea,
                start: aa,
                end: za,
            },
            V4 {
                protocol: pb,
                start_port: sb,
                end_port: eb,
                start: ab,
                end: zb,
            },
        ) => {
            let (protocol, (start_port, end_port), (start, end)) =
                meet::<Ipv4Addr>((*pa, (*sa, *ea), (*aa, *za)), (*pb, (*sb, *eb), (*ab, *zb)))?;
            Some(V4 {
                protocol,
                start_port,
                end_port,
                start,
                end,
            })
        }
        (
            V6 {
                protocol: pa,
                start_port: sa,
                end_port: ea,
                start: aa,
                end: za,
            },
            V6 {
                protocol: pb,
                start_port: sb,
                end_port: eb,
                start: ab,
                end: zb,
            },
        ) => {
            let (protocol, (start_port, end_port), (start, end)) =
                meet::<Ipv6Addr>((*pa, (*sa, *ea), (*aa, *za)), (*pb, (*sb, *eb), (*ab, *zb)))?;
            Some(V6 {
                protocol,
                start_port,
                end_port,
                start,
                end,
            })
        }
        _ => None,
    }
}

/// Narrows the initiator's `offered` selectors to our `allowed` ones: every non-empty
/// intersection, in the initiator's order (so a first selector naming the packet that
/// triggered the negotiation stays first), without duplicates. Empty means TS_UNACCEPTABLE.
pub fn narrow(offered: &[TrafficSelector], allowed: &[TrafficSelector]) -> Vec<TrafficSelector> {
    let mut narrowed: Vec<TrafficSelector> = Vec::new();
    for o in offered {
        for a in allowed {
            if let Some(ts) = intersect(o, a)
                && !narrowed.contains(&ts)
            {
                narrowed.push(ts);
            }
        }
    }
    narrowed
}

/// Whether `inner` lies entirely within `outer`.
pub fn contains(outer: &TrafficSelector, inner: &TrafficSelector) -> bool {
    intersect(outer, inner).as_ref() == Some(inner)
}

/// Whether every selector of a responder's answer lies within one we offered.
pub fn within(answer: &[TrafficSelector], offered: &[TrafficSelector]) -> bool {
    !answer.is_empty()
        && answer
            .iter()
            .all(|a| offered.iter().any(|o| contains(o, a)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(protocol: u8, ports: (u16, u16), start: &str, end: &str) -> TrafficSelector {
        TrafficSelector::V4 {
            protocol,
            start_port: ports.0,
            end_port: ports.1,
            start: start.parse().unwrap(),
            end: end.parse().unwrap(),
        }
    }

    const ANY: (u16, u16) = (0, 65535);

    #[test]
    fn narrowing_to_a_subnet_keeps_the_triggering_packet_first() {
        let packet = v4(6, (443, 443), "198.51.100.7", "198.51.100.7");
        let everything = v4(0, ANY, "0.0.0.0", "255.255.255.255");
        let allowed = [v4(0, ANY, "198.51.100.0", "198.51.100.255")];
        let narrowed = narrow(&[packet.clone(), everything], &allowed);
        assert_eq!(narrowed, [packet, allowed[0].clone()]);
    }

    #[test]
    fn protocols_and_ports_intersect() {
        let tcp_any = v4(6, ANY, "192.0.2.0", "192.0.2.255");
        let any_https = v4(0, (443, 443), "192.0.2.10", "192.0.2.20");
        assert_eq!(
            intersect(&tcp_any, &any_https),
            Some(v4(6, (443, 443), "192.0.2.10", "192.0.2.20"))
        );
        let udp = v4(17, ANY, "192.0.2.0", "192.0.2.255");
        assert_eq!(intersect(&tcp_any, &udp), None);
        let low = v4(0, (0, 1023), "192.0.2.0", "192.0.2.255");
        let high = v4(0, (1024, 65535), "192.0.2.0", "192.0.2.255");
        assert_eq!(intersect(&low, &high), None);
    }

    #[test]
    fn opaque_ports() {
        let opaque = v4(17, (65535, 0), "192.0.2.1", "192.0.2.1");
        let all = v4(17, ANY, "192.0.2.0", "192.0.2.255");
        let some = v4(17, (53, 53), "192.0.2.0", "192.0.2.255");
        assert_eq!(intersect(&opaque, &all), Some(opaque.clone()));
        assert_eq!(intersect(&all, &opaque), Some(opaque.clone()));
        assert_eq!(intersect(&opaque, &some), None);
        assert_eq!(intersect(&opaque, &opaque), Some(opaque));
    }

    #[test]
    fn families_and_disjoint_ranges_do_not_meet() {
        let v6 = TrafficSelector::V6 {
            protocol: 0,
            start_port: 0,
            end_port: 65535,
            start: "2001:db8::".parse().unwrap(),
            end: "2001:db8::ffff".parse().unwrap(),
        };
        let four = v4(0, ANY, "192.0.2.0", "192.0.2.255");
        assert_eq!(intersect(&four, &v6), None);
        assert_eq!(intersect(&v6, &v6), Some(v6.clone()));
        let other = v4(0, ANY, "203.0.113.0", "203.0.113.255");
        assert!(narrow(&[four], &[other]).is_empty());
    }

    #[test]
    fn answers_must_lie_within_the_offer() {
        let offered = [v4(0, ANY, "198.51.100.0", "198.51.100.255")];
        assert!(within(
            &[v4(6, (22, 22), "198.51.100.5", "198.51.100.9")],
            &offered
        ));
        assert!(!within(
            &[v4(0, ANY, "198.51.100.0", "198.51.101.0")],
            &offered
        ));
        assert!(!within(&[], &offered));
    }
}
