//! The configuration the daemon runs with: connections, IKE pre-shared keys, certificates and
//! private keys, certification authorities and address pools. It is read from swanctl.conf at
//! start (and again on SIGHUP), and changed piece by piece by VICI's `load-*` and `unload-*`
//! commands, as strongSwan's `swanctl --load-all` sends them. Both ways give the same
//! connections, so a `swanctl --load-all` of the file the daemon started with changes nothing.
//!
//! Credentials are looked up when a connection is loaded (a connection keeps the keys and
//! certificates it was loaded with); `swanctl --load-all` loads credentials before
//! connections, so a changed secret reaches the connections that use it on the same run.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use ike::auth::x509::Certificate;
use ike::config::Connection;
use ike::crypto::Secret;

use super::credentials::{self, Credentials};
use super::secrets::{self, SharedKey};
use super::tree::{Location, Problem, Section};
use super::{ConfigError, Secrets, settings, swanctl, tree};

/// A certification authority (swanctl.conf `authorities.<name>`): its CA certificate, which
/// peers' certificates may chain to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authority {
    pub name: String,
    /// The CA certificate, DER.
    pub cacert: Vec<u8>,
}

/// An address pool (swanctl.conf `pools.<name>`). ikerd hands out no virtual IPs yet: pools are
/// kept and listed, and a connection that names one is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    pub name: String,
    /// The pool's base address, as strongSwan reports it: the first of a range, the address
    /// of a subnet as written (handed out unless it is the network address).
    pub base: IpAddr,
    /// How many addresses the pool hands out.
    pub size: u128,
}

/// A certificate the daemon holds, as VICI's `list-certs` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldCert {
    pub der: Vec<u8>,
    /// A CA certificate (`x509ca/`, `flag = CA`), or an end entity's.
    pub ca: bool,
    /// Whether a private key of the store matches it.
    pub has_key: bool,
}

/// See the module's documentation.
#[derive(Debug, Default)]
pub struct Store {
    /// The connections, in the order loaded, with whether a child starts at once.
    conns: Vec<(Connection, bool)>,
    secrets: Secrets,
    creds: Credentials,
    authorities: Vec<Authority>,
    pools: Vec<Pool>,
    /// The connections changed since [`Store::take_changed`] last ran.
    changed: bool,
    /// What the last load asked for that ikerd does differently (for the log).
    notes: Vec<Problem>,
}

impl Store {
    /// The store of a daemon given its connections directly (tests, embedders).
    pub fn with_connections(connections: Vec<Connection>) -> Store {
        Store {
            conns: connections.into_iter().map(|c| (c, false)).collect(),
            ..Store::default()
        }
    }

    /// Reads the swanctl.conf at `path`, the credentials beside it, and everything it says.
    pub fn from_file(path: &Path) -> Result<Store, ConfigError> {
        let raw = settings::parse_file(path).map_err(|p| ConfigError::from(vec![p]))?;
        Store::from_tree(path, &raw)
    }

    /// Interprets swanctl.conf text as if read from `path`.
    pub fn from_str(path: &Path, text: &str) -> Result<Store, ConfigError> {
        let raw = settings::parse_str(path, text).map_err(|p| ConfigError::from(vec![p]))?;
        Store::from_tree(path, &raw)
    }

    fn from_tree(path: &Path, raw: &Section) -> Result<Store, ConfigError> {
        let resolved = tree::resolve(raw)?;
        let mut problems = Vec::new();
        let dir = path.parent().unwrap_or(Path::new("."));
        let creds = Credentials::load(dir, &mut problems);
        let mut store = Store {
            creds,
            ..Store::default()
        };
        // Authorities and pools first: their sections are taken out of the tree the
        // connections are read from.
        let mut rest = resolved.clone();
        rest.sections
            .retain(|s| !matches!(s.name.as_str(), "authorities" | "pools"));
        for section in &resolved.sections {
            for kv in &section.keys {
                if matches!(section.name.as_str(), "authorities" | "pools") {
                    let key = format!("{}.{}", section.name, kv.key);
                    problems.push(Problem::new(&kv.at, &key, "unknown key".into()));
                }
            }
            for sub in &section.sections {
                match section.name.as_str() {
                    "authorities" => match store.authority(sub, &Blobs::default()) {
                        Ok(authority) => store.authorities.push(authority),
                        Err(mut p) => problems.append(&mut p),
                    },
                    "pools" => match pool(sub) {
                        Ok(pool) => store.pools.push(pool),
                        Err(mut p) => problems.append(&mut p),
                    },
                    _ => {}
                }
            }
        }
        store.add_authority_cas();
        let loaded = swanctl::interpret(&rest, &store.creds, &mut problems);
        if !problems.is_empty() {
            return Err(ConfigError { problems });
        }
        store.secrets = loaded.secrets;
        store.notes = loaded.notes;
        store.conns = loaded
            .connections
            .into_iter()
            .map(|c| {
                let start = loaded.start.contains(&c.name);
                (c, start)
            })
            .collect();
        store.changed = true;
        Ok(store)
    }

