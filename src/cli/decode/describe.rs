//! The readable fields of the IKE header and of every payload body.

use ike::wire::message::Payload;
use ike::wire::{Flags, Header, PayloadType, cert, certreq, cp, delete, eap};

use super::value::{Value, hex};
use super::{notify, proposal, selector};

/// Labelled fields, in the order shown.
pub type Fields = Vec<(&'static str, Value)>;

/// A registry value: `NAME (number)` in the text, both parts in JSON (the name only when we
/// know one).
pub fn named(name: Option<&str>, value: u64) -> Value {
    let mut detail = vec![("value", Value::Int(value))];
    let text = match name {
        Some(name) => {
            detail.insert(0, ("name", Value::str(name)));
            format!("{name} ({value})")
        }
        None => format!("({value})"),
    };
    Value::brief(text, Value::Obj(detail))
}

/// Opaque bytes whose length matters more than their value (keys, nonces, signatures): the
/// length in the text, the hex in JSON.
pub fn sized(bytes: &[u8]) -> Value {
    Value::brief(format!("{} bytes", bytes.len()), Value::str(hex(bytes)))
}

/// Every field of the IKE header.
pub fn header(h: &Header) -> Fields {
    let flags = h.flags;
    let role = if flags.is_initiator() {
        "original initiator"
    } else {
        "original responder"
    };
    let kind = if flags.is_response() {
        "response"
    } else {
        "request"
    };
    let flags_detail = Value::Obj(vec![
        ("initiator", flags.is_initiator().into()),
        ("version", flags.contains(Flags::VERSION).into()),
        ("response", flags.is_response().into()),
        ("raw", u64::from(flags.0).into()),
    ]);
    vec![
        ("initiator_spi", Value::str(h.spi_i.to_string())),
        ("responder_spi", Value::str(h.spi_r.to_string())),
        (
            "next_payload",
            named(h.next_payload.name(), h.next_payload.0.into()),
        ),
        (
            "version",
            Value::brief(
                format!("{}.{}", h.major_version, h.minor_version),
                Value::Obj(vec![
                    ("major", u64::from(h.major_version).into()),
                    ("minor", u64::from(h.minor_version).into()),
                ]),
            ),
        ),
        ("exchange", named(h.exchange.name(), h.exchange.0.into())),
        (
            "flags",
            Value::brief(
                format!("{:#04x} {flags:?} ({kind} from the {role})", flags.0),
                flags_detail,
            ),
        ),
        ("message_id", u64::from(h.message_id.0).into()),
        ("length", u64::from(h.length).into()),
    ]
}

/// The fields of one payload's body.
pub fn payload(p: &Payload) -> Fields {
    match p {
        Payload::Sa(sa) => vec![(
            "proposals",
            Value::Rows(sa.proposals.iter().map(proposal::describe).collect()),
        )],
        Payload::Ke(ke) => vec![
            ("group", named(ke.group.name(), ke.group.0.into())),
            ("data", sized(&ke.data)),
        ],
        Payload::IdI(id) | Payload::IdR(id) => vec![
            ("id_type", named(id.ty.name(), id.ty.0.into())),
            ("identity", Value::str(id.to_string())),
        ],
        Payload::Cert(c) => cert(c),
        Payload::CertReq(c) => certreq(c),
        Payload::Auth(auth) => vec![
            ("method", named(auth.method.name(), auth.method.0.into())),
            ("data", sized(&auth.data)),
        ],
        Payload::Nonce(nonce) => vec![("nonce", sized(&nonce.data))],
        Payload::Notify(n) => notify::describe(n),
        Payload::Delete(d) => delete(d),
        Payload::VendorId(v) => vec![("vendor_id", Value::str(hex(&v.id)))],
        Payload::TsI(ts) | Payload::TsR(ts) => vec![(
            "selectors",
            Value::Rows(ts.selectors.iter().map(selector::describe).collect()),
        )],
        Payload::Cp(c) => cp(c),
        Payload::Eap(e) => eap(e),
        Payload::Sk { first, sk } => encrypted(*first, sk.data.len(), None),
        Payload::Skf { first, skf } => {
            encrypted(*first, skf.data.len(), Some((skf.number, skf.total)))
        }
        Payload::Unknown { body, .. } => vec![("data", Value::str(hex(body)))],
    }
}

fn cert(c: &cert::Repr) -> Fields {
    vec![
        ("encoding", named(c.encoding.name(), c.encoding.0.into())),
        ("data", sized(&c.data)),
    ]
}

fn certreq(c: &certreq::Repr) -> Fields {
    let mut fields = vec![("encoding", named(c.encoding.name(), c.encoding.0.into()))];
    match c.key_hashes() {
        Some(hashes) => fields.push((
            "authority_key_hashes",
            Value::Rows(hashes.map(|h| Value::str(hex(h))).collect()),
        )),
        None => fields.push(("data", Value::str(hex(&c.authorities)))),
    }
    fields
}

fn delete(d: &delete::Repr) -> Fields {
    match d {
        delete::Repr::Ike => vec![("deletes", Value::str("the IKE SA"))],
        delete::Repr::Child { protocol, spis } => vec![
            ("protocol", named(protocol.name(), protocol.0.into())),
            (
                "spis",
                Value::List(
                    spis.iter()
                        .map(|spi| Value::str(format!("0x{spi:08x}")))
                        .collect(),
                ),
            ),
        ],
    }
}

fn cp(c: &cp::Repr) -> Fields {
    let attributes = c
        .attributes
        .iter()
        .map(|a| {
            let name =
                a.ty.name()
                    .map_or_else(|| format!("({})", a.ty.0), str::to_owned);
            let value = selector::cfg_value(a.ty, &a.value);
            let line = if a.value.is_empty() {
                format!("{name} (empty)")
            } else {
                format!("{name} {value}")
            };
            let detail = Value::Obj(vec![
                ("type", named(a.ty.name(), a.ty.0.into())),
                ("value", Value::str(value)),
                ("raw", Value::str(hex(&a.value))),
            ]);
            Value::brief(line, detail)
        })
        .collect();
    vec![
        ("cfg_type", named(c.cfg_type.name(), c.cfg_type.0.into())),
        ("attributes", Value::Rows(attributes)),
    ]
}

fn eap(e: &eap::Repr) -> Fields {
    let (code, identifier) = match e {
        eap::Repr::Method {
            code, identifier, ..
        }
        | eap::Repr::Outcome { code, identifier } => (*code, *identifier),
    };
    let mut fields = vec![
        ("code", named(eap_code_name(code), code.into())),
        ("identifier", u64::from(identifier).into()),
    ];
    if let eap::Repr::Method { method, data, .. } = e {
        fields.push(("eap_type", named(eap_type_name(*method), (*method).into())));
        fields.push(("data", sized(data)));
    }
    fields
}

/// RFC 3748 4.
fn eap_code_name(code: u8) -> Option<&'static str> {
    ["Request", "Response", "Success", "Failure"]
        .get(usize::from(code).wrapping_sub(1))
        .copied()
}

