//! strongswan.conf (strongswan.conf(5)): the `charon` settings that map onto something ikerd
//! does: the retransmission schedule, the DoS protection with cookies, the half-open timeout,
//! the NAT keepalive interval, where tunnel routes go, and the VICI socket
//! (`charon.plugins.vici.socket`).
//!
//! Everything else in the file is left alone, without a word: Debian's /etc/strongswan.conf
//! includes strongswan.d/ and its dozens of plugin settings, which are not ikerd's business.
//! A few `charon` keys that change what charon does and that ikerd does not do are named in
//! warnings. A key ikerd reads with a value it cannot use is an error naming file, line and
//! key, as in swanctl.conf. Keys in `charon-systemd` (the daemon Debian's strongswan package
//! starts) override those in `charon`, as that daemon reads them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ike::endpoint::Settings;
use ike::sa::window::Retransmit;

use super::ConfigError;
use super::settings;
use super::tree::{self, KeyValue, Problem, Section};
use super::values;

/// strongSwan's place for it, and ours.
pub const DEFAULT_PATH: &str = "/etc/strongswan.conf";

/// The sections read, in order: later ones override earlier ones.
const SECTIONS: [&str; 2] = ["charon", "charon-systemd"];

/// `charon` keys that change what charon does, which ikerd does not do (yet): setting one
/// is worth a warning, not an error (the file is shared with strongSwan's other programs).
const NOT_ACTED_ON: &[&str] = &[
    "port",
    "port_nat_t",
    "retry_initiate_interval",
    "block_threshold",
    "cookie_threshold_ip",
    "init_limit_half_open",
    "init_limit_job_load",
    "delete_rekeyed_delay",
    "make_before_break",
    "reqid_base",
    "reqid_max",
    "ignore_routing_tables",
    "install_virtual_ip",
    "keep_alive_dpd_margin",
    "prefer_configured_proposals",
    "close_ike_on_child_failure",
    "follow_redirects",
    "fragment_size",
    "max_packet",
];

/// What ikerd takes from strongswan.conf, with strongSwan's defaults where ikerd has no
/// reason to differ (the cookie threshold: see [`Settings::cookie_threshold`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Charon {
    /// `retransmit_timeout`, `retransmit_base`, `retransmit_tries`, `retransmit_jitter`,
    /// `retransmit_limit`.
    pub retransmit: Retransmit,
    /// `cookie_threshold`: half-open IKE SAs from which initiators must return a cookie.
    pub cookie_threshold: usize,
    /// `dos_protection`: without it, no cookies at all.
    pub dos_protection: bool,
    /// `half_open_timeout`, in seconds in the file.
    pub half_open_timeout: Duration,
    /// `keep_alive`: the NAT keepalive interval; zero sends none.
    pub keep_alive: Duration,
    /// `install_routes`: routes to tunnels' remote networks.
    pub install_routes: bool,
    /// `routing_table` (0: no routes) and `routing_table_prio`, the priority of its rule.
    pub routing_table: u32,
    pub routing_table_prio: u32,
    /// `plugins.vici.socket`: where VICI listens when `--vici` does not say (the path of a
    /// `unix://` URI).
    pub vici_socket: Option<PathBuf>,
    /// Keys set that ikerd does not act on, as `file:line: charon.key: ...`, for the log.
    pub warnings: Vec<String>,
}

impl Default for Charon {
    fn default() -> Self {
        let core = Settings::default();
        let routes = xfrm::RouteTable::default();
        Charon {
            retransmit: core.retransmit,
            cookie_threshold: core.cookie_threshold,
            dos_protection: true,
            half_open_timeout: core.half_open_timeout,
            keep_alive: core.keep_alive,
            install_routes: true,
            routing_table: routes.table,
            routing_table_prio: routes.rule_priority,
            vici_socket: None,
            warnings: Vec::new(),
        }
    }
}

impl Charon {
    /// The core's settings with these applied; `base` gives the rest (reqids, wall clock).
    pub fn apply(&self, base: &Settings) -> Settings {
        Settings {
            retransmit: self.retransmit,
            cookie_threshold: match self.dos_protection {
                true => self.cookie_threshold,
                false => usize::MAX,
            },
            half_open_timeout: self.half_open_timeout,
            keep_alive: self.keep_alive,
            ..base.clone()
        }
    }

    /// Where tunnel routes go; None for none (`install_routes = no` or `routing_table = 0`).
    pub fn routes(&self) -> Option<xfrm::RouteTable> {
        (self.install_routes && self.routing_table != 0).then_some(xfrm::RouteTable {
            table: self.routing_table,
            rule_priority: self.routing_table_prio,
        })
    }
}

