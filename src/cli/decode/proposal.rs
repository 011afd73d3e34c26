//! SA proposals written as strongSwan writes them in its logs and `swanctl` output, so a
//! decoded message can be compared with a charon log line by line:
//! `IKE:AES_GCM_16_256/PRF_HMAC_SHA2_384/CURVE_25519`.
//!
//! strongSwan's rules (libstrongswan `proposal_printf_hook`): the protocol name and a colon,
//! then the transforms grouped by type in the order encryption, integrity, PRF, key exchange,
//! sequence numbers, additional key exchanges 1 to 7 (prefixed `KE1_` ... `KE7_`); within a
//! type, in the order sent; `/` between transforms; a key length appended as `_<bits>`; a value
//! without a name written as `(<number>)`. The names are strongSwan's own, which differ from
//! IANA's (no `ENCR_` or `AUTH_` prefix, `CURVE_25519`, `ECP_256_BP`, `NO_EXT_SEQ`).

use ike::wire::sa::{Proposal, Transform};
use ike::wire::{ProtocolId, TransformType};

use super::value::{Value, hex};

/// The proposal as one line, e.g. `IKE:AES_CBC_128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048`.
pub fn text(proposal: &Proposal) -> String {
    let mut parts = Vec::new();
    for ty in print_order() {
        for transform in proposal.transforms.iter().filter(|t| t.ty == ty) {
            parts.push(transform_text(transform));
        }
    }
    // Transform types strongSwan does not know are still shown, after the known ones.
    for transform in &proposal.transforms {
        if !print_order().contains(&transform.ty) {
            parts.push(transform_text(transform));
        }
    }
    format!("{}:{}", protocol_name(proposal.protocol), parts.join("/"))
}

/// The proposal for `decode`: the strongSwan line in the text, every field in JSON.
pub fn describe(proposal: &Proposal) -> Value {
    let mut line = format!("#{} {}", proposal.number, text(proposal));
    if !proposal.spi.is_empty() {
        line.push_str(&format!(" SPI 0x{}", hex(&proposal.spi)));
    }
    let transforms = proposal
        .transforms
        .iter()
        .map(|t| {
            let mut fields = vec![
                (
                    "type",
                    Value::str(registry_name(t.ty.name(), t.ty.0.into())),
                ),
                ("id", Value::Int(t.id.into())),
                ("name", Value::str(transform_text(t))),
            ];
            if let Some(bits) = t.key_length() {
                fields.push(("key_length", Value::Int(bits.into())));
            }
            Value::Obj(fields)
        })
        .collect();
    let detail = Value::Obj(vec![
        ("number", Value::Int(proposal.number.into())),
        (
            "protocol",
            Value::str(registry_name(
                proposal.protocol.name(),
                proposal.protocol.0.into(),
            )),
        ),
        ("spi", Value::str(hex(&proposal.spi))),
        ("text", Value::str(text(proposal))),
        ("transforms", Value::List(transforms)),
    ]);
    Value::brief(line, detail)
}

/// An IANA name, or the bare number when we know none.
pub fn registry_name(name: Option<&str>, value: u64) -> String {
    name.map_or_else(|| format!("({value})"), str::to_owned)
}

/// strongSwan sorts integrity before PRF ("to not change the previous order").
fn print_order() -> [TransformType; 12] {
    use TransformType as T;
    [
        T::ENCR,
        T::INTEG,
        T::PRF,
        T::KE,
        T::ESN,
        T::ADDKE1,
        T::ADDKE2,
        T::ADDKE3,
        T::ADDKE4,
        T::ADDKE5,
        T::ADDKE6,
        T::ADDKE7,
    ]
}

fn protocol_name(protocol: ProtocolId) -> String {
    match protocol {
        ProtocolId::NONE => "PROTO_NONE".to_owned(),
        ProtocolId::IKE => "IKE".to_owned(),
        ProtocolId::AH => "AH".to_owned(),
        ProtocolId::ESP => "ESP".to_owned(),
        other => format!("({})", other.0),
    }
}

fn transform_text(transform: &Transform) -> String {
    let id = transform.id;
    let name = match transform.ty {
        TransformType::ENCR => encr_name(id).map(str::to_owned),
        TransformType::PRF => prf_name(id).map(str::to_owned),
        TransformType::INTEG => integ_name(id).map(str::to_owned),
        TransformType::KE => ke_name(id).map(str::to_owned),
        TransformType::ESN => esn_name(id).map(str::to_owned),
        ty if (6..=12).contains(&ty.0) => ke_name(id).map(|n| format!("KE{}_{n}", ty.0 - 5)),
        ty => Some(format!("UNKNOWN_{}_{id}", ty.0)),
    };
    let mut out = name.unwrap_or_else(|| format!("({id})"));
    if let Some(bits) = transform.key_length().filter(|&bits| bits != 0) {
        out.push_str(&format!("_{bits}"));
    }
    out
}

pub fn encr_name(id: u16) -> Option<&'static str> {
    Some(match id {
        1 => "DES_IV64",
        2 => "DES",
        3 => "3DES",
        4 => "RC5",
        5 => "IDEA",
        6 => "CAST",
        7 => "BLOWFISH",
        8 => "3IDEA",
        9 => "DES_IV32",
        11 => "NULL",
        12 => "AES_CBC",
        13 => "AES_CTR",
        14 => "AES_CCM_8",
        15 => "AES_CCM_12",
        16 => "AES_CCM_16",
        18 => "AES_GCM_8",
        19 => "AES_GCM_12",
        20 => "AES_GCM_16",
        21 => "NULL_AES_GMAC",
        23 => "CAMELLIA_CBC",
        24 => "CAMELLIA_CTR",
        25 => "CAMELLIA_CCM_8",
        26 => "CAMELLIA_CCM_12",
        27 => "CAMELLIA_CCM_16",
        28 => "CHACHA20_POLY1305",
        _ => return None,
    })
}