    /// The connections, in order.
    pub fn connections(&self) -> Vec<Connection> {
        self.conns.iter().map(|(c, _)| c.clone()).collect()
    }

    /// The names of connections with a child to start once loaded.
    pub fn start(&self) -> Vec<String> {
        let start = self.conns.iter().filter(|(_, start)| *start);
        start.map(|(c, _)| c.name.clone()).collect()
    }

    pub fn connection_names(&self) -> Vec<String> {
        self.conns.iter().map(|(c, _)| c.name.clone()).collect()
    }

    /// What the configuration loaded since the last call asks for that ikerd does
    /// differently (not errors), for the log.
    pub fn take_notes(&mut self) -> Vec<Problem> {
        std::mem::take(&mut self.notes)
    }

    /// Whether the connections changed since the last call.
    pub fn take_changed(&mut self) -> bool {
        std::mem::take(&mut self.changed)
    }

    /// Loads a connection (a resolved `connections.<name>` section), replacing one of the same
    /// name. `blobs` are the certificates the section's `certs` and `cacerts` name. Nothing
    /// changes if it is wrong.
    pub fn load_conn(&mut self, section: &Section, blobs: &Blobs) -> Result<(), ConfigError> {
        let mut creds = self.creds.clone();
        let mut problems = Vec::new();
        for (name, bytes, ca) in &blobs.0 {
            match credentials::cert_from_bytes(bytes.clone()) {
                Ok(der) if *ca => creds.cacerts.push((name.clone(), der)),
                Ok(der) => creds.certs.push((name.clone(), der)),
                Err(e) => {
                    let key = format!("connections.{}.{name}", section.name);
                    problems.push(Problem::new(&section.at, &key, e));
                }
            }
        }
        let loaded = swanctl::connections(
            std::slice::from_ref(section),
            &self.secrets,
            &creds,
            &mut problems,
        );
        let Some(conn) = loaded.connections.into_iter().next() else {
            return Err(ConfigError { problems });
        };
        if !problems.is_empty() {
            return Err(ConfigError { problems });
        }
        let start = !loaded.start.is_empty();
        self.notes.extend(loaded.notes);
        match self.conns.iter_mut().find(|(c, _)| c.name == conn.name) {
            Some(slot) => *slot = (conn, start),
            None => self.conns.push((conn, start)),
        }
        self.changed = true;
        Ok(())
    }

    pub fn unload_conn(&mut self, name: &str) -> Result<(), String> {
        let before = self.conns.len();
        self.conns.retain(|(c, _)| c.name != name);
        if self.conns.len() == before {
            return Err(format!("unload: connection '{name}' not found"));
        }
        self.changed = true;
        Ok(())
    }

    /// Loads an IKE pre-shared key owned by `owners` (identities as swanctl.conf writes them;
    /// none: anyone), replacing the one with the same `id`.
    pub fn load_shared(
        &mut self,
        id: &str,
        secret: Secret,
        owners: &[String],
    ) -> Result<(), String> {
        let mut ids = Vec::new();
        for owner in owners {
            ids.push(secrets::owner(owner).map_err(|e| format!("owner '{owner}': {e}"))?);
        }
        if ids.is_empty() {
            ids.push(super::identity::Identity::Any);
        }
        let key = SharedKey {
            name: id.to_owned(),
            secret,
            owners: ids,
        };
        match self.secrets.ike.iter_mut().find(|k| k.name == id) {
            Some(slot) => *slot = key,
            None => self.secrets.ike.push(key),
        }
        Ok(())
    }

