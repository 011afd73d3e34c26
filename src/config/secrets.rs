//! swanctl.conf's `secrets` section: IKE pre-shared keys and the identities that own them,
//! and strongSwan's choice of a key for a pair of identities.

use ike::crypto::Secret;

use super::identity::{self, Identity};
use super::tree::{KeyValue, Problem, Section};

/// One `secrets.ike<suffix>` section.
#[derive(Debug, Clone)]
pub struct SharedKey {
    /// The section's name, for messages.
    pub name: String,
    pub secret: Secret,
    /// The `id<suffix>` values; `%any` alone when there are none (as vici_cred.c does).
    pub owners: Vec<Identity>,
}

/// The IKE pre-shared keys, in the order written.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    pub ike: Vec<SharedKey>,
}

/// Secret types swanctl(8) knows that ikerd does not use yet (load_creds.c's list).
const UNSUPPORTED_TYPES: [&str; 11] = [
    "eap", "xauth", "ntlm", "ppk", "private", "rsa", "ecdsa", "bliss", "pkcs8", "pkcs12", "token",
];

impl Secrets {
    /// The key for an SA between `me` and `other` (`Identity::Any` when the peer may be
    /// anyone), chosen as strongSwan 5.9.8's `credential_manager.get_shared` does: every key
    /// an identity of either side owns is a candidate; the best match of the peer's identity
    /// wins, then the best match of ours, then the first written.
    pub fn ike_psk(&self, me: &Identity, other: &Identity) -> Option<&SharedKey> {
        let mut best: Option<(&SharedKey, u8, u8)> = None;
        for key in &self.ike {
            let rank = |id: &Identity| key.owners.iter().map(|o| identity::rank(id, o)).max();
            let (mine, theirs) = (rank(me).unwrap_or(0), rank(other).unwrap_or(0));
            if mine == identity::MATCH_NONE && theirs == identity::MATCH_NONE {
                continue;
            }
            let (best_mine, best_theirs) = best.map_or((0, 0), |(_, m, t)| (m, t));
            if theirs > best_theirs || (theirs == best_theirs && mine > best_mine) {
                best = Some((key, mine, theirs));
            }
        }
        best.map(|(key, _, _)| key)
    }
}

/// Reads the `secrets` section, adding what is wrong to `problems`.
pub fn parse(section: &Section, problems: &mut Vec<Problem>) -> Secrets {
    let mut secrets = Secrets::default();
    for kv in &section.keys {
        let path = format!("secrets.{}", kv.key);
        problems.push(Problem::new(&kv.at, &path, "unknown key".into()));
    }
    for sub in &section.sections {
        let path = format!("secrets.{}", sub.name);
        if sub.name.starts_with("ike") {
            if let Some(key) = shared_key(sub, &path, problems) {
                secrets.ike.push(key);
            }
        } else if UNSUPPORTED_TYPES.iter().any(|t| sub.name.starts_with(t)) {
            problems.push(Problem::new(&sub.at, &path, "not supported yet".into()));
        } else {
            let message =
                "unknown secret type (expected ike<suffix>, eap<suffix>, private<suffix>, ...)";
            problems.push(Problem::new(&sub.at, &path, message.into()));
        }
    }
    secrets
}

fn shared_key(section: &Section, path: &str, problems: &mut Vec<Problem>) -> Option<SharedKey> {
    let mut secret = None;
    let mut owners = Vec::new();
    let (mut ok, mut secret_seen) = (true, false);
    for kv in &section.keys {
        let key = format!("{path}.{}", kv.key);
        let mut fail = |message: String| {
            problems.push(Problem::new(&kv.at, &key, message));
            ok = false;
        };
        if kv.key == "secret" {
            secret_seen = true;
            match decode_secret(kv) {
                Ok(s) => secret = s,
                Err(message) => fail(message),
            }
        } else if kv.key.starts_with("id") {
            let Some(text) = &kv.value else { continue };
            match owner(text) {
                Ok(id) => owners.push(id),
                Err(message) => fail(message),
            }
        } else {
            fail("unknown key".into());
        }
    }
    for sub in &section.sections {
        let key = format!("{path}.{}", sub.name);
        problems.push(Problem::new(&sub.at, &key, "unknown section".into()));
    }
    let Some(secret) = secret else {
        if !secret_seen || ok {
            problems.push(Problem::new(&section.at, path, "missing secret".into()));
        }
        return None;
    };
    if owners.is_empty() {
        owners.push(Identity::Any);
    }
    ok.then(|| SharedKey {
        name: section.name.clone(),
        secret,
        owners,
    })
}

pub(crate) fn owner(text: &str) -> Result<Identity, String> {
    let id = identity::parse(text)?;
    match &id {
        Identity::Id(_) => identity::check_usable(text, &id).map(|()| id),
        _ => Ok(id),
    }
}

/// `0x` hex, `0s` base64, or the text itself (load_creds.c). Errors never show the value.
fn decode_secret(kv: &KeyValue) -> Result<Option<Secret>, String> {
    let Some(text) = &kv.value else {
        return Ok(None);
    };
    let prefix = text.get(..2).map(str::to_ascii_lowercase);
    let bytes = match prefix.as_deref() {
        Some("0x") => {
            identity::from_hex(&text[2..]).map_err(|_| "invalid hex after 0x".to_string())?
        }
        Some("0s") => from_base64(&text[2..]).ok_or("invalid base64 after 0s")?,
        _ => text.as_bytes().to_vec(),
    };
    Ok(Some(Secret::new(bytes)))
}

/// RFC 4648 base64 with the standard alphabet; padding optional.
pub fn from_base64(text: &str) -> Option<Vec<u8>> {
    let digits = text.trim_end_matches('=').as_bytes();
    if text.len() - digits.len() > 2 || digits.len() % 4 == 1 {
        return None;
    }
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= value(c)? << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}
