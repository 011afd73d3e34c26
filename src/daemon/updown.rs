//! updown scripts (swanctl.conf's `updown`): a command run with `/bin/sh -c` when a Child SA
//! comes up and when it finally goes down (not when a rekey replaces it), once per pair of
//! traffic selectors, with strongSwan's `PLUTO_*` environment so that existing scripts work.
//! They run one after another in a task of their own: a slow script delays the next script,
//! never the daemon.

use std::net::IpAddr;

use ike::kernel::IpsecProtocol;
use ike::sa::ChildInfo;
use ike::wire::ts::TrafficSelector;
use tokio::sync::mpsc;
use tracing::{debug, warn};

/// How many script runs may wait; more are dropped with a warning.
const QUEUE: usize = 256;

/// One run: the command and its environment.
#[derive(Debug)]
pub struct Run {
    pub command: String,
    pub env: Vec<(String, String)>,
    /// The SA it is for, as log lines name it (`moon[3]`).
    pub tag: String,
}

/// Starts the task that runs the scripts; returns where to send them.
pub fn spawn() -> mpsc::Sender<Run> {
    let (tx, mut rx) = mpsc::channel::<Run>(QUEUE);
    tokio::spawn(async move {
        while let Some(run) = rx.recv().await {
            let verb = run
                .env
                .iter()
                .find(|(k, _)| k == "PLUTO_VERB")
                .map_or("", |(_, v)| v.as_str())
                .to_owned();
            let status = tokio::process::Command::new("/bin/sh")
                .arg("-c")
                .arg(&run.command)
                .envs(run.env)
                .status()
                .await;
            let tag = run.tag;
            match status {
                Ok(s) if s.success() => debug!("{tag}: updown {verb}: {}", run.command),
                Ok(s) => warn!("{tag}: updown {verb}: {} exited with {s}", run.command),
                Err(e) => warn!("{tag}: updown {verb}: cannot run {}: {e}", run.command),
            }
        }
    });
    tx
}

/// The runs for `child` coming `up` or going down: one per pair of its selectors.
pub fn runs(command: &str, child: &str, uniqueid: u32, info: &ChildInfo, up: bool) -> Vec<Run> {
    let mut runs = Vec::new();
    for mine in &info.local_ts {
        for peers in &info.remote_ts {
            let host = single(mine) == Some(info.local.ip());
            let v6 = matches!(mine, TrafficSelector::V6 { .. });
            let verb = format!(
                "{}-{}{}",
                if up { "up" } else { "down" },
                if host { "host" } else { "client" },
                if v6 { "-v6" } else { "" }
            );
            let mut env = vec![
                ("PLUTO_VERSION", "1.1".to_string()),
                ("PLUTO_VERB", verb),
                ("PLUTO_CONNECTION", child.to_string()),
                ("PLUTO_REQID", info.reqid.to_string()),
                (
                    "PLUTO_PROTO",
                    match info.protocol {
                        IpsecProtocol::Esp => "esp",
                        IpsecProtocol::Ah => "ah",
                    }
                    .to_string(),
                ),
                ("PLUTO_UNIQUEID", uniqueid.to_string()),
                ("PLUTO_ME", info.local.ip().to_string()),
                ("PLUTO_MY_ID", info.local_id.clone()),
                ("PLUTO_MY_CLIENT", subnet(mine)),
                ("PLUTO_MY_PORT", port(mine).to_string()),
                ("PLUTO_MY_PROTOCOL", protocol(mine).to_string()),
                ("PLUTO_PEER", info.remote.ip().to_string()),
                ("PLUTO_PEER_ID", info.remote_id.clone()),
                ("PLUTO_PEER_CLIENT", subnet(peers)),
                ("PLUTO_PEER_PORT", port(peers).to_string()),
                ("PLUTO_PEER_PROTOCOL", protocol(peers).to_string()),
            ];
            if info.encap {
                env.push(("PLUTO_UDP_ENC", info.remote.port().to_string()));
            }
            runs.push(Run {
                command: command.to_owned(),
                env: env.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
                tag: String::new(),
            });
        }
    }
    runs
}

/// The address a selector covers, if it covers one only.
fn single(ts: &TrafficSelector) -> Option<IpAddr> {
    match ts {
        TrafficSelector::V4 { start, end, .. } if start == end => Some((*start).into()),
        TrafficSelector::V6 { start, end, .. } if start == end => Some((*start).into()),
        _ => None,
    }
}

/// The smallest subnet that holds the selector's addresses, as `address/prefix`.
fn subnet(ts: &TrafficSelector) -> String {
    fn covering(start: u128, end: u128, bits: u32) -> (u128, u32) {
        let len = (start ^ end).leading_zeros().saturating_sub(128 - bits);
        let mask = if len == 0 {
            0
        } else {
            (!0u128 << (128 - len)) >> (128 - bits)
        };
        (start & mask, len)
    }
    match ts {
        TrafficSelector::V4 { start, end, .. } => {
            let (net, len) = covering(u32::from(*start).into(), u32::from(*end).into(), 32);
            format!("{}/{len}", std::net::Ipv4Addr::from(net as u32))
        }
        TrafficSelector::V6 { start, end, .. } => {
            let (net, len) = covering(u128::from(*start), u128::from(*end), 128);
            format!("{}/{len}", std::net::Ipv6Addr::from(net))
        }
        TrafficSelector::Other { .. } => String::new(),
    }
}