    /// Forgets the pre-shared key `id`; one that is not there is gone already (as charon
    /// answers).
    pub fn unload_shared(&mut self, id: &str) {
        self.secrets.ike.retain(|k| k.name != id);
    }

    /// The identifiers of the pre-shared keys.
    pub fn shared_ids(&self) -> Vec<String> {
        self.secrets.ike.iter().map(|k| k.name.clone()).collect()
    }

    /// Loads a private key (PEM or DER); answers its identifier.
    pub fn load_key(&mut self, data: &Secret) -> Result<String, String> {
        let key = credentials::key_from_bytes(data)?;
        let id = credentials::key_id(&key);
        if !self.key_ids().contains(&id) {
            let at = Path::new("vici").join(&id);
            self.creds.keys.push((at, Arc::new(key)));
        }
        Ok(id)
    }

    pub fn unload_key(&mut self, id: &str) -> Result<(), String> {
        let before = self.creds.keys.len();
        self.creds
            .keys
            .retain(|(_, k)| credentials::key_id(k) != id);
        match self.creds.keys.len() < before {
            true => Ok(()),
            false => Err("key not found".to_owned()),
        }
    }

    pub fn key_ids(&self) -> Vec<String> {
        let keys = self.creds.keys.iter();
        keys.map(|(_, k)| credentials::key_id(k)).collect()
    }

    /// Loads a certificate (PEM or DER): a CA's (`ca`) or an end entity's.
    pub fn load_cert(&mut self, data: Vec<u8>, ca: bool) -> Result<(), String> {
        let der = credentials::cert_from_bytes(data)?;
        let list = match ca {
            true => &mut self.creds.cacerts,
            false => &mut self.creds.certs,
        };
        if !list.iter().any(|(_, d)| *d == der) {
            // Named by their place, so `certs = NAME` in a later load-conn cannot mean them.
            list.push((format!("<loaded {}>", list.len() + 1), der));
        }
        Ok(())
    }

    /// The certificates held: end entities' then CAs', each once.
    pub fn certs(&self) -> Vec<HeldCert> {
        let publics: Vec<_> = self
            .creds
            .keys
            .iter()
            .map(|(_, k)| k.public_key())
            .collect();
        let mut out: Vec<HeldCert> = Vec::new();
        let all = self.creds.certs.iter().map(|(_, d)| (d, false));
        for (der, ca) in all.chain(self.creds.cacerts.iter().map(|(_, d)| (d, true))) {
            if out.iter().any(|c| c.der == *der) {
                continue;
            }
            let public = Certificate::parse(der).and_then(|c| c.public_key());
            let has_key = public.is_ok_and(|p| publics.contains(&p));
            out.push(HeldCert {
                der: der.clone(),
                ca,
                has_key,
            });
        }
        out
    }

    /// Forgets every certificate, private key and pre-shared key (connections keep theirs).
    pub fn clear_creds(&mut self) {
        self.creds.certs.clear();
        self.creds.cacerts.clear();
        self.creds.keys.clear();
        self.secrets = Secrets::default();
        self.add_authority_cas();
    }

    /// Loads an authority (a resolved `authorities.<name>` section), replacing one of the same
    /// name.
    pub fn load_authority(&mut self, section: &Section, blobs: &Blobs) -> Result<(), ConfigError> {
        let authority = self.authority(section, blobs).map_err(ConfigError::from)?;
        match self
            .authorities
            .iter_mut()
            .find(|a| a.name == authority.name)
        {
            Some(slot) => *slot = authority,
            None => self.authorities.push(authority),
        }
        self.add_authority_cas();
        Ok(())
    }

    pub fn unload_authority(&mut self, name: &str) -> Result<(), String> {
        let before = self.authorities.len();
        self.authorities.retain(|a| a.name != name);
        match self.authorities.len() < before {
            true => Ok(()),
            false => Err(format!("unload: authority '{name}' not found")),
        }
    }

    pub fn authorities(&self) -> &[Authority] {
        &self.authorities
    }

