//! Shared by the `ikerctl decode` tests: running the binary, and messages built with the
//! `ike` crate's types.

#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use ike::wire::message::{Message, Payload};
use ike::wire::sa::{Proposal, Transform};
use ike::wire::{
    EncrId, ExchangeType, Flags, Header, IkeSpi, IntegId, KeId, MessageId, NotifyType, PayloadType,
    PrfId, ProtocolId, ke, nonce, notify, sa, sk, vendor,
};

/// What one run of the binary gave.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

/// Runs `ikerctl ARGS`, with `stdin` on its standard input.
pub fn ikerctl(args: &[&str], stdin: &[u8]) -> Run {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ikerctl"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ikerctl");
    // The binary may exit before reading everything (an argument given): ignore EPIPE.
    let _ = child.stdin.take().expect("stdin").write_all(stdin);
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().expect("wait for ikerctl");
    Run {
        code: status.code(),
        stdout: String::from_utf8(stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(stderr).expect("UTF-8 stderr"),
        elapsed: start.elapsed(),
    }
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub const SPI_I: [u8; 8] = [0x6a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f, 0x60, 0x71];

pub fn header(exchange: ExchangeType, flags: Flags, message_id: u32) -> Header {
    Header {
        spi_i: IkeSpi(SPI_I),
        spi_r: IkeSpi::ZERO,
        next_payload: PayloadType::NONE,
        major_version: 2,
        minor_version: 0,
        exchange,
        flags,
        message_id: MessageId(message_id),
        length: 0,
    }
}

/// An IKE_SA_INIT request as strongSwan sends one: two proposals, an X25519 key, a nonce,
/// NAT detection, fragmentation and signature hash notifies, and a vendor ID.
pub fn ike_sa_init_request() -> Message {
    let aead = Proposal {
        number: 1,
        protocol: ProtocolId::IKE,
        spi: Vec::new(),
        transforms: vec![
            Transform::encr(EncrId::ENCR_AES_GCM_16, Some(256)),
            Transform::prf(PrfId::PRF_HMAC_SHA2_384),
            Transform::ke(KeId::CURVE25519),
        ],
    };
    let cbc = Proposal {
        number: 2,
        protocol: ProtocolId::IKE,
        spi: Vec::new(),
        transforms: vec![
            Transform::encr(EncrId::ENCR_AES_CBC, Some(128)),
            Transform::integ(IntegId::AUTH_HMAC_SHA2_256_128),
            Transform::prf(PrfId::PRF_HMAC_SHA2_256),
            Transform::ke(KeId::MODP_2048),
        ],
    };
    Message {
        header: header(ExchangeType::IKE_SA_INIT, Flags::INITIATOR, 0),
        payloads: vec![
            Payload::Sa(sa::Repr {
                proposals: vec![aead, cbc],
            }),
            Payload::Ke(ke::Repr {
                group: KeId::CURVE25519,
                data: vec![0x5a; 32],
            }),
            Payload::Nonce(nonce::Repr {
                data: vec![0x17; 32],
            }),
            Payload::Notify(notify::Repr::new(
                NotifyType::NAT_DETECTION_SOURCE_IP,
                &[0xa1; 20],
            )),
            Payload::Notify(notify::Repr::new(
                NotifyType::NAT_DETECTION_DESTINATION_IP,
                &[0xb2; 20],
            )),
            Payload::Notify(notify::Repr::new(
                NotifyType::IKEV2_FRAGMENTATION_SUPPORTED,
                &[],
            )),
            Payload::Notify(notify::Repr::new(
                NotifyType::SIGNATURE_HASH_ALGORITHMS,
                &[0, 2, 0, 3, 0, 4],
            )),
            Payload::VendorId(vendor::Repr {
                id: vec![0x88, 0x2f, 0xe5, 0x6d],
            }),
        ],
    }
}

/// An IKE_AUTH request: one SK payload whose first inner payload is IDi.
pub fn ike_auth_request() -> Message {
    Message {
        header: header(ExchangeType::IKE_AUTH, Flags::INITIATOR, 1),
        payloads: vec![Payload::Sk {
            first: PayloadType::IDI,
            sk: sk::Repr {
                data: vec![0xee; 80],
            },
        }],
    }
}
