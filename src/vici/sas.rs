//! IKE and Child SAs as VICI messages: the `list-sa` events of `list-sas`, the SA events
//! (`ike-updown`, `ike-rekey`, `child-updown`, `child-rekey`) and the log events (`log`,
//! `control-log`), with the keys, nesting and value formats of strongSwan's vici plugin
//! (`src/libcharon/plugins/vici/README.md`), so swanctl and other clients read them unchanged.

use ike::kernel::{IpsecProtocol, Mode};
use ike::wire::sa::Proposal;
use ike::wire::ts::TrafficSelector;
use ike::wire::{EsnId, IkeSpi, KeId, TransformType};

use super::wire::Message;
use crate::cli::decode::proposal::{encr_name, integ_name, ke_name, prf_name};
use crate::cli::decode::selector;
use crate::daemon::control::{ChildView, IkeView, LogLine, News};

/// A registry value by strongSwan's name, or its number when the name is unknown.
fn named(name: Option<&str>, id: u16) -> String {
    name.map_or_else(|| id.to_string(), str::to_owned)
}

fn spi_hex(spi: IkeSpi) -> String {
    spi.0.iter().map(|b| format!("{b:02x}")).collect()
}

fn yes(message: Message, key: &str, condition: bool) -> Message {
    if condition {
        message.with_value(key, "yes")
    } else {
        message
    }
}

/// The keys of an IKE SA (without its `child-sas`), in strongSwan's order.
pub fn ike_sa(v: &IkeView) -> Message {
    let mut m = Message::new()
        .with_value("uniqueid", v.uniqueid.to_string())
        .with_value("version", "2")
        .with_value("state", v.state)
        .with_value("local-host", v.local.ip().to_string())
        .with_value("local-port", v.local.port().to_string())
        .with_value("local-id", v.local_id.as_str())
        .with_value("remote-host", v.remote.ip().to_string())
        .with_value("remote-port", v.remote.port().to_string())
        .with_value("remote-id", v.remote_id.as_str());
    m = yes(m, "initiator", v.initiator)
        .with_value("initiator-spi", spi_hex(v.spi_i))
        .with_value("responder-spi", spi_hex(v.spi_r));
    m = yes(m, "nat-local", v.nat.local);
    m = yes(m, "nat-remote", v.nat.remote);
    m = yes(m, "nat-any", v.nat.detected());
    if let Some((suite, group)) = v.algorithms {
        let encr = suite.encr.id().0;
        m = m.with_value("encr-alg", named(encr_name(encr), encr));
        if let Some(bits) = suite.encr.key_bits() {
            m = m.with_value("encr-keysize", bits.to_string());
        }
        if let Some(integ) = suite.integ {
            let id = integ.id().0;
            m = m.with_value("integ-alg", named(integ_name(id), id));
        }
        let prf = suite.prf.id().0;
        m = m
            .with_value("prf-alg", named(prf_name(prf), prf))
            .with_value("dh-group", ke(group));
    }
    if let Some(established) = v.established {
        m = m.with_value("established", established.as_secs().to_string());
        if let Some(rekey) = v.rekey_in {
            m = m.with_value("rekey-time", rekey.as_secs().to_string());
        }
    }
    m
}

fn ke(group: KeId) -> String {
    named(ke_name(group.0), group.0)
}

/// The `child-sas` section: each Child SA under `name-uniqueid`.
pub fn child_sas(children: &[ChildView]) -> Message {
    let mut m = Message::new();
    for c in children {
        m = m.with_section(format!("{}-{}", c.name, c.uniqueid), child_sa(c));
    }
    m
}

/// The keys of a Child SA, in strongSwan's order.
pub fn child_sa(c: &ChildView) -> Message {
    let mut m = Message::new()
        .with_value("name", c.name.as_str())
        .with_value("uniqueid", c.uniqueid.to_string())
        .with_value("reqid", c.reqid.to_string())
        .with_value("state", c.state)
        .with_value("mode", mode(c.mode))
        .with_value("protocol", protocol(c.protocol));
    m = yes(m, "encap", c.encap)
        .with_value("spi-in", format!("{:08x}", c.spi_in))
        .with_value("spi-out", format!("{:08x}", c.spi_out));
    m = algorithms(m, &c.proposal);
    // The kernel's counters, and how long ago each SA last carried a packet when the kernel
    // says (strongSwan leaves `use-in`/`use-out` out otherwise).
    let now = std::time::SystemTime::now();
    for (traffic, dir) in [(&c.traffic_in, "in"), (&c.traffic_out, "out")] {
        let t = traffic.unwrap_or_default();
        m = m
            .with_value(format!("bytes-{dir}"), t.bytes.to_string())
            .with_value(format!("packets-{dir}"), t.packets.to_string());
        if let Some(used) = t.last_used {
            let ago = now.duration_since(used).unwrap_or_default();
            m = m.with_value(format!("use-{dir}"), ago.as_secs().to_string());
        }
    }
    if let Some(rekey) = c.rekey_in {
        m = m.with_value("rekey-time", rekey.as_secs().to_string());
    }
    if let Some(life) = c.expires_in {
        m = m.with_value("life-time", life.as_secs().to_string());
    }
    m.with_value("install-time", c.installed.as_secs().to_string())
        .with_list("local-ts", c.local_ts.iter().map(selector::text))
        .with_list("remote-ts", c.remote_ts.iter().map(selector::text))
}

