//! Protecting and opening the Encrypted payload, SK (RFC 7296 3.14; RFC 5282 for AEADs).
//!
//! With an AEAD the SK body is IV | ciphertext | tag, the nonce is salt | IV, and the
//! associated data is everything from the IKE header to the end of the SK payload's generic
//! header (RFC 5282 5.1). With AES-CBC the body is IV | ciphertext | ICV, and the ICV covers
//! the whole message up to it (RFC 7296 3.14). The plaintext is the inner payloads, padding and
//! a pad-length byte. The integrity check comes before anything else is looked at.

use super::encr::Encr;
use super::integ::Integ;
use super::{Error, Random, Secret};
use crate::wire::{Header, Payload, PayloadType, message::Message, sk};

/// The keys one direction of an IKE SA protects its messages with: SK_ei and SK_ai for what
/// the original initiator sends, SK_er and SK_ar for what the responder sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkKeys {
    pub encr: Encr,
    pub encr_key: Secret,
    /// None with an AEAD.
    pub integ: Option<(Integ, Secret)>,
}

impl SkKeys {
    fn icv_len(&self) -> usize {
        match &self.integ {
            Some((integ, _)) => integ.icv_len(),
            None => self.encr.icv_len(),
        }
    }

    fn checked(&self) -> Result<(), Error> {
        match (self.encr.is_aead(), &self.integ) {
            (true, None) => Ok(()),
            (false, Some(_)) => Ok(()),
            (true, Some(_)) => Err(Error::Unsupported("integrity algorithm with an AEAD")),
            (false, None) => Err(Error::Unsupported("encryption without integrity")),
        }
    }
}

/// Builds the message `header` + [`unprotected`..., SK { `inner` }], encrypted and
/// integrity-protected with `keys`. The header's next payload and length are filled in.
pub fn protect(
    keys: &SkKeys,
    header: &Header,
    unprotected: &[Payload],
    inner: &[Payload],
    rng: &mut dyn Random,
) -> Result<Vec<u8>, Error> {
    keys.checked()?;
    let encr = keys.encr;
    // 1. The plaintext: inner payloads, room for padding to the block size, pad length.
    let inner_len = Payload::chain_len(inner);
    let pad_len = (encr.block_len() - (inner_len + 1) % encr.block_len()) % encr.block_len();
    let mut plain = Secret::new(vec![0; inner_len + pad_len + 1]);
    let first = Payload::emit_chain(inner, &mut plain.0[..inner_len])?;
    plain.0[inner_len + pad_len] = pad_len as u8;
    // 2. The message with a placeholder SK body of the final length.
    let (iv_len, icv_len) = (encr.iv_len(), keys.icv_len());
    let body_len = iv_len + plain.len() + icv_len;
    let mut payloads = unprotected.to_vec();
    payloads.push(Payload::Sk {
        first,
        sk: sk::Repr {
            data: vec![0; body_len],
        },
    });
    let mut bytes = Message {
        header: *header,
        payloads,
    }
    .emit()?;
    let body_start = bytes.len() - body_len;
    // 3. A random IV, random padding (RFC 7296 3.14 leaves its content to the sender), then
    // encrypt and authenticate in place.
    let (head, body) = bytes.split_at_mut(body_start);
    let (iv, rest) = body.split_at_mut(iv_len);
    rng.fill(iv);
    rng.fill(&mut plain.0[inner_len..inner_len + pad_len]);
    let (data, icv) = rest.split_at_mut(plain.len());
    data.copy_from_slice(plain.as_bytes());
    if encr.is_aead() {
        let tag = encr.seal(keys.encr_key.as_bytes(), iv, head, data)?;
        icv.copy_from_slice(&tag);
    } else {
        encr.cbc_encrypt(keys.encr_key.as_bytes(), iv, data)?;
        let (integ, key) = keys
            .integ
            .as_ref()
            .ok_or(Error::Unsupported("no integrity"))?;
        let end = bytes.len() - icv_len;
        let checksum = integ.compute(key.as_bytes(), &bytes[..end])?;
        bytes[end..].copy_from_slice(&checksum);
    }
    Ok(bytes)
}

/// A message opened: its header, the payloads before SK (normally none), and those inside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub header: Header,
    pub unprotected: Vec<Payload>,
    pub inner: Vec<Payload>,
}

/// Checks and decrypts a protected message; the SK payload must be its last.
pub fn unprotect(keys: &SkKeys, bytes: &[u8]) -> Result<Opened, Error> {
    keys.checked()?;
    let message = Message::parse(bytes)?;
    let mut unprotected = message.payloads;
    let Some(Payload::Sk { first, sk }) = unprotected.pop() else {
        return Err(Error::Wire(crate::wire::Error::MissingPayload(
            PayloadType::SK,
        )));
    };
    let plain = open_body(keys, bytes, sk.data.len())?;
    let inner = Payload::parse_chain(first, plain.as_bytes()).map_err(Error::Inner)?;
    Ok(Opened {
        header: message.header,
        unprotected,
        inner,
    })
}

/// Checks and decrypts the SK body that ends `bytes` and is `body_len` long; returns the inner
/// payloads' bytes, padding removed.
fn open_body(keys: &SkKeys, bytes: &[u8], body_len: usize) -> Result<Secret, Error> {
    let encr = keys.encr;
    let (iv_len, icv_len) = (encr.iv_len(), keys.icv_len());
    // IV, at least the pad-length byte, and the checksum.
    if body_len < iv_len + 1 + icv_len {
        return Err(Error::Malformed("SK payload too short"));
    }
    let body_start = bytes.len() - body_len;
    let (head, body) = bytes.split_at(body_start);
    let iv = &body[..iv_len];
    let mut data = Secret::from_slice(&body[iv_len..]);
    let plain_len = if encr.is_aead() {
        encr.open(keys.encr_key.as_bytes(), iv, head, &mut data.0)?
    } else {
        let (integ, key) = keys
            .integ
            .as_ref()
            .ok_or(Error::Unsupported("no integrity"))?;
        let end = bytes.len() - icv_len;
        integ.verify(key.as_bytes(), &bytes[..end], &bytes[end..])?;
        let plain_len = data.len() - icv_len;
        encr.cbc_decrypt(keys.encr_key.as_bytes(), iv, &mut data.0[..plain_len])?;
        plain_len
    };
    // RFC 7296 3.14: the last byte is the pad length; the padding's content is not checked.
    let pad_len = usize::from(data.0[plain_len - 1]);
    if pad_len + 1 > plain_len {
        return Err(Error::Malformed("SK padding longer than the data"));
    }
    data.0.truncate(plain_len - pad_len - 1);
    Ok(data)
}

#[cfg(test)]
#[path = "sk_tests.rs"]
mod tests;
