//! Proposal selection (RFC 7296 2.7, 3.3.6): the responder picks one proposal and, in it, one
//! transform of each type; the initiator checks that what came back is something it offered.

use crate::wire::TransformType;
use crate::wire::sa::{Proposal, Transform};

/// Whose order decides among acceptable proposals and transforms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Preference {
    /// The initiator's, as RFC 7296 2.7 suggests and strongSwan does by default.
    #[default]
    Initiator,
    /// Ours (strongSwan's `prefer_configured_proposals`).
    Responder,
}

/// Picks the proposal to answer `offered` with, among `ours` (both most preferred first).
/// The result carries the offered proposal's number and SPI, and one transform of each type
/// both sides name; None means NO_PROPOSAL_CHOSEN.
pub fn select_proposal(
    offered: &[Proposal],
    ours: &[Proposal],
    preference: Preference,
) -> Option<Proposal> {
    match preference {
        Preference::Initiator => offered.iter().find_map(|theirs| {
            ours.iter()
                .find_map(|mine| select_transforms(theirs, mine, theirs))
        }),
        Preference::Responder => ours.iter().find_map(|mine| {
            offered
                .iter()
                .find_map(|theirs| select_transforms(theirs, mine, mine))
        }),
    }
}

/// Transform types that a proposal may leave out, meaning "none" (RFC 7296 3.3.3: no
/// integrity with an AEAD, no key exchange without PFS, no extended sequence numbers).
const IMPLIED_NONE: [TransformType; 3] =
    [TransformType::INTEG, TransformType::KE, TransformType::ESN];

/// The transforms of `ty` in `p`, in its order; an omitted optional type counts as id 0.
fn of_type(p: &Proposal, ty: TransformType) -> Vec<Transform> {
    let listed: Vec<Transform> = p
        .transforms
        .iter()
        .filter(|t| t.ty == ty)
        .cloned()
        .collect();
    if listed.is_empty() && IMPLIED_NONE.contains(&ty) {
        vec![Transform::new(ty, 0)]
    } else {
        listed
    }
}

/// One transform of each type from `theirs` that `mine` also has, in `order`'s preference
/// (`order` is one of the two).
fn select_transforms(theirs: &Proposal, mine: &Proposal, order: &Proposal) -> Option<Proposal> {
    if theirs.protocol != mine.protocol {
        return None;
    }
    let mut types: Vec<TransformType> = Vec::new();
    for t in theirs.transforms.iter().chain(&mine.transforms) {
        if !types.contains(&t.ty) {
            types.push(t.ty);
        }
    }
    let mut chosen = Vec::new();
    for ty in types {
        let (preferred, other) = if std::ptr::eq(order, theirs) {
            (of_type(theirs, ty), of_type(mine, ty))
        } else {
            (of_type(mine, ty), of_type(theirs, ty))
        };
        let pick = preferred.into_iter().find(|t| other.contains(t))?;
        // "None" of integrity or key exchange is expressed by leaving the type out.
        let implied = pick.id == 0 && matches!(pick.ty, TransformType::INTEG | TransformType::KE);
        if !implied {
            chosen.push(pick);
        }
    }
    Some(Proposal {
        number: theirs.number,
        protocol: theirs.protocol,
        spi: theirs.spi.clone(),
        transforms: chosen,
    })
}

/// Why a responder's chosen proposal is not acceptable to the initiator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseError {
    /// RFC 7296 3.3.6: the response must hold exactly one proposal.
    NotOneProposal,
    /// It names a proposal number we did not offer, or another protocol.
    UnknownProposal,
    /// It picks a transform we did not offer, or two of one type, or leaves a type out.
    TransformNotOffered,
}

/// Checks the responder's answer to our `offered` proposals and returns the chosen proposal.
pub fn check_response(
    offered: &[Proposal],
    response: &[Proposal],
) -> Result<Proposal, ResponseError> {
    let [chosen] = response else {
        return Err(ResponseError::NotOneProposal);
    };
    let ours = offered
        .iter()
        .find(|p| p.number == chosen.number && p.protocol == chosen.protocol)
        .ok_or(ResponseError::UnknownProposal)?;
    // Selecting from what they chose against what we offered must give back exactly theirs.
    match select_transforms(chosen, ours, chosen) {
        Some(selected) if selected.transforms.len() == chosen.transforms.len() => {
            Ok(chosen.clone())
        }
        _ => Err(ResponseError::TransformNotOffered),
    }
}

#[cfg(test)]
#[path = "proposal_tests.rs"]
mod tests;
