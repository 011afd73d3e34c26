//! The Delete payload (RFC 7296 3.11).
//!
//! ```text
//!                      1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Next Payload  |C|  RESERVED   |         Payload Length        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Protocol ID   |   SPI Size    |          Num of SPIs          |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               |
//! ~               Security Parameter Index(es) (SPI)              ~
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use super::{Error, PayloadBody, ProtocolId, be16, be32, need};

const FIXED_LEN: usize = 4;

/// What to delete: the IKE SA this message travels on, or Child SAs by their SPIs (each the
/// SPI the sender of the Delete receives on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repr {
    Ike,
    Child {
        protocol: ProtocolId,
        spis: Vec<u32>,
    },
}

impl PayloadBody for Repr {
    fn parse(body: &[u8]) -> Result<Self, Error> {
        need(body, FIXED_LEN, "Delete")?;
        let (protocol, spi_size, count) =
            (ProtocolId(body[0]), body[1], usize::from(be16(body, 2)));
        let spis = &body[FIXED_LEN..];
        match protocol {
            // RFC 7296 3.11: the IKE SA's SPIs are in the header; SPI size and count are zero.
            ProtocolId::IKE if spi_size == 0 && count == 0 && spis.is_empty() => Ok(Repr::Ike),
            ProtocolId::AH | ProtocolId::ESP if spi_size == 4 => {
                if spis.len() != count * 4 {
                    return Err(Error::BadLength("Delete SPIs"));
                }
                let spis = (0..count).map(|i| be32(spis, i * 4)).collect();
                Ok(Repr::Child { protocol, spis })
            }
            _ => Err(Error::Malformed("Delete protocol and SPI size")),
        }
    }

    fn buffer_len(&self) -> usize {
        match self {
            Repr::Ike => FIXED_LEN,
            Repr::Child { spis, .. } => FIXED_LEN + 4 * spis.len(),
        }
    }

    fn emit(&self, buf: &mut [u8]) {
        match self {
            Repr::Ike => buf.copy_from_slice(&[ProtocolId::IKE.0, 0, 0, 0]),
            Repr::Child { protocol, spis } => {
                buf[0] = protocol.0;
                buf[1] = 4;
                buf[2..4].copy_from_slice(&super::len16(spis.len()).to_be_bytes());
                for (chunk, spi) in buf[FIXED_LEN..].chunks_exact_mut(4).zip(spis) {
                    chunk.copy_from_slice(&spi.to_be_bytes());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testing::{check_body, check_error};

    #[test]
    fn payload_checks() {
        check_body(&Repr::Ike, &[1, 0, 0, 0], FIXED_LEN);
        let child = Repr::Child {
            protocol: ProtocolId::ESP,
            spis: vec![0xc000_0001, 0xc000_0002],
        };
        check_body(
            &child,
            &[3, 4, 0, 2, 0xc0, 0, 0, 1, 0xc0, 0, 0, 2],
            FIXED_LEN,
        );
    }

    #[test]
    fn count_disagrees_with_length() {
        check_error::<Repr>(
            &[3, 4, 0, 2, 0xc0, 0, 0, 1],
            Error::BadLength("Delete SPIs"),
        );
        check_error::<Repr>(
            &[3, 4, 0, 0, 0xc0, 0, 0, 1],
            Error::BadLength("Delete SPIs"),
        );
    }

    #[test]
    fn malformed() {
        let bad = Error::Malformed("Delete protocol and SPI size");
        check_error::<Repr>(&[1, 0, 0, 1], bad);
        check_error::<Repr>(&[1, 8, 0, 0], bad);
        check_error::<Repr>(&[3, 8, 0, 0], bad);
        check_error::<Repr>(&[9, 4, 0, 0], bad);
        check_error::<Repr>(&[3, 4, 0], Error::Truncated("Delete"));
    }
}
