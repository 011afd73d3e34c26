//! `connections.<conn>.children.<child>`: a Child SA template.

use ike::config::{Action, ChildConfig, Jitter};
use ike::kernel::{Lifetime, Mode};

use super::proposals::{self, Kind};
use super::swanctl::{Problems, child_config, if_id};
use super::tree::{KeyValue, Problem, Section};
use super::values;

/// Child keys strongSwan defines that ikerd does not implement yet.
const UNSUPPORTED: &[&str] = &[
    "sha256_96",
    "hostaccess",
    "policies_fwd_out",
    "inactivity",
    "interface",
    "set_mark_in",
    "set_mark_out",
    "label",
    "label_mode",
    "tfc_padding",
    "hw_offload",
    "copy_df",
    "copy_ecn",
    "copy_dscp",
    "ipcomp",
    "policies",
];

/// Keys accepted with the value that is what ikerd does: it installs policies, does no
/// IPComp and no hardware offload.
fn accepts(key: &str, value: &str) -> Option<bool> {
    Some(match key {
        "policies" => values::boolean(value) == Ok(true),
        "ipcomp" => values::boolean(value) == Ok(false),
        "hw_offload" => value.eq_ignore_ascii_case("no"),
        _ => return None,
    })
}

/// The `children` section of a connection: each child into `out`, the names of those to start
/// into `start`.
pub(super) fn children(
    section: &Section,
    path: &str,
    out: &mut Vec<ChildConfig>,
    start: &mut Vec<String>,
    problems: &mut Problems,
) {
    for kv in &section.keys {
        problems.push(Problem::new(
            &kv.at,
            &format!("{path}.{}", kv.key),
            "unknown key".into(),
        ));
    }
    for sub in &section.sections {
        if let Some((config, starts)) = child(sub, &format!("{path}.{}", sub.name), problems) {
            if starts {
                start.push(config.name.clone());
            }
            out.push(config);
        }
    }
}

/// One child; the flag says `start_action = start`.
fn child(section: &Section, path: &str, problems: &mut Problems) -> Option<(ChildConfig, bool)> {
    let before = problems.len();
    let mut config = child_config(&section.name);
    let mut starts = false;
    let (mut time, mut bytes, mut packets) = (Limit::default(), Limit::default(), Limit::default());
    let (mut esp, mut ah) = (None, None);
    for kv in &section.keys {
        let Some(value) = kv.value.as_deref() else {
            continue;
        };
        let result = match kv.key.as_str() {
            "local_ts" => selectors(value).map(|ts| config.local_ts = ts),
            "remote_ts" => selectors(value).map(|ts| config.remote_ts = ts),
            "esp_proposals" => {
                esp = Some(kv);
                Ok(())
            }
            "ah_proposals" => {
                ah = Some(kv);
                Ok(())
            }
            "mode" => mode(value).map(|m| config.mode = m),
            "replay_window" => values::number_u32(value).map(|w| config.replay_window = w),
            "start_action" => action(value).map(|a| {
                starts = a == Action::Start;
                config.start_action = a;
            }),
            "close_action" => action(value).map(|a| config.close_action = a),
            "dpd_action" => action(value).map(|a| config.dpd_action = a),
            "updown" => {
                config.updown = Some(value.to_owned());
                Ok(())
            }
            "rekey_time" => seconds(value).map(|t| time.rekey = Some(t)),
            "life_time" => seconds(value).map(|t| time.life = Some((kv, t))),
            "rand_time" => seconds(value).map(|t| time.rand = Some(t)),
            "rekey_bytes" => values::bytes(value).map(|b| bytes.rekey = Some(b)),
            "life_bytes" => values::bytes(value).map(|b| bytes.life = Some((kv, b))),
            "rand_bytes" => values::bytes(value).map(|b| bytes.rand = Some(b)),
            "rekey_packets" => values::number(value).map(|n| packets.rekey = Some(n)),
            "life_packets" => values::number(value).map(|n| packets.life = Some((kv, n))),
            "rand_packets" => values::number(value).map(|n| packets.rand = Some(n)),
            "if_id_in" => if_id(value).map(|id| config.xfrm.if_id_in = Some(id)),
            "mark_in" => mark(value).map(|m| config.xfrm.mark_in = m),
            "mark_out" => mark(value).map(|m| config.xfrm.mark_out = m),
            "mark_in_sa" => values::boolean(value).map(|b| config.xfrm.mark_in_sa = b),
            "reqid" => values::number_u32(value).map(|r| {
                // strongSwan: 0 means one picked for it.
                config.xfrm.reqid = (r != 0).then_some(r);
            }),
            "if_id_out" => if_id(value).map(|id| config.xfrm.if_id_out = Some(id)),
            "priority" => values::number_u32(value).map(|p| {
                // strongSwan: 0 means the computed priority.
                config.xfrm.priority = (p != 0).then_some(p);
            }),
            key => match accepts(key, value) {
                Some(true) => Ok(()),
                Some(false) => Err(format!("'{value}': not supported yet")),
                None if UNSUPPORTED.contains(&key) => Err("not supported yet".into()),
                None => Err("unknown key".into()),
            },
        };
        if let Err(message) = result {
            report(problems, kv, path, message);
        }
    }
    for sub in &section.sections {
        let key = format!("{path}.{}", sub.name);
        problems.push(Problem::new(&sub.at, &key, "unknown section".into()));
    }
    // ah_proposals makes it an AH Child SA; both at once is not something ikerd does.
    let (given, kind) = match (esp, ah) {
        (Some(_), Some(kv)) => {
            report(
                problems,
                kv,
                path,
                "AH together with ESP is not supported".into(),
            );
            (esp, Kind::Esp)
        }
        (None, Some(kv)) => {
            config.protocol = ike::kernel::IpsecProtocol::Ah;
            (Some(kv), Kind::Ah)
        }
        _ => (esp, Kind::Esp),
    };
    match proposals::parse_list(given.and_then(|kv| kv.value.as_deref()), kind) {
        Ok(list) => config.proposals = list,
        Err(message) => match given {
            Some(kv) => report(problems, kv, path, message),
            None => problems.push(Problem::new(&section.at, path, message)),
        },
    }
    // swanctl.conf(5): a Child SA is rekeyed after 1h by default, by volume never.
    let (soft_seconds, hard_seconds, seconds) = time.resolve(3600, "s", path, problems);
    let (soft_bytes, hard_bytes, bytes) = bytes.resolve(0, " bytes", path, problems);
    let (soft_packets, hard_packets, packets) = packets.resolve(0, " packets", path, problems);
    config.lifetime = Lifetime {
        soft_seconds,
        hard_seconds,
        soft_bytes,
        hard_bytes,
        soft_packets,
        hard_packets,
    };
    config.jitter = Jitter {
        seconds,
        bytes,
        packets,
    };
    (problems.len() == before).then_some((config, starts))
}

