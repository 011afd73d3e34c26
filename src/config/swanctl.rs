//! swanctl.conf(5) semantics for what the core can do today: `connections` (with their
//! `local`/`remote` rounds and `children`) and `secrets`, into the core's [`Connection`]s.
//!
//! Every key strongSwan defines that ikerd does not implement yet is reported as "not
//! supported yet", every other unknown key as "unknown key": nothing is silently ignored. A few
//! keys are accepted when their value is what ikerd does anyway (`mobike = no`, ...).
//! Defaults are strongSwan's (swanctl.conf(5), vici_config.c of 5.9.8).

use std::net::IpAddr;
use std::time::Duration;

use ike::auth::x509::{self, Certificate};
use ike::config::{Auth, ChildConfig, Connection, Pubkey, SendCert, Unique};
use ike::kernel::{IpsecProtocol, Lifetime, Mode};
use ike::proposal::Preference;
use ike::wire::id;

use super::credentials::Credentials;
use super::identity::{self, Identity};
use super::proposals::{self, Kind};
use super::secrets::{self, Secrets};
use super::tree::{KeyValue, Location, Problem, Section};
use super::values;

/// Everything swanctl.conf says that the daemon acts on.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub connections: Vec<Connection>,
    /// Connections with a child whose `start_action` is `start`: initiate them once loaded.
    pub start: Vec<String>,
    /// The IKE pre-shared keys, for lookups by identity at run time.
    pub secrets: Secrets,
    /// What the configuration asks for that ikerd does differently, for the log: where and
    /// what (not errors: the tunnel works, without the feature).
    pub notes: Vec<Problem>,
}

/// Problems found so far; the walk goes on after each so the user sees them all.
pub(super) type Problems = Vec<Problem>;

fn report(problems: &mut Problems, kv: &KeyValue, path: &str, message: impl Into<String>) {
    let key = format!("{path}.{}", kv.key);
    problems.push(Problem::new(&kv.at, &key, message.into()));
}

/// Interprets a resolved settings tree.
pub fn interpret(root: &Section, creds: &Credentials, problems: &mut Problems) -> Loaded {
    for kv in &root.keys {
        problems.push(Problem::new(&kv.at, &kv.key, "unknown key".into()));
    }
    let secrets = match root.section("secrets") {
        Some(section) => secrets::parse(section, problems),
        None => Secrets::default(),
    };
    let mut out = Loaded::default();
    for section in &root.sections {
        match section.name.as_str() {
            "connections" => {
                for kv in &section.keys {
                    report(problems, kv, "connections", "unknown key");
                }
                let loaded = connections(&section.sections, &secrets, creds, problems);
                out.connections.extend(loaded.connections);
                out.start.extend(loaded.start);
                out.notes.extend(loaded.notes);
            }
            "secrets" => {}
            // Empty sections are harmless: Debian's default swanctl.conf has them.
            "pools" | "authorities" => {
                for kv in &section.keys {
                    report(problems, kv, &section.name, "unknown key");
                }
                for sub in &section.sections {
                    let key = format!("{}.{}", section.name, sub.name);
                    problems.push(Problem::new(&sub.at, &key, "not supported yet".into()));
                }
            }
            other => problems.push(Problem::new(&section.at, other, "unknown section".into())),
        }
    }
    out.secrets = secrets;
    out
}

/// Interprets `connections` subsections (resolved) with the given secrets and credentials:
/// the connections that are right, in order; `secrets` is left empty.
pub fn connections(
    sections: &[Section],
    secrets: &Secrets,
    creds: &Credentials,
    problems: &mut Vec<Problem>,
) -> Loaded {
    let mut out = Loaded::default();
    for conn in sections {
        out.notes.extend(conn_notes(conn));
        if let Some((conn, start)) = connection(conn, secrets, creds, problems) {
            if !start.is_empty() {
                out.start.push(conn.name.clone());
            }
            out.connections.push(conn);
        }
    }
    out
}

