//! Values of swanctl.conf keys: numbers, times, booleans, addresses and traffic selectors, read
//! as strongSwan 5.9.8's vici_config.c reads them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use ike::wire::ts::TrafficSelector;

/// strtoul(3) with base 0: `0x` hex, a leading `0` octal, else decimal. Returns the number and
/// what follows it; None without digits or on overflow.
fn c_number(text: &str) -> Option<(u64, &str)> {
    let text = text.trim_start_matches([' ', '\t']);
    let text = text.strip_prefix('+').unwrap_or(text);
    let (radix, digits) = match text.get(..2) {
        Some("0x" | "0X") if text[2..].starts_with(|c: char| c.is_ascii_hexdigit()) => {
            (16, &text[2..])
        }
        _ if text.starts_with('0') => (8, text),
        _ => (10, text),
    };
    let len = digits
        .find(|c: char| !c.is_digit(radix))
        .unwrap_or(digits.len());
    if len == 0 {
        return None;
    }
    let value = u64::from_str_radix(&digits[..len], radix).ok()?;
    Some((value, &digits[len..]))
}

/// A whole value as an unsigned number (vici_config.c `parse_uint32`).
pub fn number(text: &str) -> Result<u64, String> {
    match c_number(text) {
        Some((value, "")) => Ok(value),
        _ => Err(format!("'{text}' is not a number")),
    }
}

pub fn number_u32(text: &str) -> Result<u32, String> {
    let value = number(text)?;
    u32::try_from(value).map_err(|_| format!("{value} is too large"))
}

/// A time: a number of seconds, or with an `s`, `m`, `h` or `d` suffix (swanctl.conf(5)).
pub fn time(text: &str) -> Result<Duration, String> {
    let bad = || format!("'{text}' is not a time (a number with an optional s, m, h or d suffix)");
    let (value, rest) = c_number(text).ok_or_else(bad)?;
    let scale = match rest.trim_start_matches(' ') {
        "" | "s" | "S" => 1,
        "m" | "M" => 60,
        "h" | "H" => 3600,
        "d" | "D" => 86400,
        _ => return Err(bad()),
    };
    value
        .checked_mul(scale)
        .map(Duration::from_secs)
        .ok_or_else(bad)
}

/// A volume: a number of bytes, or with a `k`, `m` or `g` suffix for 1024, 1024² or 1024³
/// (vici_config.c `parse_bytes`).
pub fn bytes(text: &str) -> Result<u64, String> {
    let bad = || format!("'{text}' is not a volume (a number with an optional k, m or g suffix)");
    let (value, rest) = c_number(text).ok_or_else(bad)?;
    let scale: u64 = match rest.trim_start_matches(' ') {
        "" => 1,
        "k" | "K" => 1 << 10,
        "m" | "M" => 1 << 20,
        "g" | "G" => 1 << 30,
        _ => return Err(bad()),
    };
    value.checked_mul(scale).ok_or_else(bad)
}

/// vici_config.c `parse_bool`.
pub fn boolean(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "yes" | "true" | "enabled" | "1" => Ok(true),
        "no" | "false" | "disabled" | "0" => Ok(false),
        _ => Err(format!("'{text}' is not yes or no")),
    }
}

/// The items of a comma-separated list, as swanctl splits them (spaces trimmed).
pub fn list(text: &str) -> Vec<&str> {
    text.split(',')
        .map(|s| s.trim_matches(' '))
        .filter(|s| !s.is_empty())
        .collect()
}

