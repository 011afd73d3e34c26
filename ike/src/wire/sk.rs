//! The Encrypted and Authenticated payload, SK (RFC 7296 3.14).
//!
//! ```text
//!                      1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Next Payload  |C|  RESERVED   |         Payload Length        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                     Initialization Vector                     |
//! |         (length is block size for encryption algorithm)       |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ~                    Encrypted IKE Payloads                     ~
//! +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |               |             Padding (0-255 octets)            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                               |  Pad Length   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ~                    Integrity Checksum Data                    ~
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! The codec keeps the body whole: where the IV ends and the checksum begins depends on the
//! negotiated algorithms, which the crypto layer knows.

use super::{Error, PayloadBody};

/// The protected part of a message: IV, ciphertext and integrity checksum, undivided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repr {
    pub data: Vec<u8>,
}

impl PayloadBody for Repr {
    fn parse(body: &[u8]) -> Result<Self, Error> {
        Ok(Repr {
            data: body.to_vec(),
        })
    }

    fn buffer_len(&self) -> usize {
        self.data.len()
    }

    fn emit(&self, buf: &mut [u8]) {
        buf.copy_from_slice(&self.data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testing::check_body;

    #[test]
    fn payload_checks() {
        let data: Vec<u8> = (0..48).collect();
        check_body(&Repr { data: data.clone() }, &data, 0);
    }
}
