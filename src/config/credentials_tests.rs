//! `auth = pubkey` in swanctl.conf: certificates and keys from the folders beside it, PEM or
//! DER, and each thing that can be missing or wrong named with its file.

use std::path::PathBuf;

use ike::auth::x509::Certificate;
use ike::config::Auth;
use ike::wire::id;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};

use super::load_swanctl;

/// A folder of its own under the system's temporary folder, removed on drop.
struct Folder(PathBuf);

impl Folder {
    fn new(name: &str) -> Folder {
        let path = std::env::temp_dir().join(format!("ikerd-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        for sub in ["x509", "x509ca", "pkcs8", "ecdsa", "rsa"] {
            std::fs::create_dir_all(path.join(sub)).unwrap();
        }
        Folder(path)
    }

    fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) {
        std::fs::write(self.0.join(rel), bytes).unwrap();
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A CA (DER) and moon's certificate (PEM) and key, signed by it.
fn pki() -> (Vec<u8>, String, KeyPair) {
    let mut ca = CertificateParams::default();
    ca.distinguished_name.push(DnType::CommonName, "test CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let ca_der = ca.self_signed(&ca_key).unwrap().der().to_vec();
    let issuer = Issuer::new(ca, ca_key);
    let mut moon = CertificateParams::default();
    moon.distinguished_name
        .push(DnType::CommonName, "moon.example");
    moon.subject_alt_names = vec![SanType::DnsName("moon.example".try_into().unwrap())];
    let moon_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let moon_pem = moon.signed_by(&moon_key, &issuer).unwrap().pem();
    (ca_der, moon_pem, moon_key)
}

fn conf(local: &str, remote: &str) -> String {
    format!(
        "connections {{\n  gw {{\n    local_addrs = 192.0.2.1\n    remote_addrs = 192.0.2.2\n    \
         local {{\n{local}\n    }}\n    remote {{\n{remote}\n    }}\n    \
         children {{\n      gw {{\n      }}\n    }}\n  }}\n}}\n"
    )
}

fn load(folder: &Folder, text: &str) -> Result<super::Loaded, super::ConfigError> {
    folder.write("swanctl.conf", text);
    load_swanctl(&folder.path("swanctl.conf"))
}

#[test]
fn pubkey_rounds_load_certificates_keys_and_cas() {
    let folder = Folder::new("pubkey-ok");
    let (ca_der, moon_pem, moon_key) = pki();
    folder.write("x509ca/caCert.der", &ca_der);
    folder.write("x509/moonCert.pem", &moon_pem);
    folder.write("pkcs8/moonKey.pem", moon_key.serialize_pem());
    // Another key, in DER, that the certificate does not use.
    let other = KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
    folder.write("pkcs8/other.der", other.serialize_der());
    let text = conf(
        "auth = pubkey\ncerts = moonCert.pem",
        "auth = pubkey\nid = sun.example",
    );
    let loaded = load(&folder, &text).unwrap_or_else(|e| panic!("{e}"));
    let conn = &loaded.connections[0];
    let Auth::Pubkey(ours) = &conn.local_auth else {
        panic!("{:?}", conn.local_auth)
    };
    let moon_der = &ours.certs[0];
    let subject = Certificate::parse(moon_der).unwrap().subject.to_vec();
    assert_eq!(
        ours.key.as_ref().unwrap().public_key(),
        Certificate::parse(moon_der).unwrap().public_key().unwrap()
    );
    // No local.id: the certificate's subject, as strongSwan takes it.
    assert_eq!(conn.local_id, id::Repr::der_dn(&subject));
    assert_eq!(conn.remote_id, Some(id::Repr::fqdn("sun.example")));
    // No cacerts: every CA of x509ca/.
    let Auth::Pubkey(theirs) = &conn.remote_auth else {
        panic!("{:?}", conn.remote_auth)
    };
    assert_eq!(theirs.cacerts, vec![ca_der]);

    // Named CAs, and an explicit local.id.
    let text = conf(
        "auth = pubkey\ncerts = moonCert.pem\nid = moon.example",
        "auth = pubkey\ncacerts = caCert.der",
    );
    let loaded = load(&folder, &text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        loaded.connections[0].local_id,
        id::Repr::fqdn("moon.example")
    );
}

/// strongSwan's `rsa/` and `ecdsa/` keys come in their traditional forms, PEM or DER.
#[test]
fn traditional_keys_are_read() {
    let keys = format!("{}/ike/testdata/keys", env!("CARGO_MANIFEST_DIR"));
    let read = |name: &str| std::fs::read(format!("{keys}/{name}")).unwrap();
    let folder = Folder::new("traditional");
    let pem = |label: &str, der: Vec<u8>| pem::encode(&pem::Pem::new(label, der));
    folder.write(
        "rsa/rsa.pem",
        pem("RSA PRIVATE KEY", read("rsa2048.pkcs1.der")),
    );
    folder.write("ecdsa/p256.der", read("ecdsa-p256.sec1.der"));
    folder.write(
        "ecdsa/p521.pem",
        pem("EC PRIVATE KEY", read("ecdsa-p521.sec1.der")),
    );
    let mut problems = Vec::new();
    let creds = super::credentials::Credentials::load(&folder.0, &mut problems);
    assert!(problems.is_empty(), "{problems:?}");
    let got: Vec<_> = creds.keys.iter().map(|(_, k)| k.public_key()).collect();
    assert_eq!(got.len(), 3);
    for name in ["ecdsa-p256", "ecdsa-p521", "rsa2048"] {
        let spki = read(&format!("{name}.spki.der"));
        let want = ike::auth::PublicKey::from_spki(&spki).unwrap();
        assert!(got.contains(&want), "{name}");
    }
}

#[test]
fn pubkey_problems_name_the_file_or_key() {
    let folder = Folder::new("pubkey-bad");
    let (ca_der, moon_pem, _) = pki();
    folder.write("x509/moonCert.pem", &moon_pem);
    let cases = [
        // The certificate's key is in no key folder.
        (
            conf("auth = pubkey\ncerts = moonCert.pem", "auth = psk"),
            "no private key in private/, rsa/, ecdsa/, pkcs8/ matches the certificate",
        ),
        (
            conf("auth = pubkey\ncerts = nowhere.pem", "auth = psk"),
            "nowhere.pem: No such file",
        ),
        (
            conf("auth = pubkey", "auth = psk"),
            "auth = pubkey needs certs",
        ),
        (
            conf("auth = psk", "auth = pubkey"),
            "auth = pubkey needs a CA",
        ),
        (
            conf("auth = psk", "auth = pubkey\ncacerts = missing.pem"),
            "missing.pem: No such file",
        ),
    ];
    for (text, message) in cases {
        let error = load(&folder, &text).unwrap_err().to_string();
        assert!(error.contains(message), "{message}:\n{error}");
    }
    // Keys that are not ones, and a certificate that is not one.
    folder.write("x509ca/caCert.der", &ca_der);
    folder.write("ecdsa/junk.der", [0x30, 0x00]);
    folder.write(
        "rsa/old.pem",
        "-----BEGIN RSA PRIVATE KEY-----\nMAA=\n-----END RSA PRIVATE KEY-----\n",
    );
    folder.write(
        "x509/junk.pem",
        "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n",
    );
    let error = load(&folder, &conf("auth = psk", "auth = psk")).unwrap_err();
    let text = error.to_string();
    assert!(text.contains("old.pem: rsa: "), "{text}");
    let junk = "junk.der: ecdsa: not a PKCS#8, PKCS#1 or SEC1 private key";
    assert!(text.contains(junk), "{text}");
    assert!(text.contains("junk.pem: x509: "), "{text}");
}

/// An intermediate CA in x509ca/ goes along with our certificate; the root does not.
#[test]
fn intermediates_of_x509ca_are_sent_along() {
    let folder = Folder::new("pubkey-chain");
    let mut root = CertificateParams::default();
    root.distinguished_name.push(DnType::CommonName, "root");
    root.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let root_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let root_der = root.self_signed(&root_key).unwrap().der().to_vec();
    let root = Issuer::new(root, root_key);
    let mut sub = CertificateParams::default();
    sub.distinguished_name
        .push(DnType::CommonName, "intermediate");
    sub.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let sub_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let sub_der = sub.signed_by(&sub_key, &root).unwrap().der().to_vec();
    let sub = Issuer::new(sub, sub_key);
    let mut moon = CertificateParams::default();
    moon.distinguished_name
        .push(DnType::CommonName, "moon.example");
    let moon_key = KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
    let moon_der = moon.signed_by(&moon_key, &sub).unwrap().der().to_vec();
    folder.write("x509ca/root.der", &root_der);
    folder.write("x509ca/sub.der", &sub_der);
    folder.write("x509/moon.der", &moon_der);
    folder.write("pkcs8/moon.der", moon_key.serialize_der());
    let text = conf("auth = pubkey\ncerts = moon.der", "auth = pubkey");
    let loaded = load(&folder, &text).unwrap_or_else(|e| panic!("{e}"));
    let Auth::Pubkey(ours) = &loaded.connections[0].local_auth else {
        panic!()
    };
    assert_eq!(ours.certs, [moon_der, sub_der]);
}
