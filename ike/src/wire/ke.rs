//! The Key Exchange payload (RFC 7296 3.4).
//!
//! ```text
//!                      1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Next Payload  |C|  RESERVED   |         Payload Length        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   Diffie-Hellman Group Num    |           RESERVED            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               |
//! ~                       Key Exchange Data                       ~
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use super::{Error, KeId, PayloadBody, be16, need};

const FIXED_LEN: usize = 4;

/// A key exchange: the method and the sender's public value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repr {
    pub group: KeId,
    pub data: Vec<u8>,
}

impl PayloadBody for Repr {
    fn parse(body: &[u8]) -> Result<Self, Error> {
        need(body, FIXED_LEN, "KE")?;
        Ok(Repr {
            group: KeId(be16(body, 0)),
            data: body[FIXED_LEN..].to_vec(),
        })
    }

    fn buffer_len(&self) -> usize {
        FIXED_LEN + self.data.len()
    }

    fn emit(&self, buf: &mut [u8]) {
        buf[..2].copy_from_slice(&self.group.0.to_be_bytes());
        buf[2..4].fill(0);
        buf[FIXED_LEN..].copy_from_slice(&self.data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testing::{check_body, check_error};

    #[test]
    fn payload_checks() {
        let mut bytes = vec![0, 31, 0, 0];
        bytes.extend([0x42; 32]);
        let repr = Repr {
            group: KeId::CURVE25519,
            data: vec![0x42; 32],
        };
        check_body(&repr, &bytes, FIXED_LEN);
    }

    #[test]
    fn truncated() {
        check_error::<Repr>(&[0, 31, 0], Error::Truncated("KE"));
    }
}
