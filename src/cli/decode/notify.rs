//! Notify payloads: the type by name, the SPI, the data in hex, and for the notifies whose
//! data has a simple fixed format, what it says.

use std::net::{Ipv4Addr, Ipv6Addr};

use ike::wire::{HashAlgorithm, IpcompId, KeId, NotifyType, ProtocolId, notify};

use super::describe::{Fields, named, sized};
use super::value::{Value, hex};

/// The fields of a Notify payload body.
pub fn describe(n: &notify::Repr) -> Fields {
    let mut fields: Fields = vec![
        ("notify_type", named(n.ty.name(), n.ty.0.into())),
        (
            "kind",
            Value::str(if n.ty.is_error() { "error" } else { "status" }),
        ),
    ];
    // RFC 7296 3.10: protocol and SPI name a Child SA, or are zero and empty for the IKE SA.
    if n.protocol != ProtocolId::NONE || !n.spi.is_empty() {
        fields.push(("protocol", named(n.protocol.name(), n.protocol.0.into())));
        fields.push(("spi", Value::str(format!("0x{}", hex(&n.spi)))));
    }
    fields.push(("data", data(&n.data)));
    fields.extend(decoded(n));
    fields
}

/// Notify data is usually short: shown whole, with its length.
fn data(bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        return Value::brief("(none)", Value::str(""));
    }
    Value::brief(
        format!("{} bytes: {}", bytes.len(), hex(bytes)),
        Value::str(hex(bytes)),
    )
}

/// What the data means, for the types with a simple format; nothing when the data does not
/// have that format (the hex above still shows it).
fn decoded(n: &notify::Repr) -> Fields {
    let d = &n.data[..];
    match n.ty {
        // RFC 7296 2.23: SHA-1 of SPIs, address and port.
        NotifyType::NAT_DETECTION_SOURCE_IP | NotifyType::NAT_DETECTION_DESTINATION_IP
            if d.len() == 20 =>
        {
            vec![("sha1_hash", Value::str(hex(d)))]
        }
        // RFC 7427 4: a list of 16-bit hash algorithm identifiers.
        NotifyType::SIGNATURE_HASH_ALGORITHMS if d.len().is_multiple_of(2) => {
            let hashes = d
                .chunks_exact(2)
                .map(|c| {
                    let h = HashAlgorithm(u16::from_be_bytes([c[0], c[1]]));
                    named(h.name(), h.0.into())
                })
                .collect();
            vec![("hash_algorithms", Value::List(hashes))]
        }
        // RFC 7296 3.10.1: the group the responder wants.
        NotifyType::INVALID_KE_PAYLOAD if d.len() == 2 => {
            let group = KeId(u16::from_be_bytes([d[0], d[1]]));
            vec![("accepted_group", named(group.name(), group.0.into()))]
        }
        // RFC 7296 1.3.3: the SA being rekeyed is named by the notify's protocol and SPI.
        NotifyType::REKEY_SA => match n.child_spi() {
            Some(spi) => vec![(
                "rekeyed_sa",
                Value::str(format!("{} SPI 0x{spi:08x}", n.protocol)),
            )],
            None => Vec::new(),
        },
        // RFC 7296 3.10.1: CPI and transform ID.
        NotifyType::IPCOMP_SUPPORTED if d.len() == 3 => {
            let id = IpcompId(d[2]);
            vec![
                (
                    "cpi",
                    Value::str(format!("0x{:04x}", u16::from_be_bytes([d[0], d[1]]))),
                ),
                ("ipcomp_transform", named(id.name(), id.0.into())),
            ]
        }
        NotifyType::SET_WINDOW_SIZE if d.len() == 4 => vec![("window_size", be32(d).into())],
        NotifyType::AUTH_LIFETIME if d.len() == 4 => vec![("lifetime_seconds", be32(d).into())],
        // RFC 4555 3.6.
        NotifyType::ADDITIONAL_IP4_ADDRESS if d.len() == 4 => {
            let octets: [u8; 4] = d.try_into().unwrap_or_default();
            vec![("address", Value::str(Ipv4Addr::from(octets).to_string()))]
        }
        NotifyType::ADDITIONAL_IP6_ADDRESS if d.len() == 16 => {
            let octets: [u8; 16] = d.try_into().unwrap_or_default();
            vec![("address", Value::str(Ipv6Addr::from(octets).to_string()))]
        }
        NotifyType::COOKIE => vec![("cookie", sized(d))],
        _ => Vec::new(),
    }
}

fn be32(d: &[u8]) -> u64 {
    u32::from_be_bytes([d[0], d[1], d[2], d[3]]).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::decode::value::write_text;

    fn text(n: &notify::Repr) -> String {
        let mut out = String::new();
        write_text(&mut out, &describe(n), 0);
        out
    }

    #[test]
    fn nat_detection_shows_the_hash() {
        let n = notify::Repr::new(NotifyType::NAT_DETECTION_SOURCE_IP, &[0xab; 20]);
        let out = text(&n);
        assert!(
            out.contains("notify type  NAT_DETECTION_SOURCE_IP (16388)"),
            "{out}"
        );
        assert!(out.contains("kind         status"), "{out}");
        assert!(
            out.contains(&format!("sha1 hash    {}", "ab".repeat(20))),
            "{out}"
        );
    }

    #[test]
    fn signature_hash_algorithms_are_named() {
        let n = notify::Repr::new(
            NotifyType::SIGNATURE_HASH_ALGORITHMS,
            &[0, 2, 0, 3, 0, 4, 0, 5],
        );
        assert!(
            text(&n).contains(
                "hash algorithms  SHA2_256 (2), SHA2_384 (3), SHA2_512 (4), IDENTITY (5)"
            ),
            "{}",
            text(&n)
        );
    }

    #[test]
    fn invalid_ke_names_the_group() {
        let n = notify::Repr::new(NotifyType::INVALID_KE_PAYLOAD, &[0, 19]);
        let out = text(&n);
        assert!(out.contains("kind            error"), "{out}");
        assert!(out.contains("accepted group  ECP_256 (19)"), "{out}");
    }

    #[test]
    fn protocol_and_spi_only_when_there_are_some() {
        let n = notify::Repr::new(NotifyType::COOKIE, &[9; 8]);
        assert!(!text(&n).contains("protocol"), "{}", text(&n));
    }

    #[test]
    fn rekey_sa_names_protocol_and_spi() {
        let n = notify::Repr::for_child(NotifyType::REKEY_SA, ProtocolId::ESP, 0xc12d4e01, &[]);
        let out = text(&n);
        assert!(out.contains("spi          0xc12d4e01"), "{out}");
        assert!(out.contains("rekeyed sa   ESP SPI 0xc12d4e01"), "{out}");
        assert!(out.contains("data         (none)"), "{out}");
    }

    #[test]
    fn odd_data_is_shown_but_not_decoded() {
        let n = notify::Repr::new(NotifyType::INVALID_KE_PAYLOAD, &[1, 2, 3]);
        let out = text(&n);
        assert!(out.contains("3 bytes: 010203"), "{out}");
        assert!(!out.contains("accepted group"), "{out}");
    }
}
