//! Certificate authentication over the simulated network (RFC 7296 2.15, RFC 7427, RFC 4945),
//! with a PKI made by each test: a CA, and end-entity certificates for moon and sun with RSA,
//! ECDSA P-256 or Ed25519 keys. The simulation's calendar is fixed (`SIM_WALL_CLOCK`, 2026),
//! and the certificates are valid from 2020 to 2040 unless a test says otherwise.

mod sim_common;

use std::time::Duration;

use ike::auth::PrivateKey;
use ike::auth::x509::Certificate;
use ike::config::{Auth, Connection, Pubkey, SendCert};
use ike::sa::{DownReason, Event, State};
use ike::testing::{MOON, SUN};
use ike::wire::{NotifyType, id};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType,
    SignatureAlgorithm,
};
use sim_common::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Rsa,
    EcdsaP256,
    Ed25519,
}

/// A fresh key of `kind` (RSA from the test keys: ring cannot make RSA keys).
fn key(kind: Kind) -> KeyPair {
    let alg: &'static SignatureAlgorithm = match kind {
        Kind::Rsa => &rcgen::PKCS_RSA_SHA256,
        Kind::EcdsaP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
        Kind::Ed25519 => &rcgen::PKCS_ED25519,
    };
    if kind == Kind::Rsa {
        let path = format!(
            "{}/testdata/keys/rsa2048.pk8.der",
            env!("CARGO_MANIFEST_DIR")
        );
        let der = std::fs::read(path).unwrap();
        KeyPair::from_pkcs8_der_and_sign_algo(&der.into(), alg).unwrap()
    } else {
        KeyPair::generate_for(alg).unwrap()
    }
}

/// A self-signed CA.
struct Ca {
    der: Vec<u8>,
    issuer: Issuer<'static, KeyPair>,
}

fn ca(name: &str, kind: Kind) -> Ca {
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2040, 1, 1);
    let key = key(kind);
    let der = params.self_signed(&key).unwrap().der().to_vec();
    Ca {
        der,
        issuer: Issuer::new(params, key),
    }
}

/// An end-entity certificate and its key.
struct EndEntity {
    der: Vec<u8>,
    key: PrivateKey,
}

/// `name`'s certificate from `ca`: CN=name, subjectAltName dNSName name, valid `years`.
fn end_entity(ca: &Ca, name: &str, kind: Kind, years: (i32, i32)) -> EndEntity {
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, name);
    params
        .distinguished_name
        .push(DnType::OrganizationName, "ikerd tests");
    params.subject_alt_names = vec![SanType::DnsName(name.try_into().unwrap())];
    params.not_before = rcgen::date_time_ymd(years.0, 1, 1);
    params.not_after = rcgen::date_time_ymd(years.1, 1, 1);
    let key = key(kind);
    let der = params.signed_by(&key, &ca.issuer).unwrap().der().to_vec();
    EndEntity {
        der,
        key: PrivateKey::from_pkcs8(&key.serialize_der()).unwrap(),
    }
}

const VALID: (i32, i32) = (2020, 2040);

/// Makes `conn` authenticate with `ours` and expect a certificate from `trusted`.
fn with_certs(mut conn: Connection, ours: EndEntity, trusted: &Ca) -> Connection {
    conn.local_auth = Auth::Pubkey(Pubkey::local(vec![ours.der], ours.key));
    conn.remote_auth = Auth::Pubkey(Pubkey::remote(vec![trusted.der.clone()]));
    conn
}

/// Moon and sun with these certificates, both trusting `ca`.
fn certified(moon_cert: EndEntity, sun_cert: EndEntity, ca: &Ca) -> (Connection, Connection) {
    (
        with_certs(moon(b""), moon_cert, ca),
        with_certs(sun(b""), sun_cert, ca),
    )
}

fn down(events: &[Event]) -> Option<DownReason> {
    events.iter().find_map(|e| match e {
        Event::IkeDown { reason, .. } => Some(reason.clone()),
        _ => None,
    })
}

/// Moon initiates to sun; both must end with one established IKE SA and a Child SA.
fn assert_tunnel(moon_conn: Connection, sun_conn: Connection, seed: u64) -> ike::testing::Pair {
    let mut pair = pair(seed, moon_conn, sun_conn);
    initiate(&mut pair);
    pair.run_for(Duration::from_secs(1));
    for peer in &pair.peers {
        let sa = peer.endpoint.ike_sas().next();
        assert_eq!(
            sa.map(|sa| sa.state),
            Some(State::Established),
            "{}: {:?}",
            peer.name,
            down(&peer.events)
        );
        assert_eq!(peer.kernel.sas.len(), 2, "{}", peer.name);
    }
    let (moon_in, moon_out) = child_up(&pair.peers[MOON].events).expect("moon's child up");
    let (sun_in, sun_out) = child_up(&pair.peers[SUN].events).expect("sun's child up");
    assert_eq!((moon_in, moon_out), (sun_out, sun_in));
    pair
}

