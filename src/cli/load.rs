//! `ikerctl load-all`, `load-conns`, `load-creds`, `load-authorities` and `load-pools`: a
//! swanctl.conf (and the credential folders beside it) sent to the daemon with VICI's load
//! commands, as swanctl sends them, so ikerd and strongSwan's charon load it alike. What the
//! daemon holds and the file no longer has is unloaded.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{connect, fail, print};
use crate::config::credentials::files;
use crate::config::tree::{self, Section};
use crate::config::{DEFAULT_PATH, settings};
use crate::vici::client::{Client, ClientError, failed};
use crate::vici::wire::{Item, Message, Value};

/// Which parts of the file a load command sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    All,
    Conns,
    Creds,
    Authorities,
    Pools,
}

/// Load a swanctl.conf into the daemon (swanctl --load-all, -q; --load-conns, -c;
/// --load-creds, -s; --load-authorities, -b; --load-pools, -a).
///
/// Reads the file (and, for credentials, the x509/, x509ca/, private/, rsa/, ecdsa/ and
/// pkcs8/ folders beside it), sends each connection, secret, key, certificate, authority and
/// pool with VICI's load commands as swanctl does, and unloads what the daemon holds that the
/// file no longer has. ikerd applies only what changed: tunnels whose configuration is the
/// same are not touched. Exit status 1 if anything failed to load.
#[derive(Debug, clap::Args)]
#[command(long_about)]
#[command(after_long_help = "Examples:
  ikerctl load-all
  ikerctl --load-conns --file /etc/swanctl/conf.d/site.conf
  ikerctl load-creds --clear")]
pub struct Args {
    /// The swanctl.conf to read; the credential folders are beside it.
    #[arg(short = 'f', long, value_name = "FILE", default_value = DEFAULT_PATH)]
    pub file: PathBuf,
    /// Forget the daemon's credentials first (load-all and load-creds).
    #[arg(short = 'c', long)]
    pub clear: bool,
}

/// swanctl.conf keys whose comma-separated values go as VICI lists.
const LIST_KEYS: [&str; 11] = [
    "local_addrs",
    "remote_addrs",
    "proposals",
    "esp_proposals",
    "ah_proposals",
    "local_ts",
    "remote_ts",
    "vips",
    "pools",
    "groups",
    "cert_policy",
];

/// Keys whose values name files (in the folder given) sent by their contents.
const FILE_KEYS: [(&str, &str); 3] = [
    ("certs", "x509"),
    ("cacerts", "x509ca"),
    ("pubkeys", "pubkey"),
];

/// Private key folders and the `type` swanctl sends their keys with.
const KEY_DIRS: [(&str, &str); 4] = [
    ("private", "any"),
    ("rsa", "rsa"),
    ("ecdsa", "ecdsa"),
    ("pkcs8", "any"),
];

pub fn run(uri: &str, args: &Args, part: Part) -> ExitCode {
    let command = match part {
        Part::All => "load-all",
        Part::Conns => "load-conns",
        Part::Creds => "load-creds",
        Part::Authorities => "load-authorities",
        Part::Pools => "load-pools",
    };
    let root = match read(&args.file) {
        Ok(root) => root,
        Err(e) => return fail(command, e),
    };
    let dir = args.file.parent().unwrap_or(Path::new(".")).to_path_buf();
    let mut client = match connect(uri) {
        Ok(client) => client,
        Err(e) => return fail(command, e),
    };
    let mut loader = Loader {
        client: &mut client,
        dir,
        out: String::new(),
        failed: 0,
    };
    let done = (|| {
        if matches!(part, Part::All | Part::Creds) {
            loader.creds(&root, args.clear)?;
        }
        if matches!(part, Part::All | Part::Authorities) {
            loader.sections(&root, "authorities", Kind::Authority)?;
        }
        if matches!(part, Part::All | Part::Pools) {
            loader.sections(&root, "pools", Kind::Pool)?;
        }
        if matches!(part, Part::All | Part::Conns) {
            loader.sections(&root, "connections", Kind::Conn)?;
        }
        Ok::<(), ClientError>(())
    })();
    let (out, failures) = (std::mem::take(&mut loader.out), loader.failed);
    print(&out);
    match done {
        Err(e) => fail(command, e),
        Ok(()) if failures > 0 => fail(command, format!("{failures} failed to load")),
        Ok(()) => ExitCode::SUCCESS,
    }
}

