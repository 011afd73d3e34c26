//! The Identification payloads, IDi and IDr (RFC 7296 3.5).
//!
//! ```text
//!                      1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Next Payload  |C|  RESERVED   |         Payload Length        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   ID Type     |                 RESERVED                      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               |
//! ~                   Identification Data                         ~
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! The identity is kept as its exact bytes: RFC 7296 2.15 signs the payload body as sent, so a
//! parse must never normalise it.

use core::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{Error, IdType, PayloadBody, need};

const FIXED_LEN: usize = 4;

/// An identity: its type and its data, byte for byte as on the wire.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Repr {
    pub ty: IdType,
    pub data: Vec<u8>,
}

impl Repr {
    pub fn addr(addr: IpAddr) -> Repr {
        match addr {
            IpAddr::V4(v4) => Repr {
                ty: IdType::ID_IPV4_ADDR,
                data: v4.octets().to_vec(),
            },
            IpAddr::V6(v6) => Repr {
                ty: IdType::ID_IPV6_ADDR,
                data: v6.octets().to_vec(),
            },
        }
    }

    pub fn fqdn(name: &str) -> Repr {
        Repr {
            ty: IdType::ID_FQDN,
            data: name.as_bytes().to_vec(),
        }
    }

    pub fn rfc822(address: &str) -> Repr {
        Repr {
            ty: IdType::ID_RFC822_ADDR,
            data: address.as_bytes().to_vec(),
        }
    }

    pub fn key_id(id: &[u8]) -> Repr {
        Repr {
            ty: IdType::ID_KEY_ID,
            data: id.to_vec(),
        }
    }

    /// A DER-encoded X.501 distinguished name.
    pub fn der_dn(der: &[u8]) -> Repr {
        Repr {
            ty: IdType::ID_DER_ASN1_DN,
            data: der.to_vec(),
        }
    }

    /// Whether `other` is the same identity: byte for byte, but distinguished names
    /// attribute by attribute as strongSwan compares them ([`crate::auth::dn::equal`]).
    pub fn matches(&self, other: &Repr) -> bool {
        match (self.ty, other.ty) {
            (IdType::ID_DER_ASN1_DN, IdType::ID_DER_ASN1_DN) => {
                crate::auth::dn::equal(&self.data, &other.data)
            }
            _ => self == other,
        }
    }

    /// The address of an ID_IPV4_ADDR or ID_IPV6_ADDR identity.
    pub fn as_addr(&self) -> Option<IpAddr> {
        match self.ty {
            IdType::ID_IPV4_ADDR => <[u8; 4]>::try_from(&self.data[..])
                .ok()
                .map(|o| IpAddr::V4(Ipv4Addr::from(o))),
            IdType::ID_IPV6_ADDR => <[u8; 16]>::try_from(&self.data[..])
                .ok()
                .map(|o| IpAddr::V6(Ipv6Addr::from(o))),
            _ => None,
        }
    }
}

impl PayloadBody for Repr {
    fn parse(body: &[u8]) -> Result<Self, Error> {
        need(body, FIXED_LEN, "ID")?;
        let repr = Repr {
            ty: IdType(body[0]),
            data: body[FIXED_LEN..].to_vec(),
        };
        let valid = match repr.ty {
            IdType::ID_IPV4_ADDR => repr.data.len() == 4,
            IdType::ID_IPV6_ADDR => repr.data.len() == 16,
            // RFC 7296 3.5: textual identities carry no terminators.
            IdType::ID_FQDN | IdType::ID_RFC822_ADDR => {
                !repr.data.is_empty() && !repr.data.contains(&0)
            }
            _ => true,
        };
        if !valid {
            return Err(Error::Malformed("ID data for its type"));
        }
        Ok(repr)
    }

    fn buffer_len(&self) -> usize {
        FIXED_LEN + self.data.len()
    }

    fn emit(&self, buf: &mut [u8]) {
        buf[0] = self.ty.0;
        buf[1..FIXED_LEN].fill(0);
        buf[FIXED_LEN..].copy_from_slice(&self.data);
    }
}

/// As strongSwan prints identities: addresses, names and distinguished names as text, others
/// in hex.
impl fmt::Display for Repr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(addr) = self.as_addr() {
            return write!(f, "{addr}");
        }
        if self.ty == IdType::ID_DER_ASN1_DN
            && let Some(text) = crate::auth::dn::to_text(&self.data)
        {
            return f.write_str(&text);
        }
        match (self.ty, std::str::from_utf8(&self.data)) {
            (IdType::ID_FQDN | IdType::ID_RFC822_ADDR, Ok(text)) => f.write_str(text),
            (ty, _) => {
                write!(f, "{ty}:")?;
                self.data.iter().try_for_each(|b| write!(f, "{b:02x}"))
            }
        }
    }
}

impl fmt::Debug for Repr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testing::{check_body, check_error};

    #[test]
    fn payload_checks_for_every_type() {
        let cases = [
            (
                Repr::addr("192.0.2.1".parse().unwrap()),
                vec![1, 0, 0, 0, 192, 0, 2, 1],
            ),
            (
                Repr::fqdn("moon.example"),
                [&[2, 0, 0, 0][..], b"moon.example"].concat(),
            ),
            (
                Repr::rfc822("carol@example"),
                [&[3, 0, 0, 0][..], b"carol@example"].concat(),
            ),
            (
                Repr::addr("2001:db8::1".parse().unwrap()),
                [&[5, 0, 0, 0][..], &[0x20, 1, 0xd, 0xb8], &[0; 11], &[1]].concat(),
            ),
            (Repr::der_dn(&[0x30, 0]), vec![9, 0, 0, 0, 0x30, 0]),
            (Repr::key_id(&[0xde, 0xad]), vec![11, 0, 0, 0, 0xde, 0xad]),
        ];
        for (repr, bytes) in cases {
            check_body(&repr, &bytes, FIXED_LEN);
        }
    }

    #[test]
    fn malformed_data() {
        check_error::<Repr>(
            &[1, 0, 0, 0, 192, 0, 2],
            Error::Malformed("ID data for its type"),
        );
        check_error::<Repr>(
            &[5, 0, 0, 0, 1, 2, 3, 4],
            Error::Malformed("ID data for its type"),
        );
        check_error::<Repr>(
            &[2, 0, 0, 0, b'a', 0],
            Error::Malformed("ID data for its type"),
        );
        check_error::<Repr>(&[2, 0, 0, 0], Error::Malformed("ID data for its type"));
        check_error::<Repr>(&[2, 0], Error::Truncated("ID"));
    }

    #[test]
    fn display() {
        assert_eq!(
            Repr::addr("192.0.2.1".parse().unwrap()).to_string(),
            "192.0.2.1"
        );
        assert_eq!(Repr::fqdn("sun.example").to_string(), "sun.example");
        assert_eq!(Repr::key_id(&[1, 0xff]).to_string(), "ID_KEY_ID:01ff");
    }
}
