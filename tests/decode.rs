//! `ikerctl decode` on well-formed messages: every field named, every input form accepted,
//! text and JSON saying the same.

mod common;

use std::net::Ipv4Addr;

use common::{hex, ike_auth_request, ike_sa_init_request, ikerctl};
use ike::wire::message::{Message, Payload};
use ike::wire::ts::TrafficSelector;
use ike::wire::{
    AuthMethod, CertEncoding, CfgAttributeType, CfgType, ExchangeType, Flags, ProtocolId, auth,
    cert, certreq, cp, delete, eap, id, ts,
};

fn decode_ok(args: &[&str], stdin: &[u8]) -> String {
    let run = ikerctl(args, stdin);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(run.stderr, "");
    run.stdout
}

fn assert_lines(out: &str, expected: &[&str]) {
    for line in expected {
        assert!(
            out.lines().any(|l| l.trim_end() == *line),
            "no line {line:?} in:\n{out}"
        );
    }
}

#[test]
fn ike_sa_init_request_names_every_field() {
    let bytes = ike_sa_init_request().emit().unwrap();
    let out = decode_ok(&["decode", &hex(&bytes)], b"");
    let length = format!("  length         {}", bytes.len());
    assert_lines(
        &out,
        &[
            "IKE header",
            "  initiator spi  6a1b2c3d4e5f6071",
            "  responder spi  0000000000000000",
            "  next payload   SA (33)",
            "  version        2.0",
            "  exchange       IKE_SA_INIT (34)",
            "  flags          0x08 [I] (request from the original initiator)",
            "  message id     0",
            &length,
            "payload 1: SA, not critical, 84 bytes at byte 28",
            "  proposals",
            "    #1 IKE:AES_GCM_16_256/PRF_HMAC_SHA2_384/CURVE_25519",
            "    #2 IKE:AES_CBC_128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048",
            "payload 2: KE, not critical, 40 bytes at byte 112",
            "  group  CURVE25519 (31)",
            "  data   32 bytes",
            "payload 3: NONCE, not critical, 36 bytes at byte 152",
            "  nonce  32 bytes",
            "payload 4: NOTIFY, not critical, 28 bytes at byte 188",
            "  notify type  NAT_DETECTION_SOURCE_IP (16388)",
            &format!("  sha1 hash    {}", "a1".repeat(20)),
            "  notify type  NAT_DETECTION_DESTINATION_IP (16389)",
            "  notify type  IKEV2_FRAGMENTATION_SUPPORTED (16430)",
            "  hash algorithms  SHA2_256 (2), SHA2_384 (3), SHA2_512 (4)",
            "payload 8: VENDOR_ID, not critical, 8 bytes at byte 266",
            "  vendor id  882fe56d",
            "rules: a valid IKE_SA_INIT request",
        ],
    );
}

#[test]
fn encrypted_payload_is_described_from_the_outside() {
    let bytes = ike_auth_request().emit().unwrap();
    let out = decode_ok(&["decode", &hex(&bytes)], b"");
    assert_lines(
        &out,
        &[
            "  exchange       IKE_AUTH (35)",
            "  message id     1",
            "payload 1: SK, not critical, 84 bytes at byte 28",
            "  contents  encrypted, 80 bytes (first inner payload IDI)",
        ],
    );
    assert!(!out.contains("rules:"), "{out}");
}

/// One of each remaining payload type (not a valid exchange, which decode reports).
fn every_other_payload() -> Message {
    let mut message = ike_auth_request();
    message.header.exchange = ExchangeType::INFORMATIONAL;
    message.header.flags = Flags::RESPONSE;
    let selector = TrafficSelector::V4 {
        protocol: 6,
        start_port: 443,
        end_port: 443,
        start: Ipv4Addr::new(198, 51, 100, 0),
        end: Ipv4Addr::new(198, 51, 100, 255),
    };
    message.payloads = vec![
        Payload::IdI(id::Repr::fqdn("carol@example.org")),
        Payload::IdR(id::Repr::addr(Ipv4Addr::new(192, 0, 2, 1).into())),
        Payload::Cert(cert::Repr {
            encoding: CertEncoding::X509_SIGNATURE,
            data: vec![0x30; 10],
        }),
        Payload::CertReq(certreq::Repr {
            encoding: CertEncoding::X509_SIGNATURE,
            authorities: vec![0xcd; 20],
        }),
        Payload::Auth(auth::Repr {
            method: AuthMethod::SHARED_KEY_MIC,
            data: vec![1; 48],
        }),
        Payload::Delete(delete::Repr::Child {
            protocol: ProtocolId::ESP,
            spis: vec![0xc12d4e01, 0x0000_00ff],
        }),
        Payload::TsI(ts::Repr {
            selectors: vec![selector],
        }),
        Payload::Cp(cp::Repr {
            cfg_type: CfgType::CFG_REPLY,
            attributes: vec![
                cp::CfgAttribute {
                    ty: CfgAttributeType::INTERNAL_IP4_ADDRESS,
                    value: vec![10, 3, 0, 1],
                },
                cp::CfgAttribute {
                    ty: CfgAttributeType::INTERNAL_IP4_DNS,
                    value: vec![],
                },
            ],
        }),
        Payload::Eap(eap::Repr::Method {
            code: eap::CODE_RESPONSE,
            identifier: 7,
            method: 1,
            data: b"carol".to_vec(),
        }),
    ];
    message
}

