//! Round-trip properties of the wire codec: for every payload and for whole messages,
//! `parse(emit(r)) == r`, and the canonical bytes `emit(r)` re-emit unchanged after a parse.

use std::net::{Ipv4Addr, Ipv6Addr};

use ike::wire::message::{Message, Payload};
use ike::wire::{
    AuthMethod, CertEncoding, CfgAttributeType, CfgType, ExchangeType, Flags, Header, IdType,
    IkeSpi, KeId, MessageId, NotifyType, PayloadBody, PayloadType, ProtocolId,
    TransformAttributeType, TransformType, TsType, auth, cert, certreq, cp, delete, eap, id, ke,
    nonce, notify, sa, sk, skf, ts, vendor,
};
use proptest::collection::vec;
use proptest::prelude::*;

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..max)
}

fn text() -> impl Strategy<Value = String> {
    "[a-z0-9.@-]{1,40}"
}

fn id_repr() -> impl Strategy<Value = id::Repr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|o| id::Repr::addr(Ipv4Addr::from(o).into())),
        any::<[u8; 16]>().prop_map(|o| id::Repr::addr(Ipv6Addr::from(o).into())),
        text().prop_map(|t| id::Repr::fqdn(&t)),
        text().prop_map(|t| id::Repr::rfc822(&t)),
        bytes(64).prop_map(|b| id::Repr::der_dn(&b)),
        bytes(64).prop_map(|b| id::Repr::key_id(&b)),
        (12u8..=255, bytes(32)).prop_map(|(ty, data)| id::Repr {
            ty: IdType(ty),
            data
        }),
    ]
}

fn notify_repr() -> impl Strategy<Value = notify::Repr> {
    let spi = prop_oneof![Just(0usize), Just(4), Just(8)].prop_flat_map(|n| vec(any::<u8>(), n));
    (any::<u8>(), spi, any::<u16>(), bytes(64)).prop_map(|(protocol, spi, ty, data)| notify::Repr {
        protocol: ProtocolId(protocol),
        spi,
        ty: NotifyType(ty),
        data,
    })
}

fn delete_repr() -> impl Strategy<Value = delete::Repr> {
    prop_oneof![
        Just(delete::Repr::Ike),
        (
            prop_oneof![Just(ProtocolId::AH), Just(ProtocolId::ESP)],
            vec(any::<u32>(), 0..16)
        )
            .prop_map(|(protocol, spis)| delete::Repr::Child { protocol, spis }),
    ]
}

fn selector() -> impl Strategy<Value = ts::TrafficSelector> {
    prop_oneof![
        (
            any::<u8>(),
            any::<u16>(),
            any::<u16>(),
            any::<[u8; 4]>(),
            any::<[u8; 4]>()
        )
            .prop_map(
                |(protocol, start_port, end_port, s, e)| ts::TrafficSelector::V4 {
                    protocol,
                    start_port,
                    end_port,
                    start: s.into(),
                    end: e.into(),
                }
            ),
        (
            any::<u8>(),
            any::<u16>(),
            any::<u16>(),
            any::<[u8; 16]>(),
            any::<[u8; 16]>()
        )
            .prop_map(
                |(protocol, start_port, end_port, s, e)| ts::TrafficSelector::V6 {
                    protocol,
                    start_port,
                    end_port,
                    start: s.into(),
                    end: e.into(),
                }
            ),
        (9u8..=255, any::<u8>(), bytes(40)).prop_map(|(ty, second, data)| {
            ts::TrafficSelector::Other {
                ty: TsType(ty),
                second,
                data,
            }
        }),
    ]
}

fn transform() -> impl Strategy<Value = sa::Transform> {
    let attribute = (
        0u16..0x8000,
        prop_oneof![
            any::<u16>().prop_map(sa::AttributeValue::Short),
            bytes(16).prop_map(sa::AttributeValue::Long),
        ],
    )
        .prop_map(|(ty, value)| sa::Attribute {
            ty: TransformAttributeType(ty),
            value,
        });
    (any::<u8>(), any::<u16>(), vec(attribute, 0..3)).prop_map(|(ty, id, attributes)| {
        sa::Transform {
            ty: TransformType(ty),
            id,
            attributes,
        }
    })
}