/// The file, parsed and with its section references resolved, or what is wrong with it.
fn read(path: &Path) -> Result<Section, String> {
    let raw = settings::parse_file(path).map_err(|p| p.to_string())?;
    tree::resolve(&raw).map_err(|problems| {
        let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
        lines.join("\n")
    })
}

/// What a section of the file becomes.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Conn,
    Authority,
    Pool,
}

impl Kind {
    fn load(self) -> &'static str {
        match self {
            Kind::Conn => "load-conn",
            Kind::Authority => "load-authority",
            Kind::Pool => "load-pool",
        }
    }

    fn unload(self) -> &'static str {
        match self {
            Kind::Conn => "unload-conn",
            Kind::Authority => "unload-authority",
            Kind::Pool => "unload-pool",
        }
    }

    fn noun(self) -> (&'static str, &'static str) {
        match self {
            Kind::Conn => ("connection", "connections"),
            Kind::Authority => ("authority", "authorities"),
            Kind::Pool => ("pool", "pools"),
        }
    }

    /// The names the daemon holds now.
    fn held(self, client: &mut Client) -> Result<BTreeSet<String>, ClientError> {
        let (command, list) = match self {
            Kind::Conn => ("get-conns", Some("conns")),
            Kind::Authority => ("get-authorities", Some("authorities")),
            Kind::Pool => ("get-pools", None),
        };
        let reply = client.command(command, &Message::new())?;
        Ok(match list {
            Some(key) => texts(reply.list(key).unwrap_or_default()),
            None => reply.items.iter().map(|(name, _)| name.clone()).collect(),
        })
    }
}

fn texts(values: &[Value]) -> BTreeSet<String> {
    values
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

struct Loader<'a> {
    client: &'a mut Client,
    dir: PathBuf,
    out: String,
    failed: usize,
}

