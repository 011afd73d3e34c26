//! Traffic selectors as strongSwan prints them (`198.51.100.0/24[tcp/443]`, a range that is
//! not a subnet as `a-b`), and configuration attribute values as addresses where they are.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ike::wire::ts::TrafficSelector;
use ike::wire::{CfgAttributeType, TsType};

use super::describe::named;
use super::value::{Value, hex};

/// One selector: its strongSwan form in the text, every field in JSON.
pub fn describe(ts: &TrafficSelector) -> Value {
    let ty = match ts {
        TrafficSelector::V4 { .. } => TsType::TS_IPV4_ADDR_RANGE,
        TrafficSelector::V6 { .. } => TsType::TS_IPV6_ADDR_RANGE,
        TrafficSelector::Other { ty, second, data } => {
            return Value::brief(
                format!("{ty} {}", hex(data)),
                Value::Obj(vec![
                    ("type", named(ty.name(), ty.0.into())),
                    ("second_byte", u64::from(*second).into()),
                    ("data", Value::str(hex(data))),
                ]),
            );
        }
    };
    match ts.range() {
        Some(r) => range(ty, r.start, r.end, r.protocol, (r.start_port, r.end_port)),
        None => Value::str(String::new()),
    }
}

/// A selector as strongSwan's `%R` prints it in `swanctl --list-sas` and its log:
/// `198.51.100.0/24`, `192.0.2.1..192.0.2.9` for a range that is not a subnet, then the
/// protocol and port suffix. Opaque selector types print as their type and data.
pub fn text(ts: &TrafficSelector) -> String {
    match ts.range() {
        Some(r) => {
            let addresses = addresses(r.start, r.end).replacen('-', "..", 1);
            format!(
                "{addresses}{}",
                proto_ports(r.protocol, (r.start_port, r.end_port))
            )
        }
        None => match ts {
            TrafficSelector::Other { ty, data, .. } => format!("{ty} {}", hex(data)),
            _ => String::new(),
        },
    }
}

fn range(ty: TsType, start: IpAddr, end: IpAddr, protocol: u8, ports: (u16, u16)) -> Value {
    let text = format!("{}{}", addresses(start, end), proto_ports(protocol, ports));
    let detail = Value::Obj(vec![
        ("type", named(ty.name(), ty.0.into())),
        ("protocol", u64::from(protocol).into()),
        ("start_port", u64::from(ports.0).into()),
        ("end_port", u64::from(ports.1).into()),
        ("start", Value::str(start.to_string())),
        ("end", Value::str(end.to_string())),
        ("text", Value::str(text.clone())),
    ]);
    Value::brief(text, detail)
}

/// `net/len` when the range is exactly one subnet, else `start-end`.
fn addresses(start: IpAddr, end: IpAddr) -> String {
    let prefix = match (start, end) {
        (IpAddr::V4(s), IpAddr::V4(e)) => prefix_len(u32::from(s).into(), u32::from(e).into(), 32),
        (IpAddr::V6(s), IpAddr::V6(e)) => prefix_len(u128::from(s), u128::from(e), 128),
        _ => None,
    };
    match prefix {
        Some(len) => format!("{start}/{len}"),
        None => format!("{start}-{end}"),
    }
}

/// The prefix length when `start..=end` covers exactly one aligned block of addresses.
fn prefix_len(start: u128, end: u128, bits: u32) -> Option<u32> {
    let host = start ^ end;
    let block = host.count_ones();
    // The varying bits must be the low ones, and all of them zero at the start.
    let low_ones = host.checked_add(1).is_none_or(|n| n.is_power_of_two());
    (low_ones && start & host == 0 && start <= end).then(|| bits - block)
}

/// strongSwan's `[proto/port]` suffix: nothing for any protocol and any port; the protocol
/// alone for all ports; `OPAQUE` for the opaque range (start 65535, end 0, RFC 7296 3.13.1).
fn proto_ports(protocol: u8, (from, to): (u16, u16)) -> String {
    let any_port = from == 0 && to == u16::MAX;
    if protocol == 0 && any_port {
        return String::new();
    }
    let proto = proto_name(protocol).map_or_else(|| protocol.to_string(), str::to_owned);
    if any_port {
        return format!("[{proto}]");
    }
    let port = if from == u16::MAX && to == 0 {
        "OPAQUE".to_owned()
    } else if from == to {
        from.to_string()
    } else {
        format!("{from}-{to}")
    };
    format!("[{proto}/{port}]")
}

/// The names `/etc/protocols` gives the protocols selectors usually carry.
fn proto_name(protocol: u8) -> Option<&'static str> {
    Some(match protocol {
        1 => "icmp",
        6 => "tcp",
        17 => "udp",
        47 => "gre",
        50 => "esp",
        51 => "ah",
        58 => "ipv6-icmp",
        132 => "sctp",
        _ => return None,
    })
}