/// `local_addrs`/`remote_addrs`: one address or `%any` (the unspecified address).
pub fn single_address(text: &str) -> Result<IpAddr, String> {
    let items = list(text);
    let [item] = items[..] else {
        return Err("lists of addresses are not supported yet: give one address or %any".into());
    };
    match item {
        "%any" | "%any4" => return Ok(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        "%any6" => return Ok(IpAddr::V6(Ipv6Addr::UNSPECIFIED)),
        _ => {}
    }
    if let Ok(addr) = item.parse() {
        return Ok(addr);
    }
    let what = if item.contains('/') {
        "subnets"
    } else if item.contains('-') && item.split('-').all(|a| a.parse::<IpAddr>().is_ok()) {
        "address ranges"
    } else {
        "DNS names"
    };
    Err(format!(
        "'{item}': {what} are not supported yet: give one address or %any"
    ))
}

/// One entry of `local_ts`/`remote_ts`; None for `dynamic` (the SA's own address).
pub fn traffic_selector(text: &str) -> Result<Option<TrafficSelector>, String> {
    let (addrs, (protocol, ports)) = match text.split_once('[') {
        Some((addrs, suffix)) => {
            let inner = suffix
                .strip_suffix(']')
                .ok_or("missing ']' after the protocol/port")?;
            (addrs, protocol_ports(inner)?)
        }
        None => (text, (0, (0, u16::MAX))),
    };
    // strongSwan puts an ICMP type in the high byte of the port fields (traffic_selector.c).
    let icmp = |p: u16| {
        if protocol == 1 || protocol == 58 {
            icmp_port(p)
        } else {
            p
        }
    };
    let (start_port, end_port) = (icmp(ports.0), icmp(ports.1));
    if addrs == "dynamic" {
        return match (protocol, ports) {
            (0, (0, u16::MAX)) => Ok(None),
            _ => Err("'dynamic' with a protocol or port is not supported yet".into()),
        };
    }
    let (start, end) = address_range(addrs)?;
    Ok(Some(match (start, end) {
        (IpAddr::V4(start), IpAddr::V4(end)) => TrafficSelector::V4 {
            protocol,
            start_port,
            end_port,
            start,
            end,
        },
        (IpAddr::V6(start), IpAddr::V6(end)) => TrafficSelector::V6 {
            protocol,
            start_port,
            end_port,
            start,
            end,
        },
        _ => return Err(format!("'{addrs}': the range mixes IPv4 and IPv6")),
    }))
}

fn icmp_port(port: u16) -> u16 {
    if port < 256 { port << 8 } else { port }
}

/// `a.b.c.d`, `a.b.c.d/bits` or `a-b` as the first and last address.
fn address_range(text: &str) -> Result<(IpAddr, IpAddr), String> {
    let bad = || format!("'{text}' is not an address, subnet (a/bits), range (a-b) or dynamic");
    if let Some((lo, hi)) = text.split_once('-') {
        let lo: IpAddr = lo.parse().map_err(|_| bad())?;
        let hi: IpAddr = hi.parse().map_err(|_| bad())?;
        if lo.is_ipv4() == hi.is_ipv4() && lo > hi {
            return Err(format!("'{text}': the range ends before it starts"));
        }
        return Ok((lo, hi));
    }
    let (addr, bits) = match text.split_once('/') {
        Some((addr, bits)) => (addr, Some(bits)),
        None => (text, None),
    };
    let addr: IpAddr = addr.parse().map_err(|_| bad())?;
    let max: u32 = if addr.is_ipv4() { 32 } else { 128 };
    let bits = match bits {
        None => max,
        Some(bits) => bits
            .parse::<u32>()
            .ok()
            .filter(|&b| b <= max)
            .ok_or_else(bad)?,
    };
    // Host bits are ignored: 10.1.2.3/16 is 10.1.0.0-10.1.255.255, as in strongSwan.
    Ok(match addr {
        IpAddr::V4(a) => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            let net = u32::from(a) & mask;
            (
                Ipv4Addr::from(net).into(),
                Ipv4Addr::from(net | !mask).into(),
            )
        }
        IpAddr::V6(a) => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            let net = u128::from(a) & mask;
            (
                Ipv6Addr::from(net).into(),
                Ipv6Addr::from(net | !mask).into(),
            )
        }
    })
}

/// `proto/port` inside `[...]`: the protocol number and the port range.
fn protocol_ports(text: &str) -> Result<(u8, (u16, u16)), String> {
    let (proto, port) = text.split_once('/').unwrap_or((text, ""));
    let protocol = match proto.to_ascii_lowercase().as_str() {
        "" | "any" => 0,
        "icmp" => 1,
        "tcp" => 6,
        "udp" => 17,
        "ipv6-icmp" | "icmpv6" => 58,
        _ => match c_number(proto) {
            Some((n, "")) => u8::try_from(n).map_err(|_| format!("protocol {n} is not 0..255"))?,
            _ => {
                return Err(format!(
                    "protocol name '{proto}' is not supported yet: use its number"
                ));
            }
        },
    };
    let ports = match port {
        "" | "any" => (0, u16::MAX),
        "opaque" => return Err("OPAQUE ports are not supported yet".into()),
        _ => port_range(port)?,
    };
    Ok((protocol, ports))
}

fn port_range(text: &str) -> Result<(u16, u16), String> {
    if let Some(port) = service(text) {
        return Ok((port, port));
    }
    let bad = || format!("port '{text}' is not a number, a range (a-b) or a service ikerd knows");
    let (from, rest) = one_port(text).ok_or_else(bad)?;
    let (to, rest) = match rest.strip_prefix('-') {
        Some(hi) => one_port(hi).ok_or_else(bad)?,
        None => (from, rest),
    };
    if !rest.is_empty() {
        return Err(bad());
    }
    Ok((from, to))
}

fn one_port(text: &str) -> Option<(u16, &str)> {
    let (n, rest) = c_number(text)?;
    Some((u16::try_from(n).ok()?, rest))
}

/// A few service names of /etc/services, so `[tcp/http]` reads as strongSwan's getservbyname
/// would read it; other names are refused rather than guessed.
fn service(name: &str) -> Option<u16> {
    Some(match name {
        "ftp-data" => 20,
        "ftp" => 21,
        "ssh" => 22,
        "telnet" => 23,
        "smtp" => 25,
        "domain" => 53,
        "bootps" => 67,
        "bootpc" => 68,
        "tftp" => 69,
        "http" | "www" => 80,
        "pop3" => 110,
        "ntp" => 123,
        "imap" | "imap2" => 143,
        "snmp" => 161,
        "ldap" => 389,
        "https" => 443,
        "isakmp" => 500,
        "syslog" => 514,
        "submission" => 587,
        "ldaps" => 636,
        "imaps" => 993,
        "pop3s" => 995,
        "ipsec-nat-t" => 4500,
        _ => return None,
    })
}
