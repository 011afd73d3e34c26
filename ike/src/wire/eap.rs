//! The EAP payload (RFC 7296 3.16), carrying one EAP message (RFC 3748 4).
//!
//! ```text
//!                      1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Next Payload  |C|  RESERVED   |         Payload Length        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     Code      | Identifier    |           Length              |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Type          | Type_Data...
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use super::{Error, PayloadBody, be16, need};

const HEADER_LEN: usize = 4;

/// RFC 3748 4: EAP codes.
pub const CODE_REQUEST: u8 = 1;
pub const CODE_RESPONSE: u8 = 2;
pub const CODE_SUCCESS: u8 = 3;
pub const CODE_FAILURE: u8 = 4;

/// An EAP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repr {
    /// A Request or Response: a method type and its data.
    Method {
        code: u8,
        identifier: u8,
        method: u8,
        data: Vec<u8>,
    },
    /// A Success or Failure, which carry nothing else.
    Outcome { code: u8, identifier: u8 },
}

impl PayloadBody for Repr {
    fn parse(body: &[u8]) -> Result<Self, Error> {
        need(body, HEADER_LEN, "EAP")?;
        if usize::from(be16(body, 2)) != body.len() {
            return Err(Error::BadLength("EAP"));
        }
        let (code, identifier) = (body[0], body[1]);
        match code {
            CODE_REQUEST | CODE_RESPONSE => {
                need(body, HEADER_LEN + 1, "EAP")?;
                Ok(Repr::Method {
                    code,
                    identifier,
                    method: body[HEADER_LEN],
                    data: body[HEADER_LEN + 1..].to_vec(),
                })
            }
            CODE_SUCCESS | CODE_FAILURE if body.len() == HEADER_LEN => {
                Ok(Repr::Outcome { code, identifier })
            }
            _ => Err(Error::Malformed("EAP code")),
        }
    }

    fn buffer_len(&self) -> usize {
        match self {
            Repr::Method { data, .. } => HEADER_LEN + 1 + data.len(),
            Repr::Outcome { .. } => HEADER_LEN,
        }
    }

    fn emit(&self, buf: &mut [u8]) {
        let len = super::len16(self.buffer_len()).to_be_bytes();
        match self {
            Repr::Method {
                code,
                identifier,
                method,
                data,
            } => {
                buf[..5].copy_from_slice(&[*code, *identifier, len[0], len[1], *method]);
                buf[5..].copy_from_slice(data);
            }
            Repr::Outcome { code, identifier } => {
                buf.copy_from_slice(&[*code, *identifier, len[0], len[1]]);
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
        // EAP-Request/Identity, then EAP-Success.
        let request = Repr::Method {
            code: CODE_REQUEST,
            identifier: 7,
            method: 1,
            data: vec![],
        };
        check_body(&request, &[1, 7, 0, 5, 1], HEADER_LEN + 1);
        let success = Repr::Outcome {
            code: CODE_SUCCESS,
            identifier: 7,
        };
        check_body(&success, &[3, 7, 0, 4], HEADER_LEN);
    }

    #[test]
    fn malformed() {
        check_error::<Repr>(&[1, 7, 0, 6, 1], Error::BadLength("EAP"));
        check_error::<Repr>(&[1, 7, 0, 4], Error::Truncated("EAP"));
        check_error::<Repr>(&[3, 7, 0, 5, 0], Error::Malformed("EAP code"));
        check_error::<Repr>(&[9, 7, 0, 4], Error::Malformed("EAP code"));
    }
}
