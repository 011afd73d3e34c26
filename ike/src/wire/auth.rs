//! The Authentication payload (RFC 7296 3.8).
//!
//! ```text
//!                      1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Next Payload  |C|  RESERVED   |         Payload Length        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Auth Method   |                RESERVED                       |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               |
//! ~                      Authentication Data                      ~
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use super::{AuthMethod, Error, PayloadBody, need};

const FIXED_LEN: usize = 4;

/// Proof of identity: a MAC keyed with a PSK or a signature, by `method`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repr {
    pub method: AuthMethod,
    pub data: Vec<u8>,
}

impl PayloadBody for Repr {
    fn parse(body: &[u8]) -> Result<Self, Error> {
        need(body, FIXED_LEN, "AUTH")?;
        Ok(Repr {
            method: AuthMethod(body[0]),
            data: body[FIXED_LEN..].to_vec(),
        })
    }

    fn buffer_len(&self) -> usize {
        FIXED_LEN + self.data.len()
    }

    fn emit(&self, buf: &mut [u8]) {
        buf[0] = self.method.0;
        buf[1..FIXED_LEN].fill(0);
        buf[FIXED_LEN..].copy_from_slice(&self.data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testing::{check_body, check_error};

    #[test]
    fn payload_checks() {
        let mut bytes = vec![2, 0, 0, 0];
        bytes.extend([0xab; 32]);
        let repr = Repr {
            method: AuthMethod::SHARED_KEY_MIC,
            data: vec![0xab; 32],
        };
        check_body(&repr, &bytes, FIXED_LEN);
    }

    #[test]
    fn truncated() {
        check_error::<Repr>(&[2, 0, 0], Error::Truncated("AUTH"));
    }
}
