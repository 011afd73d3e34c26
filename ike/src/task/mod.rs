//! The exchanges, one job per file, each written as the `impl IkeSa` block that builds and
//! processes its messages, initiator and responder halves side by side:
//!
//! - `ike_init`: IKE_SA_INIT, with INVALID_KE_PAYLOAD and COOKIE retries;
//! - `ike_auth`: IKE_AUTH with pre-shared keys or certificates, and the first Child SA;
//! - `pubkey`: the certificate half of authentication: hashes, CERTREQ, CERT, signatures;
//! - `create_child`: CREATE_CHILD_SA for another Child SA or a Child SA rekey;
//! - `rekey_ike`: CREATE_CHILD_SA replacing the IKE SA;
//! - `child_install`: reserving SPIs, installing and removing Child SAs;
//! - `informational`: deletes, liveness checks, and what the retransmission timer decides;
//! - `jobs`: starting queued requests when the Message ID window is free;
//! - `nat`: NAT detection, moving to port 4500, following the peer's address, keepalives.

pub mod child_install;
pub mod create_child;
pub mod ike_auth;
pub mod ike_init;
pub mod informational;
pub mod jobs;
pub mod nat;
pub mod pubkey;
pub mod rekey_ike;

use crate::crypto::encr::Encr;
use crate::crypto::integ::Integ;
use crate::crypto::keys::IkeSuite;
use crate::crypto::prf::Prf;
use crate::sa::Ctx;
use crate::wire::sa::Proposal;
use crate::wire::{EncrId, IntegId, KeId, PrfId, TransformType};

/// RFC 7296 2.10: at least half the PRF's key size and 128 bits; 32 bytes serve every PRF we
/// offer.
pub(crate) const NONCE_LEN: usize = 32;

/// How long to wait before retrying after TEMPORARY_FAILURE: random between 2 and 10 seconds,
/// so that two peers retrying against each other stop colliding.
pub(crate) fn retry_pause(ctx: &mut Ctx<'_>) -> std::time::Duration {
    let ten = std::time::Duration::from_secs(10);
    ctx.jittered(ten, std::time::Duration::from_secs(8))
}

/// The encryption and integrity algorithms of a chosen proposal, if we implement them and
/// they go together (an AEAD alone, or a cipher with an integrity algorithm).
pub(crate) fn encr_integ(proposal: &Proposal) -> Option<(Encr, Option<Integ>)> {
    let find = |ty| proposal.transforms.iter().find(|t| t.ty == ty);
    let encr = find(TransformType::ENCR)?;
    let encr = Encr::from_transform(EncrId(encr.id), encr.key_length()).ok()?;
    let integ = match find(TransformType::INTEG) {
        Some(t) if t.id != 0 => Some(Integ::from_id(IntegId(t.id)).ok()?),
        _ => None,
    };
    (encr.is_aead() != integ.is_some()).then_some((encr, integ))
}

/// The IKE SA algorithms and key exchange of a chosen IKE proposal.
pub(crate) fn ike_suite(proposal: &Proposal) -> Option<(IkeSuite, KeId)> {
    let find = |ty| proposal.transforms.iter().find(|t| t.ty == ty);
    let (encr, integ) = encr_integ(proposal)?;
    let prf = Prf::from_id(PrfId(find(TransformType::PRF)?.id)).ok()?;
    let ke = KeId(find(TransformType::KE)?.id);
    Some((IkeSuite { encr, integ, prf }, ke))
}

/// The first key exchange method a list of proposals names.
pub(crate) fn first_ke(proposals: &[Proposal]) -> Option<KeId> {
    proposals
        .iter()
        .flat_map(|p| &p.transforms)
        .find(|t| t.ty == TransformType::KE && t.id != 0)
        .map(|t| KeId(t.id))
}

/// Whether any proposal offers key exchange method `group`.
pub(crate) fn offers_ke(proposals: &[Proposal], group: KeId) -> bool {
    proposals
        .iter()
        .flat_map(|p| &p.transforms)
        .any(|t| t.ty == TransformType::KE && t.id == group.0)
}

/// Proposals renumbered from 1 with `spi`, as a request carries them.
pub(crate) fn numbered(proposals: &[Proposal], spi: &[u8]) -> Vec<Proposal> {
    proposals
        .iter()
        .enumerate()
        .map(|(i, p)| Proposal {
            number: (i + 1) as u8,
            spi: spi.to_vec(),
            ..p.clone()
        })
        .collect()
}

/// ESP/AH proposals without key exchange transforms: RFC 7296 1.2, the first Child SA's
/// keys come from the IKE SA's key exchange.
pub(crate) fn without_ke(proposals: &[Proposal]) -> Vec<Proposal> {
    proposals
        .iter()
        .map(|p| Proposal {
            transforms: p
                .transforms
                .iter()
                .filter(|t| t.ty != TransformType::KE)
                .cloned()
                .collect(),
            ..p.clone()
        })
        .collect()
}
