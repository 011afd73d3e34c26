//! IKE identities as swanctl.conf writes them (`id = moon.example.org`), parsed by strongSwan
//! 5.9.8's rules (`identification_create_from_string`) for the forms ikerd supports, and
//! matched the way strongSwan ranks a shared key's owners (`identification_t.matches`).

use std::net::IpAddr;

use ike::wire::IdType;
use ike::wire::id;

/// A configured identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// `%any` (also `%any6`, `*`, `0.0.0.0`, `::` and the empty string): any identity.
    Any,
    /// A concrete identity; an FQDN or email address may start with `*` as a wildcard.
    Id(id::Repr),
    /// An address prefix, e.g. `10.0.0.0/8`: matches the address identities inside it.
    Subnet { net: IpAddr, prefix: u8 },
}

/// strongSwan's `id_match_t` ranks: a better match is a larger number.
pub const MATCH_NONE: u8 = 0;
pub const MATCH_ANY: u8 = 1;
pub const MATCH_MAX_WILDCARDS: u8 = 2;
pub const MATCH_ONE_WILDCARD: u8 = 19;
pub const MATCH_PERFECT: u8 = 20;

/// Parses an identity; Err says why it cannot be used (a form not supported yet).
pub fn parse(text: &str) -> Result<Identity, String> {
    if let Some(parsed) = with_prefix(text) {
        return parsed;
    }
    if text.starts_with('{') {
        return Err(format!(
            "'{text}': numeric identity types are not supported yet"
        ));
    }
    if text.contains('=') {
        // strongSwan: a distinguished name, `C=CH, O=Example, CN=moon.example`.
        return ike::auth::dn::from_text(text)
            .map(|der| Identity::Id(id::Repr::der_dn(&der)))
            .map_err(|e| format!("'{text}': distinguished name: {e}"));
    }
    if !text.contains('@') {
        return Ok(without_at(text));
    }
    Ok(match text.strip_prefix('@') {
        Some(hex) if hex.starts_with('#') => Identity::Id(id::Repr::key_id(&from_hex(&hex[1..])?)),
        Some(user) if user.starts_with('@') => Identity::Id(id::Repr::rfc822(&user[1..])),
        Some(fqdn) => Identity::Id(id::Repr::fqdn(fqdn)),
        None => Identity::Id(id::Repr::rfc822(text)),
    })
}

/// An identity without `@` or `=`: %any, an address or prefix, else an FQDN (IPv4-like) or
/// a key ID (with a colon, as strongSwan falls back).
fn without_at(text: &str) -> Identity {
    if matches!(
        text,
        "" | "%any" | "%any6" | "0.0.0.0" | "*" | "::" | "0::0"
    ) {
        return Identity::Any;
    }
    let v4 = !text.contains(':');
    if let Some(identity) = address(text, v4) {
        return identity;
    }
    match v4 {
        true => Identity::Id(id::Repr::fqdn(text)),
        false => Identity::Id(id::Repr::key_id(text.as_bytes())),
    }
}

/// An address or `address/bits` of the family asked for. Ranges (`a-b`) fall through to a
/// name, as they would in strongSwan only if they fail to parse, so they are refused in
/// `check_supported`.
fn address(text: &str, v4: bool) -> Option<Identity> {
    let (addr, bits) = match text.split_once('/') {
        Some((addr, bits)) => (addr, Some(bits)),
        None => (text, None),
    };
    let addr: IpAddr = addr.parse().ok()?;
    if addr.is_ipv4() != v4 {
        return None;
    }
    let max = if v4 { 32 } else { 128 };
    match bits {
        None => Some(Identity::Id(id::Repr::addr(addr))),
        Some(bits) => {
            let prefix: u8 = bits.parse().ok().filter(|&b| b <= max)?;
            Some(Identity::Subnet { net: addr, prefix })
        }
    }
}

fn with_prefix(text: &str) -> Option<Result<Identity, String>> {
    let (prefix, rest) = text.split_once(':')?;
    let data = |rest: &str| match rest.strip_prefix('#') {
        Some(hex) => from_hex(hex),
        None => Ok(rest.as_bytes().to_vec()),
    };
    let repr = |ty: IdType, rest: &str| data(rest).map(|data| Identity::Id(id::Repr { ty, data }));
    Some(match prefix.to_ascii_lowercase().as_str() {
        "fqdn" | "dns" => repr(IdType::ID_FQDN, rest),
        "rfc822" | "email" | "userfqdn" => repr(IdType::ID_RFC822_ADDR, rest),
        "keyid" => repr(IdType::ID_KEY_ID, rest),
        "asn1dn" => repr(IdType::ID_DER_ASN1_DN, rest),
        "ipv4" | "ipv6" => {
            // strongSwan keeps the text after ipv4: as the raw identity bytes; only the #hex
            // form makes a usable address identity.
            let len = if prefix.eq_ignore_ascii_case("ipv4") {
                4
            } else {
                16
            };
            let ty = if len == 4 {
                IdType::ID_IPV4_ADDR
            } else {
                IdType::ID_IPV6_ADDR
            };
            match rest.strip_prefix('#').map(from_hex) {
                Some(Ok(data)) if data.len() == len => Ok(Identity::Id(id::Repr { ty, data })),
                _ => Err(format!(
                    "'{text}': write the address without the {prefix}: prefix"
                )),
            }
        }
        "ipv4net" | "ipv6net" | "ipv4range" | "ipv6range" | "asn1gn" | "xmppaddr" => Err(format!(
            "'{text}': {prefix}: identities are not supported yet"
        )),
        _ => return None,
    })
}

