//! The Security Association payload (RFC 7296 3.3): proposals of transforms with attributes.
//!
//! ```text
//! Proposal substructure (3.3.1):
//!                      1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Last Substruc |   RESERVED    |         Proposal Length       |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Proposal Num  |  Protocol ID  |    SPI Size   |Num  Transforms|
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ~                        SPI (variable)                         ~
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ~                        <Transforms>                           ~
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!
//! Transform substructure (3.3.2):
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Last Substruc |   RESERVED    |        Transform Length       |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Transform Type |   RESERVED    |          Transform ID         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ~                      Transform Attributes                     ~
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!
//! Transform attribute (3.3.5), TV when AF = 1, TLV when AF = 0:
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |A|       Attribute Type        |    AF=0  Attribute Length     |
//! |F|                             |    AF=1  Attribute Value      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                   AF=0  Attribute Value                       |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use super::{
    EncrId, Error, EsnId, IntegId, KeId, PayloadBody, PrfId, ProtocolId, TransformAttributeType,
    TransformType, be16, need,
};

const PROPOSAL_FIXED_LEN: usize = 8;
const TRANSFORM_FIXED_LEN: usize = 8;
/// RFC 7296 3.3.1/3.3.2: the "Last Substruc" values.
const MORE_PROPOSALS: u8 = 2;
const MORE_TRANSFORMS: u8 = 3;
const LAST: u8 = 0;
/// RFC 7296 3.3.5: the Attribute Format bit.
const AF_TV: u16 = 0x8000;

/// A transform attribute's value: two bytes (TV) or a byte string (TLV).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AttributeValue {
    Short(u16),
    Long(Vec<u8>),
}

/// A transform attribute.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Attribute {
    /// 15 bits.
    pub ty: TransformAttributeType,
    pub value: AttributeValue,
}

impl Attribute {
    fn buffer_len(&self) -> usize {
        match &self.value {
            AttributeValue::Short(_) => 4,
            AttributeValue::Long(value) => 4 + value.len(),
        }
    }
}

/// A transform: an algorithm of one type, with attributes (the key length).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Transform {
    pub ty: TransformType,
    /// The algorithm, in the registry of `ty`.
    pub id: u16,
    pub attributes: Vec<Attribute>,
}

impl Transform {
    pub fn new(ty: TransformType, id: u16) -> Transform {
        Transform {
            ty,
            id,
            attributes: Vec::new(),
        }
    }

    pub fn encr(id: EncrId, key_bits: Option<u16>) -> Transform {
        let mut transform = Transform::new(TransformType::ENCR, id.0);
        if let Some(bits) = key_bits {
            transform.attributes.push(Attribute {
                ty: TransformAttributeType::KEY_LENGTH,
                value: AttributeValue::Short(bits),
            });
        }
        transform
    }

    pub fn prf(id: PrfId) -> Transform {
        Transform::new(TransformType::PRF, id.0)
    }

    pub fn integ(id: IntegId) -> Transform {
        Transform::new(TransformType::INTEG, id.0)
    }

    pub fn ke(id: KeId) -> Transform {
        Transform::new(TransformType::KE, id.0)
    }

    pub fn esn(id: EsnId) -> Transform {
        Transform::new(TransformType::ESN, id.0)
    }

    /// The Key Length attribute, in bits (RFC 7296 3.3.5).
    pub fn key_length(&self) -> Option<u16> {
        self.attributes.iter().find_map(|a| match a.value {
            AttributeValue::Short(bits) if a.ty == TransformAttributeType::KEY_LENGTH => Some(bits),
            _ => None,
        })
    }

    fn buffer_len(&self) -> usize {
        TRANSFORM_FIXED_LEN
            + self
                .attributes
                .iter()
                .map(Attribute::buffer_len)
                .sum::<usize>()
    }

    /// Parses the transform at the start of `bytes`; returns it and whether it was the last.
    fn parse(bytes: &[u8]) -> Result<(Transform, bool, usize), Error> {
        need(bytes, TRANSFORM_FIXED_LEN, "transform")?;
        let last = match bytes[0] {
            LAST => true,
            MORE_TRANSFORMS => false,
            _ => return Err(Error::Malformed("transform: Last Substruc")),
        };
        let len = usize::from(be16(bytes, 2));
        if len < TRANSFORM_FIXED_LEN || len > bytes.len() {
            return Err(Error::BadLength("transform"));
        }
        let mut attributes = Vec::new();
        let mut rest = &bytes[TRANSFORM_FIXED_LEN..len];
        while !rest.is_empty() {
            need(rest, 4, "transform attribute")?;
            let raw_ty = be16(rest, 0);
            let ty = TransformAttributeType(raw_ty & !AF_TV);
            let (value, used) = if raw_ty & AF_TV != 0 {
                (AttributeValue::Short(be16(rest, 2)), 4)
            } else {
                let end = 4 + usize::from(be16(rest, 2));
                need(rest, end, "transform attribute")?;
                (AttributeValue::Long(rest[4..end].to_vec()), end)
            };
            attributes.push(Attribute { ty, value });
            rest = &rest[used..];
        }
        let transform = Transform {
            ty: TransformType(bytes[4]),
            id: be16(bytes, 6),
            attributes,
        };
        Ok((transform, last, len))
    }