/// One of a Child SA's limits (time, bytes or packets) as given: `rekey_*`, `life_*` with the
/// key that gave it (for errors), `rand_*`.
#[derive(Default)]
struct Limit<'a> {
    rekey: Option<u64>,
    life: Option<(&'a KeyValue, u64)>,
    rand: Option<u64>,
}

impl Limit<'_> {
    /// The soft limit, the hard limit and the jitter, with strongSwan's defaults
    /// (vici_config.c `check_lifetimes`): without `rekey_*`, `life_*` / 1.1 or the default;
    /// without `life_*`, `rekey_*` x 1.1; without `rand_*`, the difference. Zero is no limit.
    /// A hard limit before the soft one is an error at the `life_*` key.
    fn resolve(
        &self,
        default: u64,
        unit: &str,
        path: &str,
        problems: &mut Problems,
    ) -> (u64, u64, u64) {
        let rekey = match (self.rekey, self.life) {
            (Some(rekey), _) => rekey,
            (None, Some((_, life))) => (life as f64 / 1.1) as u64,
            (None, None) => default,
        };
        let life = self
            .life
            .map_or((rekey as f64 * 1.1) as u64, |(_, life)| life);
        if let (Some((kv, _)), true) = (self.life, rekey != 0 && life != 0 && life < rekey) {
            let (rekey_key, life_key) = (kv.key.replace("life", "rekey"), &kv.key);
            let message =
                format!("{life_key} ({life}{unit}) ends before {rekey_key} ({rekey}{unit})");
            report(problems, kv, path, message);
        }
        let rand = self.rand.unwrap_or(life - life.min(rekey));
        (rekey, life, rand)
    }
}

/// A time in seconds.
fn seconds(value: &str) -> Result<u64, String> {
    values::time(value).map(|t| t.as_secs())
}

fn report(problems: &mut Problems, kv: &KeyValue, path: &str, message: String) {
    problems.push(Problem::new(&kv.at, &format!("{path}.{}", kv.key), message));
}

/// A selector list; `dynamic` alone is the empty list (the SA's own address).
fn selectors(value: &str) -> Result<Vec<ike::wire::ts::TrafficSelector>, String> {
    let items = values::list(value);
    let mut out = Vec::new();
    let mut dynamic = false;
    for item in &items {
        match values::traffic_selector(item).map_err(|e| format!("'{item}': {e}"))? {
            Some(ts) => out.push(ts),
            None => dynamic = true,
        }
    }
    if dynamic && !out.is_empty() {
        return Err("'dynamic' together with other selectors is not supported yet".into());
    }
    Ok(out)
}

/// A firewall mark, `value[/mask]` with the mask all ones when not given, in decimal or 0x
/// hex (swanctl.conf(5)); `0` is none. strongSwan's `%unique` and `%same` need marks picked per
/// Child SA, which ikerd does not do.
fn mark(value: &str) -> Result<Option<(u32, u32)>, String> {
    if value.starts_with('%') {
        return Err(format!("'{value}': not supported yet (only a fixed mark)"));
    }
    let number = |text: &str| -> Result<u32, String> {
        let text = text.trim();
        match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
            Some(hex) => {
                u32::from_str_radix(hex, 16).map_err(|_| format!("'{value}' is not a mark"))
            }
            None => text.parse().map_err(|_| format!("'{value}' is not a mark")),
        }
    };
    let (v, mask) = match value.split_once('/') {
        Some((v, mask)) => (number(v)?, number(mask)?),
        None => (number(value)?, u32::MAX),
    };
    Ok((v != 0 || mask != u32::MAX).then_some((v, mask)))
}

/// vici_config.c `parse_mode`.
fn mode(value: &str) -> Result<Mode, String> {
    match value.to_ascii_lowercase().as_str() {
        "tunnel" => Ok(Mode::Tunnel),
        "transport" => Ok(Mode::Transport),
        "transport_proxy" | "beet" | "drop" | "pass" => {
            Err(format!("'{value}': not supported yet"))
        }
        _ => Err(format!("'{value}' is not a mode (tunnel, transport, ...)")),
    }
}

/// vici_config.c `parse_action`, for start_action, close_action and dpd_action alike.
fn action(value: &str) -> Result<Action, String> {
    match value.to_ascii_lowercase().as_str() {
        "none" | "clear" => Ok(Action::None),
        "start" | "restart" => Ok(Action::Start),
        "trap" | "route" => Ok(Action::Trap),
        "trap|start" | "start|trap" => Err(format!("'{value}': not supported yet")),
        _ => Err(format!("'{value}' is not an action (none, trap, start)")),
    }
}