/// `encr-alg`, `encr-keysize`, `integ-alg`, `dh-group` and `esn` of a chosen ESP/AH proposal.
fn algorithms(mut m: Message, proposal: &Proposal) -> Message {
    let first = |ty| proposal.transforms.iter().find(|t| t.ty == ty);
    if let Some(t) = first(TransformType::ENCR) {
        m = m.with_value("encr-alg", named(encr_name(t.id), t.id));
        if let Some(bits) = t.key_length().filter(|&b| b != 0) {
            m = m.with_value("encr-keysize", bits.to_string());
        }
    }
    if let Some(t) = first(TransformType::INTEG).filter(|t| t.id != 0) {
        m = m.with_value("integ-alg", named(integ_name(t.id), t.id));
    }
    if let Some(t) = first(TransformType::KE).filter(|t| t.id != 0) {
        m = m.with_value("dh-group", ke(KeId(t.id)));
    }
    if first(TransformType::ESN).is_some_and(|t| t.id == EsnId::ESN.0) {
        m = m.with_value("esn", "1");
    }
    m
}

/// strongSwan's `ipsec_mode_names`.
pub fn mode(mode: Mode) -> &'static str {
    match mode {
        Mode::Tunnel => "TUNNEL",
        Mode::Transport => "TRANSPORT",
    }
}

fn protocol(protocol: IpsecProtocol) -> &'static str {
    match protocol {
        IpsecProtocol::Esp => "ESP",
        IpsecProtocol::Ah => "AH",
    }
}

/// Selectors as `list-sas` and `list-conns` list them.
pub fn selectors(ts: &[TrafficSelector]) -> Vec<String> {
    ts.iter().map(selector::text).collect()
}

/// A `list-sa` event: the IKE SA under its connection's name, its Child SAs under
/// `child-sas` (last, as swanctl prints the IKE SA when it meets that section).
pub fn list_sa(v: &IkeView) -> Message {
    let sa = ike_sa(v).with_section("child-sas", child_sas(&v.children));
    Message::new().with_section(v.name.as_str(), sa)
}

/// The event a piece of news is, by name, for clients that registered for that name.
pub fn news_event(news: &News) -> (&'static str, Message) {
    match news {
        News::IkeUpDown { up, ike } => {
            let m = yes(Message::new(), "up", *up);
            ("ike-updown", m.with_section(ike.name.as_str(), ike_sa(ike)))
        }
        News::IkeRekey { old, new } => {
            let pair = Message::new()
                .with_section("old", ike_sa(old))
                .with_section("new", ike_sa(new));
            (
                "ike-rekey",
                Message::new().with_section(old.name.as_str(), pair),
            )
        }
        News::ChildUpDown { up, ike, child } => {
            let sa = ike_sa(ike).with_section("child-sas", child_sas(std::slice::from_ref(child)));
            let m = yes(Message::new(), "up", *up);
            ("child-updown", m.with_section(ike.name.as_str(), sa))
        }
        News::ChildRekey { ike, old, new } => {
            let pair = Message::new()
                .with_section("old", child_sa(old))
                .with_section("new", child_sa(new));
            let sa = ike_sa(ike).with_section(
                "child-sas",
                Message::new().with_section(old.name.as_str(), pair),
            );
            (
                "child-rekey",
                Message::new().with_section(ike.name.as_str(), sa),
            )
        }
        News::Log(line) => ("log", log(line)),
        News::Alert { kind, ike } => {
            let mut m = Message::new().with_value("type", *kind);
            if let Some(ike) = ike {
                m = m.with_section(
                    "ike-sa",
                    Message::new().with_section(ike.name.as_str(), ike_sa(ike)),
                );
            }
            ("alert", m)
        }
    }
}

/// A `log` or `control-log` event's message.
pub fn log(line: &LogLine) -> Message {
    let mut m = Message::new()
        .with_value("group", line.group)
        .with_value("level", line.level.to_string());
    if let Some((name, id)) = &line.ike {
        m = m
            .with_value("ikesa-name", name.as_str())
            .with_value("ikesa-uniqueid", id.to_string());
    }
    m.with_value("msg", line.msg.as_str())
}

#[cfg(test)]
#[path = "sas_tests.rs"]
mod tests;

/// A `list-policy` event for a trap: `<connection>/<child>` with its mode and selectors.
pub fn list_policy(trap: &crate::daemon::control::TrapView) -> Message {
    let mode = match trap.mode {
        ike::kernel::Mode::Tunnel => "TUNNEL",
        ike::kernel::Mode::Transport => "TRANSPORT",
    };
    let policy = Message::new()
        .with_value("child", trap.child.clone())
        .with_value("ike", trap.connection.clone())
        .with_value("mode", mode)
        .with_list("local-ts", selectors(&trap.local_ts))
        .with_list("remote-ts", selectors(&trap.remote_ts));
    Message::new().with_section(format!("{}/{}", trap.connection, trap.child), policy)
}
