//! The Notify payload (RFC 7296 3.10).
//!
//! ```text
//!                      1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Next Payload  |C|  RESERVED   |         Payload Length        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Protocol ID  |   SPI Size    |      Notify Message Type      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               |
//! ~                Security Parameter Index (SPI)                 ~
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               |
//! ~                       Notification Data                       ~
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use super::{Error, NotifyType, PayloadBody, ProtocolId, be16, need};

const FIXED_LEN: usize = 4;

/// A notification: an error, or a status or capability.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repr {
    /// The kind of SA `spi` names; NONE when there is no SPI.
    pub protocol: ProtocolId,
    pub spi: Vec<u8>,
    pub ty: NotifyType,
    pub data: Vec<u8>,
}

impl Repr {
    /// A notify about the IKE SA (no SPI) with `data`.
    pub fn new(ty: NotifyType, data: &[u8]) -> Repr {
        Repr {
            protocol: ProtocolId::NONE,
            spi: Vec::new(),
            ty,
            data: data.to_vec(),
        }
    }

    /// A notify about a Child SA, naming it by protocol and SPI (REKEY_SA, INVALID_SELECTORS,
    /// CHILD_SA_NOT_FOUND).
    pub fn for_child(ty: NotifyType, protocol: ProtocolId, spi: u32, data: &[u8]) -> Repr {
        Repr {
            protocol,
            spi: spi.to_be_bytes().to_vec(),
            ty,
            data: data.to_vec(),
        }
    }

    /// The SPI as a Child SA's 4-byte SPI.
    pub fn child_spi(&self) -> Option<u32> {
        <[u8; 4]>::try_from(&self.spi[..])
            .ok()
            .map(u32::from_be_bytes)
    }
}

impl PayloadBody for Repr {
    fn parse(body: &[u8]) -> Result<Self, Error> {
        need(body, FIXED_LEN, "Notify")?;
        let spi_end = FIXED_LEN + usize::from(body[1]);
        need(body, spi_end, "Notify SPI")?;
        Ok(Repr {
            protocol: ProtocolId(body[0]),
            spi: body[FIXED_LEN..spi_end].to_vec(),
            ty: NotifyType(be16(body, 2)),
            data: body[spi_end..].to_vec(),
        })
    }

    fn buffer_len(&self) -> usize {
        FIXED_LEN + self.spi.len() + self.data.len()
    }

    fn emit(&self, buf: &mut [u8]) {
        let spi_end = FIXED_LEN + self.spi.len();
        buf[0] = self.protocol.0;
        // Callers only build SPIs of 0, 4 or 8 bytes.
        buf[1] = self.spi.len() as u8;
        buf[2..4].copy_from_slice(&self.ty.0.to_be_bytes());
        buf[FIXED_LEN..spi_end].copy_from_slice(&self.spi);
        buf[spi_end..].copy_from_slice(&self.data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testing::{check_body, check_error};

    #[test]
    fn payload_checks_without_spi() {
        let mut bytes = vec![0, 0, 0x40, 0x04];
        bytes.extend([0x5a; 20]);
        let repr = Repr::new(NotifyType::NAT_DETECTION_SOURCE_IP, &[0x5a; 20]);
        check_body(&repr, &bytes, FIXED_LEN);
    }

    #[test]
    fn payload_checks_with_child_spi() {
        let bytes = [3, 4, 0x40, 0x09, 0xc0, 0, 0, 1];
        let repr = Repr::for_child(NotifyType::REKEY_SA, ProtocolId::ESP, 0xc000_0001, &[]);
        check_body(&repr, &bytes, FIXED_LEN);
        assert_eq!(repr.child_spi(), Some(0xc000_0001));
    }

    #[test]
    fn spi_longer_than_payload() {
        check_error::<Repr>(&[3, 4, 0x40, 0x09, 0xc0, 0], Error::Truncated("Notify SPI"));
        check_error::<Repr>(&[3, 4, 0x40], Error::Truncated("Notify"));
    }
}
