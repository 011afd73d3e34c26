//! A whole IKE message: the header and its chain of parsed payloads.
//!
//! This is the generic view, used to parse what arrives and to emit what we build. The
//! per-exchange rules that turn the payloads into typed messages are in [`super::rules`].

use super::payload::{self, Chain, HEADER_LEN};
use super::{
    Error, Header, PayloadBody, PayloadType, auth, cert, certreq, cp, delete, eap, id, ke, nonce,
    notify, sa, sk, skf, ts, vendor,
};

/// One payload, parsed according to its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    Sa(sa::Repr),
    Ke(ke::Repr),
    IdI(id::Repr),
    IdR(id::Repr),
    Cert(cert::Repr),
    CertReq(certreq::Repr),
    Auth(auth::Repr),
    Nonce(nonce::Repr),
    Notify(notify::Repr),
    Delete(delete::Repr),
    VendorId(vendor::Repr),
    TsI(ts::Repr),
    TsR(ts::Repr),
    Cp(cp::Repr),
    Eap(eap::Repr),
    /// Encrypted payloads; `first` is the type of the first payload inside.
    Sk {
        first: PayloadType,
        sk: sk::Repr,
    },
    /// One fragment of encrypted payloads; `first` is set in fragment 1 only.
    Skf {
        first: PayloadType,
        skf: skf::Repr,
    },
    /// A payload type we do not know, sent as non-critical: kept so it can be reported and
    /// re-emitted, otherwise ignored (RFC 7296 2.5).
    Unknown {
        ty: PayloadType,
        critical: bool,
        body: Vec<u8>,
    },
}

impl Payload {
    /// This payload's type.
    pub fn ty(&self) -> PayloadType {
        match self {
            Payload::Sa(_) => PayloadType::SA,
            Payload::Ke(_) => PayloadType::KE,
            Payload::IdI(_) => PayloadType::IDI,
            Payload::IdR(_) => PayloadType::IDR,
            Payload::Cert(_) => PayloadType::CERT,
            Payload::CertReq(_) => PayloadType::CERTREQ,
            Payload::Auth(_) => PayloadType::AUTH,
            Payload::Nonce(_) => PayloadType::NONCE,
            Payload::Notify(_) => PayloadType::NOTIFY,
            Payload::Delete(_) => PayloadType::DELETE,
            Payload::VendorId(_) => PayloadType::VENDOR_ID,
            Payload::TsI(_) => PayloadType::TSI,
            Payload::TsR(_) => PayloadType::TSR,
            Payload::Cp(_) => PayloadType::CP,
            Payload::Eap(_) => PayloadType::EAP,
            Payload::Sk { .. } => PayloadType::SK,
            Payload::Skf { .. } => PayloadType::SKF,
            Payload::Unknown { ty, .. } => *ty,
        }
    }

    fn body(&self) -> &dyn PayloadBody {
        match self {
            Payload::Sa(b) => b,
            Payload::Ke(b) => b,
            Payload::IdI(b) | Payload::IdR(b) => b,
            Payload::Cert(b) => b,
            Payload::CertReq(b) => b,
            Payload::Auth(b) => b,
            Payload::Nonce(b) => b,
            Payload::Notify(b) => b,
            Payload::Delete(b) => b,
            Payload::VendorId(b) => b,
            Payload::TsI(b) | Payload::TsR(b) => b,
            Payload::Cp(b) => b,
            Payload::Eap(b) => b,
            Payload::Sk { sk, .. } => sk,
            Payload::Skf { skf, .. } => skf,
            Payload::Unknown { body, .. } => body,
        }
    }