/// The IANA "Method Types" registry of EAP, for the methods IKEv2 peers use.
fn eap_type_name(ty: u8) -> Option<&'static str> {
    Some(match ty {
        1 => "Identity",
        2 => "Notification",
        3 => "Nak",
        4 => "MD5-Challenge",
        5 => "OTP",
        6 => "GTC",
        13 => "TLS",
        18 => "SIM",
        21 => "TTLS",
        23 => "AKA",
        25 => "PEAP",
        26 => "MSCHAPv2",
        43 => "FAST",
        50 => "AKA'",
        254 => "Expanded",
        _ => return None,
    })
}

/// SK and SKF: what can be said without the keys. Decryption (given SK_e and SK_a) adds the
/// inner payloads, described like the outer ones ([`super::decrypt`]); fragments are not
/// reassembled yet, and say so.
fn encrypted(first: PayloadType, len: usize, fragment: Option<(u16, u16)>) -> Fields {
    let first_name = first
        .name()
        .map_or_else(|| format!("({})", first.0), str::to_owned);
    let mut fields = Vec::new();
    if let Some((number, total)) = fragment {
        fields.push((
            "fragment",
            Value::brief(
                format!("{number} of {total}"),
                Value::Obj(vec![
                    ("number", u64::from(number).into()),
                    ("total", u64::from(total).into()),
                ]),
            ),
        ));
    }
    // RFC 7383 2.5: only the first fragment names the first inner payload.
    let mut text = match fragment {
        Some((number, _)) if number != 1 => format!("encrypted, {len} bytes"),
        _ => format!("encrypted, {len} bytes (first inner payload {first_name})"),
    };
    if fragment.is_some() {
        text.push_str("; fragments are not reassembled yet, so not decrypted");
    }
    let detail = Value::Obj(vec![
        ("length", (len as u64).into()),
        ("first_inner_payload", named(first.name(), first.0.into())),
    ]);
    fields.push(("contents", Value::brief(text, detail)));
    fields
}
