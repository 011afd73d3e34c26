//! The Vendor ID payload (RFC 7296 3.12).
//!
//! ```text
//!                      1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Next Payload  |C|  RESERVED   |         Payload Length        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               |
//! ~                        Vendor ID (VID)                        ~
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use super::{Error, PayloadBody};

/// A Vendor ID: opaque bytes, usually a hash of a product name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repr {
    pub id: Vec<u8>,
}

impl PayloadBody for Repr {
    fn parse(body: &[u8]) -> Result<Self, Error> {
        Ok(Repr { id: body.to_vec() })
    }

    fn buffer_len(&self) -> usize {
        self.id.len()
    }

    fn emit(&self, buf: &mut [u8]) {
        buf.copy_from_slice(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testing::check_body;

    #[test]
    fn payload_checks() {
        // strongSwan's Vendor ID: MD5("strongSwan").
        let id = [
            0x88, 0x2f, 0xe5, 0x6d, 0x6f, 0xd2, 0x0d, 0xbc, 0x22, 0x51, 0x61, 0x3b, 0x2e, 0xbe,
            0x5b, 0xeb,
        ];
        check_body(&Repr { id: id.to_vec() }, &id, 0);
        check_body(&Repr { id: Vec::new() }, &[], 0);
    }
}
