//! X.501 distinguished names (RFC 5280 4.1.2.4) as IKE identities (ID_DER_ASN1_DN): read from
//! the text swanctl.conf writes (`C=CH, O=Example, CN=moon.example`), printed the same way,
//! and compared as strongSwan compares them: attribute by attribute, in order, the values
//! without regard to ASCII case or to the string type they are encoded with.
//!
//! ```text
//! Name ::= SEQUENCE OF RelativeDistinguishedName
//! RelativeDistinguishedName ::= SET OF AttributeTypeAndValue
//! AttributeTypeAndValue ::= SEQUENCE { type OBJECT IDENTIFIER, value ANY }
//! ```

use super::der::{self, Reader};
use crate::crypto::Error;

const SET: u8 = 0x31;
const UTF8_STRING: u8 = 0x0c;
const PRINTABLE_STRING: u8 = 0x13;
const IA5_STRING: u8 = 0x16;

/// The attributes a DN may be written with: names (the first is printed), the OID's content
/// octets, and the string type we encode values with (RFC 5280 A.1: country and serial
/// number are PrintableString, e-mail and domain components IA5String).
const ATTRIBUTES: &[(&[&str], &[u8], u8)] = &[
    (&["C"], &[0x55, 0x04, 0x06], PRINTABLE_STRING),
    (&["ST", "S"], &[0x55, 0x04, 0x08], UTF8_STRING),
    (&["L"], &[0x55, 0x04, 0x07], UTF8_STRING),
    (&["O"], &[0x55, 0x04, 0x0a], UTF8_STRING),
    (&["OU"], &[0x55, 0x04, 0x0b], UTF8_STRING),
    (&["CN"], &[0x55, 0x04, 0x03], UTF8_STRING),
    (&["SN"], &[0x55, 0x04, 0x04], UTF8_STRING),
    (&["serialNumber"], &[0x55, 0x04, 0x05], PRINTABLE_STRING),
    (&["T", "title"], &[0x55, 0x04, 0x0c], UTF8_STRING),
    (&["G", "GN"], &[0x55, 0x04, 0x2a], UTF8_STRING),
    (&["I"], &[0x55, 0x04, 0x2b], UTF8_STRING),
    (&["dnQualifier"], &[0x55, 0x04, 0x2e], PRINTABLE_STRING),
    (
        &["E", "emailAddress"],
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01],
        IA5_STRING,
    ),
    (
        &["DC"],
        &[0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19],
        IA5_STRING,
    ),
    (
        &["UID"],
        &[0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01],
        UTF8_STRING,
    ),
];

/// The DER Name for `text`: `ATTR=value` pairs separated by commas, one RDN each, in the
/// order written.
pub fn from_text(text: &str) -> Result<Vec<u8>, String> {
    let mut rdns = Vec::new();
    for part in text.split(',') {
        let part = part.trim();
        let (name, value) = part
            .split_once('=')
            .ok_or_else(|| format!("'{part}' is not ATTRIBUTE=value"))?;
        let (name, value) = (name.trim(), value.trim());
        let &(_, oid, tag) = ATTRIBUTES
            .iter()
            .find(|(names, _, _)| names.iter().any(|n| n.eq_ignore_ascii_case(name)))
            .ok_or_else(|| format!("unknown attribute '{name}'"))?;
        if value.is_empty() {
            return Err(format!("'{name}' has no value"));
        }
        let mut pair = Vec::new();
        der::push(&mut pair, der::OID, oid);
        der::push(&mut pair, tag, value.as_bytes());
        let mut atv = Vec::new();
        der::push(&mut atv, der::SEQUENCE, &pair);
        der::push(&mut rdns, SET, &atv);
    }
    let mut name = Vec::new();
    der::push(&mut name, der::SEQUENCE, &rdns);
    Ok(name)
}

/// An attribute of a Name: the content octets of its type's OID and of its value.
type Attribute<'a> = (&'a [u8], &'a [u8]);

/// The attributes of a DER Name, in order.
fn attributes(name: &[u8]) -> Result<Vec<Attribute<'_>>, Error> {
    let mut rdns = Reader::new(der::single(name, der::SEQUENCE)?);
    let mut out = Vec::new();
    while !rdns.is_empty() {
        let mut set = Reader::new(rdns.expect(SET)?);
        while !set.is_empty() {
            let mut atv = Reader::new(set.expect(der::SEQUENCE)?);
            let oid = atv.expect(der::OID)?;
            let (_, value) = atv.any()?;
            atv.finish()?;
            out.push((oid, value));
        }
    }
    Ok(out)
}

/// Whether two DER Names name the same: the same attributes in the same order, values equal
/// without regard to ASCII case or string type. Names that do not parse match only byte for
/// byte.
pub fn equal(a: &[u8], b: &[u8]) -> bool {
    match (attributes(a), attributes(b)) {
        (Ok(a), Ok(b)) => {
            a.len() == b.len()
                && a.iter()
                    .zip(&b)
                    .all(|((oa, va), (ob, vb))| oa == ob && va.eq_ignore_ascii_case(vb))
        }
        _ => a == b,
    }
}

/// `C=CH, O=Example, CN=moon` for a DER Name, or None when it does not parse or holds an
/// attribute we have no name for.
pub fn to_text(name: &[u8]) -> Option<String> {
    let parts: Option<Vec<String>> = attributes(name)
        .ok()?
        .into_iter()
        .map(|(oid, value)| {
            let (names, _, _) = ATTRIBUTES.iter().find(|(_, o, _)| *o == oid)?;
            Some(format!("{}={}", names[0], String::from_utf8_lossy(value)))
        })
        .collect();
    parts.map(|p| p.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trip_and_encoding() {
        let der = from_text("C=CH, O=strongSwan Project, CN=moon.strongswan.org").unwrap();
        assert_eq!(
            to_text(&der).unwrap(),
            "C=CH, O=strongSwan Project, CN=moon.strongswan.org"
        );
        // SEQUENCE { SET { SEQUENCE { OID 2.5.4.6, PrintableString "CH" } } ... }
        assert_eq!(
            &der[..13],
            &[
                0x30, 0x48, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x06, 0x13, 0x02
            ]
        );
        assert_eq!(
            from_text(" e = a@b.example ,dc=example").map(|d| to_text(&d)),
            Ok(Some("E=a@b.example, DC=example".into()))
        );
        for bad in ["", "CN", "XX=1", "CN=", "CN=a,,O=b"] {
            assert!(from_text(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn comparison_ignores_case_and_string_type() {
        let ours = from_text("O=Example, CN=moon").unwrap();
        let mut printable = ours.clone();
        // The CN's UTF8String as a PrintableString, as other tools encode it.
        let at = printable.len() - 6;
        assert_eq!(printable[at], UTF8_STRING);
        printable[at] = PRINTABLE_STRING;
        assert!(equal(&ours, &printable));
        assert!(equal(&ours, &from_text("o=EXAMPLE, cn=Moon").unwrap()));
        assert!(!equal(&ours, &from_text("CN=moon, O=Example").unwrap()));
        assert!(!equal(&ours, &from_text("O=Example, CN=sun").unwrap()));
        assert!(!equal(&ours, &from_text("O=Example").unwrap()));
        // Junk matches only itself.
        assert!(equal(&[1, 2], &[1, 2]));
        assert!(!equal(&[1, 2], &ours));
        assert_eq!(to_text(&[0x30]), None);
    }
}
