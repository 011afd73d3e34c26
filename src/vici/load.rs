//! The commands that change the configuration, as strongSwan's `swanctl --load-all` sends them:
//! `load-conn`, `unload-conn`, `load-shared`, `unload-shared`, `get-shared`, `load-key`,
//! `unload-key`, `get-keys`, `load-cert`, `list-certs`, `flush-certs`, `clear-creds`,
//! `load-authority`, `unload-authority`, `get-authorities`, `list-authorities`, `load-pool`,
//! `unload-pool` and `get-pools`. Requests and answers have the keys of strongSwan's vici
//! plugin; the work is done on the daemon's [`Store`], which applies changed connections.
//!
//! swanctl sends a swanctl.conf section as a VICI section: keys as text, comma-separated
//! values (`proposals`, `local_ts`, ...) as lists, and the files `certs`, `cacerts` and
//! `pubkeys` name as lists of their contents. The section goes back into the settings tree the
//! file reader makes, so both ways are read by the same code.

use std::io;

use ike::auth::dn;
use ike::auth::x509::Certificate;
use ike::crypto::Secret;
use tokio::net::UnixStream;

use super::query;
use super::server::Client;
use super::wire::{Item, Message, Value};
use crate::config::store::{Blobs, HeldCert, vici_at};
use crate::config::tree::Section;
use crate::config::{ConfigError, Problem, Store};

/// Keys whose list items are file contents rather than names.
const FILE_LISTS: [&str; 3] = ["certs", "cacerts", "pubkeys"];

fn success() -> Message {
    Message::new().with_value("success", "yes")
}

fn answer(result: Result<(), String>) -> Message {
    match result {
        Ok(()) => success(),
        Err(e) => query::failure(&e),
    }
}

