//! The Certificate Request payload (RFC 7296 3.7).
//!
//! ```text
//!                      1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Next Payload  |C|  RESERVED   |         Payload Length        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Cert Encoding |                                               |
//! +-+-+-+-+-+-+-+-+                                               |
//! ~                    Certification Authority                    ~
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use super::{CertEncoding, Error, PayloadBody, need};

/// RFC 7296 3.7: for X.509, the authorities are SHA-1 hashes of their public keys.
pub const SHA1_LEN: usize = 20;

/// A request for certificates, naming the trusted authorities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repr {
    pub encoding: CertEncoding,
    pub authorities: Vec<u8>,
}

impl Repr {
    /// The SHA-1 public-key hashes of an X.509 request; `None` for other encodings or when the
    /// data is not a whole number of hashes.
    pub fn key_hashes(&self) -> Option<impl Iterator<Item = &[u8]>> {
        let whole = self.authorities.len().is_multiple_of(SHA1_LEN);
        (self.encoding == CertEncoding::X509_SIGNATURE && whole)
            .then(|| self.authorities.chunks_exact(SHA1_LEN))
    }
}

impl PayloadBody for Repr {
    fn parse(body: &[u8]) -> Result<Self, Error> {
        need(body, 1, "CERTREQ")?;
        Ok(Repr {
            encoding: CertEncoding(body[0]),
            authorities: body[1..].to_vec(),
        })
    }

    fn buffer_len(&self) -> usize {
        1 + self.authorities.len()
    }

    fn emit(&self, buf: &mut [u8]) {
        buf[0] = self.encoding.0;
        buf[1..].copy_from_slice(&self.authorities);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testing::{check_body, check_error};

    #[test]
    fn payload_checks() {
        let mut bytes = vec![4];
        bytes.extend([0x11; 20]);
        bytes.extend([0x22; 20]);
        let repr = Repr {
            encoding: CertEncoding::X509_SIGNATURE,
            authorities: bytes[1..].to_vec(),
        };
        check_body(&repr, &bytes, 1);
        let hashes: Vec<_> = repr.key_hashes().unwrap().collect();
        assert_eq!(hashes, [&[0x11; 20][..], &[0x22; 20][..]]);
    }

    #[test]
    fn partial_hash_is_not_a_list() {
        let repr = Repr::parse(&[4, 1, 2, 3]).unwrap();
        assert!(repr.key_hashes().is_none());
        check_error::<Repr>(&[], Error::Truncated("CERTREQ"));
    }
}
