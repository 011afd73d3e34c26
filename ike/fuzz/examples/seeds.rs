//! Writes seed inputs for the fuzz targets: valid encodings of every payload and of messages of
//! every exchange, so the fuzzer starts past the length and type checks instead of having to
//! discover them.
//!
//! Usage: `seeds CORPUS_DIR [TARGET...]` writes `CORPUS_DIR/TARGET/seed-NAME` for the targets
//! named (every target when none is).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::{env, fs, io, process};

use ike::wire::sa::{Attribute, AttributeValue, Proposal, Transform};
use ike::wire::ts::TrafficSelector;
use ike::wire::{
    AuthMethod, CertEncoding, CfgAttributeType, CfgType, EncrId, EsnId, ExchangeType, Flags,
    Header, IkeSpi, IntegId, KeId, Message, MessageId, NotifyType, Payload, PayloadBody,
    PayloadType, PrfId, ProtocolId, TransformAttributeType, TsType, auth, cert, certreq, cp,
    delete, eap, id, ke, nonce, notify, sa, sk, skf, ts, vendor,
};

/// Named inputs.
type Seeds = Vec<(String, Vec<u8>)>;

fn main() {
    let args: Vec<String> = env::args().skip(1).collect();
    let Some((dir, targets)) = args.split_first() else {
        eprintln!("usage: seeds CORPUS_DIR [TARGET...]");
        process::exit(2);
    };
    let all = seeds();
    for name in targets {
        if !all.iter().any(|(target, _)| target == name) {
            eprintln!("seeds: no seeds for target {name}");
            process::exit(2);
        }
    }
    for (target, seeds) in all {
        if targets.is_empty() || targets.iter().any(|t| t == target) {
            write(&Path::new(dir).join(target), &seeds).unwrap_or_else(|e| {
                eprintln!("seeds: {target}: {e}");
                process::exit(1);
            });
        }
    }
}

fn write(dir: &Path, seeds: &Seeds) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    for (name, bytes) in seeds {
        fs::write(dir.join(format!("seed-{name}")), bytes)?;
    }
    Ok(())
}

/// Every target's seeds. A new target adds its entry here.
fn seeds() -> Vec<(&'static str, Seeds)> {
    let messages = messages();
    vec![
        // Header::parse takes the whole message, whose length its header states.
        ("header", messages.clone()),
        (
            "payload_chain",
            messages
                .iter()
                .map(|(n, m)| (n.clone(), chain_of(m)))
                .collect(),
        ),
        ("sa", bodies(sa_payloads())),
        ("ke", bodies(ke_payloads())),
        ("id", bodies(id_payloads())),
        ("cert", bodies(vec![("x509", cert())])),
        ("certreq", bodies(vec![("x509", certreq())])),
        ("auth", bodies(auth_payloads())),
        ("nonce", bodies(vec![("32", nonce())])),
        ("notify", bodies(notify_payloads())),
        ("delete", bodies(delete_payloads())),
        ("vendor", bodies(vec![("16", vendor())])),
        ("ts", bodies(vec![("v4-v6-label", ts_i()), ("v4", ts_r())])),
        ("cp", bodies(cp_payloads())),
        ("eap", bodies(eap_payloads())),
        ("sk", bodies(vec![("64", sk(64))])),
        ("skf", bodies(vec![("1-of-3", skf())])),
        ("message", messages.clone()),
        ("typed", messages),
        ("sk_unprotect", sk_unprotect_seeds()),
    ]
}

/// For `sk_unprotect`: sealed-mode inputs (bit 7 of the first byte) whose plaintext is an
/// IDi and a Notify followed by the pad-length byte, for both suites, padded to whole blocks.
fn sk_unprotect_seeds() -> Seeds {
    let inner = [
        Payload::IdI(id::Repr::fqdn("moon.example")),
        Payload::Notify(notify::Repr::new(NotifyType::INITIAL_CONTACT, &[])),
    ];
    let mut plain = vec![0; Payload::chain_len(&inner)];
    let first = Payload::emit_chain(&inner, &mut plain).expect("seed payloads encode");
    let mut seeds = Vec::new();
    for (name, selector, block) in [("gcm", 0x80u8, 1usize), ("cbc", 0x81, 16)] {
        let mut text = plain.clone();
        let pad = (block - (text.len() + 1) % block) % block;
        text.extend(std::iter::repeat_n(0, pad));
        text.push(pad as u8);
        let mut input = vec![selector, first.0];
        input.extend(&text);
        seeds.push((format!("sealed-{name}"), input));
    }
    seeds
}

