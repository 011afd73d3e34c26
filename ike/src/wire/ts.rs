//! The Traffic Selector payloads, TSi and TSr (RFC 7296 3.13).
//!
//! ```text
//!                      1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Next Payload  |C|  RESERVED   |         Payload Length        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Number of TSs |                 RESERVED                      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               |
//! ~                       <Traffic Selectors>                     ~
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!
//! Each selector (3.13.1):
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   TS Type     |IP Protocol ID*|       Selector Length         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |           Start Port*         |           End Port*           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               |
//! ~                         Starting Address*                     ~
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               |
//! ~                         Ending Address*                       ~
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Selectors of other types (TS_SECLABEL, RFC 9478) keep their bytes so they survive a round
//! trip.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{Error, PayloadBody, TsType, be16, need};

const FIXED_LEN: usize = 4;
/// Type, protocol or reserved byte, and length.
const SELECTOR_HEADER_LEN: usize = 4;
const V4_LEN: usize = 16;
const V6_LEN: usize = 40;

/// One traffic selector: an address range, protocol and port range; or one of a type we keep
/// opaque.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TrafficSelector {
    V4 {
        /// IP protocol; 0 means any.
        protocol: u8,
        start_port: u16,
        end_port: u16,
        start: Ipv4Addr,
        end: Ipv4Addr,
    },
    V6 {
        protocol: u8,
        start_port: u16,
        end_port: u16,
        start: Ipv6Addr,
        end: Ipv6Addr,
    },
    Other {
        ty: TsType,
        /// The byte after the type (IP protocol for address ranges).
        second: u8,
        /// What follows the selector length.
        data: Vec<u8>,
    },
}

/// An address-range selector of either family, in one shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressRange {
    pub protocol: u8,
    pub start_port: u16,
    pub end_port: u16,
    pub start: IpAddr,
    pub end: IpAddr,
}

impl TrafficSelector {
    /// The selector as a range of addresses of its family; None for opaque types.
    pub fn range(&self) -> Option<AddressRange> {
        match *self {
            TrafficSelector::V4 {
                protocol,
                start_port,
                end_port,
                start,
                end,
            } => Some(AddressRange {
                protocol,
                start_port,
                end_port,
                start: start.into(),
                end: end.into(),
            }),
            TrafficSelector::V6 {
                protocol,
                start_port,
                end_port,
                start,
                end,
            } => Some(AddressRange {
                protocol,
                start_port,
                end_port,
                start: start.into(),
                end: end.into(),
            }),
            TrafficSelector::Other { .. } => None,
        }
    }

    fn buffer_len(&self) -> usize {
        match self {
            TrafficSelector::V4 { .. } => V4_LEN,
            TrafficSelector::V6 { .. } => V6_LEN,
            TrafficSelector::Other { data, .. } => SELECTOR_HEADER_LEN + data.len(),
        }
    }

    /// Parses the selector at the start of `bytes`; returns it and its length.
    fn parse(bytes: &[u8]) -> Result<(TrafficSelector, usize), Error> {
        need(bytes, SELECTOR_HEADER_LEN, "traffic selector")?;
        let (ty, second, len) = (TsType(bytes[0]), bytes[1], usize::from(be16(bytes, 2)));
        let expected = match ty {
            TsType::TS_IPV4_ADDR_RANGE => Some(V4_LEN),
            TsType::TS_IPV6_ADDR_RANGE => Some(V6_LEN),
            _ => None,
        };
        if len < SELECTOR_HEADER_LEN || expected.is_some_and(|e| e != len) {
            return Err(Error::BadLength("traffic selector"));
        }
        need(bytes, len, "traffic selector")?;
        let b = &bytes[..len];
        let ts = match ty {
            TsType::TS_IPV4_ADDR_RANGE => TrafficSelector::V4 {
                protocol: second,
                start_port: be16(b, 4),
                end_port: be16(b, 6),
                start: Ipv4Addr::from(<[u8; 4]>::try_from(&b[8..12]).unwrap_or_default()),
                end: Ipv4Addr::from(<[u8; 4]>::try_from(&b[12..16]).unwrap_or_default()),
            },
            TsType::TS_IPV6_ADDR_RANGE => TrafficSelector::V6 {
                protocol: second,
                start_port: be16(b, 4),
                end_port: be16(b, 6),
                start: Ipv6Addr::from(<[u8; 16]>::try_from(&b[8..24]).unwrap_or_default()),
                end: Ipv6Addr::from(<[u8; 16]>::try_from(&b[24..40]).unwrap_or_default()),
            },
            _ => TrafficSelector::Other {
                ty,
                second,
                data: b[SELECTOR_HEADER_LEN..].to_vec(),
            },
        };
        Ok((ts, len))
    }

