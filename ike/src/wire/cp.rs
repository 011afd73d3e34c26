//! The Configuration payload (RFC 7296 3.15).
//!
//! ```text
//!                      1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Next Payload  |C| RESERVED    |         Payload Length        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   CFG Type    |                    RESERVED                   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ~                   Configuration Attributes                    ~
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!
//! Each attribute (3.15.1):
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |R|         Attribute Type      |            Length             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ~                             Value                             ~
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use super::{CfgAttributeType, CfgType, Error, PayloadBody, be16, need};

const FIXED_LEN: usize = 4;
const ATTRIBUTE_HEADER_LEN: usize = 4;
/// RFC 7296 3.15.1: the reserved bit, sent as zero and ignored on receipt.
const RESERVED_BIT: u16 = 0x8000;

/// A configuration attribute; an empty value asks for one in a CFG_REQUEST.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CfgAttribute {
    /// 15 bits.
    pub ty: CfgAttributeType,
    pub value: Vec<u8>,
}

/// A configuration request, reply, set or acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repr {
    pub cfg_type: CfgType,
    pub attributes: Vec<CfgAttribute>,
}

impl PayloadBody for Repr {
    fn parse(body: &[u8]) -> Result<Self, Error> {
        need(body, FIXED_LEN, "CP")?;
        let mut attributes = Vec::new();
        let mut rest = &body[FIXED_LEN..];
        while !rest.is_empty() {
            need(rest, ATTRIBUTE_HEADER_LEN, "CP attribute")?;
            let end = ATTRIBUTE_HEADER_LEN + usize::from(be16(rest, 2));
            need(rest, end, "CP attribute")?;
            attributes.push(CfgAttribute {
                ty: CfgAttributeType(be16(rest, 0) & !RESERVED_BIT),
                value: rest[ATTRIBUTE_HEADER_LEN..end].to_vec(),
            });
            rest = &rest[end..];
        }
        Ok(Repr {
            cfg_type: CfgType(body[0]),
            attributes,
        })
    }

    fn buffer_len(&self) -> usize {
        FIXED_LEN
            + self
                .attributes
                .iter()
                .map(|a| ATTRIBUTE_HEADER_LEN + a.value.len())
                .sum::<usize>()
    }

    fn emit(&self, buf: &mut [u8]) {
        buf[0] = self.cfg_type.0;
        buf[1..FIXED_LEN].fill(0);
        let mut at = FIXED_LEN;
        for attribute in &self.attributes {
            let end = at + ATTRIBUTE_HEADER_LEN + attribute.value.len();
            buf[at..at + 2].copy_from_slice(&(attribute.ty.0 & !RESERVED_BIT).to_be_bytes());
            buf[at + 2..at + 4].copy_from_slice(&super::len16(attribute.value.len()).to_be_bytes());
            buf[at + ATTRIBUTE_HEADER_LEN..end].copy_from_slice(&attribute.value);
            at = end;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testing::{check_body, check_error};

    #[test]
    fn payload_checks() {
        let reply = Repr {
            cfg_type: CfgType::CFG_REPLY,
            attributes: vec![
                CfgAttribute {
                    ty: CfgAttributeType::INTERNAL_IP4_ADDRESS,
                    value: vec![198, 51, 100, 7],
                },
                CfgAttribute {
                    ty: CfgAttributeType::INTERNAL_IP4_DNS,
                    value: vec![],
                },
            ],
        };
        let bytes = [2, 0, 0, 0, 0, 1, 0, 4, 198, 51, 100, 7, 0, 3, 0, 0];
        check_body(&reply, &bytes, FIXED_LEN);
    }

    #[test]
    fn attribute_longer_than_payload() {
        check_error::<Repr>(
            &[1, 0, 0, 0, 0, 1, 0, 4, 198],
            Error::Truncated("CP attribute"),
        );
        check_error::<Repr>(&[1, 0, 0, 0, 0, 1], Error::Truncated("CP attribute"));
    }

    #[test]
    fn reserved_bit_is_ignored() {
        let repr = Repr::parse(&[1, 0, 0, 0, 0x80, 1, 0, 0]).unwrap();
        assert_eq!(
            repr.attributes[0].ty,
            CfgAttributeType::INTERNAL_IP4_ADDRESS
        );
    }
}
