//! The commands that report on the daemon: `version` and `stats`, with the fields, nesting and
//! value formats strongSwan's vici plugin answers with, so swanctl and other clients read them
//! unchanged (strongSwan `src/libcharon/plugins/vici/README.md`).

use super::host;
use super::wire::Message;
use crate::daemon::Stats;
use crate::daemon::counters::{self, Counters};
use crate::daemon::failures::Failure;

/// The name `version` reports in `daemon` (strongSwan reports its namespace, `charon`).
pub const DAEMON: &str = "ikerd";

/// `version`: daemon, version, then the system's uname(2) names, as strongSwan sends them (it
/// leaves the three out if uname fails).
pub fn version() -> Message {
    let mut reply = Message::new()
        .with_value("daemon", DAEMON)
        .with_value("version", env!("CARGO_PKG_VERSION"));
    if let Some(names) = host::uname() {
        reply = reply
            .with_value("sysname", names.sysname)
            .with_value("release", names.release)
            .with_value("machine", names.machine);
    }
    reply
}

/// `stats`: strongSwan's layout, filled with what ikerd has. The daemon is one thread running
/// one loop: one worker, busy answering this request at the priority strongSwan gives control
/// requests (medium); what waits for the loop is queued at that priority too. `mem` appears only
/// in leak-detective and Windows builds of strongSwan, so it is left out; `plugins` lists none.
pub fn stats(stats: &Stats) -> Message {
    let count = |n: usize| n.to_string();
    let priorities = |medium: usize| {
        Message::new()
            .with_value("critical", "0")
            .with_value("high", "0")
            .with_value("medium", count(medium))
            .with_value("low", "0")
    };
    let mut reply = Message::new()
        .with_section(
            "uptime",
            Message::new()
                .with_value("running", host::time_delta(stats.running.as_secs()))
                .with_value("since", host::local_time(stats.since)),
        )
        .with_section(
            "workers",
            Message::new()
                .with_value("total", "1")
                .with_value("idle", "0")
                .with_section("active", priorities(1)),
        )
        .with_section("queues", priorities(stats.queued))
        .with_value("scheduled", count(stats.scheduled))
        .with_section(
            "ikesas",
            Message::new()
                .with_value("total", count(stats.ike_sas))
                .with_value("half-open", count(stats.half_open)),
        )
        .with_list("plugins", Vec::<String>::new());
    if let Some(mi) = host::mallinfo() {
        reply = reply.with_section(
            "mallinfo",
            Message::new()
                .with_value("sbrk", count(mi.sbrk))
                .with_value("mmap", count(mi.mmap))
                .with_value("used", count(mi.used))
                .with_value("free", count(mi.free)),
        );
    }
    reply
}

/// `ikerd-failures`, ikerd's own command: a section per connection with its last failure:
/// `kind`, `reason`, `time` (seconds since the Unix epoch) and, for a Child SA, `child`.
pub fn failures(list: &[Failure]) -> Message {
    let mut reply = Message::new();
    for f in list {
        let time =
            f.at.duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
        let mut m = Message::new()
            .with_value("kind", f.kind)
            .with_value("reason", f.reason.as_str())
            .with_value("time", time.to_string());
        if let Some(child) = &f.child {
            m = m.with_value("child", child.as_str());
        }
        reply = reply.with_section(f.connection.as_str(), m);
    }
    reply
}

/// A failed command's answer, as strongSwan's commands give it.
pub fn failure(errmsg: &str) -> Message {
    Message::new()
        .with_value("success", "no")
        .with_value("errmsg", errmsg)
}

/// A boolean as strongSwan's `get_bool` reads one.
pub fn boolean(request: &Message, key: &str) -> bool {
    request
        .str(key)
        .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "yes" | "true" | "1" | "on"))
}

/// `get-counters`: the counters of connection `name`, or global ones without it, or every
/// connection's with `all`, in a `counters` section of a section each (`""` for the global).
pub fn get_counters(counters: &Counters, request: &Message) -> Message {
    let set = |name: &str, values: counters::Set| {
        let mut section = Message::new();
        for (key, value) in counters::NAMES.iter().zip(values) {
            section = section.with_value(*key, value.to_string());
        }
        (name.to_owned(), section)
    };
    let mut sections = Vec::new();
    let mut errmsg = None;
    if boolean(request, "all") {
        for name in counters.connections() {
            if let Some(values) = counters.get(Some(&name)) {
                sections.push(set(&name, values));
            }
        }
    } else {
        let name = request.str("name");
        match counters.get(name) {
            Some(values) => sections.push(set(name.unwrap_or(""), values)),
            None => errmsg = Some("no counters found for this connection"),
        }
    }
    let mut all = Message::new();
    for (name, section) in sections {
        all = all.with_section(name, section);
    }
    let reply = Message::new().with_section("counters", all);
    match errmsg {
        None => reply.with_value("success", "yes"),
        Some(e) => reply.with_value("success", "no").with_value("errmsg", e),
    }
}

/// `reset-counters`: those of connection `name`, the global ones, or all with `all`.
pub fn reset_counters(counters: &mut Counters, request: &Message) -> Message {
    if boolean(request, "all") {
        counters.reset_all();
    } else {
        counters.reset(request.str("name"));
    }
    Message::new().with_value("success", "yes")
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::vici::wire::Item;

    #[test]
    fn version_fields_in_strongswans_order() {
        let names: Vec<String> = version().items.into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            ["daemon", "version", "sysname", "release", "machine"]
        );
        assert_eq!(version().str("sysname"), Some("Linux"));
    }

    #[test]
    fn failures_are_a_section_per_connection() {
        let at = std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let m = failures(&[Failure {
            connection: "gw".into(),
            child: Some("net".into()),
            kind: "child",
            reason: "peer refused the Child SA: TS_UNACCEPTABLE".into(),
            at,
        }]);
        for (path, value) in [
            ("gw.kind", "child"),
            ("gw.reason", "peer refused the Child SA: TS_UNACCEPTABLE"),
            ("gw.time", "1700000000"),
            ("gw.child", "net"),
        ] {
            assert_eq!(m.find_str(path), Some(value), "{path}");
        }
    }

    #[test]
    fn stats_layout_is_strongswans() {
        let stats = stats(&Stats {
            running: Duration::from_secs(3 * 3600),
            since: SystemTime::now(),
            ike_sas: 3,
            half_open: 1,
            queued: 2,
            scheduled: 1,
        });
        let names: Vec<&str> = stats.items.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "uptime",
                "workers",
                "queues",
                "scheduled",
                "ikesas",
                "plugins",
                "mallinfo"
            ]
        );
        for (path, value) in [
            ("uptime.running", "3 hours"),
            ("workers.total", "1"),
            ("workers.idle", "0"),
            ("workers.active.critical", "0"),
            ("workers.active.medium", "1"),
            ("queues.medium", "2"),
            ("queues.low", "0"),
            ("scheduled", "1"),
            ("ikesas.total", "3"),
            ("ikesas.half-open", "1"),
        ] {
            assert_eq!(stats.find_str(path), Some(value), "{path}");
        }
        assert!(matches!(stats.item("plugins"), Some(Item::List(l)) if l.is_empty()));
        let used: usize = stats.find_str("mallinfo.used").unwrap().parse().unwrap();
        assert!(used > 0);
    }
}
