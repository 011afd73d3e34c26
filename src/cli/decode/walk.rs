//! Decoding one message into a [`Report`]: the header, then the payload chain one payload at
//! a time, keeping each payload's byte offset so that a failure can say where it happened.
//!
//! The walk makes the same checks as [`ike::wire::Message::parse`], in the same order, so a
//! message decodes here exactly when the daemon would accept its syntax. Given keys, it then
//! opens the SK payload that ends the chain ([`decrypt`]) and checks the exchange's rules on
//! the payloads inside.

use ike::wire::message::Payload;
use ike::wire::payload::{Chain, HEADER_LEN};
use ike::wire::rules::Typed;
use ike::wire::{Error, Header, PayloadType, header};

use super::decrypt::{self, Decrypted};
use super::describe::{self, Fields};
use super::keys::Keyring;
use super::value::Value;

/// RFC 7296 3.1: where the header's version and length fields are.
const VERSION_AT: usize = 17;
const LENGTH_AT: usize = 24;

/// One payload as decoded.
#[derive(Debug)]
pub struct PayloadReport {
    pub ty: PayloadType,
    pub critical: bool,
    /// Where its generic header starts, in the input.
    pub offset: usize,
    /// Generic header included.
    pub length: usize,
    pub fields: Fields,
    /// For an SK payload opened with the keys given: what was inside.
    pub decrypted: Option<Decrypted>,
}

/// Where decoding stopped and why.
#[derive(Debug)]
pub struct Failure {
    /// In the input (marker included).
    pub offset: usize,
    /// The structure being decoded, e.g. `IKE header` or `payload 3 KE`.
    pub structure: String,
    pub error: Error,
    /// A fact that explains the error, when there is one (lengths that disagree).
    pub detail: Option<String>,
}

/// Everything `decode` found out about the input.
#[derive(Debug, Default)]
pub struct Report {
    /// Bytes of non-ESP marker removed in front of the message.
    pub marker: usize,
    pub header: Option<Fields>,
    pub payloads: Vec<PayloadReport>,
    /// Whether the payloads follow the rules of their exchange (RFC 7296 1.2-1.5), for the
    /// message named (`IKE_SA_INIT request`); `None` when that cannot be checked without
    /// decrypting, or the exchange is not one we know rules for.
    pub rules: Option<(String, Result<(), Error>)>,
    pub failure: Option<Failure>,
    /// Why the encrypted payload was not opened although keys were given.
    pub unopened: Option<Unopened>,
    /// Keys were given for a message without an encrypted payload.
    pub keys_unused: bool,
}

/// Why an encrypted payload stayed closed.
#[derive(Debug, PartialEq, Eq)]
pub enum Unopened {
    /// The keys given are not those of the message's sender: a usage error.
    Usage(String),
    /// Opening failed (the integrity check, above all), or cannot be done yet (fragments).
    Failed {
        /// Of the encrypted payload, in the input.
        offset: usize,
        /// `payload 1 SK`.
        structure: String,
        reason: String,
    },
}

/// Decodes `input` after `marker` bytes of non-ESP marker, opening its SK payload when `keys`
/// are given.
pub fn decode(input: &[u8], marker: usize, keys: Option<&Keyring>) -> Report {
    let mut report = Report {
        marker,
        ..Report::default()
    };
    let bytes = &input[marker..];
    let fail = |offset: usize, structure: &str, error: Error, detail: Option<String>| Failure {
        offset: marker + offset,
        structure: structure.to_owned(),
        error,
        detail,
    };
    if bytes.len() < Header::LEN {
        let detail = format!("{} bytes, the header alone is {}", bytes.len(), Header::LEN);
        report.failure = Some(fail(
            0,
            "IKE header",
            Error::Truncated("IKE header"),
            Some(detail),
        ));
        return report;
    }
    // Every field is shown even when the length is wrong: that is often why it is wrong.
    let packet = header::Packet::new_unchecked(bytes);
    let h = header_of(&packet);
    report.header = Some(describe::header(&h));
    if let Err(error) = Header::parse(bytes) {
        let detail = format!(
            "the header says {} bytes, the input has {}",
            h.length,
            bytes.len()
        );
        report.failure = Some(fail(LENGTH_AT, "IKE header length", error, Some(detail)));
        return report;
    }
    if h.major_version != Header::MAJOR_VERSION {
        let error = Error::UnsupportedVersion(h.major_version);
        report.failure = Some(fail(VERSION_AT, "IKE header version", error, None));
        return report;
    }
    match walk_chain(&mut report, h.next_payload, &bytes[Header::LEN..]) {
        Ok(payloads) => {
            let checked = match keys {
                Some(keys) => open(&mut report, keys, &h, bytes, payloads),
                None => Some(payloads),
            };
            report.rules = checked.and_then(|payloads| check_rules(&h, payloads));
        }
        Err((offset, structure, error)) => {
            report.failure = Some(fail(Header::LEN + offset, &structure, error, None));
        }
    }
    report
}

