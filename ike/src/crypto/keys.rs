//! The key schedule (RFC 7296 2.13 to 2.18): SKEYSEED, the seven IKE SA keys, and the keying
//! material of Child SAs.

use super::encr::Encr;
use super::integ::Integ;
use super::prf::Prf;
use super::{Error, Secret};
use crate::wire::IkeSpi;

/// The algorithms an IKE SA's keys are derived for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IkeSuite {
    pub encr: Encr,
    /// None with an AEAD.
    pub integ: Option<Integ>,
    pub prf: Prf,
}

/// The keys of an IKE SA (RFC 7296 2.14).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IkeSaKeys {
    /// Keys for Child SAs and the next IKE SA.
    pub sk_d: Secret,
    pub sk_ai: Secret,
    pub sk_ar: Secret,
    pub sk_ei: Secret,
    pub sk_er: Secret,
    /// Keys for the AUTH payloads.
    pub sk_pi: Secret,
    pub sk_pr: Secret,
}

/// SKEYSEED = prf(Ni | Nr, g^ir) for a new IKE SA (RFC 7296 2.14).
pub fn skeyseed(prf: Prf, ni: &[u8], nr: &[u8], shared: &Secret) -> Secret {
    let key = [ni, nr].concat();
    let seed = prf.prf(&key, &[shared.as_bytes()]);
    drop(Secret::new(key));
    seed
}

/// SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr) for an IKE SA that replaces one
/// (RFC 7296 2.18), with the PRF of the IKE SA being replaced.
pub fn skeyseed_rekey(
    old_prf: Prf,
    old_sk_d: &Secret,
    shared: &Secret,
    ni: &[u8],
    nr: &[u8],
) -> Secret {
    old_prf.prf(old_sk_d.as_bytes(), &[shared.as_bytes(), ni, nr])
}

/// {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr)
/// (RFC 7296 2.14).
pub fn ike_sa_keys(
    suite: &IkeSuite,
    skeyseed: &Secret,
    ni: &[u8],
    nr: &[u8],
    spi_i: IkeSpi,
    spi_r: IkeSpi,
) -> Result<IkeSaKeys, Error> {
    let prf_len = suite.prf.output_len();
    let integ_len = suite.integ.map_or(0, Integ::key_len);
    let encr_len = suite.encr.keymat_len();
    let total = 3 * prf_len + 2 * integ_len + 2 * encr_len;
    let keymat = suite
        .prf
        .prf_plus(skeyseed.as_bytes(), &[ni, nr, &spi_i.0, &spi_r.0], total)?;
    let mut rest = keymat.as_bytes();
    let mut take = |len: usize| {
        let (key, tail) = rest.split_at(len);
        rest = tail;
        Secret::from_slice(key)
    };
    Ok(IkeSaKeys {
        sk_d: take(prf_len),
        sk_ai: take(integ_len),
        sk_ar: take(integ_len),
        sk_ei: take(encr_len),
        sk_er: take(encr_len),
        sk_pi: take(prf_len),
        sk_pr: take(prf_len),
    })
}

/// The keys of a Child SA pair: for the SA carrying the initiator's traffic, then for the one
/// carrying the responder's (RFC 7296 2.17).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildSaKeys {
    pub encr_i: Secret,
    pub integ_i: Secret,
    pub encr_r: Secret,
    pub integ_r: Secret,
}

/// KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr), split into the initiator's encryption and
/// integrity keys, then the responder's (RFC 7296 2.17). `encr_len` includes an AEAD's salt;
/// `integ_len` is 0 with an AEAD.
pub fn child_sa_keys(
    prf: Prf,
    sk_d: &Secret,
    shared: Option<&Secret>,
    ni: &[u8],
    nr: &[u8],
    encr_len: usize,
    integ_len: usize,
) -> Result<ChildSaKeys, Error> {
    let shared = shared.map_or(&[][..], Secret::as_bytes);
    let keymat = prf.prf_plus(
        sk_d.as_bytes(),
        &[shared, ni, nr],
        2 * (encr_len + integ_len),
    )?;
    let k = keymat.as_bytes();
    let (i, r) = k.split_at(encr_len + integ_len);
    Ok(ChildSaKeys {
        encr_i: Secret::from_slice(&i[..encr_len]),
        integ_i: Secret::from_slice(&i[encr_len..]),
        encr_r: Secret::from_slice(&r[..encr_len]),
        integ_r: Secret::from_slice(&r[encr_len..]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suite() -> IkeSuite {
        IkeSuite {
            encr: Encr::AesCbc { key_len: 16 },
            integ: Some(Integ::HmacSha256_128),
            prf: Prf::HmacSha256,
        }
    }

    #[test]
    fn ike_keys_are_prf_plus_split_in_order() {
        let (ni, nr) = ([1u8; 16], [2u8; 16]);
        let (spi_i, spi_r) = (IkeSpi([3; 8]), IkeSpi([4; 8]));
        let shared = Secret::from_slice(&[5; 32]);
        let seed = skeyseed(Prf::HmacSha256, &ni, &nr, &shared);
        assert_eq!(seed, Prf::HmacSha256.prf(&[ni, nr].concat(), &[&[5; 32]]));
        let keys = ike_sa_keys(&suite(), &seed, &ni, &nr, spi_i, spi_r).unwrap();
        let all = Prf::HmacSha256
            .prf_plus(
                seed.as_bytes(),
                &[&ni, &nr, &spi_i.0, &spi_r.0],
                32 * 3 + 32 * 2 + 16 * 2,
            )
            .unwrap();
        let joined = [
            keys.sk_d.as_bytes(),
            keys.sk_ai.as_bytes(),
            keys.sk_ar.as_bytes(),
            keys.sk_ei.as_bytes(),
            keys.sk_er.as_bytes(),
            keys.sk_pi.as_bytes(),
            keys.sk_pr.as_bytes(),
        ]
        .concat();
        assert_eq!(joined, all.as_bytes());
        assert_eq!(
            (keys.sk_d.len(), keys.sk_ai.len(), keys.sk_ei.len()),
            (32, 32, 16)
        );
    }

    #[test]
    fn aead_ike_sa_has_no_integrity_keys_and_salted_encryption_keys() {
        let suite = IkeSuite {
            encr: Encr::AesGcm16 { key_len: 32 },
            integ: None,
            prf: Prf::HmacSha384,
        };
        let keys = ike_sa_keys(
            &suite,
            &Secret::from_slice(&[9; 48]),
            &[1; 32],
            &[2; 32],
            IkeSpi([1; 8]),
            IkeSpi([2; 8]),
        )
        .unwrap();
        assert!(keys.sk_ai.is_empty() && keys.sk_ar.is_empty());
        assert_eq!((keys.sk_ei.len(), keys.sk_pi.len()), (36, 48));
    }

    #[test]
    fn child_keys_with_and_without_pfs() {
        let sk_d = Secret::from_slice(&[7; 32]);
        let without =
            child_sa_keys(Prf::HmacSha256, &sk_d, None, &[1; 16], &[2; 16], 20, 0).unwrap();
        let all = Prf::HmacSha256
            .prf_plus(&[7; 32], &[&[1; 16], &[2; 16]], 40)
            .unwrap();
        assert_eq!(
            [without.encr_i.as_bytes(), without.encr_r.as_bytes()].concat(),
            all.as_bytes()
        );
        assert!(without.integ_i.is_empty());
        let shared = Secret::from_slice(&[8; 32]);
        let with = child_sa_keys(
            Prf::HmacSha256,
            &sk_d,
            Some(&shared),
            &[1; 16],
            &[2; 16],
            16,
            32,
        )
        .unwrap();
        let all = Prf::HmacSha256
            .prf_plus(&[7; 32], &[&[8; 32], &[1; 16], &[2; 16]], 96)
            .unwrap();
        let joined = [
            with.encr_i.as_bytes(),
            with.integ_i.as_bytes(),
            with.encr_r.as_bytes(),
            with.integ_r.as_bytes(),
        ]
        .concat();
        assert_eq!(joined, all.as_bytes());
    }

    #[test]
    fn rekey_seed() {
        let old = Secret::from_slice(&[1; 32]);
        let shared = Secret::from_slice(&[2; 32]);
        assert_eq!(
            skeyseed_rekey(Prf::HmacSha256, &old, &shared, &[3; 16], &[4; 16]),
            Prf::HmacSha256.prf(&[1; 32], &[&[2; 32], &[3; 16], &[4; 16]])
        );
    }
}