/// Sun refuses moon's IKE_AUTH: sun says why, moon hears AUTHENTICATION_FAILED, nothing stays.
fn assert_sun_refuses(moon_conn: Connection, sun_conn: Connection, why: &str) {
    let mut pair = pair(9, moon_conn, sun_conn);
    initiate(&mut pair);
    pair.run_for(Duration::from_secs(1));
    match down(&pair.peers[SUN].events) {
        Some(DownReason::AuthenticationFailed(reason)) => {
            assert!(reason.contains(why), "sun: {reason:?} should say {why:?}")
        }
        other => panic!("sun: {other:?}, expected an authentication failure ({why})"),
    }
    assert_eq!(
        down(&pair.peers[MOON].events),
        Some(DownReason::Refused(NotifyType::AUTHENTICATION_FAILED))
    );
    for peer in &pair.peers {
        assert_eq!(peer.endpoint.ike_sas().count(), 0, "{}", peer.name);
        assert!(
            peer.kernel.sas.is_empty() && peer.kernel.reserved.is_empty(),
            "{}",
            peer.name
        );
    }
}

#[test]
fn tunnels_come_up_with_rsa_ecdsa_and_ed25519_certificates() {
    let cases = [
        (Kind::EcdsaP256, Kind::EcdsaP256, Kind::EcdsaP256),
        (Kind::Rsa, Kind::Rsa, Kind::Rsa),
        (Kind::Ed25519, Kind::Ed25519, Kind::Ed25519),
        // Mixed: the CA's key kind says nothing about its end entities'.
        (Kind::Rsa, Kind::EcdsaP256, Kind::Ed25519),
        (Kind::EcdsaP256, Kind::Rsa, Kind::EcdsaP256),
    ];
    for (seed, (ca_kind, moon_kind, sun_kind)) in cases.into_iter().enumerate() {
        let root = ca("ikerd test CA", ca_kind);
        let moon_cert = end_entity(&root, "moon.example", moon_kind, VALID);
        let sun_cert = end_entity(&root, "sun.example", sun_kind, VALID);
        let moon_conn = with_certs(moon(b""), moon_cert, &root);
        let sun_conn = with_certs(sun(b""), sun_cert, &root);
        assert_tunnel(moon_conn, sun_conn, seed as u64 + 100);
    }
}

/// Both sides announce SIGNATURE_HASH_ALGORITHMS (RFC 7427 4), and the responder asks for a
/// certificate from the CA it trusts in IKE_SA_INIT (RFC 7296 3.7).
#[test]
fn hashes_and_certreq_in_ike_sa_init() {
    let root = ca("ikerd test CA", Kind::EcdsaP256);
    let (moon_conn, sun_conn) = certified(
        end_entity(&root, "moon.example", Kind::EcdsaP256, VALID),
        end_entity(&root, "sun.example", Kind::EcdsaP256, VALID),
        &root,
    );
    let pair = assert_tunnel(moon_conn, sun_conn, 7);
    // IKE_SA_INIT is in the clear: sun's response carries the notify and a CERTREQ with
    // the CA's key hash.
    let init_response = ike::wire::Message::parse(&pair.peers[SUN].sent[0]).unwrap();
    let hash = ike::auth::x509::key_hash(&root.der).unwrap();
    assert!(init_response.payloads.iter().any(|p| matches!(
        p,
        ike::wire::Payload::CertReq(req) if req.authorities == hash
    )));
    assert!(init_response.payloads.iter().any(|p| matches!(
        p,
        ike::wire::Payload::Notify(n) if n.ty == NotifyType::SIGNATURE_HASH_ALGORITHMS
    )));
    let init_request = ike::wire::Message::parse(&pair.peers[MOON].sent[0]).unwrap();
    assert!(init_request.payloads.iter().any(|p| matches!(
        p,
        ike::wire::Payload::Notify(n) if n.ty == NotifyType::SIGNATURE_HASH_ALGORITHMS
    )));
}

