//! The checks behind the fuzz targets of the ikerd package, one function per parser.
//!
//! Each takes untrusted bytes and, where they parse, asserts the codec's round trip. Any panic,
//! in the codec or in an assertion here, is a finding: libFuzzer saves the input that caused it.

use ikerd::vici::wire::{self, Message, Packet, RawPacket};

/// A VICI packet (a segment's content), and the same bytes as a bare message. Every valid
/// encoding is the only one of its value, so what parses re-emits to the very same bytes.
pub fn vici(data: &[u8]) {
    if let Some(header) = data.first_chunk::<{ wire::LENGTH_LEN }>()
        && let Ok(len) = wire::segment_len(*header)
    {
        assert!(len <= wire::MAX_SEGMENT);
    }
    match (RawPacket::parse(data), Packet::parse(data)) {
        (Ok(raw), Ok(packet)) => {
            assert_eq!(raw.ty, packet.ty());
            assert!(raw.parse_message().is_ok());
            assert_eq!(packet.emit().expect("a parsed packet re-emits"), data);
        }
        (Ok(raw), Err(e)) => {
            // The packet's frame was fine, so the error is in its message, placed after it.
            let message_error = raw
                .parse_message()
                .expect_err("Packet::parse failed in the message");
            assert_eq!(message_error, e);
            assert!(e.offset >= raw.message_offset && e.offset <= data.len());
        }
        (Err(raw_error), packet) => {
            assert_eq!(packet, Err(raw_error));
            assert!(raw_error.offset <= data.len());
        }
    }
    match Message::parse(data) {
        Ok(message) => {
            let mut again = Vec::new();
            message.emit(&mut again).expect("a parsed message re-emits");
            assert_eq!(again, data);
            assert_eq!(message.encoded_len(), data.len());
        }
        Err(e) => assert!(e.offset <= data.len(), "{e}"),
    }
}
