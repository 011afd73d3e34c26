//! The IKEv2 wire format (RFC 7296 3): the header, the payload chain, one module per payload,
//! the IANA registries, and the per-exchange rules that turn a payload list into typed
//! messages.
//!
//! Every parser takes untrusted bytes and returns a typed error, never panics, never loops and
//! allocates no more than the input's size. Each payload module has a `Repr` for its body (the
//! bytes after the generic payload header) with `parse`, `buffer_len` and `emit`; emitting what
//! was parsed from canonical bytes gives the same bytes back.

pub mod auth;
pub mod cert;
pub mod certreq;
pub mod cp;
pub mod delete;
pub mod eap;
pub mod header;
pub mod id;
pub mod ke;
pub mod message;
pub mod nonce;
pub mod notify;
pub mod payload;
pub mod registry;
pub mod rules;
pub mod sa;
pub mod sk;
pub mod skf;
pub mod ts;
pub mod vendor;

#[cfg(test)]
pub(crate) mod testing;

use core::fmt;

pub use header::{Flags, Header, IkeSpi, MessageId};
pub use message::{Message, Payload};
pub use registry::*;

/// Why bytes are not a valid IKEv2 structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The bytes end before the structure named does.
    Truncated(&'static str),
    /// A length field of the structure named disagrees with the bytes around it.
    BadLength(&'static str),
    /// A field of the structure named holds a value RFC 7296 forbids.
    Malformed(&'static str),
    /// A payload marked critical whose type we do not know (RFC 7296 2.5): the peer must be
    /// told UNSUPPORTED_CRITICAL_PAYLOAD with this type.
    UnsupportedCritical(PayloadType),
    /// A payload the message's exchange does not allow, or one it allows only once, repeated.
    UnexpectedPayload(PayloadType),
    /// A payload the message's exchange requires is absent.
    MissingPayload(PayloadType),
    /// A Notify the message's exchange requires is absent.
    MissingNotify(NotifyType),
    /// A message of an exchange we do not speak.
    UnknownExchange(ExchangeType),
    /// A message of a major version other than 2 (RFC 7296 2.5: answered with
    /// INVALID_MAJOR_VERSION).
    UnsupportedVersion(u8),
    /// A structure too large for its length field; only our own code can build one.
    TooLong(&'static str),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated(what) => write!(f, "truncated {what}"),
            Error::BadLength(what) => write!(f, "bad length in {what}"),
            Error::Malformed(what) => write!(f, "malformed {what}"),
            Error::UnsupportedCritical(ty) => write!(f, "unsupported critical payload {ty}"),
            Error::UnexpectedPayload(ty) => write!(f, "unexpected payload {ty}"),
            Error::MissingPayload(ty) => write!(f, "missing payload {ty}"),
            Error::MissingNotify(ty) => write!(f, "missing notify {ty}"),
            Error::UnknownExchange(ty) => write!(f, "unknown exchange {ty}"),
            Error::UnsupportedVersion(major) => write!(f, "unsupported IKE major version {major}"),
            Error::TooLong(what) => write!(f, "{what} too long to encode"),
        }
    }
}

impl std::error::Error for Error {}

/// The body of one payload type: what follows the generic payload header.
pub trait PayloadBody {
    /// Parses a body; `body` is exactly the bytes the payload length covers.
    fn parse(body: &[u8]) -> Result<Self, Error>
    where
        Self: Sized;
    /// The number of bytes `emit` writes.
    fn buffer_len(&self) -> usize;
    /// Writes the body into `buf`, which is exactly `buffer_len()` bytes long.
    fn emit(&self, buf: &mut [u8]);

    /// The body as a new vector.
    fn to_vec(&self) -> Vec<u8> {
        let mut buf = vec![0; self.buffer_len()];
        self.emit(&mut buf);
        buf
    }
}

/// An opaque body, kept as bytes.
impl PayloadBody for Vec<u8> {
    fn parse(body: &[u8]) -> Result<Self, Error> {
        Ok(body.to_vec())
    }

    fn buffer_len(&self) -> usize {
        self.len()
    }

    fn emit(&self, buf: &mut [u8]) {
        buf.copy_from_slice(self);
    }
}

/// Reads a big-endian u16 at `at`; the caller has checked the length.
fn be16(bytes: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([bytes[at], bytes[at + 1]])
}

/// Reads a big-endian u32 at `at`; the caller has checked the length.
fn be32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// Checks that `bytes` holds at least `len` bytes of `what`.
fn need(bytes: &[u8], len: usize, what: &'static str) -> Result<(), Error> {
    if bytes.len() < len {
        Err(Error::Truncated(what))
    } else {
        Ok(())
    }
}

/// A length that must fit the 16-bit length fields of payloads and their parts. Emitters only
/// see structures that came from a parser or from our own code; a structure too large to encode
/// is a bug in the caller, reported here rather than silently truncated.
fn len16(len: usize) -> u16 {
    u16::try_from(len).expect("IKEv2 structure longer than 65535 bytes")
}
