//! The Encrypted and Authenticated Fragment payload, SKF (RFC 7383 2.5).
//!
//! ```text
//!                      1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Next Payload  |C|  RESERVED   |         Payload Length        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |        Fragment Number        |        Total Fragments        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                     Initialization Vector                     |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ~                      Encrypted content                        ~
//! +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |               |             Padding (0-255 octets)            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                               |  Pad Length   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ~                    Integrity Checksum Data                    ~
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use super::{Error, PayloadBody, be16, need};

const FIXED_LEN: usize = 4;

/// One fragment of a protected message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repr {
    /// From 1.
    pub number: u16,
    pub total: u16,
    /// IV, ciphertext and integrity checksum, undivided (as in SK).
    pub data: Vec<u8>,
}

impl PayloadBody for Repr {
    fn parse(body: &[u8]) -> Result<Self, Error> {
        need(body, FIXED_LEN, "SKF")?;
        let (number, total) = (be16(body, 0), be16(body, 2));
        // RFC 7383 2.6: fragments are numbered from 1, and none beyond the total.
        if number == 0 || number > total {
            return Err(Error::Malformed("SKF fragment number"));
        }
        Ok(Repr {
            number,
            total,
            data: body[FIXED_LEN..].to_vec(),
        })
    }

    fn buffer_len(&self) -> usize {
        FIXED_LEN + self.data.len()
    }

    fn emit(&self, buf: &mut [u8]) {
        buf[..2].copy_from_slice(&self.number.to_be_bytes());
        buf[2..4].copy_from_slice(&self.total.to_be_bytes());
        buf[FIXED_LEN..].copy_from_slice(&self.data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testing::{check_body, check_error};

    #[test]
    fn payload_checks() {
        let repr = Repr {
            number: 2,
            total: 3,
            data: vec![9; 40],
        };
        let mut bytes = vec![0, 2, 0, 3];
        bytes.extend([9; 40]);
        check_body(&repr, &bytes, FIXED_LEN);
    }

    #[test]
    fn numbering() {
        check_error::<Repr>(&[0, 0, 0, 3], Error::Malformed("SKF fragment number"));
        check_error::<Repr>(&[0, 4, 0, 3], Error::Malformed("SKF fragment number"));
        check_error::<Repr>(&[0, 1, 0], Error::Truncated("SKF"));
    }
}