/// Hex as strongSwan reads it: optional `:` separators, an odd count padded with a leading 0.
pub fn from_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = text
        .bytes()
        .filter(|&b| b != b':')
        .map(|b| (b as char).to_digit(16).map(|d| d as u8))
        .collect::<Option<_>>()
        .ok_or_else(|| "invalid hex".to_string())?;
    let mut out = Vec::with_capacity(digits.len() / 2 + 1);
    let (head, pairs) = digits.split_at(digits.len() % 2);
    out.extend(head.iter().copied());
    out.extend(pairs.chunks(2).map(|p| (p[0] << 4) | p[1]));
    Ok(out)
}

/// How well `this` (an SA's identity) matches `owner` (a configured one).
pub fn rank(this: &Identity, owner: &Identity) -> u8 {
    let this = match (this, owner) {
        (_, Identity::Any) => return MATCH_ANY,
        (Identity::Id(this), _) => this,
        _ => return MATCH_NONE,
    };
    match owner {
        Identity::Any => MATCH_ANY,
        Identity::Subnet { net, prefix } => in_subnet(this, *net, *prefix),
        Identity::Id(owner) if this.ty != owner.ty => MATCH_NONE,
        Identity::Id(owner) if matches!(this.ty, IdType::ID_FQDN | IdType::ID_RFC822_ADDR) => {
            rank_string(&this.data, &owner.data)
        }
        Identity::Id(owner) if this.data == owner.data => MATCH_PERFECT,
        Identity::Id(_) => MATCH_NONE,
    }
}

/// FQDNs and email addresses: equal ignoring case, or a leading `*` matching any prefix.
fn rank_string(this: &[u8], owner: &[u8]) -> u8 {
    if this.eq_ignore_ascii_case(owner) {
        return MATCH_PERFECT;
    }
    match owner.split_first() {
        Some((b'*', [])) => MATCH_ANY,
        Some((b'*', tail)) if this.len() >= owner.len() => {
            match this[this.len() - tail.len()..].eq_ignore_ascii_case(tail) {
                true => MATCH_ONE_WILDCARD,
                false => MATCH_NONE,
            }
        }
        _ => MATCH_NONE,
    }
}

fn in_subnet(this: &id::Repr, net: IpAddr, prefix: u8) -> u8 {
    let Some(addr) = this.as_addr() else {
        return MATCH_NONE;
    };
    let (a, n): (Vec<u8>, Vec<u8>) = match (addr, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => (a.octets().to_vec(), n.octets().to_vec()),
        (IpAddr::V6(a), IpAddr::V6(n)) => (a.octets().to_vec(), n.octets().to_vec()),
        _ => return MATCH_NONE,
    };
    if prefix == 0 {
        return MATCH_MAX_WILDCARDS;
    }
    let full = usize::from(prefix) == a.len() * 8;
    let inside = (0..usize::from(prefix)).all(|bit| {
        let mask = 0x80u8 >> (bit % 8);
        a[bit / 8] & mask == n[bit / 8] & mask
    });
    match (inside, full) {
        (true, true) => MATCH_PERFECT,
        (true, false) => MATCH_ONE_WILDCARD,
        (false, _) => MATCH_NONE,
    }
}

/// Whether a connection may use `identity` as its own or its peer's (the core compares
/// identities exactly, so no wildcards or prefixes).
pub fn check_usable(text: &str, identity: &Identity) -> Result<(), String> {
    match identity {
        Identity::Subnet { .. } => Err(format!(
            "'{text}': address prefixes as identities are not supported yet"
        )),
        Identity::Id(repr) if repr.data.first() == Some(&b'*') => Err(format!(
            "'{text}': wildcard identities are not supported yet"
        )),
        Identity::Id(repr) if repr.ty == IdType::ID_FQDN && looks_like_range(text) => Err(format!(
            "'{text}': address ranges as identities are not supported yet"
        )),
        _ => Ok(()),
    }
}

/// `10.0.0.1-10.0.0.9`: strongSwan makes an address range of it; we would make an FQDN.
fn looks_like_range(text: &str) -> bool {
    text.split_once('-')
        .is_some_and(|(a, b)| a.parse::<IpAddr>().is_ok() && b.parse::<IpAddr>().is_ok())
}