fn sa_repr() -> impl Strategy<Value = sa::Repr> {
    let proposal = (any::<u8>(), any::<u8>(), bytes(9), vec(transform(), 0..6)).prop_map(
        |(number, protocol, spi, transforms)| sa::Proposal {
            number,
            protocol: ProtocolId(protocol),
            spi,
            transforms,
        },
    );
    vec(proposal, 1..4).prop_map(|proposals| sa::Repr { proposals })
}

fn cp_repr() -> impl Strategy<Value = cp::Repr> {
    let attribute = (0u16..0x8000, bytes(20)).prop_map(|(ty, value)| cp::CfgAttribute {
        ty: CfgAttributeType(ty),
        value,
    });
    (any::<u8>(), vec(attribute, 0..6)).prop_map(|(cfg_type, attributes)| cp::Repr {
        cfg_type: CfgType(cfg_type),
        attributes,
    })
}

fn eap_repr() -> impl Strategy<Value = eap::Repr> {
    prop_oneof![
        (1u8..=2, any::<u8>(), any::<u8>(), bytes(40)).prop_map(
            |(code, identifier, method, data)| eap::Repr::Method {
                code,
                identifier,
                method,
                data,
            }
        ),
        (3u8..=4, any::<u8>())
            .prop_map(|(code, identifier)| eap::Repr::Outcome { code, identifier }),
    ]
}

/// Every payload that may stand anywhere in a chain (SK and SKF only stand last).
fn inner_payload() -> impl Strategy<Value = Payload> {
    prop_oneof![
        sa_repr().prop_map(Payload::Sa),
        (any::<u16>(), bytes(64)).prop_map(|(g, data)| Payload::Ke(ke::Repr {
            group: KeId(g),
            data
        })),
        id_repr().prop_map(Payload::IdI),
        id_repr().prop_map(Payload::IdR),
        (any::<u8>(), bytes(64)).prop_map(|(e, data)| Payload::Cert(cert::Repr {
            encoding: CertEncoding(e),
            data
        })),
        (any::<u8>(), bytes(64)).prop_map(|(e, authorities)| Payload::CertReq(certreq::Repr {
            encoding: CertEncoding(e),
            authorities
        })),
        (any::<u8>(), bytes(64)).prop_map(|(m, data)| Payload::Auth(auth::Repr {
            method: AuthMethod(m),
            data
        })),
        vec(any::<u8>(), 16..=256).prop_map(|data| Payload::Nonce(nonce::Repr { data })),
        notify_repr().prop_map(Payload::Notify),
        delete_repr().prop_map(Payload::Delete),
        bytes(32).prop_map(|id| Payload::VendorId(vendor::Repr { id })),
        vec(selector(), 0..5).prop_map(|selectors| Payload::TsI(ts::Repr { selectors })),
        vec(selector(), 0..5).prop_map(|selectors| Payload::TsR(ts::Repr { selectors })),
        cp_repr().prop_map(Payload::Cp),
        eap_repr().prop_map(Payload::Eap),
        (128u8..=255, bytes(32)).prop_map(|(ty, body)| Payload::Unknown {
            ty: PayloadType(ty),
            critical: false,
            body,
        }),
    ]
}

fn last_payload() -> impl Strategy<Value = Option<Payload>> {
    prop_oneof![
        Just(None),
        (any::<u8>(), bytes(64)).prop_map(|(first, data)| Some(Payload::Sk {
            first: PayloadType(first),
            sk: sk::Repr { data }
        })),
        (1u16..=8, bytes(64))
            .prop_flat_map(|(total, data)| (1..=total, Just(total), Just(data)))
            .prop_map(|(number, total, data)| Some(Payload::Skf {
                first: PayloadType(if number == 1 { 35 } else { 0 }),
                skf: skf::Repr {
                    number,
                    total,
                    data
                }
            })),
    ]
}