impl Loader<'_> {
    fn line(&mut self, text: String) {
        self.out.push_str(&text);
        self.out.push('\n');
    }

    /// Sends a command; a refusal is counted and reported, a broken connection ends the run.
    fn send(&mut self, command: &str, request: &Message, what: &str) -> Result<bool, ClientError> {
        let reply = self.client.command(command, request)?;
        match failed(&reply) {
            None => Ok(true),
            Some(why) => {
                self.failed += 1;
                self.line(format!("loading {what} failed: {why}"));
                Ok(false)
            }
        }
    }

    /// Loads every subsection of `name` as `kind`, then unloads what the file does not have.
    fn sections(&mut self, root: &Section, name: &str, kind: Kind) -> Result<(), ClientError> {
        let mut stale = kind.held(self.client)?;
        let (one, many) = kind.noun();
        let sections = root.section(name).map_or(&[][..], |s| &s.sections[..]);
        let mut loaded = 0;
        for section in sections {
            stale.remove(&section.name);
            let body = match message(&self.dir, section, kind) {
                Ok(body) => body,
                Err(e) => {
                    self.failed += 1;
                    self.line(format!("loading {one} '{}' failed: {e}", section.name));
                    continue;
                }
            };
            let request = Message::new().with_section(section.name.as_str(), body);
            if self.send(kind.load(), &request, &format!("{one} '{}'", section.name))? {
                loaded += 1;
                self.line(format!("loaded {one} '{}'", section.name));
            }
        }
        let mut unloaded = 0;
        for name in stale {
            let request = Message::new().with_value("name", name.as_str());
            if self.send(
                kind.unload(),
                &request,
                &format!("{one} '{name}' (unloading)"),
            )? {
                unloaded += 1;
            }
        }
        let found = sections.len();
        if loaded == found {
            self.line(format!(
                "successfully loaded {loaded} {many}, {unloaded} unloaded"
            ));
        } else {
            self.line(format!(
                "loaded {loaded} of {found} {many}, {} failed to load, {unloaded} unloaded",
                found - loaded
            ));
        }
        Ok(())
    }

    /// Certificates and keys of the folders, then the secrets; then what the daemon holds
    /// that is no longer there goes.
    fn creds(&mut self, root: &Section, clear: bool) -> Result<(), ClientError> {
        if clear {
            self.client.command("clear-creds", &Message::new())?;
        }
        let held = |client: &mut Client, command: &str| -> Result<BTreeSet<String>, ClientError> {
            let reply = client.command(command, &Message::new())?;
            Ok(texts(reply.list("keys").unwrap_or_default()))
        };
        let mut stale_keys = held(self.client, "get-keys")?;
        let mut stale_shared = held(self.client, "get-shared")?;
        for (folder, flag) in [("x509", "NONE"), ("x509ca", "CA")] {
            for path in files(&self.dir.join(folder)) {
                let Ok(data) = std::fs::read(&path) else {
                    continue;
                };
                let request = Message::new()
                    .with_value("type", "X509")
                    .with_value("flag", flag)
                    .with_value("data", data);
                if self.send("load-cert", &request, &format!("'{}'", path.display()))? {
                    self.line(format!("loaded certificate from '{}'", path.display()));
                }
            }
        }
        for (folder, ty) in KEY_DIRS {
            for path in files(&self.dir.join(folder)) {
                let Ok(data) = std::fs::read(&path) else {
                    continue;
                };
                let data = ike::crypto::Secret::new(data);
                let request = Message::new()
                    .with_value("type", ty)
                    .with_value("data", data.as_bytes());
                let reply = self.client.command("load-key", &request)?;
                match failed(&reply) {
                    Some(why) => {
                        self.failed += 1;
                        self.line(format!("loading '{}' failed: {why}", path.display()));
                    }
                    None => {
                        if let Some(id) = reply.str("id") {
                            stale_keys.remove(id);
                        }
                        self.line(format!("loaded {ty} key from '{}'", path.display()));
                    }
                }
            }
        }
        for section in root.section("secrets").map_or(&[][..], |s| &s.sections[..]) {
            if !section.name.starts_with("ike") {
                self.line(format!("ignoring unsupported secret '{}'", section.name));
                continue;
            }
            let Some(secret) = section.get("secret").and_then(|kv| kv.value.as_deref()) else {
                self.failed += 1;
                self.line(format!("missing secret in '{}', ignored", section.name));
                continue;
            };
            let data = match decode(secret) {
                Ok(data) => ike::crypto::Secret::new(data),
                Err(e) => {
                    self.failed += 1;
                    self.line(format!("secret '{}': {e}", section.name));
                    continue;
                }
            };
            let owners: Vec<&str> = section
                .keys
                .iter()
                .filter(|kv| kv.key.starts_with("id"))
                .filter_map(|kv| kv.value.as_deref())
                .collect();
            let request = Message::new()
                .with_value("id", section.name.as_str())
                .with_value("type", "IKE")
                .with_value("data", data.as_bytes())
                .with_list("owners", owners);
            stale_shared.remove(&section.name);
            if self.send("load-shared", &request, "shared secret")? {
                self.line(format!("loaded ike secret '{}'", section.name));
            }
        }
        for (command, stale) in [("unload-key", stale_keys), ("unload-shared", stale_shared)] {
            for id in stale {
                let request = Message::new().with_value("id", id.as_str());
                self.send(command, &request, &format!("'{id}' (unloading)"))?;
            }
        }
        Ok(())
    }
}