fn bodies<B: PayloadBody>(reprs: Vec<(&'static str, B)>) -> Seeds {
    reprs
        .into_iter()
        .map(|(n, r)| (n.to_string(), r.to_vec()))
        .collect()
}

/// The payload_chain target's input: the type the header names, then the chain.
fn chain_of(message: &[u8]) -> Vec<u8> {
    let mut input = vec![message[16]];
    input.extend(&message[Header::LEN..]);
    input
}

fn sa_payloads() -> Vec<(&'static str, sa::Repr)> {
    let mut tlv = Transform::prf(PrfId::PRF_HMAC_SHA2_256);
    tlv.attributes.push(Attribute {
        ty: TransformAttributeType(99),
        value: AttributeValue::Long(vec![1, 2, 3]),
    });
    let rekey = sa::Repr {
        proposals: vec![Proposal {
            number: 1,
            protocol: ProtocolId::IKE,
            spi: vec![0x5a; 8],
            transforms: vec![tlv],
        }],
    };
    vec![
        ("ike", ike_sa()),
        ("esp", esp_sa()),
        ("ike-rekey-tlv", rekey),
    ]
}

/// aes256gcm16-prfsha384-x25519, then aes128-sha256-prfsha256-modp3072.
fn ike_sa() -> sa::Repr {
    sa::Repr {
        proposals: vec![
            Proposal {
                number: 1,
                protocol: ProtocolId::IKE,
                spi: vec![],
                transforms: vec![
                    Transform::encr(EncrId::ENCR_AES_GCM_16, Some(256)),
                    Transform::prf(PrfId::PRF_HMAC_SHA2_384),
                    Transform::ke(KeId::CURVE25519),
                ],
            },
            Proposal {
                number: 2,
                protocol: ProtocolId::IKE,
                spi: vec![],
                transforms: vec![
                    Transform::encr(EncrId::ENCR_AES_CBC, Some(128)),
                    Transform::integ(IntegId::AUTH_HMAC_SHA2_256_128),
                    Transform::prf(PrfId::PRF_HMAC_SHA2_256),
                    Transform::ke(KeId::MODP_3072),
                ],
            },
        ],
    }
}

/// aes128gcm16-noesn with a 4-byte SPI.
fn esp_sa() -> sa::Repr {
    sa::Repr {
        proposals: vec![Proposal {
            number: 1,
            protocol: ProtocolId::ESP,
            spi: vec![0xc1, 0xc2, 0xc3, 0xc4],
            transforms: vec![
                Transform::encr(EncrId::ENCR_AES_GCM_16, Some(128)),
                Transform::esn(EsnId::NO_ESN),
            ],
        }],
    }
}

fn ke_payloads() -> Vec<(&'static str, ke::Repr)> {
    vec![
        ("x25519", ke()),
        (
            "ecp256",
            ke::Repr {
                group: KeId::ECP_256,
                data: vec![4; 64],
            },
        ),
    ]
}

fn ke() -> ke::Repr {
    ke::Repr {
        group: KeId::CURVE25519,
        data: vec![0x2b; 32],
    }
}

fn id_payloads() -> Vec<(&'static str, id::Repr)> {
    vec![
        ("fqdn", id::Repr::fqdn("moon.strongswan.org")),
        (
            "ipv4",
            id::Repr::addr(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))),
        ),
        ("ipv6", id::Repr::addr(IpAddr::V6(Ipv6Addr::LOCALHOST))),
        ("rfc822", id::Repr::rfc822("carol@strongswan.org")),
        ("key-id", id::Repr::key_id(&[1, 2, 3, 4])),
        // SEQUENCE { SET { SEQUENCE { OID commonName, UTF8String "moon" } } }
        (
            "der-dn",
            id::Repr::der_dn(&[
                0x30, 0x0f, 0x31, 0x0d, 0x30, 0x0b, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x04, b'm',
                b'o', b'o', b'n',
            ]),
        ),
    ]
}