/// Keys whose value asks for something ikerd does not do yet but whose absence the peer
/// copes with, as with a peer that lacks it: MOBIKE and IKE fragmentation are announced to
/// the peer only when both sides want them, and ikerd does not announce them. Noted in the
/// log rather than refused: strongSwan's defaults are these values.
fn conn_notes(section: &Section) -> Vec<Problem> {
    let path = format!("connections.{}", section.name);
    let mut notes = Vec::new();
    for kv in &section.keys {
        let value = kv.value.as_deref().unwrap_or_default();
        let note = match kv.key.as_str() {
            "mobike" if values::boolean(value) == Ok(true) => {
                "MOBIKE is not supported yet: not offered to the peer, and the IKE SA does not \
                 follow address changes of ours"
            }
            "fragmentation" if matches!(value, "yes" | "accept") => {
                "IKE fragmentation is not supported yet: not offered to the peer, messages go \
                 unfragmented"
            }
            _ => continue,
        };
        notes.push(Problem::new(
            &kv.at,
            &format!("{path}.{}", kv.key),
            note.into(),
        ));
    }
    notes
}

/// Connection keys strongSwan defines that ikerd does not implement yet.
const CONN_UNSUPPORTED: &[&str] = &[
    "vips",
    "aggressive",
    "pull",
    "dscp",
    "childless",
    "ppk_id",
    "ppk_required",
    "pools",
    "mediation",
    "mediated_by",
    "mediation_peer",
];

/// Keys accepted only with the value that describes what ikerd does (and otherwise "not
/// supported yet"): ikerd does no MOBIKE and no IKE fragmentation.
fn conn_accepts(key: &str, value: &str) -> Option<bool> {
    Some(match key {
        "mobike" => values::boolean(value).is_ok(),
        "fragmentation" => matches!(value, "yes" | "accept" | "no"),
        // swanctl.conf(5): dpd_timeout applies to IKEv1 only; IKEv2 ignores it.
        "dpd_timeout" => values::time(value).is_ok(),
        _ => return None,
    })
}

/// What the keys of `connections.<name>` say.
struct ConnKeys {
    local_addr: IpAddr,
    remote_addr: IpAddr,
    proposals: Option<String>,
    dpd_delay: Duration,
    rekey_time: Duration,
    reauth_time: Duration,
    over_time: Option<Duration>,
    rand_time: Option<Duration>,
    keyingtries: u32,
    encap: bool,
    unique: Unique,
    if_id_in: Option<u32>,
    if_id_out: Option<u32>,
    send_cert: SendCert,
    send_certreq: bool,
}

fn conn_keys(section: &Section, path: &str, problems: &mut Problems) -> ConnKeys {
    let mut keys = ConnKeys {
        local_addr: IpAddr::from([0, 0, 0, 0]),
        remote_addr: IpAddr::from([0, 0, 0, 0]),
        proposals: None,
        dpd_delay: Duration::ZERO,
        // swanctl.conf(5): rekey_time defaults to 4h, send_cert to ifasked, send_certreq
        // to yes.
        rekey_time: Duration::from_secs(4 * 3600),
        reauth_time: Duration::ZERO,
        over_time: None,
        rand_time: None,
        keyingtries: 1,
        encap: false,
        unique: Unique::No,
        if_id_in: None,
        if_id_out: None,
        send_cert: SendCert::IfAsked,
        send_certreq: true,
    };
    for kv in &section.keys {
        let Some(value) = kv.value.as_deref() else {
            continue;
        };
        let result = match kv.key.as_str() {
            "version" => version(value),
            "local_addrs" => values::single_address(value).map(|a| keys.local_addr = a),
            "remote_addrs" => values::single_address(value).map(|a| keys.remote_addr = a),
            "local_port" | "remote_port" => port(value),
            "proposals" => {
                keys.proposals = Some(value.to_string());
                Ok(())
            }
            "dpd_delay" => values::time(value).map(|t| keys.dpd_delay = t),
            "rekey_time" => values::time(value).map(|t| keys.rekey_time = t),
            "reauth_time" => values::time(value).map(|t| keys.reauth_time = t),
            "over_time" => values::time(value).map(|t| keys.over_time = Some(t)),
            "rand_time" => values::time(value).map(|t| keys.rand_time = Some(t)),
            "encap" => values::boolean(value).map(|b| keys.encap = b),
            "unique" => unique(value).map(|u| keys.unique = u),
            "if_id_in" => if_id(value).map(|id| keys.if_id_in = Some(id)),
            "if_id_out" => if_id(value).map(|id| keys.if_id_out = Some(id)),
            "keyingtries" => value
                .parse()
                .map(|n| keys.keyingtries = n)
                .map_err(|_| format!("'{value}': expected a number of tries (0: for ever)")),
            "send_cert" => send_cert(value).map(|s| keys.send_cert = s),
            "send_certreq" => values::boolean(value).map(|b| keys.send_certreq = b),
            key => match conn_accepts(key, value) {
                Some(true) => Ok(()),
                Some(false) => Err(format!("'{value}': not supported yet")),
                None if CONN_UNSUPPORTED.contains(&key) => Err("not supported yet".into()),
                None => Err("unknown key".into()),
            },
        };
        if let Err(message) = result {
            report(problems, kv, path, message);
        }
    }
    keys
}

