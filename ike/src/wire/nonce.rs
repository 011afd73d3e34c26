//! The Nonce payload (RFC 7296 3.9).
//!
//! ```text
//!                      1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Next Payload  |C|  RESERVED   |         Payload Length        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               |
//! ~                            Nonce Data                         ~
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use super::{Error, PayloadBody};

/// A nonce, Ni or Nr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repr {
    pub data: Vec<u8>,
}

impl Repr {
    /// RFC 7296 3.9: "The size of the Nonce Data MUST be between 16 and 256 octets, inclusive."
    pub const MIN_LEN: usize = 16;
    pub const MAX_LEN: usize = 256;
}

impl PayloadBody for Repr {
    fn parse(body: &[u8]) -> Result<Self, Error> {
        if body.len() < Self::MIN_LEN {
            return Err(Error::Truncated("Nonce"));
        }
        if body.len() > Self::MAX_LEN {
            return Err(Error::BadLength("Nonce"));
        }
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
    use crate::wire::testing::{check_body, check_error};

    #[test]
    fn payload_checks() {
        let bytes: Vec<u8> = (0..32).collect();
        check_body(
            &Repr {
                data: bytes.clone(),
            },
            &bytes,
            Repr::MIN_LEN,
        );
    }

    #[test]
    fn length_limits() {
        check_error::<Repr>(&[0; 15], Error::Truncated("Nonce"));
        check_error::<Repr>(&[0; 257], Error::BadLength("Nonce"));
        assert!(Repr::parse(&[0; 16]).is_ok());
        assert!(Repr::parse(&[0; 256]).is_ok());
    }
}