fn cert() -> cert::Repr {
    cert::Repr {
        encoding: CertEncoding::X509_SIGNATURE,
        data: vec![0x30, 0x82, 0x01, 0x0a, 0x02, 0x01, 0x01],
    }
}

fn certreq() -> certreq::Repr {
    certreq::Repr {
        encoding: CertEncoding::X509_SIGNATURE,
        authorities: [[0x11; certreq::SHA1_LEN], [0x22; certreq::SHA1_LEN]].concat(),
    }
}

fn auth_payloads() -> Vec<(&'static str, auth::Repr)> {
    let signature = auth::Repr {
        method: AuthMethod::DIGITAL_SIGNATURE,
        data: [&[7, 0x30, 5, 6, 3, 0x2b, 0x65, 0x70][..], &[0x5e; 64]].concat(),
    };
    vec![("psk", psk_auth()), ("signature", signature)]
}

fn psk_auth() -> auth::Repr {
    auth::Repr {
        method: AuthMethod::SHARED_KEY_MIC,
        data: vec![0xa5; 32],
    }
}

fn nonce() -> nonce::Repr {
    nonce::Repr {
        data: vec![0x4e; 32],
    }
}

fn notify_payloads() -> Vec<(&'static str, notify::Repr)> {
    vec![
        ("nat-d", nat_d(NotifyType::NAT_DETECTION_SOURCE_IP)),
        ("cookie", notify::Repr::new(NotifyType::COOKIE, &[0xc0; 16])),
        ("rekey-sa", rekey_sa()),
        ("signature-hash", signature_hash()),
        (
            "invalid-ke",
            notify::Repr::new(NotifyType::INVALID_KE_PAYLOAD, &[0, 31]),
        ),
    ]
}

fn nat_d(ty: NotifyType) -> notify::Repr {
    notify::Repr::new(ty, &[0xd0; 20])
}

fn rekey_sa() -> notify::Repr {
    notify::Repr::for_child(NotifyType::REKEY_SA, ProtocolId::ESP, 0xc1c2_c3c4, &[])
}

/// RFC 7427 4: SHA2-256, SHA2-384, SHA2-512.
fn signature_hash() -> notify::Repr {
    notify::Repr::new(NotifyType::SIGNATURE_HASH_ALGORITHMS, &[0, 2, 0, 3, 0, 4])
}

fn delete_payloads() -> Vec<(&'static str, delete::Repr)> {
    vec![("ike", delete::Repr::Ike), ("esp", delete_esp())]
}

fn delete_esp() -> delete::Repr {
    delete::Repr::Child {
        protocol: ProtocolId::ESP,
        spis: vec![0xc1c2_c3c4, 0xd1d2_d3d4],
    }
}

fn vendor() -> vendor::Repr {
    vendor::Repr { id: vec![0x88; 16] }
}

fn ts_i() -> ts::Repr {
    ts::Repr {
        selectors: vec![
            TrafficSelector::V4 {
                protocol: 0,
                start_port: 0,
                end_port: 65535,
                start: Ipv4Addr::new(10, 1, 0, 0),
                end: Ipv4Addr::new(10, 1, 255, 255),
            },
            TrafficSelector::V6 {
                protocol: 6,
                start_port: 443,
                end_port: 443,
                start: Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0),
                end: Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0xffff),
            },
            TrafficSelector::Other {
                ty: TsType::TS_SECLABEL,
                second: 0,
                data: b"system_u:object_r:ipsec_spd_t:s0\0".to_vec(),
            },
        ],
    }
}

fn ts_r() -> ts::Repr {
    ts::Repr {
        selectors: vec![TrafficSelector::V4 {
            protocol: 17,
            start_port: 500,
            end_port: 500,
            start: Ipv4Addr::new(192, 0, 2, 0),
            end: Ipv4Addr::new(192, 0, 2, 255),
        }],
    }
}