/// `over_time`, by default a tenth of the longer of `rekey_time` and `reauth_time`
/// (vici_config.c).
fn over_time(keys: &ConnKeys) -> Duration {
    keys.over_time
        .unwrap_or(keys.rekey_time.max(keys.reauth_time) / 10)
}

/// `rand_time`, by default `over_time`, but at most half the shorter of the intervals set
/// (vici_config.c).
fn rand_time(keys: &ConnKeys) -> Duration {
    keys.rand_time.unwrap_or_else(|| {
        let (rekey, reauth) = (keys.rekey_time, keys.reauth_time);
        let base = match (rekey.is_zero(), reauth.is_zero()) {
            (false, false) => rekey.min(reauth),
            _ => rekey.max(reauth),
        };
        over_time(keys).min(base / 2)
    })
}

/// swanctl.conf(5) `unique`.
fn unique(value: &str) -> Result<Unique, String> {
    match value {
        "never" => Ok(Unique::Never),
        "no" => Ok(Unique::No),
        "replace" => Ok(Unique::Replace),
        "keep" => Ok(Unique::Keep),
        _ => Err(format!("'{value}': expected never, no, replace or keep")),
    }
}

/// swanctl.conf(5) `send_cert`.
fn send_cert(value: &str) -> Result<SendCert, String> {
    match value {
        "always" => Ok(SendCert::Always),
        "ifasked" => Ok(SendCert::IfAsked),
        "never" => Ok(SendCert::Never),
        _ => Err(format!("'{value}': expected always, ifasked or never")),
    }
}

fn version(value: &str) -> Result<(), String> {
    match values::number(value)? {
        // 0 means "any": IKEv2 is the one we speak.
        0 | 2 => Ok(()),
        1 => Err("IKEv1 is not supported".into()),
        n => Err(format!("{n} is not an IKE version (0, 1 or 2)")),
    }
}

fn port(value: &str) -> Result<(), String> {
    match values::number(value)? {
        500 => Ok(()),
        n => Err(format!("port {n}: only 500 is supported yet")),
    }
}

/// How a round authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Psk,
    Pubkey,
}

/// One `local<suffix>` or `remote<suffix>` round.
struct Round {
    /// The `id` as written, and parsed; None when not set.
    id: Option<(String, Identity)>,
    /// swanctl.conf(5): `auth` defaults to `pubkey`.
    method: Method,
    /// `certs` (ours) and `cacerts` (the peer's), as written.
    certs: Vec<(KeyValue, String)>,
    cacerts: Vec<(KeyValue, String)>,
    /// Where the section is, and its dotted path, for messages.
    at: Location,
    path: String,
}

/// Auth round keys strongSwan defines that ikerd does not implement yet.
const ROUND_UNSUPPORTED: &[&str] = &[
    "round",
    "pubkeys",
    "eap_id",
    "aaa_id",
    "xauth_id",
    "groups",
    "cert_policy",
    "ca_id",
    "revocation",
];

