//! X.509 certificates in IKE (RFC 7296 3.6, 3.7; RFC 4945): the peer's chain up to a trusted
//! CA, the identities a certificate proves, and the key hashes of CERTREQ.
//!
//! Path building and its signature, validity and constraint checks are rustls-webpki's. What
//! webpki does not expose, the subject as it is encoded and the rfc822Name entries of the
//! subjectAltName, comes from the end-entity certificate by the DER reader of [`super::der`],
//! which trusts nothing in its input.

use std::time::SystemTime;

use rustls_pki_types::{CertificateDer, TrustAnchor, UnixTime};
use webpki::{EndEntityCert, ExtendedKeyUsageValidator, KeyPurposeIdIter};

use super::der::{self, Reader};
use super::keys::PublicKey;
use crate::crypto::Error;
use crate::wire::{IdType, id};

/// subjectAltName, 2.5.29.17 (RFC 5280 4.2.1.6).
const SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];
/// GeneralName tags (RFC 5280 4.2.1.6, implicit context-specific).
const RFC822_NAME: u8 = 0x81;
const DNS_NAME: u8 = 0x82;
const IP_ADDRESS: u8 = 0x87;
/// Context-specific constructed tags of TBSCertificate (RFC 5280 4.1).
const VERSION: u8 = 0xa0;
const EXTENSIONS: u8 = 0xa3;
const ISSUER_UNIQUE_ID: u8 = 0x81;
const SUBJECT_UNIQUE_ID: u8 = 0x82;
const BOOLEAN: u8 = 0x01;

/// Why a peer's certificate was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertError(pub String);

impl core::fmt::Display for CertError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The parts of a certificate that IKE looks at: what it names and the key it certifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate<'a> {
    /// The issuer Name, as encoded (tag and length included).
    pub issuer: &'a [u8],
    /// The subject Name, as encoded (tag and length included): an ID_DER_ASN1_DN's data.
    pub subject: &'a [u8],
    /// SubjectPublicKeyInfo, as encoded.
    pub spki: &'a [u8],
    /// subjectAltName entries: (GeneralName tag, content).
    alt_names: Vec<(u8, &'a [u8])>,
}