fn cp_payloads() -> Vec<(&'static str, cp::Repr)> {
    let reply = cp::Repr {
        cfg_type: CfgType::CFG_REPLY,
        attributes: vec![
            attribute(CfgAttributeType::INTERNAL_IP4_ADDRESS, &[10, 3, 0, 1]),
            attribute(CfgAttributeType::INTERNAL_IP4_DNS, &[10, 3, 0, 53]),
        ],
    };
    vec![("request", cp_request()), ("reply", reply)]
}

fn cp_request() -> cp::Repr {
    cp::Repr {
        cfg_type: CfgType::CFG_REQUEST,
        attributes: vec![
            attribute(CfgAttributeType::INTERNAL_IP4_ADDRESS, &[]),
            attribute(CfgAttributeType::INTERNAL_IP6_ADDRESS, &[]),
        ],
    }
}

fn attribute(ty: CfgAttributeType, value: &[u8]) -> cp::CfgAttribute {
    cp::CfgAttribute {
        ty,
        value: value.to_vec(),
    }
}

fn eap_payloads() -> Vec<(&'static str, eap::Repr)> {
    let success = eap::Repr::Outcome {
        code: eap::CODE_SUCCESS,
        identifier: 2,
    };
    vec![("identity", eap_identity()), ("success", success)]
}

/// RFC 3748 5.1: an Identity response.
fn eap_identity() -> eap::Repr {
    eap::Repr::Method {
        code: eap::CODE_RESPONSE,
        identifier: 1,
        method: 1,
        data: b"carol".to_vec(),
    }
}

fn sk(len: usize) -> sk::Repr {
    sk::Repr {
        data: (0..len).map(|i| i as u8).collect(),
    }
}

fn skf() -> skf::Repr {
    skf::Repr {
        number: 1,
        total: 3,
        data: vec![0xf0; 48],
    }
}

/// Messages built here, and those real peers sent (ike/testdata).
fn messages() -> Seeds {
    let mut messages = built_messages();
    messages.extend(peer_messages());
    messages
}

