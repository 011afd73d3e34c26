//! The checks behind the fuzz targets, one function per parser of `ike::wire`.
//!
//! Each takes untrusted bytes and, where they parse, asserts the codec's round trip: what
//! parsed re-emits to bytes that parse to the same value. Any panic, in the codec or in an
//! assertion here, is a finding: libFuzzer saves the input that caused it.

use core::fmt::Debug;

use ike::crypto::encr::Encr;
use ike::crypto::integ::Integ;
use ike::crypto::sk::{self, SkKeys};
use ike::crypto::{Random, Secret};
use ike::wire::payload::{self, Chain, RawPayload};
use ike::wire::rules::Typed;
use ike::wire::{Error, ExchangeType, Header, Message, Payload, PayloadBody, PayloadType};

/// `Header::parse`. The header keeps every bit of its 28 bytes, so re-emitting it gives the
/// same bytes, not only the same value.
pub fn header(data: &[u8]) {
    let Ok(header) = Header::parse(data) else {
        return;
    };
    let mut bytes = [0; Header::LEN];
    header.emit(&mut bytes);
    assert_eq!(bytes[..], data[..Header::LEN]);
}

/// One payload body, of type `R`.
pub fn body<R: PayloadBody + PartialEq + Debug>(data: &[u8]) {
    let Ok(parsed) = R::parse(data) else {
        return;
    };
    let bytes = parsed.to_vec();
    assert_eq!(
        R::parse(&bytes).as_ref(),
        Ok(&parsed),
        "re-parse of {bytes:02x?}"
    );
}

/// The payload chain: the first byte is the type the IKE header would name, the rest the chain.
/// Checks the generic walk and the walk that parses each payload by its type.
pub fn payload_chain(data: &[u8]) {
    let Some((&first, bytes)) = data.split_first() else {
        return;
    };
    let first = PayloadType(first);
    raw_chain(first, bytes);
    if let Ok(payloads) = Payload::parse_chain(first, bytes) {
        let mut again = vec![0; Payload::chain_len(&payloads)];
        let first_again = Payload::emit_chain(&payloads, &mut again).expect("re-emit");
        assert_eq!(first_again, first);
        assert_eq!(
            Payload::parse_chain(first, &again),
            Ok(payloads),
            "re-parse of {again:02x?}"
        );
    }
}

/// The generic walk: it ends (each step consumes a payload header at least), and a chain it
/// accepts, re-emitted header by header, walks to the same payloads.
fn raw_chain(first: PayloadType, bytes: &[u8]) {
    let items: Vec<Result<RawPayload<'_>, Error>> = Chain::new(first, bytes).collect();
    assert!(items.len() <= bytes.len() / payload::HEADER_LEN + 1);
    let Ok(raw) = items.into_iter().collect::<Result<Vec<_>, _>>() else {
        return;
    };
    let mut again = Vec::new();
    for p in &raw {
        let mut header = [0; payload::HEADER_LEN];
        payload::emit_header(&mut header, p.next, p.critical, p.body.len());
        again.extend(header);
        again.extend(p.body);
    }
    let walked: Result<Vec<_>, _> = Chain::new(first, &again).collect();
    assert_eq!(walked, Ok(raw), "re-walk of {again:02x?}");
}

/// `Message::parse`, then emit and re-parse.
pub fn message(data: &[u8]) {
    let Some(message) = parse_message(data) else {
        return;
    };
    let bytes = message.emit().expect("a parsed message re-emits");
    assert_eq!(
        Message::parse(&bytes),
        Ok(message),
        "re-parse of {bytes:02x?}"
    );
}

/// The exchanges that have rule tables; the header's own exchange is tried as well, so
/// unknown ones are reached.
const EXCHANGES: [ExchangeType; 4] = [
    ExchangeType::IKE_SA_INIT,
    ExchangeType::IKE_AUTH,
    ExchangeType::CREATE_CHILD_SA,
    ExchangeType::INFORMATIONAL,
];

/// `Message::parse`, then the rules of every exchange and direction on its payloads (as if
/// they were the ones inside SK, for the protected exchanges).
pub fn typed(data: &[u8]) {
    let Some(message) = parse_message(data) else {
        return;
    };
    for exchange in EXCHANGES.into_iter().chain([message.header.exchange]) {
        for response in [false, true] {
            if let Ok(typed) = Typed::from_payloads(exchange, response, message.payloads.clone()) {
                typed_round_trip(message.header, typed);
            }
        }
    }
}

/// A typed message turns into payloads in our sending order (a COOKIE notify moves to the
/// front, RFC 7296 2.6, and unknown payloads are gone), so it need not come back identical;
/// what it sends must pass the codec unchanged, meet the same rules, and be a fixed point.
fn typed_round_trip(header: Header, typed: Typed) {
    let (exchange, response) = typed.exchange();
    let payloads = typed.into_payloads();
    let sent = Message {
        header,
        payloads: payloads.clone(),
    };
    let bytes = sent.emit().expect("our payloads emit");
    let received = Message::parse(&bytes).expect("our message parses");
    assert_eq!(received.payloads, payloads, "re-parse of {bytes:02x?}");
    let again = Typed::from_payloads(exchange, response, received.payloads)
        .expect("our payloads meet the rules they came through");
    assert_eq!(again.exchange(), (exchange, response));
    assert_eq!(again.into_payloads(), payloads, "sending order");
}