    /// Parses one payload of the chain by its type. An unknown type is kept when it is not
    /// critical and refused when it is (RFC 7296 2.5).
    pub fn parse(raw: &payload::RawPayload<'_>) -> Result<Payload, Error> {
        let b = raw.body;
        Ok(match raw.ty {
            PayloadType::SA => Payload::Sa(sa::Repr::parse(b)?),
            PayloadType::KE => Payload::Ke(ke::Repr::parse(b)?),
            PayloadType::IDI => Payload::IdI(id::Repr::parse(b)?),
            PayloadType::IDR => Payload::IdR(id::Repr::parse(b)?),
            PayloadType::CERT => Payload::Cert(cert::Repr::parse(b)?),
            PayloadType::CERTREQ => Payload::CertReq(certreq::Repr::parse(b)?),
            PayloadType::AUTH => Payload::Auth(auth::Repr::parse(b)?),
            PayloadType::NONCE => Payload::Nonce(nonce::Repr::parse(b)?),
            PayloadType::NOTIFY => Payload::Notify(notify::Repr::parse(b)?),
            PayloadType::DELETE => Payload::Delete(delete::Repr::parse(b)?),
            PayloadType::VENDOR_ID => Payload::VendorId(vendor::Repr::parse(b)?),
            PayloadType::TSI => Payload::TsI(ts::Repr::parse(b)?),
            PayloadType::TSR => Payload::TsR(ts::Repr::parse(b)?),
            PayloadType::CP => Payload::Cp(cp::Repr::parse(b)?),
            PayloadType::EAP => Payload::Eap(eap::Repr::parse(b)?),
            PayloadType::SK => Payload::Sk {
                first: raw.next,
                sk: sk::Repr::parse(b)?,
            },
            PayloadType::SKF => Payload::Skf {
                first: raw.next,
                skf: skf::Repr::parse(b)?,
            },
            ty if raw.critical => return Err(Error::UnsupportedCritical(ty)),
            ty => Payload::Unknown {
                ty,
                critical: false,
                body: b.to_vec(),
            },
        })
    }

    /// Parses a whole chain whose first payload has type `first` (the payloads of a message,
    /// or those inside a decrypted SK payload).
    pub fn parse_chain(first: PayloadType, bytes: &[u8]) -> Result<Vec<Payload>, Error> {
        Chain::new(first, bytes)
            .map(|raw| raw.and_then(|raw| Payload::parse(&raw)))
            .collect()
    }

    /// Checks that every length and count fits its field, so emitting cannot overflow one.
    fn check_encodable(&self) -> Result<(), Error> {
        if HEADER_LEN + self.body().buffer_len() > usize::from(u16::MAX) {
            return Err(Error::TooLong("payload"));
        }
        let fits = match self {
            Payload::Sa(sa) => sa.proposals.iter().all(sa::Proposal::is_encodable),
            Payload::TsI(ts) | Payload::TsR(ts) => ts.selectors.len() <= 255,
            Payload::Notify(n) => n.spi.len() <= 255,
            Payload::Delete(delete::Repr::Child { spis, .. }) => spis.len() <= 0xffff,
            _ => true,
        };
        if fits {
            Ok(())
        } else {
            Err(Error::TooLong("count or SPI"))
        }
    }

    /// The length of a chain of `payloads`, generic headers included.
    pub fn chain_len(payloads: &[Payload]) -> usize {
        payloads
            .iter()
            .map(|p| HEADER_LEN + p.body().buffer_len())
            .sum()
    }

    /// Emits a chain into `buf` (exactly [`Payload::chain_len`] bytes); returns the type of the
    /// first payload, which the IKE header (or the enclosing SK payload) names.
    pub fn emit_chain(payloads: &[Payload], buf: &mut [u8]) -> Result<PayloadType, Error> {
        payloads.iter().try_for_each(Payload::check_encodable)?;
        let mut at = 0;
        for (i, p) in payloads.iter().enumerate() {
            let next = match p {
                Payload::Sk { first, .. } | Payload::Skf { first, .. } => *first,
                _ => payloads.get(i + 1).map_or(PayloadType::NONE, Payload::ty),
            };
            let critical = matches!(p, Payload::Unknown { critical: true, .. });
            let len = p.body().buffer_len();
            payload::emit_header(&mut buf[at..], next, critical, len);
            p.body()
                .emit(&mut buf[at + HEADER_LEN..at + HEADER_LEN + len]);
            at += HEADER_LEN + len;
        }
        Ok(payloads.first().map_or(PayloadType::NONE, Payload::ty))
    }
}

/// A message: the header and its payloads. For protected exchanges the payloads are a single
/// SK (or SKF) payload until the crypto layer opens it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub header: Header,
    pub payloads: Vec<Payload>,
}

impl Message {
    /// Parses a datagram's IKE message.
    pub fn parse(bytes: &[u8]) -> Result<Message, Error> {
        let header = Header::parse(bytes)?;
        if header.major_version != Header::MAJOR_VERSION {
            return Err(Error::UnsupportedVersion(header.major_version));
        }
        let payloads = Payload::parse_chain(header.next_payload, &bytes[Header::LEN..])?;
        Ok(Message { header, payloads })
    }