/// A configuration attribute's value: addresses and subnets as text (RFC 7296 3.15.1), the
/// application version as text, anything else in hex.
pub fn cfg_value(ty: CfgAttributeType, value: &[u8]) -> String {
    use CfgAttributeType as C;
    let v4 = |b: &[u8]| <[u8; 4]>::try_from(b).ok().map(Ipv4Addr::from);
    let v6 = |b: &[u8]| <[u8; 16]>::try_from(b).ok().map(Ipv6Addr::from);
    let text = match (ty, value.len()) {
        (
            C::INTERNAL_IP4_ADDRESS
            | C::INTERNAL_IP4_NETMASK
            | C::INTERNAL_IP4_DNS
            | C::INTERNAL_IP4_NBNS
            | C::INTERNAL_IP4_DHCP
            | C::P_CSCF_IP4_ADDRESS,
            4,
        ) => v4(value).map(|a| a.to_string()),
        (C::INTERNAL_IP4_SUBNET, 8) => v4(&value[..4])
            .zip(v4(&value[4..]))
            .map(|(a, m)| format!("{a}/{m}")),
        (C::INTERNAL_IP6_DNS | C::INTERNAL_IP6_DHCP | C::P_CSCF_IP6_ADDRESS, 16) => {
            v6(value).map(|a| a.to_string())
        }
        // Address and prefix length.
        (C::INTERNAL_IP6_ADDRESS | C::INTERNAL_IP6_SUBNET, 17) => {
            v6(&value[..16]).map(|a| format!("{a}/{}", value[16]))
        }
        (C::APPLICATION_VERSION | C::INTERNAL_DNS_DOMAIN, _) => std::str::from_utf8(value)
            .ok()
            .filter(|s| !s.chars().any(char::is_control))
            .map(str::to_owned),
        _ => None,
    };
    text.unwrap_or_else(|| hex(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(ts: &TrafficSelector) -> String {
        match describe(ts) {
            Value::Brief(text, _) => text,
            other => panic!("{other:?}"),
        }
    }

    fn v4(start: [u8; 4], end: [u8; 4], protocol: u8, ports: (u16, u16)) -> TrafficSelector {
        TrafficSelector::V4 {
            protocol,
            start_port: ports.0,
            end_port: ports.1,
            start: start.into(),
            end: end.into(),
        }
    }

    #[test]
    fn subnets_and_ranges() {
        assert_eq!(
            text(&v4([198, 51, 100, 0], [198, 51, 100, 255], 6, (443, 443))),
            "198.51.100.0/24[tcp/443]"
        );
        assert_eq!(
            text(&v4([0, 0, 0, 0], [255, 255, 255, 255], 0, (0, 65535))),
            "0.0.0.0/0"
        );
        assert_eq!(
            text(&v4([10, 0, 0, 1], [10, 0, 0, 1], 17, (0, 65535))),
            "10.0.0.1/32[udp]"
        );
        assert_eq!(
            text(&v4([10, 0, 0, 1], [10, 0, 0, 5], 99, (1000, 2000))),
            "10.0.0.1-10.0.0.5[99/1000-2000]"
        );
        assert_eq!(
            text(&v4([10, 0, 0, 8], [10, 0, 0, 23], 6, (65535, 0))),
            "10.0.0.8-10.0.0.23[tcp/OPAQUE]"
        );
    }

    #[test]
    fn ipv6_subnet() {
        let ts = TrafficSelector::V6 {
            protocol: 0,
            start_port: 0,
            end_port: 65535,
            start: "2001:db8::".parse().unwrap(),
            end: "2001:db8::ffff:ffff:ffff:ffff".parse().unwrap(),
        };
        assert_eq!(text(&ts), "2001:db8::/64");
    }

    #[test]
    fn cfg_values() {
        use CfgAttributeType as C;
        assert_eq!(
            cfg_value(C::INTERNAL_IP4_ADDRESS, &[10, 3, 0, 1]),
            "10.3.0.1"
        );
        assert_eq!(
            cfg_value(C::INTERNAL_IP4_SUBNET, &[10, 1, 0, 0, 255, 255, 0, 0]),
            "10.1.0.0/255.255.0.0"
        );
        let mut v6 = "2001:db8::1".parse::<Ipv6Addr>().unwrap().octets().to_vec();
        v6.push(64);
        assert_eq!(cfg_value(C::INTERNAL_IP6_ADDRESS, &v6), "2001:db8::1/64");
        assert_eq!(cfg_value(C::APPLICATION_VERSION, b"ikerd 0.1"), "ikerd 0.1");
        assert_eq!(cfg_value(C::INTERNAL_IP4_DNS, &[1, 2, 3]), "010203");
    }
}