/// The IKE_SA_INIT messages strongSwan and Libreswan sent, one hex line per file.
fn peer_messages() -> Seeds {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata");
    let mut files: Vec<_> = fs::read_dir(&dir)
        .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|path| path.extension().is_some_and(|ext| ext == "hex"));
    files.sort();
    files
        .iter()
        .filter_map(|path| {
            let name = path.file_stem()?.to_string_lossy();
            let bytes = from_hex(fs::read_to_string(path).ok()?.trim())?;
            Some((format!("peer-{name}"), bytes))
        })
        .collect()
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Messages of every exchange and direction. The protected exchanges appear twice: as sent
/// (one SK or SKF payload) and as the payloads inside SK, which the `typed` target checks.
fn built_messages() -> Seeds {
    use ExchangeType as X;
    use Payload as P;
    let (i, r) = (Flags::INITIATOR, Flags::RESPONSE);
    let list = [
        (
            "ike-sa-init-request",
            X::IKE_SA_INIT,
            i,
            0,
            vec![
                P::Notify(notify::Repr::new(NotifyType::COOKIE, &[0xc0; 16])),
                P::Sa(ike_sa()),
                P::Ke(ke()),
                P::Nonce(nonce()),
                P::Notify(nat_d(NotifyType::NAT_DETECTION_SOURCE_IP)),
                P::Notify(nat_d(NotifyType::NAT_DETECTION_DESTINATION_IP)),
                P::Notify(notify::Repr::new(
                    NotifyType::IKEV2_FRAGMENTATION_SUPPORTED,
                    &[],
                )),
                P::Notify(signature_hash()),
                P::VendorId(vendor()),
            ],
        ),
        (
            "ike-sa-init-response",
            X::IKE_SA_INIT,
            r,
            0,
            vec![
                P::Sa(ike_sa()),
                P::Ke(ke()),
                P::Nonce(nonce()),
                P::CertReq(certreq()),
                P::Notify(nat_d(NotifyType::NAT_DETECTION_SOURCE_IP)),
                P::Unknown {
                    ty: PayloadType(200),
                    critical: false,
                    body: vec![1, 2, 3],
                },
            ],
        ),
        (
            "ike-sa-init-invalid-ke",
            X::IKE_SA_INIT,
            r,
            0,
            vec![P::Notify(notify::Repr::new(
                NotifyType::INVALID_KE_PAYLOAD,
                &[0, 31],
            ))],
        ),
        (
            "ike-auth-sk",
            X::IKE_AUTH,
            i,
            1,
            vec![P::Sk {
                first: PayloadType::IDI,
                sk: sk(96),
            }],
        ),
        (
            "ike-auth-skf",
            X::IKE_AUTH,
            i,
            1,
            vec![P::Skf {
                first: PayloadType::IDI,
                skf: skf(),
            }],
        ),
        (
            "ike-auth-request-inner",
            X::IKE_AUTH,
            i,
            1,
            vec![
                P::IdI(id::Repr::fqdn("carol@strongswan.org")),
                P::Cert(cert()),
                P::CertReq(certreq()),
                P::IdR(id::Repr::fqdn("moon.strongswan.org")),
                P::Auth(psk_auth()),
                P::Cp(cp_request()),
                P::Notify(notify::Repr::new(NotifyType::INITIAL_CONTACT, &[])),
                P::Sa(esp_sa()),
                P::TsI(ts_i()),
                P::TsR(ts_r()),
            ],
        ),
        (
            "ike-auth-eap-inner",
            X::IKE_AUTH,
            i,
            2,
            vec![P::Eap(eap_identity())],
        ),
        (
            "ike-auth-response-inner",
            X::IKE_AUTH,
            r,
            1,
            vec![
                P::IdR(id::Repr::addr(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)))),
                P::Auth(psk_auth()),
                P::Notify(notify::Repr::new(
                    NotifyType::AUTH_LIFETIME,
                    &[0, 0, 0x0e, 0x10],
                )),
                P::Sa(esp_sa()),
                P::TsI(ts_r()),
                P::TsR(ts_i()),
            ],
        ),
        (
            "create-child-sa-rekey-inner",
            X::CREATE_CHILD_SA,
            i,
            2,
            vec![
                P::Notify(rekey_sa()),
                P::Sa(esp_sa()),
                P::Nonce(nonce()),
                P::Ke(ke()),
                P::TsI(ts_i()),
                P::TsR(ts_r()),
            ],
        ),
        (
            "create-child-sa-refused-inner",
            X::CREATE_CHILD_SA,
            r,
            2,
            vec![P::Notify(notify::Repr::new(
                NotifyType::NO_PROPOSAL_CHOSEN,
                &[],
            ))],
        ),
        (
            "informational-inner",
            X::INFORMATIONAL,
            i,
            3,
            vec![
                P::Delete(delete_esp()),
                P::Delete(delete::Repr::Ike),
                P::Notify(notify::Repr::new(NotifyType::UPDATE_SA_ADDRESSES, &[])),
            ],
        ),
    ];
    list.into_iter()
        .map(|(name, exchange, flags, id, payloads)| {
            (name.to_string(), message(exchange, flags, id, payloads))
        })
        .collect()
}

fn message(exchange: ExchangeType, flags: Flags, id: u32, payloads: Vec<Payload>) -> Vec<u8> {
    let header = Header {
        spi_i: IkeSpi([1, 2, 3, 4, 5, 6, 7, 8]),
        spi_r: if exchange == ExchangeType::IKE_SA_INIT && !flags.is_response() {
            IkeSpi::ZERO
        } else {
            IkeSpi([9, 10, 11, 12, 13, 14, 15, 16])
        },
        next_payload: PayloadType::NONE,
        major_version: Header::MAJOR_VERSION,
        minor_version: 0,
        exchange,
        flags,
        message_id: MessageId(id),
        length: 0,
    };
    Message { header, payloads }
        .emit()
        .expect("seed messages are small")
}