fn header_of(packet: &header::Packet<&[u8]>) -> Header {
    Header {
        spi_i: packet.spi_i(),
        spi_r: packet.spi_r(),
        next_payload: packet.next_payload(),
        major_version: packet.major_version(),
        minor_version: packet.minor_version(),
        exchange: packet.exchange(),
        flags: packet.flags(),
        message_id: packet.message_id(),
        length: packet.length(),
    }
}

/// Walks the chain, adding each payload to the report; on failure, the offset within the
/// chain, the structure and the error.
fn walk_chain(
    report: &mut Report,
    first: PayloadType,
    chain: &[u8],
) -> Result<Vec<Payload>, (usize, String, Error)> {
    let mut payloads = Vec::new();
    let mut offset = 0;
    let mut expected = first;
    for (i, raw) in Chain::new(first, chain).enumerate() {
        let number = i + 1;
        let raw = raw.map_err(|error| {
            let structure = if expected == PayloadType::NONE {
                "payload chain".to_owned()
            } else {
                format!("payload {number} {} header", type_name(expected))
            };
            (offset, structure, error)
        })?;
        let parsed = Payload::parse(&raw).map_err(|error| {
            (
                offset,
                format!("payload {number} {}", type_name(raw.ty)),
                error,
            )
        })?;
        let length = HEADER_LEN + raw.body.len();
        report.payloads.push(PayloadReport {
            ty: raw.ty,
            critical: raw.critical,
            offset: report.marker + Header::LEN + offset,
            length,
            fields: describe::payload(&parsed),
            decrypted: None,
        });
        payloads.push(parsed);
        offset += length;
        expected = raw.next;
    }
    Ok(payloads)
}

/// With keys, opens the SK payload that ends the chain. Returns the payloads the exchange's
/// rules apply to (those inside, or those of a message sent in the clear), or `None` when the
/// encrypted payload stayed closed.
fn open(
    report: &mut Report,
    keys: &Keyring,
    h: &Header,
    bytes: &[u8],
    payloads: Vec<Payload>,
) -> Option<Vec<Payload>> {
    let number = report.payloads.len();
    let (Some(last), Some(payload)) = (report.payloads.last_mut(), payloads.last()) else {
        report.keys_unused = true;
        return Some(payloads);
    };
    let failed = |reason: String| Unopened::Failed {
        offset: last.offset,
        structure: format!("payload {number} {}", type_name(last.ty)),
        reason,
    };
    let result = match payload {
        Payload::Sk { sk, .. } => match keys.side(h.flags) {
            Ok(side) => decrypt::open(keys, side, bytes, &sk.data).map_err(failed),
            Err(usage) => Err(Unopened::Usage(usage)),
        },
        // RFC 7383 2.6: each fragment is protected on its own, but what the fragments carry
        // is one chain, parsed only once all have arrived.
        Payload::Skf { skf, .. } => Err(failed(format!(
            "fragment {} of {}: reassembling fragments (RFC 7383) is not supported yet, so \
             decode cannot decrypt them",
            skf.number, skf.total
        ))),
        _ => {
            report.keys_unused = true;
            return Some(payloads);
        }
    };
    match result {
        Ok((decrypted, inner)) => {
            last.decrypted = Some(decrypted);
            Some(inner)
        }
        Err(unopened) => {
            report.unopened = Some(unopened);
            None
        }
    }
}

/// The rules of the exchange, when they can be checked on what was decoded.
fn check_rules(h: &Header, payloads: Vec<Payload>) -> Option<(String, Result<(), Error>)> {
    let encrypted = payloads
        .iter()
        .any(|p| matches!(p, Payload::Sk { .. } | Payload::Skf { .. }));
    if encrypted {
        return None;
    }
    let kind = if h.flags.is_response() {
        "response"
    } else {
        "request"
    };
    match Typed::from_payloads(h.exchange, h.flags.is_response(), payloads) {
        Err(Error::UnknownExchange(_)) => None,
        result => Some((format!("{} {kind}", h.exchange), result.map(|_| ()))),
    }
}

