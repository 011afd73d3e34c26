//! Just enough DER (ITU-T X.690) to read the structures AUTH needs: PKCS#8 PrivateKeyInfo
//! (RFC 5208), SubjectPublicKeyInfo (RFC 5280 4.1), AlgorithmIdentifier with RSASSA-PSS
//! parameters (RFC 4055 3.1), and ECDSA-Sig-Value (RFC 3279 2.2.3).
//!
//! The reader takes untrusted bytes: definite lengths only, no length longer than the input,
//! no recursion, and every error is `Malformed`.

use crate::crypto::Error;

pub(crate) const SEQUENCE: u8 = 0x30;
pub(crate) const INTEGER: u8 = 0x02;
pub(crate) const BIT_STRING: u8 = 0x03;
pub(crate) const OCTET_STRING: u8 = 0x04;
pub(crate) const NULL: u8 = 0x05;
pub(crate) const OID: u8 = 0x06;

/// Object identifiers, as the content octets of their DER encoding.
pub(crate) mod oid {
    /// rsaEncryption, 1.2.840.113549.1.1.1 (RFC 8017 A.1).
    pub const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    /// sha1WithRSAEncryption, 1.2.840.113549.1.1.5 (RFC 8017 A.2.4).
    pub const SHA1_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05];
    /// sha256WithRSAEncryption, 1.2.840.113549.1.1.11.
    pub const SHA256_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
    /// sha384WithRSAEncryption, 1.2.840.113549.1.1.12.
    pub const SHA384_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c];
    /// sha512WithRSAEncryption, 1.2.840.113549.1.1.13.
    pub const SHA512_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d];
    /// id-RSASSA-PSS, 1.2.840.113549.1.1.10 (RFC 4055 3.1).
    pub const RSASSA_PSS: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a];
    /// id-mgf1, 1.2.840.113549.1.1.8 (RFC 4055 2.2).
    pub const MGF1: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08];
    /// id-sha1, 1.3.14.3.2.26.
    pub const SHA1: &[u8] = &[0x2b, 0x0e, 0x03, 0x02, 0x1a];
    /// id-sha256, 2.16.840.1.101.3.4.2.1 (RFC 5754 2).
    pub const SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
    /// id-sha384, 2.16.840.1.101.3.4.2.2.
    pub const SHA384: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02];
    /// id-sha512, 2.16.840.1.101.3.4.2.3.
    pub const SHA512: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03];
    /// ecdsa-with-SHA1, 1.2.840.10045.4.1 (RFC 3279 2.2.3).
    pub const ECDSA_WITH_SHA1: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01];
    /// ecdsa-with-SHA256, 1.2.840.10045.4.3.2 (RFC 5758 3.2).
    pub const ECDSA_WITH_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
    /// ecdsa-with-SHA384, 1.2.840.10045.4.3.3.
    pub const ECDSA_WITH_SHA384: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03];
    /// ecdsa-with-SHA512, 1.2.840.10045.4.3.4.
    pub const ECDSA_WITH_SHA512: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04];
    /// id-ecPublicKey, 1.2.840.10045.2.1 (RFC 5480 2.1.1).
    pub const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    /// secp256r1, 1.2.840.10045.3.1.7 (RFC 5480 2.1.1.1).
    pub const SECP256R1: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    /// secp384r1, 1.3.132.0.34.
    pub const SECP384R1: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
    /// secp521r1, 1.3.132.0.35.
    pub const SECP521R1: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];
    /// id-Ed25519, 1.3.101.112 (RFC 8410 3).
    pub const ED25519: &[u8] = &[0x2b, 0x65, 0x70];
}

/// A cursor over a sequence of DER elements.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { rest: bytes }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The tag of the next element, if there is one.
    pub(crate) fn peek_tag(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// Reads one element: its tag and its content octets.
    pub(crate) fn any(&mut self) -> Result<(u8, &'a [u8]), Error> {
        let malformed = Error::Malformed("DER");
        let (&tag, rest) = self.rest.split_first().ok_or(malformed)?;
        // Multi-byte tags (low five bits all set) appear in none of our structures.
        if tag & 0x1f == 0x1f {
            return Err(malformed);
        }
        let (&first, mut rest) = rest.split_first().ok_or(malformed)?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            // X.690 8.1.3.5: long form; 0x80 alone (indefinite) is not DER.
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 3 || rest.len() < count {
                return Err(malformed);
            }
            let (octets, tail) = rest.split_at(count);
            rest = tail;
            octets
                .iter()
                .fold(0usize, |len, &b| (len << 8) | usize::from(b))
        };
        if rest.len() < len {
            return Err(malformed);
        }
        let (content, tail) = rest.split_at(len);
        self.rest = tail;
        Ok((tag, content))
    }

    /// Reads one element that must have `tag`.
    pub(crate) fn expect(&mut self, tag: u8) -> Result<&'a [u8], Error> {
        match self.any()? {
            (found, content) if found == tag => Ok(content),
            _ => Err(Error::Malformed("DER")),
        }
    }

    /// Reads one element that must have `tag`, and returns all of it: tag, length, content.
    pub(crate) fn expect_raw(&mut self, tag: u8) -> Result<&'a [u8], Error> {
        let before = self.rest;
        self.expect(tag)?;
        Ok(&before[..before.len() - self.rest.len()])
    }

    /// Reads the element with `tag` if it comes next.
    pub(crate) fn optional(&mut self, tag: u8) -> Result<Option<&'a [u8]>, Error> {
        if self.peek_tag() == Some(tag) {
            self.expect(tag).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Checks that nothing is left.
    pub(crate) fn finish(&self) -> Result<(), Error> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(Error::Malformed("DER"))
        }
    }
}

