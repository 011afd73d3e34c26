//! The Certificate payload (RFC 7296 3.6).
//!
//! ```text
//!                      1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Next Payload  |C|  RESERVED   |         Payload Length        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Cert Encoding |                                               |
//! +-+-+-+-+-+-+-+-+                                               |
//! ~                       Certificate Data                        ~
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use super::{CertEncoding, Error, PayloadBody, need};

/// A certificate (or CRL, or hash and URL) in the encoding named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repr {
    pub encoding: CertEncoding,
    pub data: Vec<u8>,
}

impl PayloadBody for Repr {
    fn parse(body: &[u8]) -> Result<Self, Error> {
        need(body, 1, "CERT")?;
        Ok(Repr {
            encoding: CertEncoding(body[0]),
            data: body[1..].to_vec(),
        })
    }

    fn buffer_len(&self) -> usize {
        1 + self.data.len()
    }

    fn emit(&self, buf: &mut [u8]) {
        buf[0] = self.encoding.0;
        buf[1..].copy_from_slice(&self.data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testing::{check_body, check_error};

    #[test]
    fn payload_checks() {
        let repr = Repr {
            encoding: CertEncoding::X509_SIGNATURE,
            data: vec![0x30, 0x82, 0x01, 0x0a],
        };
        check_body(&repr, &[4, 0x30, 0x82, 0x01, 0x0a], 1);
    }

    #[test]
    fn truncated() {
        check_error::<Repr>(&[], Error::Truncated("CERT"));
    }
}