fn round(section: &Section, path: &str, problems: &mut Problems) -> Round {
    let mut round = Round {
        id: None,
        method: Method::Pubkey,
        certs: Vec::new(),
        cacerts: Vec::new(),
        at: section.at.clone(),
        path: path.to_string(),
    };
    for kv in &section.keys {
        let Some(value) = kv.value.as_deref() else {
            continue;
        };
        let list = || {
            values::list(value)
                .into_iter()
                .map(|name| (kv.clone(), name.to_string()))
        };
        let result = match kv.key.as_str() {
            "auth" => auth(value).map(|method| round.method = method),
            "id" => identity::parse(value).map(|id| round.id = Some((value.to_string(), id))),
            "certs" => {
                round.certs.extend(list());
                Ok(())
            }
            "cacerts" => {
                round.cacerts.extend(list());
                Ok(())
            }
            key if ROUND_UNSUPPORTED.contains(&key) => Err("not supported yet".into()),
            key if key.starts_with("cert") || key.starts_with("cacert") => {
                Err("not supported yet".into())
            }
            _ => Err("unknown key".into()),
        };
        if let Err(message) = result {
            report(problems, kv, path, message);
        }
    }
    for sub in &section.sections {
        let key = format!("{path}.{}", sub.name);
        let message = match sub.name.starts_with("cert") || sub.name.starts_with("cacert") {
            true => "not supported yet",
            false => "unknown section",
        };
        problems.push(Problem::new(&sub.at, &key, message.into()));
    }
    round
}

/// vici_config.c `parse_auth`: the methods strongSwan knows, of which we do PSK and public
/// keys of any type (`pubkey`, `rsa`, `ecdsa`) with the signature scheme negotiated.
fn auth(value: &str) -> Result<Method, String> {
    let lower = value.to_ascii_lowercase();
    match lower.as_str() {
        "psk" => return Ok(Method::Psk),
        "pubkey" | "rsa" | "ecdsa" => return Ok(Method::Pubkey),
        _ => {}
    }
    let known = ["ike:", "pubkey", "rsa", "ecdsa", "bliss"]
        .iter()
        .any(|p| value.starts_with(p))
        || lower.starts_with("xauth")
        || lower.starts_with("eap");
    match known {
        true => Err(format!(
            "'{value}': not supported yet (only psk and pubkey)"
        )),
        false => Err(format!("'{value}' is not an authentication method")),
    }
}