    fn emit(&self, buf: &mut [u8]) {
        let len = super::len16(self.buffer_len()).to_be_bytes();
        let (ty, second) = match self {
            TrafficSelector::V4 { protocol, .. } => (TsType::TS_IPV4_ADDR_RANGE, *protocol),
            TrafficSelector::V6 { protocol, .. } => (TsType::TS_IPV6_ADDR_RANGE, *protocol),
            TrafficSelector::Other { ty, second, .. } => (*ty, *second),
        };
        buf[..4].copy_from_slice(&[ty.0, second, len[0], len[1]]);
        match (self, self.range()) {
            (_, Some(r)) => {
                buf[4..6].copy_from_slice(&r.start_port.to_be_bytes());
                buf[6..8].copy_from_slice(&r.end_port.to_be_bytes());
                let octets = |a: IpAddr| match a {
                    IpAddr::V4(a) => a.octets().to_vec(),
                    IpAddr::V6(a) => a.octets().to_vec(),
                };
                let (start, end) = (octets(r.start), octets(r.end));
                buf[8..8 + start.len()].copy_from_slice(&start);
                buf[8 + start.len()..].copy_from_slice(&end);
            }
            (TrafficSelector::Other { data, .. }, None) => {
                buf[SELECTOR_HEADER_LEN..].copy_from_slice(data)
            }
            // range() is None only for Other.
            (_, None) => {}
        }
    }
}

/// A list of traffic selectors (at most 255, the count's width).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repr {
    pub selectors: Vec<TrafficSelector>,
}

impl PayloadBody for Repr {
    fn parse(body: &[u8]) -> Result<Self, Error> {
        need(body, FIXED_LEN, "TS")?;
        let count = usize::from(body[0]);
        let mut rest = &body[FIXED_LEN..];
        let mut selectors = Vec::with_capacity(count.min(rest.len() / SELECTOR_HEADER_LEN));
        for _ in 0..count {
            let (ts, len) = TrafficSelector::parse(rest)?;
            selectors.push(ts);
            rest = &rest[len..];
        }
        if !rest.is_empty() {
            return Err(Error::BadLength("TS: bytes after the last selector"));
        }
        Ok(Repr { selectors })
    }

    fn buffer_len(&self) -> usize {
        FIXED_LEN
            + self
                .selectors
                .iter()
                .map(TrafficSelector::buffer_len)
                .sum::<usize>()
    }

    fn emit(&self, buf: &mut [u8]) {
        // Message::emit refuses lists of more than 255 selectors before emitting.
        buf[0] = self.selectors.len() as u8;
        buf[1..FIXED_LEN].fill(0);
        let mut at = FIXED_LEN;
        for ts in &self.selectors {
            let len = ts.buffer_len();
            ts.emit(&mut buf[at..at + len]);
            at += len;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testing::{check_body, check_error};

    fn v4_any() -> TrafficSelector {
        TrafficSelector::V4 {
            protocol: 0,
            start_port: 0,
            end_port: 65535,
            start: Ipv4Addr::new(198, 51, 100, 0),
            end: Ipv4Addr::new(198, 51, 100, 255),
        }
    }

    const V4_ANY: [u8; 16] = [
        7, 0, 0, 16, 0, 0, 0xff, 0xff, 198, 51, 100, 0, 198, 51, 100, 255,
    ];

    #[test]
    fn payload_checks() {
        let v6_tcp = TrafficSelector::V6 {
            protocol: 6,
            start_port: 443,
            end_port: 443,
            start: "2001:db8::".parse().unwrap(),
            end: "2001:db8::ffff".parse().unwrap(),
        };
        let label = TrafficSelector::Other {
            ty: TsType::TS_SECLABEL,
            second: 0,
            data: b"system_u:object_r:ipsec_spd_t:s0\0".to_vec(),
        };
        let repr = Repr {
            selectors: vec![v4_any(), v6_tcp.clone(), label.clone()],
        };
        let mut bytes = vec![3, 0, 0, 0];
        bytes.extend(V4_ANY);
        bytes.extend([8, 6, 0, 40, 1, 0xbb, 1, 0xbb]);
        bytes.extend([0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        bytes.extend([0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);
        bytes.extend([10, 0, 0, 37]);
        bytes.extend(b"system_u:object_r:ipsec_spd_t:s0\0");
        check_body(&repr, &bytes, FIXED_LEN);
    }

    #[test]
    fn count_disagrees_with_selectors() {
        let mut fewer = vec![2, 0, 0, 0];
        fewer.extend(V4_ANY);
        check_error::<Repr>(&fewer, Error::Truncated("traffic selector"));
        let mut more = vec![1, 0, 0, 0];
        more.extend(V4_ANY);
        more.extend(V4_ANY);
        check_error::<Repr>(&more, Error::BadLength("TS: bytes after the last selector"));
    }

    #[test]
    fn selector_length_must_fit_its_type() {
        let mut bytes = vec![1, 0, 0, 0];
        bytes.extend(V4_ANY);
        bytes[7] = 40;
        check_error::<Repr>(&bytes, Error::BadLength("traffic selector"));
        let tiny = [1, 0, 0, 0, 10, 0, 0, 2];
        check_error::<Repr>(&tiny, Error::BadLength("traffic selector"));
    }
}
