//! Credentials from the folders beside swanctl.conf, as `swanctl --load-creds` reads them
//! (swanctl(8)): certificates in `x509/`, CA certificates in `x509ca/`, private keys in
//! `private/`, `rsa/`, `ecdsa/` and `pkcs8/`. Each file is PEM or DER.
//!
//! Private keys are PKCS#8 (`-----BEGIN PRIVATE KEY-----`), PKCS#1 RSA (`-----BEGIN RSA
//! PRIVATE KEY-----`) or SEC1 ECDSA (`-----BEGIN EC PRIVATE KEY-----`), in any of the folders;
//! encrypted keys are not supported yet.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ike::auth::PrivateKey;
use ike::auth::x509::Certificate;
use ike::crypto::Secret;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::tree::{Location, Problem};

/// The certificates and keys found beside one swanctl.conf.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// The folder they came from, to resolve `certs = NAME` and `cacerts = NAME`.
    pub dir: PathBuf,
    /// `x509/`: file name and certificate (DER).
    pub certs: Vec<(String, Vec<u8>)>,
    /// `x509ca/`: file name and certificate (DER).
    pub cacerts: Vec<(String, Vec<u8>)>,
    /// Every private key, with the file it came from.
    pub keys: Vec<(PathBuf, Arc<PrivateKey>)>,
}

/// The folders of private keys (swanctl(8): by type, each also taking PKCS#8).
const KEY_DIRS: [&str; 4] = ["private", "rsa", "ecdsa", "pkcs8"];

impl Credentials {
    /// Reads the folders under `dir`; a missing folder is empty, a file that does not read
    /// is a problem naming it.
    pub fn load(dir: &Path, problems: &mut Vec<Problem>) -> Credentials {
        let mut creds = Credentials {
            dir: dir.to_path_buf(),
            ..Credentials::default()
        };
        for (sub, out) in [("x509", &mut creds.certs), ("x509ca", &mut creds.cacerts)] {
            for path in files(&dir.join(sub)) {
                match read_cert(&path) {
                    Ok(der) => out.push((file_name(&path), der)),
                    Err(e) => problems.push(file_problem(&path, sub, e)),
                }
            }
        }
        for sub in KEY_DIRS {
            for path in files(&dir.join(sub)) {
                match read_key(&path) {
                    Ok(key) => creds.keys.push((path, Arc::new(key))),
                    Err(e) => problems.push(file_problem(&path, sub, e)),
                }
            }
        }
        creds
    }

    /// `certs = NAME`: a file of `x509/`, or a path of its own (absolute, or relative to
    /// `x509/`).
    pub fn cert(&self, name: &str) -> Result<Vec<u8>, String> {
        if let Some((_, der)) = self.certs.iter().find(|(n, _)| n == name) {
            return Ok(der.clone());
        }
        let path = self.dir.join("x509").join(name);
        read_cert(&path).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// `cacerts = NAME`: a file of `x509ca/`, or a path of its own.
    pub fn cacert(&self, name: &str) -> Result<Vec<u8>, String> {
        if let Some((_, der)) = self.cacerts.iter().find(|(n, _)| n == name) {
            return Ok(der.clone());
        }
        let path = self.dir.join("x509ca").join(name);
        read_cert(&path).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The private key of certificate `der`: the one with its public key.
    pub fn key_for(&self, der: &[u8]) -> Result<Arc<PrivateKey>, String> {
        let public = Certificate::parse(der)
            .and_then(|c| c.public_key())
            .map_err(|e| format!("certificate: {e}"))?;
        self.keys
            .iter()
            .find(|(_, key)| key.public_key() == public)
            .map(|(_, key)| key.clone())
            .ok_or_else(|| {
                format!(
                    "no private key in {} matches the certificate",
                    KEY_DIRS.map(|d| format!("{d}/")).join(", ")
                )
            })
    }
}

/// The regular files of `dir`, sorted; none when it does not exist.
pub(crate) fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    paths
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn file_problem(path: &Path, sub: &str, message: String) -> Problem {
    Problem::new(&Location::new(path, 0), sub, message)
}

fn is_pem(bytes: &[u8]) -> bool {
    bytes.windows(11).any(|w| w == b"-----BEGIN ")
}

/// The first certificate of a PEM or DER file, checked to parse.
fn read_cert(path: &Path) -> Result<Vec<u8>, String> {
    cert_from_bytes(std::fs::read(path).map_err(|e| e.to_string())?)
}

/// The first certificate of PEM or DER data (a file's contents), checked to parse.
pub fn cert_from_bytes(bytes: Vec<u8>) -> Result<Vec<u8>, String> {
    let der = if is_pem(&bytes) {
        CertificateDer::pem_slice_iter(&bytes)
            .next()
            .ok_or("no CERTIFICATE in it")?
            .map_err(|e| e.to_string())?
            .to_vec()
    } else {
        bytes
    };
    Certificate::parse(&der).map_err(|e| e.to_string())?;
    Ok(der)
}

/// A private key from a PEM or DER file: PKCS#8, PKCS#1 (RSA) or SEC1 (ECDSA).
fn read_key(path: &Path) -> Result<PrivateKey, String> {
    key_from_bytes(&Secret::new(
        std::fs::read(path).map_err(|e| e.to_string())?,
    ))
}

/// A private key from PEM or DER data (a file's contents): PKCS#8, PKCS#1 (RSA) or SEC1
/// (ECDSA).
pub fn key_from_bytes(bytes: &Secret) -> Result<PrivateKey, String> {
    if !is_pem(bytes.as_bytes()) {
        let der = bytes.as_bytes();
        return PrivateKey::from_pkcs8(der)
            .or_else(|_| PrivateKey::from_pkcs1(der))
            .or_else(|_| PrivateKey::from_sec1(der))
            .map_err(|_| "not a PKCS#8, PKCS#1 or SEC1 private key in DER".into());
    }
    let key = match PrivateKeyDer::from_pem_slice(bytes.as_bytes()).map_err(|e| e.to_string())? {
        PrivateKeyDer::Pkcs8(key) => PrivateKey::from_pkcs8(key.secret_pkcs8_der()),
        PrivateKeyDer::Pkcs1(key) => PrivateKey::from_pkcs1(key.secret_pkcs1_der()),
        PrivateKeyDer::Sec1(key) => PrivateKey::from_sec1(key.secret_sec1_der()),
        _ => return Err("unknown private key form".into()),
    };
    key.map_err(|e| e.to_string())
}

/// A private key's identifier as VICI's `load-key`, `get-keys` and `unload-key` give it: the
/// hex SHA-1 of its public key.
pub fn key_id(key: &PrivateKey) -> String {
    use ike::auth::PublicKey;
    let public = key.public_key();
    let bytes: &[u8] = match &public {
        PublicKey::Rsa(der) => der,
        PublicKey::Ecdsa(_, point) => point,
        PublicKey::Ed25519(raw) => raw,
    };
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, bytes);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}
