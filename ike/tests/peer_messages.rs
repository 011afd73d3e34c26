//! Messages captured from real peers (strongSwan 5.9.8, Libreswan 4.10; see
//! ike/testdata/README.md and scripts/capture-ike-init): each parses, passes the exchange's
//! rules, and re-encodes byte for byte.

use std::path::PathBuf;

use ike::wire::message::{Message, Payload};
use ike::wire::rules::{IkeSaInitRequest, IkeSaInitResponse, Typed};
use ike::wire::sa::AttributeValue;
use ike::wire::{
    EncrId, ExchangeType, Flags, KeId, NotifyType, PayloadType, PrfId, ProtocolId, TransformType,
};

fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

fn read_hex(name: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(testdata().join(name)).expect(name);
    let text: String = text.chars().filter(char::is_ascii_hexdigit).collect();
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn captured() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(testdata())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.contains("-ike-sa-init-") && name.ends_with(".hex"))
        .collect();
    names.sort();
    names
}

#[test]
fn every_capture_parses_follows_the_rules_and_reencodes_identically() {
    let names = captured();
    assert!(names.len() >= 10, "captures missing: {names:?}");
    for name in names {
        let bytes = read_hex(&name);
        let message = Message::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            message.emit().unwrap(),
            bytes,
            "{name}: re-encoding differs"
        );
        let response = message.header.flags.is_response();
        assert_eq!(response, name.contains("-response-"), "{name}");
        assert_eq!(message.header.exchange, ExchangeType::IKE_SA_INIT);
        let typed = Typed::from_payloads(ExchangeType::IKE_SA_INIT, response, message.payloads)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let bare_notify = matches!(
            typed,
            Typed::IkeSaInitResponse(IkeSaInitResponse::Notify(_))
        );
        let is_error = name.contains("invalid-ke") || name.contains("no-proposal-chosen");
        assert_eq!(bare_notify, is_error, "{name}");
    }
}

#[test]
fn strongswan_request_field_by_field() {
    let bytes = read_hex(
        "strongswan-5.9.8-ike-sa-init-request-aes256gcm16-prfsha384-x25519-to-strongswan.hex",
    );
    let message = Message::parse(&bytes).unwrap();
    let header = message.header;
    assert!(header.spi_r.is_zero() && !header.spi_i.is_zero());
    assert_eq!(header.next_payload, PayloadType::SA);
    assert_eq!((header.major_version, header.minor_version), (2, 0));
    assert_eq!(header.flags, Flags::INITIATOR);
    assert_eq!(header.message_id.0, 0);
    assert_eq!(header.length as usize, bytes.len());

    let types: Vec<PayloadType> = message.payloads.iter().map(Payload::ty).collect();
    assert_eq!(
        &types[..3],
        [PayloadType::SA, PayloadType::KE, PayloadType::NONCE]
    );

    let Ok(Typed::IkeSaInitRequest(IkeSaInitRequest {
        sa,
        ke,
        nonce,
        notifies,
        vendor_ids,
    })) = Typed::from_payloads(ExchangeType::IKE_SA_INIT, false, message.payloads)
    else {
        panic!("not an IKE_SA_INIT request");
    };
    // aes256gcm16-prfsha384-x25519: one IKE proposal, no SPI.
    let [proposal] = &sa.proposals[..] else {
        panic!("{sa:?}")
    };
    assert_eq!((proposal.number, proposal.protocol), (1, ProtocolId::IKE));
    assert!(proposal.spi.is_empty());
    let ids: Vec<(TransformType, u16)> = proposal.transforms.iter().map(|t| (t.ty, t.id)).collect();
    assert_eq!(
        ids,
        [
            (TransformType::ENCR, EncrId::ENCR_AES_GCM_16.0),
            (TransformType::PRF, PrfId::PRF_HMAC_SHA2_384.0),
            (TransformType::KE, KeId::CURVE25519.0),
        ]
    );
    assert_eq!(proposal.transforms[0].key_length(), Some(256));
    assert!(matches!(
        proposal.transforms[0].attributes[0].value,
        AttributeValue::Short(256)
    ));
    assert_eq!((ke.group, ke.data.len()), (KeId::CURVE25519, 32));
    assert_eq!(nonce.data.len(), 32);
    let notify_types: Vec<NotifyType> = notifies.iter().map(|n| n.ty).collect();
    assert_eq!(
        notify_types,
        [
            NotifyType::NAT_DETECTION_SOURCE_IP,
            NotifyType::NAT_DETECTION_DESTINATION_IP,
            NotifyType::IKEV2_FRAGMENTATION_SUPPORTED,
            NotifyType::SIGNATURE_HASH_ALGORITHMS,
            NotifyType::REDIRECT_SUPPORTED,
        ]
    );
    // NAT detection hashes are SHA-1 (RFC 7296 2.23); the hash list is SHA2-256/384/512 and
    // Identity.
    assert_eq!(notifies[0].data.len(), 20);
    assert_eq!(notifies[3].data, [0, 2, 0, 3, 0, 4, 0, 5]);
    assert!(vendor_ids.is_empty());
}

#[test]
fn invalid_ke_names_the_group_wanted() {
    let bytes =
        read_hex("strongswan-5.9.8-ike-sa-init-response-invalid-ke-default-to-libreswan.hex");
    let message = Message::parse(&bytes).unwrap();
    let Ok(Typed::IkeSaInitResponse(IkeSaInitResponse::Notify(notifies))) =
        Typed::from_payloads(ExchangeType::IKE_SA_INIT, true, message.payloads)
    else {
        panic!("not a bare notify");
    };
    assert_eq!(notifies[0].ty, NotifyType::INVALID_KE_PAYLOAD);
    assert_eq!(notifies[0].data.len(), 2);
}
