//! The generic payload header (RFC 7296 3.2) and the walk along a payload chain.
//!
//! ```text
//!                      1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Next Payload  |C|  RESERVED   |         Payload Length        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Each payload names the type of the one after it; the IKE header names the first. The SK
//! and SKF payloads end the chain (RFC 7296 3.14, RFC 7383 2.5): their Next Payload field
//! names the first payload inside the encrypted data.

use super::{Error, PayloadType, be16};

/// The size of the generic payload header.
pub const HEADER_LEN: usize = 4;

/// RFC 7296 3.2: the critical flag's bit in the second byte.
const CRITICAL: u8 = 0x80;

/// One payload of a chain, not yet parsed by type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawPayload<'a> {
    /// This payload's type (named by the previous payload, or the header).
    pub ty: PayloadType,
    pub critical: bool,
    /// The type this payload's header names next; for SK and SKF, the first inner payload.
    pub next: PayloadType,
    /// The bytes after the generic header, as many as the payload length says.
    pub body: &'a [u8],
}

/// Walks a payload chain, yielding each payload or the first error, after which it stops.
#[derive(Debug, Clone)]
pub struct Chain<'a> {
    next: PayloadType,
    rest: &'a [u8],
    done: bool,
}

impl<'a> Chain<'a> {
    /// A chain whose first payload has type `first` and which fills `bytes` exactly.
    pub fn new(first: PayloadType, bytes: &'a [u8]) -> Self {
        Chain {
            next: first,
            rest: bytes,
            done: false,
        }
    }

    fn fail(&mut self, err: Error) -> Option<Result<RawPayload<'a>, Error>> {
        self.done = true;
        Some(Err(err))
    }
}

impl<'a> Iterator for Chain<'a> {
    type Item = Result<RawPayload<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if self.next == PayloadType::NONE {
            self.done = true;
            return if self.rest.is_empty() {
                None
            } else {
                Some(Err(Error::BadLength(
                    "payload chain: bytes after the last payload",
                )))
            };
        }
        if self.rest.len() < HEADER_LEN {
            return self.fail(Error::Truncated("payload header"));
        }
        let len = usize::from(be16(self.rest, 2));
        if len < HEADER_LEN || len > self.rest.len() {
            return self.fail(Error::BadLength("payload header"));
        }
        let payload = RawPayload {
            ty: self.next,
            critical: self.rest[1] & CRITICAL != 0,
            next: PayloadType(self.rest[0]),
            body: &self.rest[HEADER_LEN..len],
        };
        self.rest = &self.rest[len..];
        if matches!(payload.ty, PayloadType::SK | PayloadType::SKF) {
            // RFC 7296 3.14: the Encrypted payload is the last one in a message.
            self.done = true;
            if !self.rest.is_empty() {
                return Some(Err(Error::BadLength("payload chain: bytes after SK")));
            }
        } else {
            self.next = payload.next;
        }
        Some(Ok(payload))
    }
}

/// Writes a generic payload header at the start of `buf` for a payload whose body is
/// `body_len` bytes long.
pub fn emit_header(buf: &mut [u8], next: PayloadType, critical: bool, body_len: usize) {
    buf[0] = next.0;
    buf[1] = if critical { CRITICAL } else { 0 };
    buf[2..4].copy_from_slice(&super::len16(HEADER_LEN + body_len).to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testing::junk;

    // Nonce (4 bytes of body) -> Vendor ID (critical, empty) -> end.
    const CHAIN: [u8; 12] = [43, 0, 0, 8, 1, 2, 3, 4, 0, 0x80, 0, 4];

    #[test]
    fn walks_every_payload() {
        let payloads: Vec<_> = Chain::new(PayloadType::NONCE, &CHAIN)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            payloads,
            [
                RawPayload {
                    ty: PayloadType::NONCE,
                    critical: false,
                    next: PayloadType::VENDOR_ID,
                    body: &[1, 2, 3, 4],
                },
                RawPayload {
                    ty: PayloadType::VENDOR_ID,
                    critical: true,
                    next: PayloadType::NONE,
                    body: &[],
                },
            ]
        );
    }

    #[test]
    fn empty_chain() {
        assert_eq!(Chain::new(PayloadType::NONE, &[]).count(), 0);
        let trailing: Vec<_> = Chain::new(PayloadType::NONE, &[0]).collect();
        assert!(matches!(trailing[..], [Err(Error::BadLength(_))]));
    }

    #[test]
    fn truncated_chain_stops_at_the_error() {
        for len in 0..CHAIN.len() {
            let items: Vec<_> = Chain::new(PayloadType::NONCE, &CHAIN[..len]).collect();
            let last = items.last().expect("an error at least");
            assert!(last.is_err(), "{len}: {items:?}");
            assert!(items[..items.len() - 1].iter().all(Result::is_ok));
        }
    }

    #[test]
    fn bad_lengths() {
        for bad in [[43, 0, 0, 3], [43, 0, 0, 13]] {
            let mut chain = CHAIN;
            chain[..4].copy_from_slice(&bad);
            let first = Chain::new(PayloadType::NONCE, &chain).next();
            assert_eq!(first, Some(Err(Error::BadLength("payload header"))));
        }
    }

    #[test]
    fn sk_ends_the_chain() {
        // SK whose first inner payload is IDi, followed by stray bytes.
        let bytes = [35, 0, 0, 6, 0xaa, 0xbb, 1, 2];
        let items: Vec<_> = Chain::new(PayloadType::SK, &bytes).collect();
        assert_eq!(items.len(), 1);
        assert_eq!(
            items[0],
            Err(Error::BadLength("payload chain: bytes after SK"))
        );
        let ok: Vec<_> = Chain::new(PayloadType::SK, &bytes[..6]).collect();
        assert_eq!(ok[0].unwrap().next, PayloadType::IDI);
        assert_eq!(ok.len(), 1);
    }

    #[test]
    fn junk_terminates_without_panic() {
        for bytes in junk(0xc4a1) {
            let first = PayloadType(bytes.first().copied().unwrap_or(0));
            // Every payload consumes at least its header, so the walk is bounded.
            assert!(Chain::new(first, &bytes).count() <= bytes.len() / HEADER_LEN + 1);
        }
    }

    #[test]
    fn header_emit() {
        let mut buf = [0u8; 4];
        emit_header(&mut buf, PayloadType::NOTIFY, true, 8);
        assert_eq!(buf, [41, 0x80, 0, 12]);
    }
}
