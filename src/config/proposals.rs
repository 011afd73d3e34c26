//! strongSwan's proposal keywords (`aes256gcm16-prfsha384-x25519`, `default`, ...) into the
//! core's proposals, with strongSwan 5.9.8's rules (`proposal.c` `check_proposal`) for what a
//! proposal must hold.

use ike::wire::sa::{Proposal, Transform};
use ike::wire::{EncrId, EsnId, IntegId, KeId, PrfId, ProtocolId, TransformType};

/// Which SA the proposals are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ike,
    Esp,
    Ah,
}

/// The transform a keyword names, among those ikerd implements.
fn keyword(word: &str) -> Option<Transform> {
    let gcm = |bits| Transform::encr(EncrId::ENCR_AES_GCM_16, Some(bits));
    Some(match word {
        "aes" | "aes128" => Transform::encr(EncrId::ENCR_AES_CBC, Some(128)),
        "aes192" => Transform::encr(EncrId::ENCR_AES_CBC, Some(192)),
        "aes256" => Transform::encr(EncrId::ENCR_AES_CBC, Some(256)),
        "aes128gcm16" | "aes128gcm128" | "aes128gcm" => gcm(128),
        "aes256gcm16" | "aes256gcm128" | "aes256gcm" => gcm(256),
        "chacha20poly1305" => Transform::encr(EncrId::ENCR_CHACHA20_POLY1305, None),
        "sha" | "sha1" => Transform::integ(IntegId::AUTH_HMAC_SHA1_96),
        "sha256" | "sha2_256" => Transform::integ(IntegId::AUTH_HMAC_SHA2_256_128),
        "sha384" | "sha2_384" => Transform::integ(IntegId::AUTH_HMAC_SHA2_384_192),
        "sha512" | "sha2_512" => Transform::integ(IntegId::AUTH_HMAC_SHA2_512_256),
        "prfsha1" => Transform::prf(PrfId::PRF_HMAC_SHA1),
        "prfsha256" => Transform::prf(PrfId::PRF_HMAC_SHA2_256),
        "prfsha384" => Transform::prf(PrfId::PRF_HMAC_SHA2_384),
        "prfsha512" => Transform::prf(PrfId::PRF_HMAC_SHA2_512),
        "x25519" | "curve25519" => Transform::ke(KeId::CURVE25519),
        "ecp256" => Transform::ke(KeId::ECP_256),
        "ecp384" => Transform::ke(KeId::ECP_384),
        "ecp521" => Transform::ke(KeId::ECP_521),
        "modp2048" => Transform::ke(KeId::MODP_2048),
        "modp3072" => Transform::ke(KeId::MODP_3072),
        "modp4096" => Transform::ke(KeId::MODP_4096),
        "esn" => Transform::esn(EsnId::ESN),
        "noesn" => Transform::esn(EsnId::NO_ESN),
        _ => return None,
    })
}