    /// Emits the message; the header's next payload and length are set from the payloads.
    pub fn emit(&self) -> Result<Vec<u8>, Error> {
        let len = Header::LEN + Payload::chain_len(&self.payloads);
        let length = u32::try_from(len).map_err(|_| Error::TooLong("message"))?;
        let mut buf = vec![0; len];
        let first = Payload::emit_chain(&self.payloads, &mut buf[Header::LEN..])?;
        let header = Header {
            next_payload: first,
            length,
            ..self.header
        };
        header.emit(&mut buf);
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testing::junk;
    use crate::wire::{ExchangeType, Flags, IkeSpi, MessageId, NotifyType};

    fn header() -> Header {
        Header {
            spi_i: IkeSpi([1, 2, 3, 4, 5, 6, 7, 8]),
            spi_r: IkeSpi::ZERO,
            next_payload: PayloadType::NONE,
            major_version: 2,
            minor_version: 0,
            exchange: ExchangeType::IKE_SA_INIT,
            flags: Flags::INITIATOR,
            message_id: MessageId(0),
            length: 0,
        }
    }

    fn message() -> Message {
        Message {
            header: header(),
            payloads: vec![
                Payload::Nonce(nonce::Repr { data: vec![3; 16] }),
                Payload::Notify(notify::Repr::new(NotifyType::COOKIE, &[5; 8])),
            ],
        }
    }

    #[test]
    fn emit_sets_next_payload_and_length() {
        let bytes = message().emit().unwrap();
        assert_eq!(bytes.len(), 28 + 20 + 16);
        assert_eq!(bytes[16], PayloadType::NONCE.0);
        assert_eq!(&bytes[24..28], &[0, 0, 0, 64]);
        // Nonce's header names Notify next; Notify's names nothing.
        assert_eq!(&bytes[28..32], &[41, 0, 0, 20]);
        assert_eq!(&bytes[48..52], &[0, 0, 0, 16]);
        let parsed = Message::parse(&bytes).unwrap();
        assert_eq!(parsed.payloads, message().payloads);
        assert_eq!(parsed.emit().unwrap(), bytes);
    }

    #[test]
    fn unknown_payloads() {
        let mut message = message();
        message.payloads.push(Payload::Unknown {
            ty: PayloadType(200),
            critical: false,
            body: vec![1, 2],
        });
        let bytes = message.emit().unwrap();
        assert_eq!(Message::parse(&bytes).unwrap().payloads, message.payloads);

        message.payloads[2] = Payload::Unknown {
            ty: PayloadType(200),
            critical: true,
            body: vec![1, 2],
        };
        let bytes = message.emit().unwrap();
        assert_eq!(
            Message::parse(&bytes),
            Err(Error::UnsupportedCritical(PayloadType(200)))
        );
    }

    #[test]
    fn sk_names_its_first_inner_payload() {
        let message = Message {
            header: Header {
                exchange: ExchangeType::IKE_AUTH,
                message_id: MessageId(1),
                ..header()
            },
            payloads: vec![Payload::Sk {
                first: PayloadType::IDI,
                sk: sk::Repr {
                    data: vec![0xee; 40],
                },
            }],
        };
        let bytes = message.emit().unwrap();
        assert_eq!(bytes[16], PayloadType::SK.0);
        assert_eq!(bytes[28], PayloadType::IDI.0);
        let parsed = Message::parse(&bytes).unwrap();
        assert_eq!(parsed.payloads, message.payloads);
        assert_eq!(parsed.header.length, 72);
    }

    #[test]
    fn other_major_version_is_refused() {
        let mut bytes = message().emit().unwrap();
        bytes[17] = 0x30;
        assert_eq!(Message::parse(&bytes), Err(Error::UnsupportedVersion(3)));
    }

    #[test]
    fn too_long_is_an_error_not_a_panic() {
        let mut message = message();
        message
            .payloads
            .push(Payload::VendorId(vendor::Repr { id: vec![0; 70000] }));
        assert_eq!(message.emit(), Err(Error::TooLong("payload")));
        let many = ts::Repr {
            selectors: vec![
                ts::TrafficSelector::Other {
                    ty: crate::wire::TsType(99),
                    second: 0,
                    data: vec![],
                };
                256
            ],
        };
        message.payloads = vec![Payload::TsI(many)];
        assert_eq!(message.emit(), Err(Error::TooLong("count or SPI")));
    }

    #[test]
    fn junk_messages_never_panic() {
        let template = message().emit().unwrap();
        for body in junk(0x5eed) {
            // A valid header in front of junk, so the payload parsers are reached.
            let mut bytes = template[..28].to_vec();
            bytes[16] = body.first().copied().unwrap_or(0) % 56;
            bytes.extend(&body);
            let len = bytes.len() as u32;
            bytes[24..28].copy_from_slice(&len.to_be_bytes());
            if let Ok(message) = Message::parse(&bytes) {
                let again = message.emit().unwrap();
                assert_eq!(Message::parse(&again), Ok(message));
            }
        }
    }
}