impl<'a> Certificate<'a> {
    /// Reads a DER certificate (RFC 5280 4.1). Only the structure is checked here.
    pub fn parse(der: &'a [u8]) -> Result<Certificate<'a>, Error> {
        let bad = |_| Error::Malformed("X.509 certificate");
        let mut cert = Reader::new(der::single(der, der::SEQUENCE).map_err(bad)?);
        let mut tbs = Reader::new(cert.expect(der::SEQUENCE).map_err(bad)?);
        tbs.optional(VERSION).map_err(bad)?;
        tbs.expect(der::INTEGER).map_err(bad)?; // serialNumber
        tbs.expect(der::SEQUENCE).map_err(bad)?; // signature
        let issuer = tbs.expect_raw(der::SEQUENCE).map_err(bad)?;
        tbs.expect(der::SEQUENCE).map_err(bad)?; // validity
        let subject = tbs.expect_raw(der::SEQUENCE).map_err(bad)?;
        let spki = tbs.expect_raw(der::SEQUENCE).map_err(bad)?;
        tbs.optional(ISSUER_UNIQUE_ID).map_err(bad)?;
        tbs.optional(SUBJECT_UNIQUE_ID).map_err(bad)?;
        let mut alt_names = Vec::new();
        if let Some(extensions) = tbs.optional(EXTENSIONS).map_err(bad)? {
            let list = der::single(extensions, der::SEQUENCE).map_err(bad)?;
            let mut list = Reader::new(list);
            while !list.is_empty() {
                let mut extension = Reader::new(list.expect(der::SEQUENCE).map_err(bad)?);
                let oid = extension.expect(der::OID).map_err(bad)?;
                extension.optional(BOOLEAN).map_err(bad)?; // critical
                let value = extension.expect(der::OCTET_STRING).map_err(bad)?;
                if oid == SUBJECT_ALT_NAME {
                    let mut names = Reader::new(der::single(value, der::SEQUENCE).map_err(bad)?);
                    while !names.is_empty() {
                        alt_names.push(names.any().map_err(bad)?);
                    }
                }
            }
        }
        tbs.finish().map_err(bad)?;
        Ok(Certificate {
            issuer,
            subject,
            spki,
            alt_names,
        })
    }

    /// Whether `issuer` is the certificate that issued this one, by name (the signature is
    /// path building's to check).
    pub fn issued_by(&self, issuer: &Certificate<'_>) -> bool {
        super::dn::equal(self.issuer, issuer.subject)
    }

    /// Whether it names itself as its issuer: a root.
    pub fn is_self_issued(&self) -> bool {
        super::dn::equal(self.issuer, self.subject)
    }

    /// The certified public key.
    pub fn public_key(&self) -> Result<PublicKey, Error> {
        PublicKey::from_spki(self.spki)
    }

    /// Whether the certificate names `id`: an ID_DER_ASN1_DN equal to its subject (attribute
    /// by attribute, see [`super::dn::equal`]), or an
    /// FQDN, RFC 822 address or IP address among its subjectAltName entries (RFC 4945
    /// 3.1: the identity must be one the certificate carries). Names compare without regard
    /// to ASCII case; other ID types are never proven by a certificate.
    pub fn proves(&self, id: &id::Repr) -> bool {
        let alt = |tag: u8, eq: &dyn Fn(&[u8]) -> bool| {
            self.alt_names
                .iter()
                .any(|&(found, name)| found == tag && eq(name))
        };
        match id.ty {
            IdType::ID_DER_ASN1_DN => super::dn::equal(&id.data, self.subject),
            IdType::ID_FQDN => alt(DNS_NAME, &|name| name.eq_ignore_ascii_case(&id.data)),
            IdType::ID_RFC822_ADDR => alt(RFC822_NAME, &|name| name.eq_ignore_ascii_case(&id.data)),
            IdType::ID_IPV4_ADDR | IdType::ID_IPV6_ADDR => {
                alt(IP_ADDRESS, &|addr| addr == id.data.as_slice())
            }
            _ => false,
        }
    }
}

/// The certificates of `cas` that lead from `end_entity` up to (not including) a root, in
/// order: the intermediates to send after it in CERT payloads (RFC 7296 3.6), so a peer that
/// trusts only the root can build the path.
pub fn intermediates(end_entity: &[u8], cas: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut chain = Vec::new();
    let Ok(mut current) = Certificate::parse(end_entity) else {
        return chain;
    };
    // A path longer than this is a loop, or nothing a peer would take.
    for _ in 0..8 {
        let next = cas.iter().find_map(|der| {
            let ca = Certificate::parse(der).ok()?;
            (current.issued_by(&ca) && !ca.is_self_issued() && !chain.contains(der))
                .then_some((der, ca))
        });
        let Some((der, ca)) = next else {
            break;
        };
        chain.push(der.clone());
        current = ca;
    }
    chain
}

/// The SHA-1 hash of a certificate's SubjectPublicKeyInfo: how CERTREQ names a CA
/// (RFC 7296 3.7).
pub fn key_hash(cert: &[u8]) -> Result<[u8; 20], Error> {
    let cert = Certificate::parse(cert)?;
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, cert.spki);
    let mut hash = [0; 20];
    hash.copy_from_slice(digest.as_ref());
    Ok(hash)
}

/// Any extended key usage, or none: RFC 4945 5.1.3.12 leaves it to the CA, and strongSwan
/// and Libreswan ask for none.
struct AnyKeyUsage;