/// Reads `bytes` as exactly one element with `tag` and returns its content.
pub(crate) fn single(bytes: &[u8], tag: u8) -> Result<&[u8], Error> {
    let mut reader = Reader::new(bytes);
    let content = reader.expect(tag)?;
    reader.finish()?;
    Ok(content)
}

/// The parameters of an AlgorithmIdentifier, when present: their tag and content.
pub(crate) type Params<'a> = Option<(u8, &'a [u8])>;

/// An AlgorithmIdentifier (RFC 5280 4.1.1.2): the algorithm and its parameters, if present.
pub(crate) fn algorithm_identifier(content: &[u8]) -> Result<(&[u8], Params<'_>), Error> {
    let mut reader = Reader::new(content);
    let oid = reader.expect(OID)?;
    let params = if reader.is_empty() {
        None
    } else {
        Some(reader.any()?)
    };
    reader.finish()?;
    Ok((oid, params))
}

/// Appends one element with `tag` and `content` in DER.
pub(crate) fn push(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend([0x81, len as u8]);
    } else {
        // Our encoder only writes ECDSA signatures and test structures: far below 64 KiB.
        let len = u16::try_from(len).expect("DER element under 64 KiB");
        out.push(0x82);
        out.extend(len.to_be_bytes());
    }
    out.extend_from_slice(content);
}

/// Ecdsa-Sig-Value (RFC 3279 2.2.3) from the fixed-length r | s of RFC 4754 7.
pub(crate) fn ecdsa_fixed_to_der(fixed: &[u8]) -> Vec<u8> {
    let (r, s) = fixed.split_at(fixed.len() / 2);
    let mut body = Vec::with_capacity(fixed.len() + 8);
    for int in [r, s] {
        // A positive INTEGER: no leading zero octets, then one zero if the top bit is set.
        let start = int.iter().position(|&b| b != 0).unwrap_or(int.len() - 1);
        let int = &int[start..];
        if int[0] & 0x80 != 0 {
            let mut padded = Vec::with_capacity(int.len() + 1);
            padded.push(0);
            padded.extend_from_slice(int);
            push(&mut body, INTEGER, &padded);
        } else {
            push(&mut body, INTEGER, int);
        }
    }
    let mut out = Vec::with_capacity(body.len() + 4);
    push(&mut out, SEQUENCE, &body);
    out
}

/// The fixed-length r | s (each `scalar_len` bytes) from an Ecdsa-Sig-Value.
pub(crate) fn ecdsa_der_to_fixed(der: &[u8], scalar_len: usize) -> Result<Vec<u8>, Error> {
    let mut reader = Reader::new(single(der, SEQUENCE)?);
    let mut fixed = vec![0; 2 * scalar_len];
    for half in fixed.chunks_mut(scalar_len) {
        let int = reader.expect(INTEGER)?;
        // r and s are positive: a set top bit without a leading zero octet is negative.
        if int.first().is_none_or(|&b| b & 0x80 != 0) {
            return Err(Error::Malformed("ECDSA signature"));
        }
        let int = match int {
            [0, rest @ ..] if !rest.is_empty() => rest,
            _ => int,
        };
        if int.len() > scalar_len {
            return Err(Error::Malformed("ECDSA signature"));
        }
        half[scalar_len - int.len()..].copy_from_slice(int);
    }
    reader.finish()?;
    Ok(fixed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_short_and_long() {
        let mut out = Vec::new();
        push(&mut out, OCTET_STRING, &[7; 200]);
        assert_eq!(&out[..3], &[OCTET_STRING, 0x81, 200]);
        assert_eq!(single(&out, OCTET_STRING).unwrap(), &[7; 200]);
        let mut long = Vec::new();
        push(&mut long, OCTET_STRING, &[1; 300]);
        assert_eq!(&long[..4], &[OCTET_STRING, 0x82, 0x01, 0x2c]);
        assert_eq!(single(&long, OCTET_STRING).unwrap().len(), 300);
    }

    #[test]
    fn junk_is_an_error_never_a_panic() {
        for bad in [
            &[][..],
            &[0x30],
            &[0x30, 0x05, 0x00],
            &[0x30, 0x80, 0x00, 0x00],
            &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
            &[0x1f, 0x01, 0x00],
            &[0x30, 0x00, 0x00],
        ] {
            assert!(single(bad, SEQUENCE).is_err(), "{bad:02x?}");
        }
    }

    #[test]
    fn ecdsa_signature_forms() {
        let mut fixed = vec![0; 64];
        fixed[0] = 0x80; // r needs a leading zero in DER
        fixed[31] = 1;
        fixed[63] = 0x05; // s is 5: one octet
        let der = ecdsa_fixed_to_der(&fixed);
        assert_eq!(&der[..4], &[SEQUENCE, 38, INTEGER, 33]);
        assert_eq!(&der[der.len() - 3..], &[INTEGER, 1, 5]);
        assert_eq!(ecdsa_der_to_fixed(&der, 32).unwrap(), fixed);
        assert!(ecdsa_der_to_fixed(&der, 16).is_err());
        assert!(ecdsa_der_to_fixed(&der[..der.len() - 1], 32).is_err());
    }
}