pub fn prf_name(id: u16) -> Option<&'static str> {
    Some(match id {
        1 => "PRF_HMAC_MD5",
        2 => "PRF_HMAC_SHA1",
        3 => "PRF_HMAC_TIGER",
        4 => "PRF_AES128_XCBC",
        5 => "PRF_HMAC_SHA2_256",
        6 => "PRF_HMAC_SHA2_384",
        7 => "PRF_HMAC_SHA2_512",
        8 => "PRF_AES128_CMAC",
        _ => return None,
    })
}

pub fn integ_name(id: u16) -> Option<&'static str> {
    Some(match id {
        1 => "HMAC_MD5_96",
        2 => "HMAC_SHA1_96",
        3 => "DES_MAC",
        4 => "KPDK_MD5",
        5 => "AES_XCBC_96",
        6 => "HMAC_MD5_128",
        7 => "HMAC_SHA1_160",
        8 => "AES_CMAC_96",
        9 => "AES_128_GMAC",
        10 => "AES_192_GMAC",
        11 => "AES_256_GMAC",
        12 => "HMAC_SHA2_256_128",
        13 => "HMAC_SHA2_384_192",
        14 => "HMAC_SHA2_512_256",
        _ => return None,
    })
}

pub fn ke_name(id: u16) -> Option<&'static str> {
    Some(match id {
        0 => "KE_NONE",
        1 => "MODP_768",
        2 => "MODP_1024",
        5 => "MODP_1536",
        14 => "MODP_2048",
        15 => "MODP_3072",
        16 => "MODP_4096",
        17 => "MODP_6144",
        18 => "MODP_8192",
        19 => "ECP_256",
        20 => "ECP_384",
        21 => "ECP_521",
        22 => "MODP_1024_160",
        23 => "MODP_2048_224",
        24 => "MODP_2048_256",
        25 => "ECP_192",
        26 => "ECP_224",
        27 => "ECP_224_BP",
        28 => "ECP_256_BP",
        29 => "ECP_384_BP",
        30 => "ECP_512_BP",
        31 => "CURVE_25519",
        32 => "CURVE_448",
        35 => "ML_KEM_512",
        36 => "ML_KEM_768",
        37 => "ML_KEM_1024",
        _ => return None,
    })
}

fn esn_name(id: u16) -> Option<&'static str> {
    match id {
        0 => Some("NO_EXT_SEQ"),
        1 => Some("EXT_SEQ"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use ike::wire::{EncrId, EsnId, IntegId, KeId, PrfId};

    use super::*;

    fn proposal(protocol: ProtocolId, transforms: Vec<Transform>) -> Proposal {
        Proposal {
            number: 1,
            protocol,
            spi: Vec::new(),
            transforms,
        }
    }

    #[test]
    fn aead_ike_proposal() {
        let p = proposal(
            ProtocolId::IKE,
            vec![
                Transform::encr(EncrId::ENCR_AES_GCM_16, Some(256)),
                Transform::prf(PrfId::PRF_HMAC_SHA2_384),
                Transform::ke(KeId::CURVE25519),
            ],
        );
        assert_eq!(text(&p), "IKE:AES_GCM_16_256/PRF_HMAC_SHA2_384/CURVE_25519");
    }

    #[test]
    fn integrity_goes_before_prf_whatever_the_wire_order() {
        let p = proposal(
            ProtocolId::IKE,
            vec![
                Transform::ke(KeId::MODP_2048),
                Transform::prf(PrfId::PRF_HMAC_SHA2_256),
                Transform::integ(IntegId::AUTH_HMAC_SHA2_256_128),
                Transform::encr(EncrId::ENCR_AES_CBC, Some(128)),
                Transform::encr(EncrId::ENCR_AES_CBC, Some(256)),
            ],
        );
        assert_eq!(
            text(&p),
            "IKE:AES_CBC_128/AES_CBC_256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048"
        );
    }

    #[test]
    fn esp_proposal_with_sequence_numbers_and_additional_ke() {
        let mut p = proposal(
            ProtocolId::ESP,
            vec![
                Transform::encr(EncrId::ENCR_AES_CBC, Some(128)),
                Transform::integ(IntegId::AUTH_HMAC_SHA2_256_128),
                Transform::new(TransformType::ADDKE1, KeId::ML_KEM_768.0),
                Transform::esn(EsnId::NO_ESN),
            ],
        );
        assert_eq!(
            text(&p),
            "ESP:AES_CBC_128/HMAC_SHA2_256_128/NO_EXT_SEQ/KE1_ML_KEM_768"
        );
        p.spi = vec![0xc1, 0x2d, 0x4e, 0x01];
        let Value::Brief(line, _) = describe(&p) else {
            panic!("a proposal is a brief");
        };
        assert_eq!(
            line,
            "#1 ESP:AES_CBC_128/HMAC_SHA2_256_128/NO_EXT_SEQ/KE1_ML_KEM_768 SPI 0xc12d4e01"
        );
    }

    #[test]
    fn unnamed_values_print_their_number() {
        let p = proposal(
            ProtocolId(9),
            vec![
                Transform::encr(EncrId(1000), Some(128)),
                Transform::ke(KeId(33)),
                Transform::new(TransformType(42), 7),
            ],
        );
        assert_eq!(text(&p), "(9):(1000)_128/(33)/UNKNOWN_42_7");
    }
}