/// Reads the strongswan.conf at `path` and what it includes; a file that does not exist gives
/// the defaults (ikerd needs none).
pub fn load(path: &Path) -> Result<Charon, ConfigError> {
    if !path.exists() {
        return Ok(Charon::default());
    }
    let raw = settings::parse_file(path).map_err(|p| ConfigError::from(vec![p]))?;
    interpret(&raw)
}

/// Interprets strongswan.conf text as if read from `path`.
pub fn load_str(path: &Path, text: &str) -> Result<Charon, ConfigError> {
    let raw = settings::parse_str(path, text).map_err(|p| ConfigError::from(vec![p]))?;
    interpret(&raw)
}

fn interpret(raw: &Section) -> Result<Charon, ConfigError> {
    let root = tree::resolve(raw)?;
    let mut charon = Charon::default();
    let mut problems = Vec::new();
    for name in SECTIONS {
        let Some(section) = root.section(name) else {
            continue;
        };
        for kv in &section.keys {
            // `key =` clears a value: the default stands.
            let Some(value) = kv.value.as_deref() else {
                continue;
            };
            if let Err(message) = read(&mut charon, kv, value) {
                let key = format!("{name}.{}", kv.key);
                problems.push(Problem::new(&kv.at, &key, message));
            }
        }
        let vici = section.section("plugins").and_then(|p| p.section("vici"));
        if let Some(kv) = vici.and_then(|v| v.get("socket")) {
            match kv.value.as_deref().map(unix_socket) {
                Some(Ok(path)) => charon.vici_socket = Some(path),
                Some(Err(message)) => {
                    let key = format!("{name}.plugins.vici.socket");
                    problems.push(Problem::new(&kv.at, &key, message));
                }
                None => charon.vici_socket = None,
            }
        }
    }
    match problems.is_empty() {
        true => Ok(charon),
        false => Err(ConfigError { problems }),
    }
}

/// One key of `charon`: read into `charon` if ikerd acts on it.
fn read(charon: &mut Charon, kv: &KeyValue, value: &str) -> Result<(), String> {
    let r = &mut charon.retransmit;
    match kv.key.as_str() {
        "retransmit_timeout" => r.timeout = seconds_f64(value)?,
        "retransmit_base" => r.base = base(value)?,
        "retransmit_tries" => r.tries = values::number_u32(value)?,
        // strongSwan caps it at 20 %; so does the schedule (window::MAX_JITTER).
        "retransmit_jitter" => r.jitter = values::number_u32(value)?,
        "retransmit_limit" => {
            let limit = values::number(value)?;
            r.limit = (limit != 0).then(|| Duration::from_secs(limit));
        }
        "cookie_threshold" => charon.cookie_threshold = values::number_u32(value)? as usize,
        "dos_protection" => charon.dos_protection = values::boolean(value)?,
        "half_open_timeout" => {
            charon.half_open_timeout = match values::number(value)? {
                0 => return Err("0 would drop every half-open IKE SA at once".into()),
                secs => Duration::from_secs(secs),
            }
        }
        "keep_alive" => charon.keep_alive = values::time(value)?,
        "install_routes" => charon.install_routes = values::boolean(value)?,
        "routing_table" => charon.routing_table = values::number_u32(value)?,
        "routing_table_prio" => charon.routing_table_prio = values::number_u32(value)?,
        key if NOT_ACTED_ON.contains(&key) => {
            let warning = format!("{}: charon.{key}: set, but ikerd does not act on it", kv.at);
            charon.warnings.push(warning);
        }
        _ => {}
    }
    Ok(())
}

/// The path of a `unix://` VICI URI; ikerd serves no TCP VICI.
fn unix_socket(uri: &str) -> Result<PathBuf, String> {
    match uri.strip_prefix("unix://") {
        Some(path) if path.starts_with('/') => Ok(PathBuf::from(path)),
        Some(_) => Err(format!("'{uri}': the socket path must be absolute")),
        None => Err(format!(
            "'{uri}': ikerd serves VICI on unix:// sockets only"
        )),
    }
}

/// strtod(3) for `retransmit_timeout`: positive seconds, fractions allowed.
fn seconds_f64(value: &str) -> Result<Duration, String> {
    let bad = || format!("'{value}' is not a positive number of seconds");
    let secs: f64 = value.trim().parse().map_err(|_| bad())?;
    // NaN compares false with everything: it is refused here too.
    if secs.is_nan() || secs <= 0.0 {
        return Err(bad());
    }
    Duration::try_from_secs_f64(secs).map_err(|_| bad())
}

/// `retransmit_base`: each wait is the last times this, so below 1 they would shrink.
fn base(value: &str) -> Result<f64, String> {
    match value.trim().parse::<f64>() {
        Ok(base) if base.is_finite() && base >= 1.0 => Ok(base),
        Ok(_) => Err(format!(
            "'{value}': the base must be a number of at least 1"
        )),
        Err(_) => Err(format!("'{value}' is not a number")),
    }
}