/// The other keywords of strongSwan 5.9.8 (`proposal_keywords_static.txt`): known, so they get
/// "not supported yet" rather than "unknown".
const UNSUPPORTED: &[&str] = &[
    "null",
    "des",
    "3des",
    "aes128ctr",
    "aes192ctr",
    "aes256ctr",
    "aes128ccm8",
    "aes128ccm64",
    "aes128ccm12",
    "aes128ccm96",
    "aes128ccm16",
    "aes128ccm128",
    "aes128ccm",
    "aes192ccm8",
    "aes192ccm64",
    "aes192ccm12",
    "aes192ccm96",
    "aes192ccm16",
    "aes192ccm128",
    "aes192ccm",
    "aes256ccm8",
    "aes256ccm64",
    "aes256ccm12",
    "aes256ccm96",
    "aes256ccm16",
    "aes256ccm128",
    "aes256ccm",
    "aes128gcm8",
    "aes128gcm64",
    "aes128gcm12",
    "aes128gcm96",
    "aes192gcm8",
    "aes192gcm64",
    "aes192gcm12",
    "aes192gcm96",
    "aes192gcm16",
    "aes192gcm128",
    "aes192gcm",
    "aes256gcm8",
    "aes256gcm64",
    "aes256gcm12",
    "aes256gcm96",
    "aes128gmac",
    "aes192gmac",
    "aes256gmac",
    "chacha20poly1305compat",
    "blowfish",
    "blowfish128",
    "blowfish192",
    "blowfish256",
    "camellia",
    "camellia128",
    "camellia192",
    "camellia256",
    "camellia128ctr",
    "camellia192ctr",
    "camellia256ctr",
    "camellia128ccm8",
    "camellia128ccm64",
    "camellia128ccm12",
    "camellia128ccm96",
    "camellia128ccm16",
    "camellia128ccm128",
    "camellia192ccm8",
    "camellia192ccm64",
    "camellia192ccm12",
    "camellia192ccm96",
    "camellia192ccm16",
    "camellia192ccm128",
    "camellia256ccm8",
    "camellia256ccm64",
    "camellia256ccm12",
    "camellia256ccm96",
    "camellia256ccm16",
    "camellia256ccm128",
    "cast128",
    "serpent",
    "serpent128",
    "serpent192",
    "serpent256",
    "twofish",
    "twofish128",
    "twofish192",
    "twofish256",
    "sha1_160",
    "sha256_96",
    "sha2_256_96",
    "md5",
    "md5_128",
    "aesxcbc",
    "camelliaxcbc",
    "aescmac",
    "prfmd5",
    "prfaesxcbc",
    "prfcamelliaxcbc",
    "prfaescmac",
    "none",
    "modpnone",
    "modpnull",
    "modp768",
    "modp1024",
    "modp1536",
    "modp6144",
    "modp8192",
    "ecp192",
    "ecp224",
    "modp1024s160",
    "modp2048s224",
    "modp2048s256",
    "ecp224bp",
    "ecp256bp",
    "ecp384bp",
    "ecp512bp",
    "curve448",
    "x448",
    "ntru112",
    "ntru128",
    "ntru192",
    "ntru256",
    "newhope128",
];

/// The order strongSwan writes transform types in a proposal.
const TYPE_ORDER: [TransformType; 5] = [
    TransformType::ENCR,
    TransformType::INTEG,
    TransformType::PRF,
    TransformType::KE,
    TransformType::ESN,
];

/// Parses a comma-separated proposal list; None (the key absent or cleared) gives the
/// defaults. Proposals are numbered from 1.
pub fn parse_list(value: Option<&str>, kind: Kind) -> Result<Vec<Proposal>, String> {
    let mut out = Vec::new();
    match value {
        // vici_config.c: without esp_proposals the AEAD proposal comes first; `default`
        // written out puts the classic one first, for IKE and ESP alike.
        None if kind == Kind::Esp => out.extend([esp_default_aead(), esp_default_classic()]),
        None if kind == Kind::Ah => out.push(ah_default()),
        None => out.extend([ike_default(false), ike_default(true)]),
        Some(list) => {
            for item in list
                .split(',')
                .map(|s| s.trim_matches(' '))
                .filter(|s| !s.is_empty())
            {
                if item.eq_ignore_ascii_case("default") {
                    match kind {
                        Kind::Ike => out.extend([ike_default(false), ike_default(true)]),
                        Kind::Esp => out.extend([esp_default_classic(), esp_default_aead()]),
                        Kind::Ah => out.push(ah_default()),
                    }
                } else {
                    out.push(parse_one(item, kind).map_err(|e| format!("'{item}': {e}"))?);
                }
            }
        }
    }
    if out.is_empty() {
        return Err("no proposals".into());
    }
    for (n, proposal) in out.iter_mut().enumerate() {
        proposal.number = u8::try_from(n + 1).map_err(|_| "more than 255 proposals")?;
    }
    Ok(out)
}

/// One proposal: keywords joined by `-`.
pub fn parse_one(text: &str, kind: Kind) -> Result<Proposal, String> {
    let mut transforms = Vec::new();
    for word in text.split('-').map(|w| w.trim_matches(' ')) {
        match keyword(word) {
            Some(t) => transforms.push(t),
            None if UNSUPPORTED.contains(&word) => {
                return Err(format!("algorithm '{word}' is not supported yet"));
            }
            None if word.is_empty() => return Err("empty algorithm name".into()),
            None => return Err(format!("unknown algorithm '{word}'")),
        }
    }
    check(&mut transforms, kind)?;
    // A stable sort keeps the written order within each type: it is the preference order.
    transforms.sort_by_key(|t| TYPE_ORDER.iter().position(|&ty| ty == t.ty));
    Ok(Proposal {
        number: 0,
        protocol: match kind {
            Kind::Ike => ProtocolId::IKE,
            Kind::Esp => ProtocolId::ESP,
            Kind::Ah => ProtocolId::AH,
        },
        spi: Vec::new(),
        transforms,
    })
}

