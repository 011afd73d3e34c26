//! Signature AUTH: round trips for every scheme we sign, tampering, and cross-checks with
//! OpenSSL. The keys and OpenSSL's signatures in `ike/testdata/keys` were made by its
//! `make.sh` (see the README there).

use super::der;
use super::keys::{Curve, PrivateKey, PublicKey};
use super::octets::SignedOctets;
use super::scheme::{Hash, Scheme};
use super::signature::{sign, verify};
use crate::crypto::Error;
use crate::wire::AuthMethod;
use crate::wire::auth;

fn testdata(name: &str) -> Vec<u8> {
    let path = format!("{}/testdata/keys/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|err| panic!("{path}: {err}"))
}

fn private(name: &str) -> PrivateKey {
    PrivateKey::from_pkcs8(&testdata(&format!("{name}.pk8.der"))).unwrap()
}

fn public(name: &str) -> PublicKey {
    PublicKey::from_spki(&testdata(&format!("{name}.spki.der"))).unwrap()
}

fn octets() -> SignedOctets {
    SignedOctets::from_bytes(&testdata("octets.bin"))
}

/// Every scheme we sign with, the key it needs, and a key of the same kind that is not it.
const SIGNED: [(&str, Scheme, &str); 12] = [
    ("rsa2048", Scheme::RsaPkcs1(Hash::Sha256), "rsa2048-other"),
    ("rsa2048", Scheme::RsaPkcs1(Hash::Sha384), "rsa2048-other"),
    ("rsa2048", Scheme::RsaPkcs1(Hash::Sha512), "rsa2048-other"),
    ("rsa2048", Scheme::RsaPss(Hash::Sha256), "rsa2048-other"),
    ("rsa2048", Scheme::RsaPss(Hash::Sha384), "rsa2048-other"),
    ("rsa2048", Scheme::RsaPss(Hash::Sha512), "rsa2048-other"),
    (
        "ecdsa-p256",
        Scheme::EcdsaFixed(Curve::P256),
        "ecdsa-p256-other",
    ),
    (
        "ecdsa-p256",
        Scheme::Ecdsa(Hash::Sha256),
        "ecdsa-p256-other",
    ),
    ("ecdsa-p384", Scheme::EcdsaFixed(Curve::P384), "ecdsa-p256"),
    ("ecdsa-p384", Scheme::Ecdsa(Hash::Sha384), "ecdsa-p256"),
    ("ecdsa-p521", Scheme::EcdsaFixed(Curve::P521), "ecdsa-p384"),
    ("ecdsa-p521", Scheme::Ecdsa(Hash::Sha512), "ecdsa-p256"),
];

#[test]
fn sign_then_verify_every_scheme() {
    let with_ed25519 = SIGNED
        .into_iter()
        .chain([("ed25519", Scheme::Ed25519, "ecdsa-p256")]);
    for (name, scheme, _) in with_ed25519 {
        let payload = sign(&private(name), scheme, &octets()).unwrap();
        assert_eq!(payload.method, scheme.method(), "{name} {scheme:?}");
        assert_eq!(
            verify(&public(name), &payload, &octets()),
            Ok(scheme),
            "{name} {scheme:?}"
        );
        match scheme {
            // RFC 4754 7: r | s, each as long as the curve's order.
            Scheme::EcdsaFixed(curve) => assert_eq!(payload.data.len(), 2 * curve.scalar_len()),
            _ => {
                let algorithm = scheme.algorithm_identifier().unwrap();
                assert_eq!(usize::from(payload.data[0]), algorithm.len());
                assert_eq!(&payload.data[1..=algorithm.len()], algorithm.as_slice());
            }
        }
    }
}

#[test]
fn tampering_is_an_error() {
    let with_ed25519 = SIGNED
        .into_iter()
        .chain([("ed25519", Scheme::Ed25519, "ecdsa-p256")]);
    for (name, scheme, other) in with_ed25519 {
        let key = public(name);
        let payload = sign(&private(name), scheme, &octets()).unwrap();
        let what = format!("{name} {scheme:?}");

        // A changed octet anywhere in what was signed.
        for at in [0, 40, octets().as_bytes().len() - 1] {
            let mut changed = octets().as_bytes().to_vec();
            changed[at] ^= 0x01;
            let changed = SignedOctets::from_bytes(&changed);
            assert_eq!(
                verify(&key, &payload, &changed),
                Err(Error::BadSignature),
                "{what}"
            );
        }
        // A changed bit in the signature value (its last byte).
        let mut flipped = payload.clone();
        *flipped.data.last_mut().unwrap() ^= 0x80;
        assert!(verify(&key, &flipped, &octets()).is_err(), "{what}");
        // Another key: of the same kind it fails the signature, of another kind the method
        // (or the pairing of its curve with the hash).
        let verdict = verify(&public(other), &payload, &octets());
        assert!(
            matches!(
                verdict,
                Err(Error::BadSignature | Error::BadKey(_) | Error::Unsupported(_))
            ),
            "{what}: {verdict:?}"
        );
        // Every truncation, and one byte too many.
        for len in 0..payload.data.len() {
            let truncated = auth::Repr {
                method: payload.method,
                data: payload.data[..len].to_vec(),
            };
            assert!(
                verify(&key, &truncated, &octets()).is_err(),
                "{what} at {len}"
            );
        }
        let mut longer = payload.clone();
        longer.data.push(0);
        assert!(verify(&key, &longer, &octets()).is_err(), "{what}");
    }
}

#[test]
fn wrong_method_is_an_error() {
    let octets = octets();
    let p256 = sign(
        &private("ecdsa-p256"),
        Scheme::EcdsaFixed(Curve::P256),
        &octets,
    )
    .unwrap();
    for method in [
        AuthMethod::ECDSA_SHA384_P384,
        AuthMethod::ECDSA_SHA512_P521,
        AuthMethod::RSA_SIG,
        AuthMethod::SHARED_KEY_MIC,
        AuthMethod::DIGITAL_SIGNATURE,
        AuthMethod::NULL_AUTH,
        AuthMethod(200),
    ] {
        let relabelled = auth::Repr {
            method,
            ..p256.clone()
        };
        assert!(
            verify(&public("ecdsa-p256"), &relabelled, &octets).is_err(),
            "{method:?}"
        );
    }
    // An RSA PKCS#1 signature relabelled as PSS inside method 14.
    let pkcs1 = sign(&private("rsa2048"), Scheme::RsaPkcs1(Hash::Sha256), &octets).unwrap();
    let pss_id = Scheme::RsaPss(Hash::Sha256).algorithm_identifier().unwrap();
    let mut relabelled = vec![pss_id.len() as u8];
    relabelled.extend(&pss_id);
    relabelled.extend(&pkcs1.data[16..]);
    let relabelled = auth::Repr {
        method: AuthMethod::DIGITAL_SIGNATURE,
        data: relabelled,
    };
    assert_eq!(
        verify(&public("rsa2048"), &relabelled, &octets),
        Err(Error::BadSignature)
    );
}

#[test]
fn refusals() {
    let octets = octets();
    // Method 1 is verified only (ring signs no SHA-1 RSA).
    assert!(matches!(
        sign(&private("rsa2048"), Scheme::RsaSha1, &octets),
        Err(Error::Unsupported(_))
    ));
    // A scheme that does not fit the key.
    assert!(matches!(
        sign(&private("ed25519"), Scheme::RsaPss(Hash::Sha256), &octets),
        Err(Error::BadKey(_))
    ));
    assert!(matches!(
        sign(
            &private("ecdsa-p256"),
            Scheme::EcdsaFixed(Curve::P384),
            &octets
        ),
        Err(Error::BadKey(_))
    ));
    // ECDSA with a hash ring does not pair with the curve.
    assert!(matches!(
        sign(&private("ecdsa-p256"), Scheme::Ecdsa(Hash::Sha512), &octets),
        Err(Error::Unsupported(_))
    ));
    // Junk method 14 data: never a panic.
    for junk in [
        &[][..],
        &[0],
        &[5, 0x30, 3],
        &[255; 40],
        &[7, 0x30, 5, 6, 3, 0x2b, 0x65, 0x70],
    ] {
        let payload = auth::Repr {
            method: AuthMethod::DIGITAL_SIGNATURE,
            data: junk.to_vec(),
        };
        assert!(verify(&public("ed25519"), &payload, &octets).is_err());
    }
}

/// Method 14 AUTH data around a signature value.
fn digital_signature(scheme: Scheme, signature: &[u8]) -> auth::Repr {
    let algorithm = scheme.algorithm_identifier().unwrap();
    let mut data = vec![algorithm.len() as u8];
    data.extend(algorithm);
    data.extend(signature);
    auth::Repr {
        method: AuthMethod::DIGITAL_SIGNATURE,
        data,
    }
}

/// OpenSSL 3.0 signed `octets.bin`; our verifier must accept each signature.
#[test]
fn openssl_signatures_verify() {
    let octets = octets();
    let rsa = public("rsa2048");
    let method1 = auth::Repr {
        method: AuthMethod::RSA_SIG,
        data: testdata("openssl-rsa-pkcs1-sha1.sig"),
    };
    assert_eq!(verify(&rsa, &method1, &octets), Ok(Scheme::RsaSha1));
    for (file, key, scheme) in [
        (
            "openssl-rsa-pkcs1-sha1.sig",
            "rsa2048",
            Scheme::RsaPkcs1(Hash::Sha1),
        ),
        (
            "openssl-rsa-pkcs1-sha256.sig",
            "rsa2048",
            Scheme::RsaPkcs1(Hash::Sha256),
        ),
        (
            "openssl-rsa-pss-sha256.sig",
            "rsa2048",
            Scheme::RsaPss(Hash::Sha256),
        ),
        (
            "openssl-rsa-pss-sha384.sig",
            "rsa2048",
            Scheme::RsaPss(Hash::Sha384),
        ),
        (
            "openssl-ecdsa-p256-sha256.der.sig",
            "ecdsa-p256",
            Scheme::Ecdsa(Hash::Sha256),
        ),
        (
            "openssl-ecdsa-p521-sha512.der.sig",
            "ecdsa-p521",
            Scheme::Ecdsa(Hash::Sha512),
        ),
        ("openssl-ed25519.sig", "ed25519", Scheme::Ed25519),
    ] {
        let payload = digital_signature(scheme, &testdata(file));
        assert_eq!(
            verify(&public(key), &payload, &octets),
            Ok(scheme),
            "{file}"
        );
    }
    // The same ECDSA signatures as RFC 4754 r | s under methods 9 and 11.
    for (file, key, curve) in [
        (
            "openssl-ecdsa-p256-sha256.der.sig",
            "ecdsa-p256",
            Curve::P256,
        ),
        (
            "openssl-ecdsa-p521-sha512.der.sig",
            "ecdsa-p521",
            Curve::P521,
        ),
    ] {
        let fixed = der::ecdsa_der_to_fixed(&testdata(file), curve.scalar_len()).unwrap();
        let payload = auth::Repr {
            method: Scheme::EcdsaFixed(curve).method(),
            data: fixed,
        };
        assert_eq!(
            verify(&public(key), &payload, &octets),
            Ok(Scheme::EcdsaFixed(curve))
        );
    }
}

/// What we sign, that OpenSSL verified when `make.sh` wrote it. RSA PKCS#1 v1.5, Ed25519 and
/// the `p521` crate's ECDSA (RFC 6979) are deterministic: signing again gives the same bytes.
const OURS: [(&str, &str, Scheme, bool); 5] = [
    (
        "ours-rsa-pkcs1-sha256.sig",
        "rsa2048",
        Scheme::RsaPkcs1(Hash::Sha256),
        true,
    ),
    (
        "ours-rsa-pss-sha256.sig",
        "rsa2048",
        Scheme::RsaPss(Hash::Sha256),
        false,
    ),
    (
        "ours-ecdsa-p256-sha256.der.sig",
        "ecdsa-p256",
        Scheme::Ecdsa(Hash::Sha256),
        false,
    ),
    (
        "ours-ecdsa-p521-sha512.der.sig",
        "ecdsa-p521",
        Scheme::Ecdsa(Hash::Sha512),
        true,
    ),
    ("ours-ed25519.sig", "ed25519", Scheme::Ed25519, true),
];

/// The signature value inside method 14 AUTH data.
fn signature_value(payload: &auth::Repr) -> &[u8] {
    &payload.data[1 + usize::from(payload.data[0])..]
}

#[test]
fn our_signatures_that_openssl_verified() {
    let octets = octets();
    for (file, key, scheme, deterministic) in OURS {
        let committed = testdata(file);
        let payload = digital_signature(scheme, &committed);
        assert_eq!(
            verify(&public(key), &payload, &octets),
            Ok(scheme),
            "{file}"
        );
        if deterministic {
            let again = sign(&private(key), scheme, &octets).unwrap();
            assert_eq!(signature_value(&again), committed, "{file}");
        }
    }
}

/// Writes `ours-*.sig` for `make.sh`, which then has OpenSSL verify them.
#[test]
#[ignore = "writes test data; run by ike/testdata/keys/make.sh"]
fn write_our_signatures() {
    if std::env::var_os("IKE_WRITE_KEYS_TESTDATA").is_none() {
        return;
    }
    for (file, key, scheme, _) in OURS {
        let payload = sign(&private(key), scheme, &octets()).unwrap();
        let path = format!("{}/testdata/keys/{file}", env!("CARGO_MANIFEST_DIR"));
        std::fs::write(path, signature_value(&payload)).unwrap();
    }
}

proptest::proptest! {
    /// Whatever a peer puts in an AUTH payload, verifying it is an error, never a panic.
    #[test]
    fn junk_auth_data_never_panics(method in 0u8..=15, data in proptest::collection::vec(0u8..=255, 0..600)) {
        let payload = auth::Repr { method: AuthMethod(method), data };
        for key in ["rsa2048", "ecdsa-p256", "ecdsa-p521", "ed25519"] {
            proptest::prop_assert!(verify(&public(key), &payload, &octets()).is_err());
        }
    }

    /// Method 14 data that starts with a valid AlgorithmIdentifier and ends in junk.
    #[test]
    fn junk_signature_values_never_panic(pick in 0usize..5, signature in proptest::collection::vec(0u8..=255, 0..300)) {
        let (key, scheme) = [
            ("rsa2048", Scheme::RsaPss(Hash::Sha256)),
            ("rsa2048", Scheme::RsaPkcs1(Hash::Sha512)),
            ("ecdsa-p256", Scheme::Ecdsa(Hash::Sha256)),
            ("ecdsa-p521", Scheme::Ecdsa(Hash::Sha512)),
            ("ed25519", Scheme::Ed25519),
        ][pick];
        let payload = digital_signature(scheme, &signature);
        proptest::prop_assert!(verify(&public(key), &payload, &octets()).is_err());
    }
}