/// The selector's port if it names one, else 0.
fn port(ts: &TrafficSelector) -> u16 {
    match ts {
        TrafficSelector::V4 {
            start_port,
            end_port,
            ..
        }
        | TrafficSelector::V6 {
            start_port,
            end_port,
            ..
        } if start_port == end_port => *start_port,
        _ => 0,
    }
}

fn protocol(ts: &TrafficSelector) -> u8 {
    match ts {
        TrafficSelector::V4 { protocol, .. } | TrafficSelector::V6 { protocol, .. } => *protocol,
        TrafficSelector::Other { second, .. } => *second,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(start: [u8; 4], end: [u8; 4], ports: (u16, u16), protocol: u8) -> TrafficSelector {
        TrafficSelector::V4 {
            protocol,
            start_port: ports.0,
            end_port: ports.1,
            start: start.into(),
            end: end.into(),
        }
    }

    fn info() -> ChildInfo {
        ChildInfo {
            ike_spi: ike::wire::IkeSpi([1; 8]),
            reqid: 7,
            protocol: IpsecProtocol::Esp,
            mode: ike::kernel::Mode::Tunnel,
            local: "192.0.2.1:4500".parse().unwrap(),
            remote: "192.0.2.2:4500".parse().unwrap(),
            local_ts: vec![v4([198, 51, 100, 0], [198, 51, 100, 255], (0, 65535), 0)],
            remote_ts: vec![
                v4([203, 0, 113, 0], [203, 0, 113, 127], (0, 65535), 0),
                v4([203, 0, 113, 9], [203, 0, 113, 9], (443, 443), 6),
            ],
            local_id: "moon.example".into(),
            remote_id: "sun.example".into(),
            encap: true,
            last: true,
            xfrm_interface: false,
        }
    }

    fn get<'a>(run: &'a Run, key: &str) -> &'a str {
        run.env
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.as_str())
    }

    #[test]
    fn one_run_per_selector_pair_with_strongswans_variables() {
        let runs = runs("/etc/updown.sh arg", "net", 3, &info(), true);
        assert_eq!(runs.len(), 2);
        let a = &runs[0];
        assert_eq!(a.command, "/etc/updown.sh arg");
        for (key, want) in [
            ("PLUTO_VERB", "up-client"),
            ("PLUTO_CONNECTION", "net"),
            ("PLUTO_REQID", "7"),
            ("PLUTO_PROTO", "esp"),
            ("PLUTO_UNIQUEID", "3"),
            ("PLUTO_ME", "192.0.2.1"),
            ("PLUTO_MY_ID", "moon.example"),
            ("PLUTO_MY_CLIENT", "198.51.100.0/24"),
            ("PLUTO_MY_PORT", "0"),
            ("PLUTO_PEER", "192.0.2.2"),
            ("PLUTO_PEER_ID", "sun.example"),
            ("PLUTO_PEER_CLIENT", "203.0.113.0/25"),
            ("PLUTO_UDP_ENC", "4500"),
        ] {
            assert_eq!(get(a, key), want, "{key}");
        }
        let b = &runs[1];
        assert_eq!(get(b, "PLUTO_PEER_CLIENT"), "203.0.113.9/32");
        assert_eq!(
            (get(b, "PLUTO_PEER_PORT"), get(b, "PLUTO_PEER_PROTOCOL")),
            ("443", "6")
        );
        let down = runs_down();
        assert_eq!(get(&down[0], "PLUTO_VERB"), "down-client");
    }

    fn runs_down() -> Vec<Run> {
        runs("x", "net", 3, &info(), false)
    }

    #[test]
    fn host_selectors_and_ipv6_name_the_verb() {
        let mut i = info();
        i.local_ts = vec![v4([192, 0, 2, 1], [192, 0, 2, 1], (0, 65535), 0)];
        i.encap = false;
        let run = &runs("x", "h", 1, &i, true)[0];
        assert_eq!(get(run, "PLUTO_VERB"), "up-host");
        assert_eq!(get(run, "PLUTO_UDP_ENC"), "");
        i.local_ts = vec![TrafficSelector::V6 {
            protocol: 0,
            start_port: 0,
            end_port: 65535,
            start: "2001:db8:a::".parse().unwrap(),
            end: "2001:db8:a::ffff:ffff:ffff:ffff".parse().unwrap(),
        }];
        let run = &runs("x", "h", 1, &i, false)[0];
        assert_eq!(get(run, "PLUTO_VERB"), "down-client-v6");
        assert_eq!(get(run, "PLUTO_MY_CLIENT"), "2001:db8:a::/64");
    }

    #[test]
    fn ranges_give_their_covering_subnet() {
        assert_eq!(
            subnet(&v4([10, 0, 0, 5], [10, 0, 0, 9], (0, 65535), 0)),
            "10.0.0.0/28"
        );
        assert_eq!(
            subnet(&v4([0, 0, 0, 0], [255, 255, 255, 255], (0, 65535), 0)),
            "0.0.0.0/0"
        );
    }
}