/// The keywords that write each transform, canonical spelling first.
const CANONICAL: &[&str] = &[
    "aes128",
    "aes192",
    "aes256",
    "aes128gcm16",
    "aes256gcm16",
    "chacha20poly1305",
    "sha1",
    "sha256",
    "sha384",
    "sha512",
    "prfsha1",
    "prfsha256",
    "prfsha384",
    "prfsha512",
    "x25519",
    "ecp256",
    "ecp384",
    "ecp521",
    "modp2048",
    "modp3072",
    "modp4096",
    "esn",
    "noesn",
];

/// A proposal in swanctl.conf's keywords (`aes256gcm16-prfsha384-x25519`), the inverse of
/// [`parse_one`]; a transform without a keyword is written by type and number.
pub fn keywords(proposal: &Proposal) -> String {
    let word = |t: &Transform| {
        CANONICAL
            .iter()
            .find(|w| keyword(w).as_ref() == Some(t))
            .map_or_else(|| format!("{:?}:{}", t.ty, t.id), |w| (*w).to_owned())
    };
    proposal
        .transforms
        .iter()
        .map(word)
        .collect::<Vec<_>>()
        .join("-")
}

fn has(transforms: &[Transform], ty: TransformType) -> bool {
    transforms.iter().any(|t| t.ty == ty)
}

fn is_aead(t: &Transform) -> bool {
    t.ty == TransformType::ENCR
        && matches!(
            EncrId(t.id),
            EncrId::ENCR_AES_GCM_16 | EncrId::ENCR_CHACHA20_POLY1305
        )
}

/// strongSwan 5.9.8's `check_proposal`, for the algorithms we have.
fn check(transforms: &mut Vec<Transform>, kind: Kind) -> Result<(), String> {
    match kind {
        Kind::Ike => {
            if has(transforms, TransformType::ESN) {
                return Err("esn and noesn belong in ESP proposals".into());
            }
            if !has(transforms, TransformType::PRF) {
                // No PRF keyword: the PRF of each integrity algorithm's hash, in order.
                let prfs: Vec<Transform> = transforms
                    .iter()
                    .filter(|t| t.ty == TransformType::INTEG)
                    .map(|t| Transform::prf(prf_of(IntegId(t.id))))
                    .collect();
                transforms.extend(prfs);
            }
            if !has(transforms, TransformType::PRF) {
                return Err("a PRF is required in IKE proposals (e.g. prfsha256)".into());
            }
            if !has(transforms, TransformType::KE) {
                return Err(
                    "a key exchange method is required in IKE proposals (e.g. x25519)".into(),
                );
            }
        }
        // PRFs mean nothing to ESP: strongSwan drops them.
        Kind::Esp => transforms.retain(|t| t.ty != TransformType::PRF),
        // AH authenticates only (RFC 4302).
        Kind::Ah => {
            transforms.retain(|t| t.ty != TransformType::PRF);
            if has(transforms, TransformType::ENCR) {
                return Err("AH proposals carry no encryption algorithm".into());
            }
            if !has(transforms, TransformType::INTEG) {
                return Err("an integrity algorithm is required in AH proposals".into());
            }
            if !has(transforms, TransformType::ESN) {
                transforms.push(Transform::esn(EsnId::NO_ESN));
            }
            return Ok(());
        }
    }
    let encrs: Vec<bool> = transforms
        .iter()
        .filter(|t| t.ty == TransformType::ENCR)
        .map(is_aead)
        .collect();
    if encrs.is_empty() {
        return Err("an encryption algorithm is required".into());
    }
    if encrs.contains(&true) && encrs.contains(&false) {
        return Err("AEAD and classic encryption algorithms cannot share a proposal".into());
    }
    if encrs[0] {
        // RFC 7296 3.3: an AEAD proposal carries no integrity algorithm; strongSwan drops them.
        transforms.retain(|t| t.ty != TransformType::INTEG);
    } else if kind == Kind::Ike && !has(transforms, TransformType::INTEG) {
        return Err("an integrity algorithm is required with classic encryption".into());
    }
    if kind == Kind::Esp && !has(transforms, TransformType::ESN) {
        transforms.push(Transform::esn(EsnId::NO_ESN));
    }
    Ok(())
}