    fn emit(&self, buf: &mut [u8], last: bool) {
        buf[0] = if last { LAST } else { MORE_TRANSFORMS };
        buf[1] = 0;
        buf[2..4].copy_from_slice(&super::len16(self.buffer_len()).to_be_bytes());
        buf[4] = self.ty.0;
        buf[5] = 0;
        buf[6..8].copy_from_slice(&self.id.to_be_bytes());
        let mut at = TRANSFORM_FIXED_LEN;
        for attribute in &self.attributes {
            match &attribute.value {
                AttributeValue::Short(value) => {
                    buf[at..at + 2].copy_from_slice(&(attribute.ty.0 | AF_TV).to_be_bytes());
                    buf[at + 2..at + 4].copy_from_slice(&value.to_be_bytes());
                }
                AttributeValue::Long(value) => {
                    buf[at..at + 2].copy_from_slice(&(attribute.ty.0 & !AF_TV).to_be_bytes());
                    buf[at + 2..at + 4].copy_from_slice(&super::len16(value.len()).to_be_bytes());
                    buf[at + 4..at + 4 + value.len()].copy_from_slice(value);
                }
            }
            at += attribute.buffer_len();
        }
    }
}

/// A proposal: one protocol, its SPI, and transforms that are all required together (one of
/// each type chosen, RFC 7296 3.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Proposal {
    /// Numbered from 1 in a request; a response repeats the number it accepts.
    pub number: u8,
    pub protocol: ProtocolId,
    /// Empty in an initial IKE_SA_INIT, 8 bytes for an IKE SA rekey, 4 for AH and ESP.
    pub spi: Vec<u8>,
    pub transforms: Vec<Transform>,
}

impl Proposal {
    fn buffer_len(&self) -> usize {
        PROPOSAL_FIXED_LEN
            + self.spi.len()
            + self
                .transforms
                .iter()
                .map(Transform::buffer_len)
                .sum::<usize>()
    }

    fn parse(bytes: &[u8]) -> Result<(Proposal, bool, usize), Error> {
        need(bytes, PROPOSAL_FIXED_LEN, "proposal")?;
        let last = match bytes[0] {
            LAST => true,
            MORE_PROPOSALS => false,
            _ => return Err(Error::Malformed("proposal: Last Substruc")),
        };
        let len = usize::from(be16(bytes, 2));
        let spi_end = PROPOSAL_FIXED_LEN + usize::from(bytes[6]);
        if len < spi_end || len > bytes.len() {
            return Err(Error::BadLength("proposal"));
        }
        let count = usize::from(bytes[7]);
        let mut rest = &bytes[spi_end..len];
        let mut transforms = Vec::with_capacity(count.min(rest.len() / TRANSFORM_FIXED_LEN));
        for i in 0..count {
            let (transform, last_transform, used) = Transform::parse(rest)?;
            if last_transform != (i + 1 == count) {
                return Err(Error::Malformed("proposal: transform count"));
            }
            transforms.push(transform);
            rest = &rest[used..];
        }
        if !rest.is_empty() {
            return Err(Error::BadLength("proposal: bytes after the last transform"));
        }
        let proposal = Proposal {
            number: bytes[4],
            protocol: ProtocolId(bytes[5]),
            spi: bytes[PROPOSAL_FIXED_LEN..spi_end].to_vec(),
            transforms,
        };
        Ok((proposal, last, len))
    }

    fn emit(&self, buf: &mut [u8], last: bool) {
        let spi_end = PROPOSAL_FIXED_LEN + self.spi.len();
        buf[0] = if last { LAST } else { MORE_PROPOSALS };
        buf[1] = 0;
        buf[2..4].copy_from_slice(&super::len16(self.buffer_len()).to_be_bytes());
        buf[4] = self.number;
        buf[5] = self.protocol.0;
        // Message::emit refuses SPIs over 255 bytes and more than 255 transforms.
        buf[6] = self.spi.len() as u8;
        buf[7] = self.transforms.len() as u8;
        buf[PROPOSAL_FIXED_LEN..spi_end].copy_from_slice(&self.spi);
        let mut at = spi_end;
        for (i, transform) in self.transforms.iter().enumerate() {
            let len = transform.buffer_len();
            transform.emit(&mut buf[at..at + len], i + 1 == self.transforms.len());
            at += len;
        }
    }

    /// Whether the counts fit their one-byte fields.
    pub(crate) fn is_encodable(&self) -> bool {
        self.spi.len() <= 255 && self.transforms.len() <= 255
    }
}

/// The SA payload: proposals, most preferred first.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Repr {
    pub proposals: Vec<Proposal>,
}

impl PayloadBody for Repr {
    fn parse(body: &[u8]) -> Result<Self, Error> {
        let mut proposals = Vec::new();
        let mut rest = body;
        loop {
            let (proposal, last, used) = Proposal::parse(rest)?;
            proposals.push(proposal);
            rest = &rest[used..];
            if last {
                break;
            }
        }
        if !rest.is_empty() {
            return Err(Error::BadLength("SA: bytes after the last proposal"));
        }
        Ok(Repr { proposals })
    }