#[test]
fn every_payload_type_is_readable() {
    let bytes = every_other_payload().emit().unwrap();
    let out = decode_ok(&["decode", &hex(&bytes)], b"");
    assert_lines(
        &out,
        &[
            "  flags          0x20 [R] (response from the original responder)",
            "  id type   ID_FQDN (2)",
            "  identity  carol@example.org",
            "  identity  192.0.2.1",
            "  encoding  X509_SIGNATURE (4)",
            "  data      10 bytes",
            "  authority key hashes",
            &format!("    {}", "cd".repeat(20)),
            "  method  SHARED_KEY_MIC (2)",
            "  protocol  ESP (3)",
            "  spis      0xc12d4e01, 0x000000ff",
            "  selectors",
            "    198.51.100.0/24[tcp/443]",
            "  cfg type    CFG_REPLY (2)",
            "    INTERNAL_IP4_ADDRESS 10.3.0.1",
            "    INTERNAL_IP4_DNS (empty)",
            "  code        Response (2)",
            "  identifier  7",
            "  eap type    Identity (1)",
            "  data        5 bytes",
        ],
    );
    assert!(
        out.contains("rules: not a valid INFORMATIONAL response: unexpected payload"),
        "{out}"
    );
}

#[test]
fn every_input_form_gives_the_same_output() {
    let bytes = ike_sa_init_request().emit().unwrap();
    let expected = decode_ok(&["decode", &hex(&bytes)], b"");
    let colons: Vec<String> = bytes.iter().map(|b| format!("{b:02X}")).collect();
    let spaced = format!("0x{}\n", colons.join(":"));
    assert_eq!(decode_ok(&["decode"], spaced.as_bytes()), expected);
    assert_eq!(decode_ok(&["decode", "-"], spaced.as_bytes()), expected);
    assert_eq!(decode_ok(&["decode", "--raw"], &bytes), expected);

    let dir = std::env::temp_dir().join(format!("ikerctl-decode-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (hex_file, raw_file) = (dir.join("msg.hex"), dir.join("msg.bin"));
    std::fs::write(&hex_file, &spaced).unwrap();
    std::fs::write(&raw_file, &bytes).unwrap();
    let file_hex = decode_ok(&["decode", "--file", hex_file.to_str().unwrap()], b"");
    let file_raw = decode_ok(
        &["decode", "--file", raw_file.to_str().unwrap(), "--raw"],
        b"",
    );
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(file_hex, expected);
    assert_eq!(file_raw, expected);
}

#[test]
fn non_esp_marker_is_detected_or_stripped() {
    let bytes = ike_sa_init_request().emit().unwrap();
    let plain = decode_ok(&["decode", &hex(&bytes)], b"");
    let marked = format!("00000000{}", hex(&bytes));
    let detected = decode_ok(&["decode", &marked], b"");
    let stripped = decode_ok(&["decode", "--strip-marker", &marked], b"");
    assert_eq!(detected, stripped);
    let body = detected
        .strip_prefix("non-ESP marker (4 bytes, removed)\n")
        .expect("the marker is reported");
    // Offsets count from the start of the input, marker included.
    assert_eq!(body, shift_offsets(&plain, 4));

    let run = ikerctl(&["decode", "--strip-marker", &hex(&bytes)], b"");
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr
            .contains("does not start with the non-ESP marker"),
        "{}",
        run.stderr
    );
}

/// The text with every "at byte N" moved on by `by`.
fn shift_offsets(text: &str, by: usize) -> String {
    text.lines()
        .map(|line| match line.rsplit_once(" at byte ") {
            Some((head, n)) => format!("{head} at byte {}\n", n.parse::<usize>().unwrap() + by),
            None => format!("{line}\n"),
        })
        .collect()
}

#[test]
fn json_says_what_the_text_says() {
    let bytes = ike_sa_init_request().emit().unwrap();
    let out = decode_ok(&["decode", "--json", &hex(&bytes)], b"");
    assert_eq!(out.lines().count(), 1, "{out}");
    for fragment in [
        r#""non_esp_marker":false"#,
        r#""initiator_spi":"6a1b2c3d4e5f6071""#,
        r#""exchange":{"name":"IKE_SA_INIT","value":34}"#,
        r#""flags":{"initiator":true,"version":false,"response":false,"raw":8}"#,
        r#""text":"IKE:AES_GCM_16_256/PRF_HMAC_SHA2_384/CURVE_25519""#,
        r#""name":"AES_GCM_16_256","key_length":256"#,
        r#""group":{"name":"CURVE25519","value":31}"#,
        r#""sha1_hash":"a1a1"#,
        r#""hash_algorithms":[{"name":"SHA2_256","value":2}"#,
        r#""rules":{"message":"IKE_SA_INIT request","valid":true}"#,
    ] {
        assert!(out.contains(fragment), "no {fragment} in {out}");
    }
    assert!(!out.contains(r#""error""#), "{out}");
    assert_balanced(&out);
}

/// Brackets and braces pair up outside strings: a cheap check that the JSON is well formed.
fn assert_balanced(json: &str) {
    let (mut stack, mut in_string, mut escaped) = (Vec::new(), false, false);
    for c in json.chars() {
        match (in_string, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (true, false, '"') | (false, _, '"') => in_string = !in_string,
            (false, _, '{' | '[') => stack.push(c),
            (false, _, '}') => assert_eq!(stack.pop(), Some('{')),
            (false, _, ']') => assert_eq!(stack.pop(), Some('[')),
            _ => {}
        }
    }
    assert!(stack.is_empty() && !in_string, "{json}");
}

#[test]
fn decode_help_describes_the_inputs() {
    let out = decode_ok(&["decode", "--help"], b"");
    for words in [
        "--file",
        "--raw",
        "--strip-marker",
        "--json",
        "non-ESP marker",
    ] {
        assert!(out.contains(words), "{out}");
    }
}