    /// Loads a pool (a `pools.<name>` section), replacing one of the same name.
    pub fn load_pool(&mut self, section: &Section) -> Result<(), ConfigError> {
        let pool = pool(section).map_err(ConfigError::from)?;
        match self.pools.iter_mut().find(|p| p.name == pool.name) {
            Some(slot) => *slot = pool,
            None => self.pools.push(pool),
        }
        Ok(())
    }

    pub fn unload_pool(&mut self, name: &str) -> Result<(), String> {
        let before = self.pools.len();
        self.pools.retain(|p| p.name != name);
        match self.pools.len() < before {
            true => Ok(()),
            false => Err(format!("{name} not found")),
        }
    }

    pub fn pools(&self) -> &[Pool] {
        &self.pools
    }

    /// The authorities' CA certificates are trusted as those of `x509ca/` are.
    fn add_authority_cas(&mut self) {
        for authority in &self.authorities {
            if !self
                .creds
                .cacerts
                .iter()
                .any(|(_, d)| *d == authority.cacert)
            {
                let name = format!("<authority {}>", authority.name);
                self.creds.cacerts.push((name, authority.cacert.clone()));
            }
        }
    }

    /// Reads an `authorities.<name>` section: `cacert` (a file of `x509ca/`, or one of
    /// `blobs`). Revocation (`crl_uris`, `ocsp_uris`) is not checked yet, so those keys are
    /// refused rather than ignored.
    fn authority(&self, section: &Section, blobs: &Blobs) -> Result<Authority, Vec<Problem>> {
        let path = format!("authorities.{}", section.name);
        let mut problems = Vec::new();
        let mut cacert = None;
        for kv in &section.keys {
            let key = format!("{path}.{}", kv.key);
            match kv.key.as_str() {
                "cacert" => {
                    let Some(name) = &kv.value else { continue };
                    let der = match blobs.0.iter().find(|(n, _, _)| n == name) {
                        Some((_, bytes, _)) => credentials::cert_from_bytes(bytes.clone()),
                        None => self.creds.cacert(name),
                    };
                    match der {
                        Ok(der) => cacert = Some(der),
                        Err(e) => problems.push(Problem::new(&kv.at, &key, e)),
                    }
                }
                "crl_uris" | "ocsp_uris" | "cert_uri_base" | "file" | "handle" | "slot"
                | "module" => {
                    problems.push(Problem::new(&kv.at, &key, "not supported yet".into()));
                }
                _ => problems.push(Problem::new(&kv.at, &key, "unknown key".into())),
            }
        }
        for sub in &section.sections {
            let key = format!("{path}.{}", sub.name);
            problems.push(Problem::new(&sub.at, &key, "unknown section".into()));
        }
        match (cacert, problems.is_empty()) {
            (Some(cacert), true) => Ok(Authority {
                name: section.name.clone(),
                cacert,
            }),
            (None, true) => Err(vec![Problem::new(
                &section.at,
                &path,
                "missing cacert".into(),
            )]),
            _ => Err(problems),
        }
    }
}

/// Certificates sent with a VICI load command instead of file names: the name the section's
/// value gives each, its bytes (PEM or DER), and whether it is a CA's.
#[derive(Debug, Clone, Default)]
pub struct Blobs(pub Vec<(String, Vec<u8>, bool)>);

/// Reads a `pools.<name>` section: `addrs` as a subnet (`10.3.0.0/24`, handing out from the
/// first host address as strongSwan does) or a range (`10.3.0.5-10.3.0.20`); the attribute
/// lists (`dns`, `nbns`, `split_include`, ...) are accepted.
fn pool(section: &Section) -> Result<Pool, Vec<Problem>> {
    let path = format!("pools.{}", section.name);
    let mut problems = Vec::new();
    let mut range = None;
    for kv in &section.keys {
        let key = format!("{path}.{}", kv.key);
        match kv.key.as_str() {
            "addrs" => match kv.value.as_deref().map(pool_range) {
                Some(Ok(r)) => range = Some(r),
                Some(Err(e)) => problems.push(Problem::new(&kv.at, &key, e)),
                None => {}
            },
            "dns" | "nbns" | "dhcp" | "netmask" | "server" | "subnet" | "split_include"
            | "split_exclude" => {}
            other if other.parse::<u16>().is_ok() => {}
            _ => problems.push(Problem::new(&kv.at, &key, "unknown key".into())),
        }
    }
    match (range, problems.is_empty()) {
        (Some((base, size)), true) => Ok(Pool {
            name: section.name.clone(),
            base,
            size,
        }),
        (None, true) => Err(vec![Problem::new(
            &section.at,
            &path,
            "missing addrs".into(),
        )]),
        _ => Err(problems),
    }
}