impl ExtendedKeyUsageValidator for AnyKeyUsage {
    fn validate(&self, _: KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error> {
        Ok(())
    }
}

/// Checks that `chain` (the peer's end-entity certificate first, then any intermediates, in
/// the order of its CERT payloads) leads to one of `cacerts` and that every certificate on the
/// path is valid at `now`; returns the end entity's public key.
pub fn verify_chain(
    chain: &[Vec<u8>],
    cacerts: &[Vec<u8>],
    now: SystemTime,
) -> Result<PublicKey, CertError> {
    let Some((end_entity, intermediates)) = chain.split_first() else {
        return Err(CertError("the peer sent no certificate".into()));
    };
    let anchor_ders: Vec<CertificateDer<'_>> = cacerts
        .iter()
        .map(|c| CertificateDer::from(c.as_slice()))
        .collect();
    let anchors: Vec<TrustAnchor<'_>> = anchor_ders
        .iter()
        .filter_map(|c| webpki::anchor_from_trusted_cert(c).ok())
        .collect();
    if anchors.is_empty() {
        return Err(CertError("no usable CA certificate configured".into()));
    }
    let intermediates: Vec<CertificateDer<'_>> = intermediates
        .iter()
        .map(|c| CertificateDer::from(c.as_slice()))
        .collect();
    let ee_der = CertificateDer::from(end_entity.as_slice());
    let ee = EndEntityCert::try_from(&ee_der)
        .map_err(|e| CertError(format!("peer's certificate does not parse: {e}")))?;
    let since_epoch = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_err(|_| CertError("wall clock before 1970".into()))?;
    ee.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &anchors,
        &intermediates,
        UnixTime::since_unix_epoch(since_epoch),
        AnyKeyUsage,
        None,
        None,
    )
    .map_err(|e| CertError(chain_failure(&e)))?;
    Certificate::parse(end_entity)
        .and_then(|c| c.public_key())
        .map_err(|e| CertError(format!("peer's certificate key: {e}")))
}

/// Words for why path building failed.
fn chain_failure(error: &webpki::Error) -> String {
    match error {
        webpki::Error::CertExpired { .. } => "certificate expired".into(),
        webpki::Error::CertNotValidYet { .. } => "certificate not valid yet".into(),
        webpki::Error::UnknownIssuer => "certificate not issued by a trusted CA".into(),
        webpki::Error::InvalidSignatureForPublicKey => {
            "certificate signature does not verify".into()
        }
        other => format!("certificate chain refused: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junk_is_an_error_never_a_panic() {
        for bad in [&[][..], &[0x30, 0x00], &[0x30, 0x03, 0x30, 0x01, 0x02]] {
            assert!(Certificate::parse(bad).is_err());
            assert!(key_hash(bad).is_err());
        }
        assert_eq!(
            verify_chain(&[], &[], SystemTime::UNIX_EPOCH),
            Err(CertError("the peer sent no certificate".into()))
        );
        assert_eq!(
            verify_chain(&[vec![0x30, 0]], &[vec![1, 2]], SystemTime::UNIX_EPOCH),
            Err(CertError("no usable CA certificate configured".into()))
        );
    }

    /// Every identity type a certificate can carry, and the ones it cannot.
    #[test]
    fn identities_a_certificate_proves() {
        use rcgen::{CertificateParams, DnType, KeyPair, SanType};
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, "moon");
        params.subject_alt_names = vec![
            SanType::DnsName("moon.example".try_into().unwrap()),
            SanType::Rfc822Name("admin@moon.example".try_into().unwrap()),
            SanType::IpAddress("192.0.2.1".parse().unwrap()),
            SanType::IpAddress("2001:db8::1".parse().unwrap()),
        ];
        let key = KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        let der = params.self_signed(&key).unwrap().der().to_vec();
        let cert = Certificate::parse(&der).unwrap();
        for good in [
            id::Repr::fqdn("moon.example"),
            id::Repr::fqdn("MOON.example"),
            id::Repr::rfc822("admin@moon.example"),
            id::Repr::addr("192.0.2.1".parse().unwrap()),
            id::Repr::addr("2001:db8::1".parse().unwrap()),
            id::Repr::der_dn(cert.subject),
        ] {
            assert!(cert.proves(&good), "{good}");
        }
        for bad in [
            id::Repr::fqdn("sun.example"),
            id::Repr::fqdn("moon.example."),
            id::Repr::rfc822("root@moon.example"),
            id::Repr::addr("192.0.2.2".parse().unwrap()),
            id::Repr::der_dn(&cert.subject[..cert.subject.len() - 1]),
            id::Repr::key_id(b"moon"),
        ] {
            assert!(!cert.proves(&bad), "{bad}");
        }
        assert_eq!(
            cert.public_key().unwrap().kind(),
            super::super::KeyKind::Ed25519
        );
        // Truncations are errors, never panics.
        for len in 0..der.len() {
            assert!(Certificate::parse(&der[..len]).is_err());
        }
    }
}