/// A distinguished name as identity: the certificate's subject, byte for byte.
#[test]
fn a_distinguished_name_identity_is_the_certificates_subject() {
    let root = ca("ikerd test CA", Kind::EcdsaP256);
    let moon_cert = end_entity(&root, "moon.example", Kind::Rsa, VALID);
    let moon_dn = id::Repr::der_dn(Certificate::parse(&moon_cert.der).unwrap().subject);
    let mut moon_conn = with_certs(moon(b""), moon_cert, &root);
    moon_conn.local_id = moon_dn.clone();
    let mut sun_conn = with_certs(
        sun(b""),
        end_entity(&root, "sun.example", Kind::EcdsaP256, VALID),
        &root,
    );
    sun_conn.remote_id = Some(moon_dn);
    assert_tunnel(moon_conn, sun_conn, 8);
}

/// A distinguished name written as text (swanctl.conf's `id = "CN=..., O=..."`): our
/// encoding's string types need not be the certificate's; names compare attribute by
/// attribute, values without regard to case.
#[test]
fn a_distinguished_name_from_text_matches_the_subject() {
    let root = ca("ikerd test CA", Kind::EcdsaP256);
    let dn = |text: &str| id::Repr::der_dn(&ike::auth::dn::from_text(text).unwrap());
    let mut moon_conn = with_certs(
        moon(b""),
        end_entity(&root, "moon.example", Kind::EcdsaP256, VALID),
        &root,
    );
    moon_conn.local_id = dn("CN=moon.example, O=ikerd tests");
    let mut sun_conn = with_certs(
        sun(b""),
        end_entity(&root, "sun.example", Kind::EcdsaP256, VALID),
        &root,
    );
    sun_conn.remote_id = Some(dn("cn=MOON.example, o=ikerd tests"));
    assert_tunnel(moon_conn.clone(), sun_conn.clone(), 12);
    // Another order is another name.
    sun_conn.remote_id = Some(dn("O=ikerd tests, CN=moon.example"));
    assert_sun_refuses(moon_conn, sun_conn, "is not the configured");
}

/// Root, intermediate, end entity: moon sends the intermediate after its certificate, and sun,
/// which trusts only the root, builds the path through it. Without it, there is no path.
#[test]
fn an_intermediate_ca_sent_along_completes_the_path() {
    let root = ca("ikerd test root", Kind::Rsa);
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, "ikerd test intermediate");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2040, 1, 1);
    let key = key(Kind::EcdsaP256);
    let der = params.signed_by(&key, &root.issuer).unwrap().der().to_vec();
    let intermediate = Ca {
        der,
        issuer: Issuer::new(params, key),
    };
    let moon_cert = end_entity(&intermediate, "moon.example", Kind::Ed25519, VALID);
    // What the daemon sends along: the intermediate, found among its CAs, not the root.
    let cas = [root.der.clone(), intermediate.der.clone()];
    assert_eq!(
        ike::auth::x509::intermediates(&moon_cert.der, &cas),
        std::slice::from_ref(&intermediate.der)
    );
    let sun_conn = with_certs(
        sun(b""),
        end_entity(&root, "sun.example", Kind::EcdsaP256, VALID),
        &root,
    );
    let mut moon_conn = with_certs(moon(b""), moon_cert, &root);
    let without = moon_conn.clone();
    if let Auth::Pubkey(ours) = &mut moon_conn.local_auth {
        ours.certs.push(intermediate.der.clone());
    }
    assert_tunnel(moon_conn, sun_conn.clone(), 13);
    assert_sun_refuses(without, sun_conn, "not issued by a trusted CA");
}

/// swanctl's `send_cert` and `send_certreq`: by default (ifasked) moon sends its certificate
/// because sun asked for it; when sun does not ask, only `send_cert = always` sends it, and
/// `never` never does.
#[test]
fn certificates_go_when_asked_always_or_never() {
    let root = ca("ikerd test CA", Kind::EcdsaP256);
    let conns = || {
        let moon_conn = with_certs(
            moon(b""),
            end_entity(&root, "moon.example", Kind::EcdsaP256, VALID),
            &root,
        );
        let sun_conn = with_certs(
            sun(b""),
            end_entity(&root, "sun.example", Kind::EcdsaP256, VALID),
            &root,
        );
        (moon_conn, sun_conn)
    };
    let (mut moon_conn, mut sun_conn) = conns();
    sun_conn.send_certreq = false;
    assert_sun_refuses(moon_conn.clone(), sun_conn.clone(), "sent no certificate");
    moon_conn.send_cert = SendCert::Always;
    assert_tunnel(moon_conn, sun_conn, 14);
    let (mut moon_conn, sun_conn) = conns();
    moon_conn.send_cert = SendCert::Never;
    assert_sun_refuses(moon_conn, sun_conn, "sent no certificate");
}