/// `connections.<name>`: the connection and the children to start.
fn connection(
    section: &Section,
    secrets: &Secrets,
    creds: &Credentials,
    problems: &mut Problems,
) -> Option<(Connection, Vec<String>)> {
    let path = format!("connections.{}", section.name);
    let before = problems.len();
    let keys = conn_keys(section, &path, problems);
    let proposals = proposals::parse_list(keys.proposals.as_deref(), Kind::Ike);
    if let (Err(message), Some(kv)) = (&proposals, section.get("proposals")) {
        report(problems, kv, &path, message.clone());
    }
    let (mut local, mut remote) = (None, None);
    let (mut children, mut start) = (Vec::new(), Vec::new());
    for sub in &section.sections {
        let sub_path = format!("{path}.{}", sub.name);
        let lower = sub.name.to_ascii_lowercase();
        let slot = if lower == "children" {
            super::children::children(sub, &sub_path, &mut children, &mut start, problems);
            continue;
        } else if lower.starts_with("local") {
            &mut local
        } else if lower.starts_with("remote") {
            &mut remote
        } else {
            problems.push(Problem::new(&sub.at, &sub_path, "unknown section".into()));
            continue;
        };
        let parsed = round(sub, &sub_path, problems);
        if slot.is_some() {
            let message = "several authentication rounds are not supported yet";
            problems.push(Problem::new(&sub.at, &sub_path, message.into()));
        }
        *slot = Some(parsed);
    }
    for (side, round) in [("local", &local), ("remote", &remote)] {
        if round.is_none() {
            let message = format!(
                "no {side} section: give it at least auth (psk, or pubkey with certificates)"
            );
            problems.push(Problem::new(&section.at, &path, message));
        }
    }
    let (Some(local), Some(remote)) = (local, remote) else {
        return None;
    };
    for round in [&local, &remote] {
        if round.method == Method::Psk {
            for (kv, _) in round.certs.iter().chain(&round.cacerts) {
                report(problems, kv, &round.path, "only used with auth = pubkey");
            }
        }
    }
    let ours = (local.method == Method::Pubkey)
        .then(|| local_pubkey(&local, creds, problems))
        .flatten();
    let theirs = (remote.method == Method::Pubkey)
        .then(|| remote_pubkey(&remote, creds, problems))
        .flatten();
    // strongSwan's default identity with a certificate is its subject.
    let cert_id = ours.as_ref().and_then(|p| p.certs.first()).and_then(|der| {
        Certificate::parse(der)
            .ok()
            .map(|c| id::Repr::der_dn(c.subject))
    });
    let (local_id, remote_id) =
        identities(section, &path, &keys, &local, &remote, cert_id, problems)?;
    let Ok(proposals) = proposals else {
        return None;
    };
    let psk = if local.method == Method::Psk || remote.method == Method::Psk {
        let me = Identity::Id(local_id.clone());
        let other = remote_id.clone().map_or(Identity::Any, Identity::Id);
        let Some(key) = secrets.ike_psk(&me, &other) else {
            let peer = remote_id
                .as_ref()
                .map_or("%any".to_string(), |r| format!("{r:?}"));
            let message =
                format!("no secrets.ike<suffix> section holds a key for {local_id:?} and {peer}");
            problems.push(Problem::new(&section.at, &path, message));
            return None;
        };
        Some(key.secret.clone())
    } else {
        None
    };
    let side_auth = |method, pubkey: Option<Pubkey>| match method {
        Method::Psk => psk.clone().map(Auth::Psk),
        Method::Pubkey => pubkey.map(Auth::Pubkey),
    };
    let (Some(local_auth), Some(remote_auth)) = (
        side_auth(local.method, ours),
        side_auth(remote.method, theirs),
    ) else {
        return None;
    };
    if problems.len() > before {
        return None;
    }
    // The connection's interface ids are its children's unless they have their own.
    for child in &mut children {
        child.xfrm.if_id_in = child.xfrm.if_id_in.or(keys.if_id_in);
        child.xfrm.if_id_out = child.xfrm.if_id_out.or(keys.if_id_out);
    }
    let connection = Connection {
        name: section.name.clone(),
        local_addr: keys.local_addr,
        remote_addr: keys.remote_addr,
        proposals,
        // strongSwan prefers the initiator's order unless strongswan.conf says otherwise.
        preference: Preference::Initiator,
        local_id,
        remote_id,
        local_auth,
        remote_auth,
        children,
        dpd_delay: keys.dpd_delay,
        rekey_time: keys.rekey_time,
        reauth_time: keys.reauth_time,
        over_time: over_time(&keys),
        rand_time: rand_time(&keys),
        keyingtries: keys.keyingtries,
        encap: keys.encap,
        unique: keys.unique,
        send_cert: keys.send_cert,
        send_certreq: keys.send_certreq,
    };
    Some((connection, start))
}

/// Our identity (when `local.id` is unset: our certificate's subject, else the local address,
/// as strongSwan does) and the peer's (None for `%any`).
fn identities(
    section: &Section,
    path: &str,
    keys: &ConnKeys,
    local: &Round,
    remote: &Round,
    cert_id: Option<id::Repr>,
    problems: &mut Problems,
) -> Option<(id::Repr, Option<id::Repr>)> {
    let before = problems.len();
    let mut check = |side: &str, round: &Round| {
        let (text, id) = round.id.as_ref()?;
        if let Err(message) = identity::check_usable(text, id) {
            let kv = section.sections.iter().find_map(|s| {
                let own = s.name.to_ascii_lowercase().starts_with(side);
                own.then(|| s.get("id")).flatten()
            });
            let at = kv.map_or(&section.at, |kv| &kv.at);
            problems.push(Problem::new(at, &format!("{path}.{side}.id"), message));
        }
        match id {
            Identity::Id(repr) => Some(repr.clone()),
            _ => None,
        }
    };
    let local_id = check("local", local);
    let remote_id = check("remote", remote);
    let local_id = match local_id.or(cert_id) {
        Some(id) => id,
        None if !keys.local_addr.is_unspecified() => id::Repr::addr(keys.local_addr),
        None => {
            let message = "local.id is needed when local_addrs is %any (taking the ID from the address IKE runs over is not supported yet)";
            problems.push(Problem::new(&section.at, path, message.into()));
            return None;
        }
    };
    (problems.len() == before).then_some((local_id, remote_id))
}