    fn buffer_len(&self) -> usize {
        self.proposals.iter().map(Proposal::buffer_len).sum()
    }

    fn emit(&self, buf: &mut [u8]) {
        let mut at = 0;
        for (i, proposal) in self.proposals.iter().enumerate() {
            let len = proposal.buffer_len();
            proposal.emit(&mut buf[at..at + len], i + 1 == self.proposals.len());
            at += len;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testing::{check_body, check_error};

    /// aes256gcm16-prfsha384-x25519 for IKE, then an ESP proposal with an SPI, AES-CBC-128,
    /// HMAC-SHA2-256-128 and no ESN.
    fn repr() -> Repr {
        Repr {
            proposals: vec![
                Proposal {
                    number: 1,
                    protocol: ProtocolId::IKE,
                    spi: vec![],
                    transforms: vec![
                        Transform::encr(EncrId::ENCR_AES_GCM_16, Some(256)),
                        Transform::prf(PrfId::PRF_HMAC_SHA2_384),
                        Transform::ke(KeId::CURVE25519),
                    ],
                },
                Proposal {
                    number: 2,
                    protocol: ProtocolId::ESP,
                    spi: vec![0xc1, 0xc2, 0xc3, 0xc4],
                    transforms: vec![
                        Transform::encr(EncrId::ENCR_AES_CBC, Some(128)),
                        Transform::integ(IntegId::AUTH_HMAC_SHA2_256_128),
                        Transform::esn(EsnId::NO_ESN),
                    ],
                },
            ],
        }
    }

    #[rustfmt::skip]
    const BYTES: [u8; 76] = [
        // proposal 1: more follow, length 36, #1, IKE, no SPI, 3 transforms
        2, 0, 0, 36, 1, 1, 0, 3,
        3, 0, 0, 12, 1, 0, 0, 20, 0x80, 14, 1, 0, // ENCR_AES_GCM_16, key length 256
        3, 0, 0, 8, 2, 0, 0, 6,                   // PRF_HMAC_SHA2_384
        0, 0, 0, 8, 4, 0, 0, 31,                  // CURVE25519
        // proposal 2: last, length 40, #2, ESP, 4-byte SPI, 3 transforms
        0, 0, 0, 40, 2, 3, 4, 3, 0xc1, 0xc2, 0xc3, 0xc4,
        3, 0, 0, 12, 1, 0, 0, 12, 0x80, 14, 0, 128, // ENCR_AES_CBC, key length 128
        3, 0, 0, 8, 3, 0, 0, 12,                    // AUTH_HMAC_SHA2_256_128
        0, 0, 0, 8, 5, 0, 0, 0,                     // NO_ESN
    ];

    #[test]
    fn payload_checks() {
        check_body(&repr(), &BYTES, PROPOSAL_FIXED_LEN);
        assert_eq!(repr().proposals[0].transforms[0].key_length(), Some(256));
    }

    #[test]
    fn tlv_attribute_round_trips() {
        let mut transform = Transform::prf(PrfId::PRF_HMAC_SHA2_256);
        transform.attributes.push(Attribute {
            ty: TransformAttributeType(99),
            value: AttributeValue::Long(vec![1, 2, 3]),
        });
        let repr = Repr {
            proposals: vec![Proposal {
                number: 1,
                protocol: ProtocolId::IKE,
                spi: vec![],
                transforms: vec![transform],
            }],
        };
        let bytes = [
            0, 0, 0, 23, 1, 1, 0, 1, 0, 0, 0, 15, 2, 0, 0, 5, 0, 99, 0, 3, 1, 2, 3,
        ];
        check_body(&repr, &bytes, PROPOSAL_FIXED_LEN);
        assert_eq!(repr.proposals[0].transforms[0].key_length(), None);
    }

    #[test]
    fn lengths_must_agree() {
        let mut bytes = BYTES;
        bytes[3] = 37; // proposal 1 claims one byte more
        assert!(Repr::parse(&bytes).is_err());
        let mut bytes = BYTES;
        bytes[7] = 2; // proposal 1 claims two transforms, the second says "more"
        check_error::<Repr>(&bytes, Error::Malformed("proposal: transform count"));
        let mut bytes = BYTES;
        bytes[11] = 13; // transform 1 claims a byte of proposal 1's next transform
        assert!(Repr::parse(&bytes).is_err());
        check_error::<Repr>(&BYTES[..36], Error::Truncated("proposal"));
        let mut trailing = BYTES.to_vec();
        trailing.push(0);
        check_error::<Repr>(
            &trailing,
            Error::BadLength("SA: bytes after the last proposal"),
        );
    }

    #[test]
    fn last_substruc_values() {
        let mut bytes = BYTES;
        bytes[0] = 1;
        check_error::<Repr>(&bytes, Error::Malformed("proposal: Last Substruc"));
        let mut bytes = BYTES;
        bytes[8] = 2;
        check_error::<Repr>(&bytes, Error::Malformed("transform: Last Substruc"));
    }
}