/// A payload type for messages: `KE`, or the number when it has no name.
pub fn type_name(ty: PayloadType) -> String {
    ty.name()
        .map_or_else(|| format!("type {}", ty.0), str::to_owned)
}

impl PayloadReport {
    /// The payload as JSON sees it.
    pub fn to_value(&self, index: usize) -> Value {
        let mut fields: Fields = vec![
            ("index", (index as u64).into()),
            ("type", describe::named(self.ty.name(), self.ty.0.into())),
            ("critical", self.critical.into()),
            ("offset", (self.offset as u64).into()),
            ("length", (self.length as u64).into()),
        ];
        fields.extend(self.fields.iter().cloned());
        if let Some(d) = &self.decrypted {
            let mut inner = d.fields.clone();
            let payloads = d
                .payloads
                .iter()
                .enumerate()
                .map(|(i, p)| p.to_value(i + 1))
                .collect();
            inner.push(("payloads", Value::List(payloads)));
            fields.push(("decrypted", Value::Obj(inner)));
        }
        Value::Obj(fields)
    }
}

#[cfg(test)]
mod tests {
    use ike::wire::{ExchangeType, Flags, IkeSpi, Message, MessageId, nonce};

    use super::*;

    fn message() -> Vec<u8> {
        Message {
            header: Header {
                spi_i: IkeSpi([1; 8]),
                spi_r: IkeSpi::ZERO,
                next_payload: PayloadType::NONE,
                major_version: 2,
                minor_version: 0,
                exchange: ExchangeType::INFORMATIONAL,
                flags: Flags::INITIATOR,
                message_id: MessageId(3),
                length: 0,
            },
            payloads: vec![
                Payload::Nonce(nonce::Repr { data: vec![7; 16] }),
                Payload::Nonce(nonce::Repr { data: vec![8; 16] }),
            ],
        }
        .emit()
        .unwrap()
    }

    #[test]
    fn offsets_count_from_the_input_start() {
        let mut input = vec![0; 4];
        input.extend(message());
        let report = decode(&input, 4, None);
        assert!(report.failure.is_none(), "{:?}", report.failure);
        let offsets: Vec<_> = report.payloads.iter().map(|p| p.offset).collect();
        assert_eq!(offsets, [32, 52]);
        assert_eq!(report.payloads[1].length, 20);
    }

    #[test]
    fn a_bad_second_payload_is_located() {
        let mut bytes = message();
        // The second Nonce's body shrinks below 16 bytes: payload length 19, message shorter.
        bytes[48 + 3] = 19;
        bytes.pop();
        let len = bytes.len() as u32;
        bytes[24..28].copy_from_slice(&len.to_be_bytes());
        let report = decode(&bytes, 0, None);
        let failure = report.failure.expect("a failure");
        assert_eq!(failure.offset, 48);
        assert_eq!(failure.structure, "payload 2 NONCE");
        assert_eq!(failure.error, Error::Truncated("Nonce"));
        assert_eq!(report.payloads.len(), 1);
    }

    #[test]
    fn a_short_header_and_a_wrong_length() {
        let report = decode(&message()[..20], 0, None);
        let failure = report.failure.unwrap();
        assert_eq!(
            (failure.offset, failure.error),
            (0, Error::Truncated("IKE header"))
        );
        assert!(report.header.is_none());

        let mut bytes = message();
        bytes.push(0);
        let report = decode(&bytes, 0, None);
        let failure = report.failure.unwrap();
        assert_eq!(failure.offset, 24);
        assert_eq!(
            failure.detail.as_deref(),
            Some("the header says 68 bytes, the input has 69")
        );
        assert!(report.header.is_some());
    }

    #[test]
    fn another_major_version_stops_after_the_header() {
        let mut bytes = message();
        bytes[VERSION_AT] = 0x30;
        let report = decode(&bytes, 0, None);
        let failure = report.failure.unwrap();
        assert_eq!(failure.offset, VERSION_AT);
        assert_eq!(failure.error, Error::UnsupportedVersion(3));
        assert!(report.payloads.is_empty());
    }

    #[test]
    fn rules_are_checked_on_clear_messages() {
        let report = decode(&message(), 0, None);
        // Two nonces are not an INFORMATIONAL request.
        let (message, result) = report.rules.expect("rules checked");
        assert_eq!(message, "INFORMATIONAL request");
        assert!(result.is_err());
    }
}