fn prf_of(integ: IntegId) -> PrfId {
    match integ {
        IntegId::AUTH_HMAC_SHA1_96 => PrfId::PRF_HMAC_SHA1,
        IntegId::AUTH_HMAC_SHA2_256_128 => PrfId::PRF_HMAC_SHA2_256,
        IntegId::AUTH_HMAC_SHA2_384_192 => PrfId::PRF_HMAC_SHA2_384,
        _ => PrfId::PRF_HMAC_SHA2_512,
    }
}

fn proposal(protocol: ProtocolId, transforms: Vec<Transform>) -> Proposal {
    Proposal {
        number: 0,
        protocol,
        spi: Vec::new(),
        transforms,
    }
}

// The defaults are strongSwan 5.9.8's (`proposal_create_default{,_aead}`, as Debian 12's
// charon offers them: see ike/testdata/README.md) restricted to the algorithms ikerd
// implements: no AES-CTR, Camellia, 3DES, AES-CCM, AES-GCM-192, GCM-8/12, XCBC/CMAC,
// Curve448, brainpool or MODP 6144/8192.

const DEFAULT_KE: [KeId; 7] = [
    KeId::CURVE25519,
    KeId::ECP_256,
    KeId::ECP_384,
    KeId::ECP_521,
    KeId::MODP_3072,
    KeId::MODP_4096,
    KeId::MODP_2048,
];
const DEFAULT_PRF: [PrfId; 4] = [
    PrfId::PRF_HMAC_SHA2_256,
    PrfId::PRF_HMAC_SHA2_384,
    PrfId::PRF_HMAC_SHA2_512,
    PrfId::PRF_HMAC_SHA1,
];
const DEFAULT_INTEG: [IntegId; 4] = [
    IntegId::AUTH_HMAC_SHA2_256_128,
    IntegId::AUTH_HMAC_SHA2_384_192,
    IntegId::AUTH_HMAC_SHA2_512_256,
    IntegId::AUTH_HMAC_SHA1_96,
];

fn aes_cbc() -> impl Iterator<Item = Transform> {
    [128, 192, 256]
        .into_iter()
        .map(|bits| Transform::encr(EncrId::ENCR_AES_CBC, Some(bits)))
}

fn aes_gcm16() -> impl Iterator<Item = Transform> {
    [128, 256]
        .into_iter()
        .map(|bits| Transform::encr(EncrId::ENCR_AES_GCM_16, Some(bits)))
}

/// IKE `default`: AES-CBC with HMACs, or (`aead`) AES-GCM-16 and ChaCha20-Poly1305.
fn ike_default(aead: bool) -> Proposal {
    let mut transforms: Vec<Transform> = Vec::new();
    if aead {
        transforms.extend(aes_gcm16());
        transforms.push(Transform::encr(EncrId::ENCR_CHACHA20_POLY1305, None));
    } else {
        transforms.extend(aes_cbc());
        transforms.extend(DEFAULT_INTEG.map(Transform::integ));
    }
    transforms.extend(DEFAULT_PRF.map(Transform::prf));
    transforms.extend(DEFAULT_KE.map(Transform::ke));
    proposal(ProtocolId::IKE, transforms)
}

/// ESP `default`, classic: AES-CBC 128/192/256 with HMAC-SHA2/SHA1, no ESN.
fn esp_default_classic() -> Proposal {
    let mut transforms: Vec<Transform> = aes_cbc().collect();
    transforms.extend(DEFAULT_INTEG.map(Transform::integ));
    transforms.push(Transform::esn(EsnId::NO_ESN));
    proposal(ProtocolId::ESP, transforms)
}

/// AH `default`: the integrity algorithms of the classic ESP default, no ESN.
fn ah_default() -> Proposal {
    let mut transforms: Vec<Transform> = DEFAULT_INTEG.map(Transform::integ).to_vec();
    transforms.push(Transform::esn(EsnId::NO_ESN));
    proposal(ProtocolId::AH, transforms)
}

/// ESP `default`, AEAD: AES-GCM-16 128/256, no ESN.
fn esp_default_aead() -> Proposal {
    let mut transforms: Vec<Transform> = aes_gcm16().collect();
    transforms.push(Transform::esn(EsnId::NO_ESN));
    proposal(ProtocolId::ESP, transforms)
}