/// A section as the VICI section swanctl sends for it.
fn message(dir: &Path, section: &Section, kind: Kind) -> Result<Message, String> {
    let mut m = Message::new();
    for kv in &section.keys {
        let Some(value) = &kv.value else { continue };
        let key = kv.key.as_str();
        let item = if let Some((_, folder)) = FILE_KEYS.iter().find(|(k, _)| *k == key) {
            let mut blobs = Vec::new();
            for name in split(value) {
                blobs.push(Value(file(dir, folder, &name)?));
            }
            Item::List(blobs)
        } else if matches!(kind, Kind::Authority) && key == "cacert" {
            Item::Value(Value(file(dir, "x509ca", value)?))
        } else if LIST_KEYS.contains(&key)
            || (matches!(kind, Kind::Pool) && key != "addrs")
            || (matches!(kind, Kind::Authority) && key.ends_with("_uris"))
        {
            Item::List(split(value).into_iter().map(Value::from).collect())
        } else {
            Item::Value(Value::from(value.as_str()))
        };
        m.push(key, item);
    }
    for sub in &section.sections {
        m.push(sub.name.as_str(), Item::Section(message(dir, sub, kind)?));
    }
    Ok(m)
}

/// A file's contents: `0x` hex or `0s` base64 inline, an absolute path, or a file of
/// `folder` beside the configuration.
fn file(dir: &Path, folder: &str, name: &str) -> Result<Vec<u8>, String> {
    if let Some(data) = inline(name) {
        return data;
    }
    let path = match Path::new(name).is_absolute() {
        true => PathBuf::from(name),
        false => dir.join(folder).join(name),
    };
    std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Data written inline: `0x` hex or `0s` base64; None for anything else.
fn inline(text: &str) -> Option<Result<Vec<u8>, String>> {
    let lower = text.get(..2).map(str::to_ascii_lowercase);
    Some(match lower.as_deref()? {
        "0x" => {
            crate::config::identity::from_hex(&text[2..]).map_err(|_| "invalid hex after 0x".into())
        }
        "0s" => crate::config::secrets::from_base64(&text[2..])
            .ok_or_else(|| "invalid base64 after 0s".into()),
        _ => return None,
    })
}

/// A secret's bytes: inline data, or the text itself (swanctl's load_secret).
fn decode(secret: &str) -> Result<Vec<u8>, String> {
    inline(secret).unwrap_or_else(|| Ok(secret.as_bytes().to_vec()))
}

/// A comma-separated value's parts, trimmed, the empty ones left out.
fn split(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_go_as_swanctl_sends_them() {
        let dir = std::env::temp_dir().join(format!("ikerctl-load-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("x509")).unwrap();
        std::fs::write(dir.join("x509/moon.pem"), b"PEM").unwrap();
        let text = "connections { gw {
  local_addrs = 192.0.2.1, 2001:db8::1
  proposals = aes256-sha256-x25519
  version = 2
  local { auth = pubkey
    certs = moon.pem, 0x0102 }
  children { net { esp_proposals = aes128gcm16, aes256gcm16 } }
} }";
        let root = settings::parse_str(&dir.join("swanctl.conf"), text).unwrap();
        let gw = &root.section("connections").unwrap().sections[0];
        let m = message(&dir, gw, Kind::Conn).unwrap();
        let texts = |key: &str, m: &Message| -> Vec<String> {
            let list = m.list(key).unwrap();
            list.iter()
                .map(|v| v.as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(texts("local_addrs", &m), ["192.0.2.1", "2001:db8::1"]);
        assert_eq!(texts("proposals", &m), ["aes256-sha256-x25519"]);
        assert_eq!(m.str("version"), Some("2"));
        let local = m.section("local").unwrap();
        assert_eq!(
            local.list("certs").unwrap(),
            [Value(b"PEM".to_vec()), Value(vec![1, 2])]
        );
        let net = m
            .section("children")
            .and_then(|c| c.section("net"))
            .unwrap();
        assert_eq!(texts("esp_proposals", net), ["aes128gcm16", "aes256gcm16"]);

        // A file that is not there is named.
        let broken =
            settings::parse_str(&dir.join("s.conf"), "c { local { certs = nope.pem } }").unwrap();
        let e = message(&dir, &broken.sections[0], Kind::Conn).unwrap_err();
        assert!(e.contains("x509/nope.pem"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();

        assert_eq!(decode("0x0a0B").unwrap(), [10, 11]);
        assert_eq!(decode("0sAQI=").unwrap(), [1, 2]);
        assert_eq!(decode("plain text").unwrap(), b"plain text");
        assert!(decode("0xzz").is_err());
    }
}