fn header() -> impl Strategy<Value = Header> {
    (
        any::<[u8; 8]>(),
        any::<[u8; 8]>(),
        any::<u8>(),
        any::<u8>(),
        any::<u8>(),
        any::<u32>(),
    )
        .prop_map(|(i, r, minor, exchange, flags, id)| Header {
            spi_i: IkeSpi(i),
            spi_r: IkeSpi(r),
            next_payload: PayloadType::NONE,
            major_version: 2,
            minor_version: minor & 0x0f,
            exchange: ExchangeType(exchange),
            flags: Flags(flags),
            message_id: MessageId(id),
            length: 0,
        })
}

/// `parse(emit(r)) == r` and `emit(parse(bytes)) == bytes` for one payload body.
fn body_round_trips<R: PayloadBody + PartialEq + std::fmt::Debug>(repr: &R) {
    let bytes = repr.to_vec();
    let parsed = R::parse(&bytes).expect("our own bytes parse");
    assert_eq!(&parsed, repr);
    assert_eq!(parsed.to_vec(), bytes);
}

proptest! {
    #[test]
    fn every_payload_round_trips(payload in inner_payload(), last in last_payload()) {
        match &payload {
            Payload::Sa(r) => body_round_trips(r),
            Payload::Ke(r) => body_round_trips(r),
            Payload::IdI(r) | Payload::IdR(r) => body_round_trips(r),
            Payload::Cert(r) => body_round_trips(r),
            Payload::CertReq(r) => body_round_trips(r),
            Payload::Auth(r) => body_round_trips(r),
            Payload::Nonce(r) => body_round_trips(r),
            Payload::Notify(r) => body_round_trips(r),
            Payload::Delete(r) => body_round_trips(r),
            Payload::VendorId(r) => body_round_trips(r),
            Payload::TsI(r) | Payload::TsR(r) => body_round_trips(r),
            Payload::Cp(r) => body_round_trips(r),
            Payload::Eap(r) => body_round_trips(r),
            Payload::Sk { sk, .. } => body_round_trips(sk),
            Payload::Skf { skf, .. } => body_round_trips(skf),
            Payload::Unknown { body, .. } => body_round_trips(body),
        }
        match &last {
            Some(Payload::Sk { sk, .. }) => body_round_trips(sk),
            Some(Payload::Skf { skf, .. }) => body_round_trips(skf),
            _ => {}
        }
    }

    #[test]
    fn whole_messages_round_trip(
        header in header(),
        payloads in vec(inner_payload(), 0..6),
        last in last_payload(),
    ) {
        let mut payloads = payloads;
        payloads.extend(last);
        let message = Message { header, payloads };
        let bytes = message.emit().expect("encodable");
        let parsed = Message::parse(&bytes).expect("our own bytes parse");
        prop_assert_eq!(&parsed.payloads, &message.payloads);
        prop_assert_eq!(parsed.header.message_id, header.message_id);
        prop_assert_eq!(parsed.header.length as usize, bytes.len());
        prop_assert_eq!(parsed.emit().expect("encodable"), bytes);
    }

    #[test]
    fn arbitrary_bytes_never_panic(body in bytes(400), first in any::<u8>()) {
        let mut bytes = vec![0u8; 28];
        bytes[16] = first;
        bytes[17] = 0x20;
        bytes.extend(&body);
        let len = bytes.len() as u32;
        bytes[24..28].copy_from_slice(&len.to_be_bytes());
        // Junk that parses may carry reserved bits we do not echo: what we emit from it must
        // parse to the same message.
        if let Ok(message) = Message::parse(&bytes) {
            let again = message.emit().expect("encodable");
            prop_assert_eq!(Message::parse(&again).expect("our own bytes parse"), message);
        }
    }
}
