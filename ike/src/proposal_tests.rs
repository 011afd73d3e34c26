use super::*;
use crate::wire::{EncrId, EsnId, IntegId, KeId, PrfId, ProtocolId};

fn ike(number: u8, transforms: Vec<Transform>) -> Proposal {
    Proposal {
        number,
        protocol: ProtocolId::IKE,
        spi: vec![],
        transforms,
    }
}

fn esp(number: u8, transforms: Vec<Transform>) -> Proposal {
    Proposal {
        number,
        protocol: ProtocolId::ESP,
        spi: vec![0xc0, 0, 0, number],
        transforms,
    }
}

fn gcm256() -> Transform {
    Transform::encr(EncrId::ENCR_AES_GCM_16, Some(256))
}

fn cbc(bits: u16) -> Transform {
    Transform::encr(EncrId::ENCR_AES_CBC, Some(bits))
}

fn sha256() -> Transform {
    Transform::integ(IntegId::AUTH_HMAC_SHA2_256_128)
}

fn prf384() -> Transform {
    Transform::prf(PrfId::PRF_HMAC_SHA2_384)
}

fn prf256() -> Transform {
    Transform::prf(PrfId::PRF_HMAC_SHA2_256)
}

fn x25519() -> Transform {
    Transform::ke(KeId::CURVE25519)
}

fn ecp256() -> Transform {
    Transform::ke(KeId::ECP_256)
}

#[test]
fn initiator_order_picks_their_first_acceptable_proposal_and_transforms() {
    let offered = [
        ike(1, vec![cbc(128), sha256(), prf256(), ecp256()]),
        ike(2, vec![gcm256(), prf384(), prf256(), ecp256(), x25519()]),
    ];
    let ours = [ike(
        1,
        vec![gcm256(), prf256(), prf384(), x25519(), ecp256()],
    )];
    let chosen = select_proposal(&offered, &ours, Preference::Initiator).unwrap();
    // Proposal 1 needs AES-CBC, which we lack; in proposal 2 their order decides.
    assert_eq!(chosen, ike(2, vec![gcm256(), prf384(), ecp256()]));
    let chosen = select_proposal(&offered, &ours, Preference::Responder).unwrap();
    assert_eq!(chosen, ike(2, vec![gcm256(), prf256(), x25519()]));
}

#[test]
fn key_length_must_match() {
    let offered = [ike(1, vec![cbc(128), sha256(), prf256(), x25519()])];
    let ours = [ike(1, vec![cbc(256), sha256(), prf256(), x25519()])];
    assert_eq!(
        select_proposal(&offered, &ours, Preference::Initiator),
        None
    );
}

#[test]
fn a_type_one_side_lacks_fails_unless_it_may_be_omitted() {
    // We want integrity with CBC; an AEAD-only offer cannot satisfy that.
    let offered = [ike(1, vec![cbc(128), prf256(), x25519()])];
    let ours = [ike(1, vec![cbc(128), sha256(), prf256(), x25519()])];
    assert_eq!(
        select_proposal(&offered, &ours, Preference::Initiator),
        None
    );
    // Protocols must agree.
    let offered = [esp(1, vec![gcm256(), Transform::esn(EsnId::NO_ESN)])];
    let ours = [ike(1, vec![gcm256(), Transform::esn(EsnId::NO_ESN)])];
    assert_eq!(
        select_proposal(&offered, &ours, Preference::Initiator),
        None
    );
}

#[test]
fn esp_keeps_their_spi_and_number_and_handles_pfs() {
    let no_esn = Transform::esn(EsnId::NO_ESN);
    let offered = [esp(1, vec![gcm256(), x25519(), no_esn.clone()])];
    // We do not ask for PFS: their KE must not be forced on... but a KE they require is not
    // one we can drop: no agreement.
    let ours_no_pfs = [esp(1, vec![gcm256(), no_esn.clone()])];
    assert_eq!(
        select_proposal(&offered, &ours_no_pfs, Preference::Initiator),
        None
    );
    // Offering KE NONE as an alternative makes PFS optional for them.
    let optional = [esp(
        1,
        vec![
            gcm256(),
            x25519(),
            Transform::ke(KeId::NONE),
            no_esn.clone(),
        ],
    )];
    let chosen = select_proposal(&optional, &ours_no_pfs, Preference::Initiator).unwrap();
    assert_eq!(chosen.transforms, vec![gcm256(), no_esn.clone()]);
    assert_eq!(
        (chosen.number, chosen.spi.clone()),
        (1, vec![0xc0, 0, 0, 1])
    );
    let ours_pfs = [esp(1, vec![gcm256(), x25519(), no_esn.clone()])];
    let chosen = select_proposal(&optional, &ours_pfs, Preference::Initiator).unwrap();
    assert_eq!(chosen.transforms, vec![gcm256(), x25519(), no_esn]);
}

#[test]
fn responder_answer_must_be_one_offered_proposal_with_one_of_each() {
    let offered = [
        ike(1, vec![cbc(128), sha256(), prf256(), x25519()]),
        ike(2, vec![gcm256(), prf384(), prf256(), x25519(), ecp256()]),
    ];
    let good = ike(2, vec![gcm256(), prf256(), ecp256()]);
    assert_eq!(
        check_response(&offered, std::slice::from_ref(&good)),
        Ok(good.clone())
    );
    assert_eq!(
        check_response(&offered, &[]),
        Err(ResponseError::NotOneProposal)
    );
    assert_eq!(
        check_response(&offered, &[good.clone(), good.clone()]),
        Err(ResponseError::NotOneProposal)
    );
    let wrong_number = ike(3, good.transforms.clone());
    assert_eq!(
        check_response(&offered, &[wrong_number]),
        Err(ResponseError::UnknownProposal)
    );
    let not_offered = ike(
        2,
        vec![gcm256(), Transform::prf(PrfId::PRF_HMAC_SHA2_512), ecp256()],
    );
    assert_eq!(
        check_response(&offered, &[not_offered]),
        Err(ResponseError::TransformNotOffered)
    );
    let two_prfs = ike(2, vec![gcm256(), prf256(), prf384(), ecp256()]);
    assert_eq!(
        check_response(&offered, &[two_prfs]),
        Err(ResponseError::TransformNotOffered)
    );
    let no_ke = ike(2, vec![gcm256(), prf256()]);
    assert_eq!(
        check_response(&offered, &[no_ke]),
        Err(ResponseError::TransformNotOffered)
    );
}
