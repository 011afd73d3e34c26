//! Opening an SK payload with the keys given: [`unprotect`] checks the ICV (or the AEAD tag)
//! and decrypts, and the inner payloads are described by the same describers as the outer
//! ones.
//!
//! `unprotect` hands back the inner payloads parsed, not their bytes, so each one's length and
//! offset in the decrypted data, and the padding length, are worked out from the payloads'
//! encoding: exact for every message that encodes its payloads as RFC 7296 lays them out, as
//! strongSwan's and ours do (ike/tests/strongswan_keys.rs re-encodes them byte for byte). For
//! the same reason an inner payload of a known type shows as not critical whatever its
//! critical bit, which RFC 7296 2.5 tells receivers to ignore for types they know.

use ike::crypto::Error as CryptoError;
use ike::crypto::sk::unprotect;
use ike::wire::message::Payload;

use super::describe::{self, Fields};
use super::keys::{Keyring, Side};
use super::value::{Value, hex};
use super::walk::PayloadReport;

/// What decryption found: how the payload was opened, and what was inside.
#[derive(Debug)]
pub struct Decrypted {
    /// Algorithms, keys, IV, ICV and padding.
    pub fields: Fields,
    /// Offsets count from the start of the decrypted data.
    pub payloads: Vec<PayloadReport>,
}

/// What `--help` and the errors call an integrity failure.
pub const INTEGRITY_FAILED: &str = "integrity check failed: wrong keys, or the message was altered";

/// Opens the SK payload whose body (IV, encrypted data, ICV) is `body`, at the end of the
/// message `bytes`; returns its report and the inner payloads, or why it did not open.
pub fn open(
    keyring: &Keyring,
    side: &Side,
    bytes: &[u8],
    body: &[u8],
) -> Result<(Decrypted, Vec<Payload>), String> {
    let keys = &side.keys;
    let iv_len = keys.encr.iv_len();
    let icv_len = keys
        .integ
        .as_ref()
        .map_or(keys.encr.icv_len(), |(integ, _)| integ.icv_len());
    // RFC 7296 3.14: IV, encrypted data ending with the pad length byte, ICV.
    if body.len() < iv_len + 1 + icv_len {
        return Err(format!(
            "the SK payload's body is {} bytes, too short for a {iv_len}-byte IV, the pad \
             length byte and a {icv_len}-byte ICV",
            body.len()
        ));
    }
    let opened = unprotect(keys, bytes).map_err(|e| reason(e, side))?;
    let data_len = body.len() - iv_len - icv_len;
    let mut payloads = Vec::with_capacity(opened.inner.len());
    let mut offset = 0;
    for p in &opened.inner {
        let length = Payload::chain_len(std::slice::from_ref(p));
        payloads.push(PayloadReport {
            ty: p.ty(),
            critical: matches!(p, Payload::Unknown { critical: true, .. }),
            offset,
            length,
            fields: describe::payload(p),
            decrypted: None,
        });
        offset += length;
    }
    let padding = data_len
        .checked_sub(offset + 1)
        .map_or_else(|| Value::str("unknown"), |n| Value::Int(n as u64));
    let icv = &body[body.len() - icv_len..];
    let fields = vec![
        ("algorithms", algorithms(keyring)),
        ("keys", keys_used(side)),
        ("iv", Value::str(hex(&body[..iv_len]))),
        (
            "icv",
            Value::brief(
                format!("{icv_len} bytes, verified"),
                Value::Obj(vec![
                    ("length", (icv_len as u64).into()),
                    ("verified", true.into()),
                    ("value", Value::str(hex(icv))),
                ]),
            ),
        ),
        ("padding_length", padding),
    ];
    Ok((Decrypted { fields, payloads }, opened.inner))
}

fn algorithms(keyring: &Keyring) -> Value {
    let mut text = keyring.suite();
    if keyring.inferred {
        text.push_str(" (from the keys' lengths)");
    }
    let mut detail = vec![(
        "encryption",
        Value::str(super::keys::encr_text(keyring.encr)),
    )];
    if let Some(integ) = keyring.integ {
        detail.push(("integrity", Value::str(super::keys::integ_text(integ))));
    }
    detail.push(("inferred", keyring.inferred.into()));
    Value::brief(text, Value::Obj(detail))
}

fn keys_used(side: &Side) -> Value {
    let mut names = vec![Value::str(side.encr_key)];
    names.extend(side.integ_key.map(Value::str));
    Value::List(names)
}

/// Why `unprotect` refused, in words that point at the likely cause; never a key.
fn reason(error: CryptoError, side: &Side) -> String {
    // With AES-CBC the ICV covers the ciphertext: a wrong SK_e with the right SK_a passes the
    // check and decrypts to noise.
    let hint = match side.integ_key {
        Some(integ_key) => format!(
            " (the ICV verified with {integ_key}: is {} right?)",
            side.encr_key
        ),
        None => String::new(),
    };
    match error {
        CryptoError::IntegrityCheck => INTEGRITY_FAILED.to_owned(),
        CryptoError::Inner(e) => format!("the decrypted payloads do not parse: {e}{hint}"),
        CryptoError::Malformed(what) => format!("malformed {what}{hint}"),
        other => format!("cannot decrypt: {other}"),
    }
}