fn pool_range(text: &str) -> Result<(IpAddr, u128), String> {
    let as_u128 = |ip: IpAddr| match ip {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    };
    let bad = || format!("'{text}' is neither a subnet nor an address range");
    if let Some((from, to)) = text.split_once('-') {
        let from: IpAddr = from.trim().parse().map_err(|_| bad())?;
        let to: IpAddr = to.trim().parse().map_err(|_| bad())?;
        if from.is_ipv4() != to.is_ipv4() || as_u128(to) < as_u128(from) {
            return Err(bad());
        }
        return Ok((from, as_u128(to) - as_u128(from) + 1));
    }
    let (addr, prefix) = text.split_once('/').ok_or_else(bad)?;
    let addr: IpAddr = addr.trim().parse().map_err(|_| bad())?;
    let bits = if addr.is_ipv4() { 32 } else { 128 };
    let prefix: u32 = prefix.trim().parse().map_err(|_| bad())?;
    if prefix > bits {
        return Err(bad());
    }
    // As strongSwan's mem_pool counts a subnet (`mem_pool_create`): at most 2^31 addresses
    // (its POOL_LIMIT), from the address as written; without the network address when that
    // is the one written, and without the broadcast address, in blocks that have them.
    let host_bits = (bits - prefix).min(31);
    let block = 1u128 << host_bits;
    let offset = as_u128(addr) & (block - 1);
    let size = match (block > 2, offset) {
        (true, 0) => block - 2,
        (true, n) => block - n - 1,
        (false, 0) => block,
        (false, _) => block - 1,
    };
    Ok((addr, size))
}

/// Where problems with what VICI clients load are said to be.
pub fn vici_at() -> Location {
    Location::new(Path::new("vici"), 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_are_subnets_without_network_and_broadcast_or_ranges() {
        let ok = |t: &str| pool_range(t).map(|(b, n)| (b.to_string(), n));
        // strongSwan 5.9.8's get-pools answers for the same addrs.
        assert_eq!(ok("10.3.0.0/24"), Ok(("10.3.0.0".into(), 254)));
        assert_eq!(ok("10.3.0.77/24"), Ok(("10.3.0.77".into(), 178)));
        assert_eq!(ok("10.3.0.5/32"), Ok(("10.3.0.5".into(), 1)));
        assert_eq!(ok("10.3.0.4/31"), Ok(("10.3.0.4".into(), 2)));
        assert_eq!(ok("10.3.0.5/31"), Ok(("10.3.0.5".into(), 1)));
        assert_eq!(ok("10.3.0.5-10.3.0.20"), Ok(("10.3.0.5".into(), 16)));
        assert_eq!(ok("2001:db8::/120"), Ok(("2001:db8::".into(), 254)));
        assert_eq!(
            ok("2001:db8::/64"),
            Ok(("2001:db8::".into(), (1 << 31) - 2))
        );
        for bad in [
            "10.3.0.0",
            "10.3.0.0/33",
            "10.3.0.9-10.3.0.1",
            "10.3.0.1-2001:db8::1",
            "x/8",
        ] {
            assert!(pool_range(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn authorities_and_pools_in_the_file_are_checked() {
        let text = "authorities { ca { crl_uris = http://ca.example/crl } }\npools { p { adrs = 10.0.0.0/8 } }\n";
        let e = Store::from_str(Path::new("swanctl.conf"), text).unwrap_err();
        assert_eq!(
            e.to_string(),
            "swanctl.conf:1: authorities.ca.crl_uris: not supported yet\n\
             swanctl.conf:2: pools.p.adrs: unknown key"
        );
        let store =
            Store::from_str(Path::new("s.conf"), "pools { p { addrs = 10.0.0.0/30 } }").unwrap();
        assert_eq!(store.pools()[0].size, 2);
    }
}