/// `local { auth = pubkey certs = ... }`: the certificates (from `x509/`), the intermediate
/// CAs of `x509ca/` above them, and the private key of the first (whichever key file holds
/// its public key).
fn local_pubkey(round: &Round, creds: &Credentials, problems: &mut Problems) -> Option<Pubkey> {
    let mut certs = Vec::new();
    for (kv, name) in &round.certs {
        match creds.cert(name) {
            Ok(der) => certs.push(der),
            Err(message) => report(problems, kv, &round.path, message),
        }
    }
    for (kv, _) in &round.cacerts {
        report(problems, kv, &round.path, "not supported yet on our side");
    }
    let Some(first) = certs.first() else {
        if round.certs.is_empty() {
            let message = "auth = pubkey needs certs (a certificate of x509/)";
            problems.push(Problem::new(&round.at, &round.path, message.into()));
        }
        return None;
    };
    // The intermediate CAs of x509ca/ go along, as strongSwan sends them.
    let cas: Vec<Vec<u8>> = creds.cacerts.iter().map(|(_, der)| der.clone()).collect();
    let last = certs.last().cloned().unwrap_or_default();
    let more = x509::intermediates(&last, &cas);
    let key = creds.key_for(first);
    for ca in more {
        if !certs.contains(&ca) {
            certs.push(ca);
        }
    }
    match key {
        Ok(key) => Some(Pubkey {
            certs,
            key: Some(key),
            cacerts: Vec::new(),
        }),
        Err(message) => {
            let (kv, _) = &round.certs[0];
            report(problems, kv, &round.path, message);
            None
        }
    }
}

/// `remote { auth = pubkey cacerts = ... }`: the CAs the peer's certificate must chain to,
/// every certificate of `x509ca/` when `cacerts` is not set.
fn remote_pubkey(round: &Round, creds: &Credentials, problems: &mut Problems) -> Option<Pubkey> {
    for (kv, _) in &round.certs {
        report(
            problems,
            kv,
            &round.path,
            "not supported yet on the peer's side",
        );
    }
    let mut cacerts = Vec::new();
    for (kv, name) in &round.cacerts {
        match creds.cacert(name) {
            Ok(der) => cacerts.push(der),
            Err(message) => report(problems, kv, &round.path, message),
        }
    }
    if round.cacerts.is_empty() {
        cacerts = creds.cacerts.iter().map(|(_, der)| der.clone()).collect();
        if cacerts.is_empty() {
            let message = "auth = pubkey needs a CA: cacerts, or a certificate in x509ca/";
            problems.push(Problem::new(&round.at, &round.path, message.into()));
        }
    }
    (!cacerts.is_empty() && round.certs.is_empty()).then(|| Pubkey::remote(cacerts))
}

/// The ESP child config's fixed parts; `children.rs` fills in the rest.
pub(super) fn child_config(name: &str) -> ChildConfig {
    ChildConfig {
        name: name.to_string(),
        local_ts: Vec::new(),
        remote_ts: Vec::new(),
        proposals: Vec::new(),
        protocol: IpsecProtocol::Esp,
        mode: Mode::Tunnel,
        lifetime: Lifetime::default(),
        jitter: Default::default(),
        // swanctl.conf(5): replay_window defaults to 32.
        replay_window: 32,
        start_action: Default::default(),
        close_action: Default::default(),
        dpd_action: Default::default(),
        updown: None,
        xfrm: Default::default(),
    }
}

/// An XFRM interface id (`if_id_in`, `if_id_out`): a number, decimal or 0x hex, not zero.
/// strongSwan's `%unique` (a fresh id per Child SA) needs an interface made per Child SA,
/// which ikerd does not do.
pub(super) fn if_id(value: &str) -> Result<u32, String> {
    if value.starts_with('%') {
        return Err(format!(
            "'{value}': not supported yet (only a fixed interface id)"
        ));
    }
    let id = match value
        .strip_prefix("0x")
        .or_else(|| value.strip_prefix("0X"))
    {
        Some(hex) => u32::from_str_radix(hex, 16).map_err(|_| format!("'{value}' is not a number")),
        None => values::number_u32(value),
    }?;
    match id {
        0 => Err("0 is no interface id (it means none)".into()),
        id => Ok(id),
    }
}