#[test]
fn a_certificate_from_another_ca_is_refused() {
    let root = ca("ikerd test CA", Kind::EcdsaP256);
    let other = ca("someone else's CA", Kind::EcdsaP256);
    let (moon_conn, sun_conn) = certified(
        end_entity(&other, "moon.example", Kind::EcdsaP256, VALID),
        end_entity(&root, "sun.example", Kind::EcdsaP256, VALID),
        &root,
    );
    assert_sun_refuses(moon_conn, sun_conn, "not issued by a trusted CA");
}

#[test]
fn an_expired_certificate_is_refused() {
    let root = ca("ikerd test CA", Kind::Rsa);
    let (moon_conn, sun_conn) = certified(
        end_entity(&root, "moon.example", Kind::Ed25519, (2020, 2025)),
        end_entity(&root, "sun.example", Kind::Ed25519, VALID),
        &root,
    );
    assert_sun_refuses(moon_conn, sun_conn, "certificate expired");
}

#[test]
fn a_certificate_not_valid_yet_is_refused() {
    let root = ca("ikerd test CA", Kind::EcdsaP256);
    let (moon_conn, sun_conn) = certified(
        end_entity(&root, "moon.example", Kind::EcdsaP256, (2030, 2040)),
        end_entity(&root, "sun.example", Kind::EcdsaP256, VALID),
        &root,
    );
    assert_sun_refuses(moon_conn, sun_conn, "not valid yet");
}

/// Moon claims an identity its certificate does not carry.
#[test]
fn an_identity_the_certificate_does_not_name_is_refused() {
    let root = ca("ikerd test CA", Kind::EcdsaP256);
    let (moon_conn, sun_conn) = certified(
        end_entity(&root, "luna.example", Kind::EcdsaP256, VALID),
        end_entity(&root, "sun.example", Kind::EcdsaP256, VALID),
        &root,
    );
    assert_sun_refuses(moon_conn, sun_conn, "is not the certificate's subject");
}

/// Moon's certificate is good, but sun expects someone else.
#[test]
fn an_identity_other_than_the_configured_one_is_refused() {
    let root = ca("ikerd test CA", Kind::EcdsaP256);
    let moon_conn = with_certs(
        moon(b""),
        end_entity(&root, "moon.example", Kind::EcdsaP256, VALID),
        &root,
    );
    let mut sun_conn = with_certs(
        sun(b""),
        end_entity(&root, "sun.example", Kind::EcdsaP256, VALID),
        &root,
    );
    sun_conn.remote_id = Some(id::Repr::fqdn("luna.example"));
    assert_sun_refuses(moon_conn, sun_conn, "is not the configured");
}

/// Moon signs with a key other than its certificate's.
#[test]
fn a_signature_by_another_key_is_refused() {
    let root = ca("ikerd test CA", Kind::EcdsaP256);
    let moon_cert = end_entity(&root, "moon.example", Kind::EcdsaP256, VALID);
    let impostor = end_entity(&root, "moon.example", Kind::EcdsaP256, VALID);
    let mut moon_conn = with_certs(moon(b""), moon_cert, &root);
    if let Auth::Pubkey(ours) = &mut moon_conn.local_auth {
        ours.key = Some(std::sync::Arc::new(impostor.key));
    }
    let sun_conn = with_certs(
        sun(b""),
        end_entity(&root, "sun.example", Kind::EcdsaP256, VALID),
        &root,
    );
    assert_sun_refuses(moon_conn, sun_conn, "AUTH signature");
}

/// The responder's certificate fails the initiator's checks: the initiator gives up with
/// the reason, and tells the responder (RFC 7296 2.21.2), which drops its IKE SA.
#[test]
fn the_initiator_refuses_a_bad_responder_certificate() {
    let root = ca("ikerd test CA", Kind::EcdsaP256);
    let other = ca("someone else's CA", Kind::EcdsaP256);
    let (moon_conn, sun_conn) = certified(
        end_entity(&root, "moon.example", Kind::EcdsaP256, VALID),
        end_entity(&other, "sun.example", Kind::EcdsaP256, VALID),
        &root,
    );
    let mut pair = pair(11, moon_conn, sun_conn);
    initiate(&mut pair);
    pair.run_for(Duration::from_secs(1));
    match down(&pair.peers[MOON].events) {
        Some(DownReason::AuthenticationFailed(reason)) => {
            assert!(reason.contains("not issued by a trusted CA"), "{reason}")
        }
        other => panic!("moon: {other:?}"),
    }
    assert_eq!(
        down(&pair.peers[SUN].events),
        Some(DownReason::Refused(NotifyType::AUTHENTICATION_FAILED))
    );
    for peer in &pair.peers {
        assert_eq!(peer.endpoint.ike_sas().count(), 0, "{}", peer.name);
        assert!(peer.kernel.sas.is_empty(), "{}", peer.name);
    }
}