/// Parses a message as sent, and failing that with its length field set to the input's
/// length: mutations rarely keep that field right, and without it no payload is reached.
fn parse_message(data: &[u8]) -> Option<Message> {
    if let Ok(message) = Message::parse(data) {
        return Some(message);
    }
    // RFC 7296 3.1: the Length field is the header's last four bytes.
    let length = Header::LEN - 4..Header::LEN;
    let len = u32::try_from(data.len()).ok()?.to_be_bytes();
    if data.len() < Header::LEN || data[length.clone()] == len {
        return None;
    }
    let mut fixed = data.to_vec();
    fixed[length].copy_from_slice(&len);
    Message::parse(&fixed).ok()
}

/// The keys the `sk_unprotect` target opens with: an AEAD suite and an AES-CBC + HMAC one.
fn sk_keys(cbc: bool) -> SkKeys {
    if cbc {
        SkKeys {
            encr: Encr::AesCbc { key_len: 16 },
            encr_key: Secret::new(vec![0x11; 16]),
            integ: Some((Integ::HmacSha256_128, Secret::new(vec![0x22; 32]))),
        }
    } else {
        SkKeys {
            encr: Encr::AesGcm16 { key_len: 32 },
            encr_key: Secret::new(vec![0x33; 36]),
            integ: None,
        }
    }
}

/// A generator that gives zeros: re-protecting needs an IV and padding, not secrecy.
struct Zeros;

impl Random for Zeros {
    fn fill(&mut self, buf: &mut [u8]) {
        buf.fill(0);
    }
}

/// `crypto::sk::unprotect` with fixed keys. The first byte picks the suite (bit 0: AES-CBC +
/// HMAC, else AES-GCM) and how the rest is used (bit 7). As given, the rest is a whole message,
/// which almost never authenticates: this explores everything before the integrity check.
/// Sealed, the rest is an SK payload's first inner type and plaintext (inner payloads, padding,
/// pad length), encrypted and authenticated here, so the padding checks and the inner payload
/// parser are reached. Whatever opens must protect again and open to the same payloads.
pub fn sk_unprotect(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let keys = sk_keys(selector & 1 == 1);
    let bytes = if selector & 0x80 == 0 {
        rest.to_vec()
    } else {
        match seal(&keys, rest) {
            Some(bytes) => bytes,
            None => return,
        }
    };
    let Ok(opened) = sk::unprotect(&keys, &bytes) else {
        return;
    };
    let again = sk::protect(
        &keys,
        &opened.header,
        &opened.unprotected,
        &opened.inner,
        &mut Zeros,
    )
    .expect("what opened protects again");
    let reopened = sk::unprotect(&keys, &again).expect("what we protected opens");
    assert_eq!(reopened.inner, opened.inner);
    assert_eq!(reopened.unprotected, opened.unprotected);
}

/// An IKE_AUTH request whose SK payload carries `input[1..]` as plaintext (truncated to whole
/// blocks for CBC) and names `input[0]` as its first inner payload, sealed with `keys`.
fn seal(keys: &SkKeys, input: &[u8]) -> Option<Vec<u8>> {
    let (&first, plain) = input.split_first()?;
    let encr = keys.encr;
    let plain_len = plain.len() / encr.block_len() * encr.block_len();
    if plain_len == 0 {
        return None;
    }
    let icv_len = keys
        .integ
        .as_ref()
        .map_or(encr.icv_len(), |(i, _)| i.icv_len());
    let body_len = encr.iv_len() + plain_len + icv_len;
    let header = Header {
        spi_i: ike::wire::IkeSpi([1; 8]),
        spi_r: ike::wire::IkeSpi([2; 8]),
        next_payload: PayloadType::NONE,
        major_version: Header::MAJOR_VERSION,
        minor_version: 0,
        exchange: ExchangeType::IKE_AUTH,
        flags: ike::wire::Flags::INITIATOR,
        message_id: ike::wire::MessageId(1),
        length: 0,
    };
    let sk = Payload::Sk {
        first: PayloadType(first),
        sk: ike::wire::sk::Repr {
            data: vec![0; body_len],
        },
    };
    let mut bytes = Message {
        header,
        payloads: vec![sk],
    }
    .emit()
    .ok()?;
    let body_start = bytes.len() - body_len;
    let (head, body) = bytes.split_at_mut(body_start);
    let (iv, rest) = body.split_at_mut(encr.iv_len());
    let (data, icv) = rest.split_at_mut(plain_len);
    data.copy_from_slice(&plain[..plain_len]);
    match &keys.integ {
        None => {
            let tag = encr.seal(keys.encr_key.as_bytes(), iv, head, data).ok()?;
            icv.copy_from_slice(&tag);
        }
        Some((integ, key)) => {
            encr.cbc_encrypt(keys.encr_key.as_bytes(), iv, data).ok()?;
            let end = bytes.len() - icv_len;
            let checksum = integ.compute(key.as_bytes(), &bytes[..end]).ok()?;
            bytes[end..].copy_from_slice(&checksum);
        }
    }
    Some(bytes)
}
