//! Connections as VICI messages: the `list-conn` events of `list-conns` and the answer to
//! `get-conns`, with the keys and value formats of strongSwan's vici plugin.

use std::net::IpAddr;

use ike::config::{Auth, ChildConfig, Connection};
use ike::wire::ts::TrafficSelector;

use super::sas;
use super::wire::Message;

/// An address as swanctl.conf writes it: the unspecified one is `%any`.
fn addr(a: IpAddr) -> String {
    if a.is_unspecified() {
        "%any".to_owned()
    } else {
        a.to_string()
    }
}

/// strongSwan's `auth_class_names`.
fn class(auth: &Auth) -> &'static str {
    match auth {
        Auth::Psk(_) => "pre-shared key",
        Auth::Pubkey(_) => "public key",
    }
}

/// `local-1` or `remote-1`: one round of authentication.
fn auth_round(auth: &Auth, id: Option<String>) -> Message {
    let mut m = Message::new().with_value("class", class(auth));
    if let Some(id) = id {
        m = m.with_value("id", id);
    }
    let none = Vec::<String>::new;
    m.with_list("groups", none())
        .with_list("cert_policy", none())
        .with_list("certs", none())
        .with_list("cacerts", none())
}

/// Configured selectors; none means the SA's own address, which strongSwan calls `dynamic`.
fn configured(ts: &[TrafficSelector]) -> Vec<String> {
    if ts.is_empty() {
        vec!["dynamic".to_owned()]
    } else {
        sas::selectors(ts)
    }
}

fn child(c: &ChildConfig) -> Message {
    Message::new()
        .with_value("mode", sas::mode(c.mode))
        .with_value("rekey_time", c.lifetime.soft_seconds.to_string())
        .with_value("rekey_bytes", c.lifetime.soft_bytes.to_string())
        .with_value("rekey_packets", c.lifetime.soft_packets.to_string())
        // strongSwan's `action_names`: ikerd takes no action on a dead peer or a close yet.
        .with_value("dpd_action", "none")
        .with_value("close_action", "none")
        .with_list("local-ts", configured(&c.local_ts))
        .with_list("remote-ts", configured(&c.remote_ts))
}

/// A `list-conn` event: the connection under its name.
pub fn list_conn(conn: &Connection) -> Message {
    let mut m = Message::new()
        .with_list("local_addrs", [addr(conn.local_addr)])
        .with_list("remote_addrs", [addr(conn.remote_addr)])
        .with_value("version", "IKEv2")
        // ikerd does not reauthenticate, and keeps several IKE SAs between the same peers
        // (strongSwan's `unique = no`).
        .with_value("reauth_time", "0")
        .with_value("rekey_time", conn.rekey_time.as_secs().to_string())
        .with_value("unique", "UNIQUE_NO");
    if !conn.dpd_delay.is_zero() {
        m = m.with_value("dpd_delay", conn.dpd_delay.as_secs().to_string());
    }
    let mut children = Message::new();
    for c in &conn.children {
        children = children.with_section(c.name.as_str(), child(c));
    }
    let m = m
        .with_section(
            "local-1",
            auth_round(&conn.local_auth, Some(conn.local_id.to_string())),
        )
        .with_section(
            "remote-1",
            auth_round(
                &conn.remote_auth,
                conn.remote_id.as_ref().map(ToString::to_string),
            ),
        )
        .with_section("children", children);
    Message::new().with_section(conn.name.as_str(), m)
}

/// `get-conns`: the names of the connections.
pub fn get_conns(conns: &[Connection]) -> Message {
    Message::new().with_list("conns", conns.iter().map(|c| c.name.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vici::wire::Value;

    fn connection() -> Connection {
        let text = "connections {\n gw {\n  local_addrs = 192.0.2.1\n  remote_addrs = %any\n  \
                    local { auth = psk\n id = moon.example }\n  remote { auth = psk }\n  \
                    dpd_delay = 30s\n  children { net { local_ts = 198.51.100.0/24 } }\n }\n}\n\
                    secrets { ike { secret = 0x00112233445566778899 } }\n";
        let path = std::path::Path::new("/nonexistent/swanctl.conf");
        let mut loaded = crate::config::load_str(path, text).expect("valid config");
        loaded.connections.remove(0)
    }

    #[test]
    fn list_conn_has_strongswans_layout() {
        let m = list_conn(&connection());
        let gw = m.section("gw").unwrap();
        let names: Vec<&str> = gw.items.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "local_addrs",
                "remote_addrs",
                "version",
                "reauth_time",
                "rekey_time",
                "unique",
                "dpd_delay",
                "local-1",
                "remote-1",
                "children"
            ]
        );
        assert_eq!(gw.list("remote_addrs").unwrap(), [Value::from("%any")]);
        for (path, value) in [
            ("gw.version", "IKEv2"),
            ("gw.dpd_delay", "30"),
            ("gw.local-1.class", "pre-shared key"),
            ("gw.local-1.id", "moon.example"),
            ("gw.remote-1.class", "pre-shared key"),
            ("gw.children.net.mode", "TUNNEL"),
            ("gw.children.net.rekey_time", "3600"),
            ("gw.children.net.dpd_action", "none"),
        ] {
            assert_eq!(m.find_str(path), Some(value), "{path}");
        }
        assert!(m.find_str("gw.remote-1.id").is_none());
        let net = gw.section("children").unwrap().section("net").unwrap();
        assert_eq!(
            net.list("local-ts").unwrap(),
            [Value::from("198.51.100.0/24")]
        );
        assert_eq!(net.list("remote-ts").unwrap(), [Value::from("dynamic")]);
    }

    #[test]
    fn get_conns_lists_the_names() {
        let m = get_conns(&[connection()]);
        assert_eq!(m.list("conns").unwrap(), [Value::from("gw")]);
    }
}