fn config_error(e: &ConfigError) -> String {
    e.problems
        .iter()
        .map(|p| match p.key.is_empty() {
            true => p.message.clone(),
            false => format!("{}: {}", p.key, p.message),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A VICI section as a settings section called `name` (under `path`, a dotted name for
/// messages), with the certificates it carries in `blobs`.
pub fn to_section(
    name: &str,
    path: &str,
    message: &Message,
    blobs: &mut Blobs,
) -> Result<Section, ConfigError> {
    let at = vici_at();
    let mut section = Section::new(name.to_owned(), at.clone());
    let mut problems = Vec::new();
    for (key, item) in &message.items {
        let key_path = format!("{path}.{key}");
        let text = |v: &Value| v.as_str().map(str::to_owned);
        match item {
            // An authority's CA certificate: the file's contents.
            Item::Value(v) if key == "cacert" => {
                let n = format!("<{key} {}>", blobs.0.len() + 1);
                blobs.0.push((n.clone(), v.0.clone(), true));
                section.set(key.clone(), Some(n), at.clone());
            }
            Item::Value(v) => match text(v) {
                Some(t) => section.set(key.clone(), Some(t), at.clone()),
                None => problems.push(Problem::new(&at, &key_path, "value is not text".into())),
            },
            Item::List(items) if FILE_LISTS.contains(&key.as_str()) => {
                let mut names = Vec::new();
                for v in items {
                    let n = format!("<{key} {}>", blobs.0.len() + 1);
                    blobs.0.push((n.clone(), v.0.clone(), key == "cacerts"));
                    names.push(n);
                }
                section.set(key.clone(), Some(names.join(",")), at.clone());
            }
            Item::List(items) => match items.iter().map(text).collect::<Option<Vec<_>>>() {
                Some(items) => section.set(key.clone(), Some(items.join(", ")), at.clone()),
                None => problems.push(Problem::new(&at, &key_path, "value is not text".into())),
            },
            Item::Section(sub) => match to_section(key, &key_path, sub, blobs) {
                Ok(sub) => section.sections.push(sub),
                Err(mut e) => problems.append(&mut e.problems),
            },
        }
    }
    match problems.is_empty() {
        true => Ok(section),
        false => Err(ConfigError { problems }),
    }
}

/// The one section a `load-conn` or `load-authority` request carries, as a settings section.
fn single_section(request: &Message, what: &str) -> Result<(Section, Blobs), String> {
    let mut sections = request.items.iter().filter_map(|(name, item)| match item {
        Item::Section(s) => Some((name, s)),
        _ => None,
    });
    let (Some((name, message)), None) = (sections.next(), sections.next()) else {
        return Err(format!("expected one {what} section"));
    };
    let mut blobs = Blobs::default();
    let path = match what {
        "connection" => format!("connections.{name}"),
        "authority" => format!("authorities.{name}"),
        _ => format!("pools.{name}"),
    };
    let section = to_section(name, &path, message, &mut blobs).map_err(|e| config_error(&e))?;
    Ok((section, blobs))
}

fn gone() -> Message {
    query::failure("the daemon is shutting down")
}

/// Runs `work` on the daemon's configuration and answers with what it makes.
async fn on_store(
    client: &Client,
    work: impl FnOnce(&mut Store) -> Message + Send + 'static,
) -> Message {
    client.control.with_store(work).await.unwrap_or_else(gone)
}

/// The commands of this module; `None` for other names.
pub(super) async fn command(
    client: &mut Client,
    stream: &mut UnixStream,
    name: &str,
    request: &Message,
) -> io::Result<Option<Message>> {
    let name_key = request.str("name").map(str::to_owned);
    let id_key = request.str("id").map(str::to_owned);
    Ok(Some(match name {
        "load-conn" if nothing_to_load(request) => success(),
        "load-conn" => match single_section(request, "connection") {
            Ok((section, blobs)) => {
                let name = section.name.clone();
                let reply = on_store(client, move |store| {
                    answer(
                        store
                            .load_conn(&section, &blobs)
                            .map_err(|e| config_error(&e)),
                    )
                })
                .await;
                tracing::info!(
                    "vici: load-conn '{name}': {}",
                    reply.str("errmsg").unwrap_or("loaded")
                );
                reply
            }
            Err(e) => query::failure(&e),
        },
        "unload-conn" => match name_key {
            Some(name) => on_store(client, move |s| answer(s.unload_conn(&name))).await,
            None => query::failure("missing connection name to unload"),
        },
        "load-shared" => load_shared(client, request).await,
        "unload-shared" => match id_key {
            Some(id) => {
                on_store(client, move |s| {
                    s.unload_shared(&id);
                    success()
                })
                .await
            }
            None => query::failure("unique identifier required to unload a shared key"),
        },
        "get-shared" => on_store(client, |s| keys_list(s.shared_ids())).await,
        "load-key" => load_key(client, request).await,
        "unload-key" => match id_key {
            Some(id) => on_store(client, move |s| answer(s.unload_key(&id))).await,
            None => query::failure("key id required to unload a key"),
        },
        "get-keys" => on_store(client, |s| keys_list(s.key_ids())).await,
        "load-cert" => load_cert(client, request).await,
        "list-certs" => {
            let certs = client.control.with_store(|s| s.certs()).await;
            let Some(certs) = certs else {
                return Ok(Some(gone()));
            };
            for cert in certs.iter().filter(|c| cert_selected(c, request)) {
                client
                    .write_event(stream, "list-cert", list_cert(cert))
                    .await?;
            }
            Message::new()
        }
        // ikerd caches no certificates fetched from elsewhere: nothing to flush.
        "flush-certs" => success(),
        "clear-creds" => {
            on_store(client, |s| {
                s.clear_creds();
                success()
            })
            .await
        }
        "load-authority" => match single_section(request, "authority") {
            Ok((section, blobs)) => {
                on_store(client, move |s| {
                    answer(
                        s.load_authority(&section, &blobs)
                            .map_err(|e| config_error(&e)),
                    )
                })
                .await
            }
            Err(e) => query::failure(&e),
        },
        "unload-authority" => match name_key {
            Some(name) => on_store(client, move |s| answer(s.unload_authority(&name))).await,
            None => query::failure("missing authority name to unload"),
        },
        "get-authorities" => {
            on_store(client, |s| {
                let names = s.authorities().iter().map(|a| a.name.clone());
                Message::new().with_list("authorities", names)
            })
            .await
        }
        "list-authorities" => {
            let list = client
                .control
                .with_store(|s| s.authorities().to_vec())
                .await;
            let Some(list) = list else {
                return Ok(Some(gone()));
            };
            let wanted = request.str("name");
            for authority in list.iter().filter(|a| wanted.is_none_or(|n| n == a.name)) {
                let cacert = Certificate::parse(&authority.cacert)
                    .ok()
                    .and_then(|c| dn::to_text(c.subject))
                    .unwrap_or_default();
                let event = Message::new().with_section(
                    authority.name.clone(),
                    Message::new()
                        .with_value("cacert", cacert)
                        .with_list("crl_uris", Vec::<String>::new())
                        .with_list("ocsp_uris", Vec::<String>::new()),
                );
                client.write_event(stream, "list-authority", event).await?;
            }
            Message::new()
        }
        "load-pool" => match single_section(request, "pool") {
            Ok((section, _)) => {
                on_store(client, move |s| {
                    answer(s.load_pool(&section).map_err(|e| config_error(&e)))
                })
                .await
            }
            Err(e) => query::failure(&e),
        },
        "unload-pool" => match name_key {
            Some(name) => on_store(client, move |s| answer(s.unload_pool(&name))).await,
            None => query::failure("missing pool name to unload"),
        },
        "get-pools" => {
            let wanted = name_key;
            on_store(client, move |s| {
                let mut reply = Message::new();
                for pool in s.pools() {
                    if wanted.as_ref().is_some_and(|n| *n != pool.name) {
                        continue;
                    }
                    // No virtual IPs are handed out yet: no leases.
                    let section = Message::new()
                        .with_value("base", pool.base.to_string())
                        .with_value("size", pool.size.to_string())
                        .with_value("online", "0")
                        .with_value("offline", "0");
                    reply = reply.with_section(pool.name.clone(), section);
                }
                reply
            })
            .await
        }
        _ => return Ok(None),
    }))
}

/// `load-conn` without a connection section: charon answers success and loads nothing.
fn nothing_to_load(request: &Message) -> bool {
    !request
        .items
        .iter()
        .any(|(_, item)| matches!(item, Item::Section(_)))
}

fn keys_list(ids: Vec<String>) -> Message {
    Message::new().with_list("keys", ids)
}

/// `load-shared`: an IKE pre-shared key (`type = IKE`); EAP, XAuth, NTLM and PPK secrets are
/// not used by ikerd yet and are refused.
async fn load_shared(client: &Client, request: &Message) -> Message {
    let kind = request.str("type").unwrap_or_default().to_ascii_lowercase();
    match kind.as_str() {
        "ike" => {}
        "eap" | "xauth" | "ntlm" | "ppk" => {
            return query::failure(&format!("{kind} secrets are not supported yet"));
        }
        "" => return query::failure("shared key type missing"),
        other => return query::failure(&format!("invalid shared key type: {other}")),
    }
    let Some(data) = request.value("data") else {
        return query::failure("shared key data missing");
    };
    let secret = Secret::new(data.0.clone());
    let mut owners = Vec::new();
    for owner in request.list("owners").unwrap_or_default() {
        match owner.as_str() {
            Some(o) => owners.push(o.to_owned()),
            None => return query::failure("an owner is not text"),
        }
    }
    let id = request.str("id").map(str::to_owned);
    on_store(client, move |s| {
        let id = id.unwrap_or_else(|| format!("<shared {}>", s.shared_ids().len() + 1));
        answer(s.load_shared(&id, secret, &owners))
    })
    .await
}

/// `load-key`: a private key (`type` rsa, ecdsa, ed25519 or any), answered with its id.
async fn load_key(client: &Client, request: &Message) -> Message {
    let kind = request.str("type").unwrap_or_default().to_ascii_lowercase();
    if !matches!(
        kind.as_str(),
        "rsa" | "ecdsa" | "ed25519" | "any" | "private" | "pkcs8"
    ) {
        return query::failure(&format!("unsupported key type: {kind}"));
    }
    let Some(data) = request.value("data") else {
        return query::failure("key data missing");
    };
    let data = Secret::new(data.0.clone());
    on_store(client, move |s| match s.load_key(&data) {
        Ok(id) => success().with_value("id", id),
        Err(e) => query::failure(&format!("loading private key failed: {e}")),
    })
    .await
}

/// `load-cert`: an X.509 certificate, an end entity's (`flag = NONE`) or a CA's (`CA`).
async fn load_cert(client: &Client, request: &Message) -> Message {
    let kind = request.str("type").unwrap_or("X509");
    if !kind.eq_ignore_ascii_case("x509") {
        return query::failure(&format!("{kind} certificates are not supported yet"));
    }
    let ca = match request
        .str("flag")
        .unwrap_or("NONE")
        .to_ascii_uppercase()
        .as_str()
    {
        "NONE" => false,
        "CA" => true,
        other => return query::failure(&format!("{other} certificates are not supported yet")),
    };
    let Some(data) = request.value("data") else {
        return query::failure("certificate data missing");
    };
    let data = data.0.clone();
    on_store(client, move |s| {
        answer(
            s.load_cert(data, ca)
                .map_err(|e| format!("parsing certificate failed: {e}")),
        )
    })
    .await
}

/// Whether `list-certs`' `type`, `flag` and `subject` select a certificate.
fn cert_selected(cert: &HeldCert, request: &Message) -> bool {
    let any = |key: &str| {
        request
            .str(key)
            .is_none_or(|v| v.eq_ignore_ascii_case("any"))
    };
    let kind_ok = any("type")
        || request
            .str("type")
            .is_some_and(|t| t.eq_ignore_ascii_case("x509"));
    let flag = if cert.ca { "CA" } else { "NONE" };
    let flag_ok = any("flag")
        || request
            .str("flag")
            .is_some_and(|f| f.eq_ignore_ascii_case(flag));
    let subject_ok = match request.str("subject") {
        None => true,
        Some(wanted) => {
            let subject = Certificate::parse(&cert.der)
                .ok()
                .and_then(|c| dn::to_text(c.subject));
            match (dn::from_text(wanted), Certificate::parse(&cert.der)) {
                (Ok(wanted), Ok(c)) => dn::equal(&wanted, c.subject),
                _ => subject.as_deref() == Some(wanted),
            }
        }
    };
    kind_ok && flag_ok && subject_ok
}

/// A `list-cert` event, as strongSwan sends it for an X.509 certificate.
fn list_cert(cert: &HeldCert) -> Message {
    let mut m = Message::new()
        .with_value("type", "X509")
        .with_value("flag", if cert.ca { "CA" } else { "NONE" });
    if cert.has_key {
        m = m.with_value("has_privkey", "yes");
    }
    m.with_value("data", cert.der.clone())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const FILE: &str = "connections {
  gw {
    local_addrs = 192.0.2.1
    remote_addrs = 198.51.100.1
    proposals = aes256-sha256-x25519, aes128gcm16-prfsha256-ecp256
    local { auth = psk
      id = moon.example }
    remote { auth = psk
      id = sun.example }
    children { net { local_ts = 192.0.2.0/25, 192.0.2.128/25
        remote_ts = 203.0.113.0/24
        start_action = start } }
  }
}
secrets { ike-1 { id = sun.example
  secret = 0x00112233 } }
";

    /// The `load-conn` and `load-shared` requests swanctl makes of [`FILE`].
    fn as_swanctl_sends() -> (Message, Message) {
        let children = Message::new().with_section(
            "net",
            Message::new()
                .with_list("local_ts", ["192.0.2.0/25", "192.0.2.128/25"])
                .with_list("remote_ts", ["203.0.113.0/24"])
                .with_value("start_action", "start"),
        );
        let conn = Message::new()
            .with_list("local_addrs", ["192.0.2.1"])
            .with_list("remote_addrs", ["198.51.100.1"])
            .with_list(
                "proposals",
                ["aes256-sha256-x25519", "aes128gcm16-prfsha256-ecp256"],
            )
            .with_section(
                "local",
                Message::new()
                    .with_value("auth", "psk")
                    .with_value("id", "moon.example"),
            )
            .with_section(
                "remote",
                Message::new()
                    .with_value("auth", "psk")
                    .with_value("id", "sun.example"),
            )
            .with_section("children", children);
        let shared = Message::new()
            .with_value("id", "ike-1")
            .with_value("type", "IKE")
            .with_value("data", vec![0x00, 0x11, 0x22, 0x33])
            .with_list("owners", ["sun.example"]);
        (Message::new().with_section("gw", conn), shared)
    }

    #[test]
    fn a_connection_loaded_over_vici_equals_the_one_read_from_the_file() {
        let from_file = Store::from_str(Path::new("/etc/swanctl/swanctl.conf"), FILE).unwrap();
        let (conn, shared) = as_swanctl_sends();
        let mut store = Store::default();
        let owners: Vec<String> = vec!["sun.example".into()];
        let data = Secret::new(shared.value("data").unwrap().0.clone());
        store.load_shared("ike-1", data, &owners).unwrap();
        let (section, blobs) = single_section(&conn, "connection").unwrap();
        store.load_conn(&section, &blobs).unwrap();
        assert_eq!(store.connections(), from_file.connections());
        assert_eq!(store.start(), ["gw"]);
        assert_eq!(store.shared_ids(), from_file.shared_ids());

        // Another secret makes another connection: the PSK is part of it.
        let mut other = Store::default();
        let data = Secret::new(vec![9; 4]);
        other.load_shared("ike-1", data, &owners).unwrap();
        other.load_conn(&section, &blobs).unwrap();
        assert_ne!(other.connections(), from_file.connections());
    }

    #[test]
    fn a_wrong_connection_changes_nothing_and_says_where() {
        let mut store = Store::from_str(Path::new("swanctl.conf"), FILE).unwrap();
        store.take_changed();
        let before = store.connections();
        let (conn, _) = as_swanctl_sends();
        let mut wrong = conn.clone();
        let Item::Section(gw) = &mut wrong.items[0].1 else {
            unreachable!()
        };
        gw.push("rekey_tme", Item::Value("1h".into()));
        let (section, blobs) = single_section(&wrong, "connection").unwrap();
        let e = store.load_conn(&section, &blobs).unwrap_err();
        assert_eq!(config_error(&e), "connections.gw.rekey_tme: unknown key");
        assert_eq!(store.connections(), before);
        assert!(!store.take_changed());

        // Binary where text belongs.
        let mut binary = conn;
        let Item::Section(gw) = &mut binary.items[0].1 else {
            unreachable!()
        };
        gw.push("version", Item::Value(Value(vec![0xff, 0xfe])));
        let e = single_section(&binary, "connection").unwrap_err();
        assert_eq!(e, "connections.gw.version: value is not text");
        assert!(single_section(&Message::new(), "connection").is_err());
        assert!(store.unload_conn("nope").is_err());
        store.unload_conn("gw").unwrap();
        assert!(store.connections().is_empty() && store.take_changed());
    }
}
