//! swanctl.conf semantics: a realistic site-to-site pair loads into the expected connections;
//! unsupported and unknown keys are reported one by one, with their lines.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ike::config::{Auth, ChildConfig, Connection, Jitter, SendCert};
use ike::crypto::Secret;
use ike::kernel::{IpsecProtocol, Lifetime, Mode};
use ike::proposal::Preference;
use ike::wire::ts::TrafficSelector;
use ike::wire::{KeId, ProtocolId, id};

use super::proposals::{Kind, parse_list};
use super::{ConfigError, load, load_str, load_swanctl};

fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/config/testdata")
        .join(rel)
}

fn net(a: u8, b: u8) -> TrafficSelector {
    TrafficSelector::V4 {
        protocol: 0,
        start_port: 0,
        end_port: 65535,
        start: [a, b, 0, 0].into(),
        end: [a, b, 255, 255].into(),
    }
}

/// What gw-gw of `me` should be; moon initiates, so its child starts.
fn expected(me: &str, local: [u8; 4], remote: [u8; 4], nets: (u8, u8)) -> Connection {
    let other = if me == "moon" { "sun" } else { "moon" };
    let psk = Secret::from_slice(b"sun and moon share this");
    Connection {
        name: "gw-gw".into(),
        local_addr: local.into(),
        remote_addr: remote.into(),
        proposals: parse_list(
            Some("aes256gcm16-prfsha384-x25519, aes128-sha256-modp3072"),
            Kind::Ike,
        )
        .unwrap(),
        preference: Preference::Initiator,
        local_id: id::Repr::fqdn(&format!("{me}.example.org")),
        remote_id: Some(id::Repr::fqdn(&format!("{other}.example.org"))),
        local_auth: Auth::Psk(psk.clone()),
        remote_auth: Auth::Psk(psk),
        children: vec![ChildConfig {
            name: "net-net".into(),
            local_ts: vec![net(10, nets.0)],
            remote_ts: vec![net(10, nets.1)],
            proposals: parse_list(Some("aes128gcm16-x25519"), Kind::Esp).unwrap(),
            protocol: IpsecProtocol::Esp,
            mode: Mode::Tunnel,
            lifetime: Lifetime {
                soft_seconds: 5400,
                hard_seconds: 5940,
                ..Lifetime::default()
            },
            jitter: Jitter {
                seconds: 540,
                ..Jitter::default()
            },
            replay_window: 32,
            start_action: Default::default(),
            close_action: Default::default(),
            dpd_action: Default::default(),
            updown: None,
            xfrm: Default::default(),
        }],
        dpd_delay: Duration::from_secs(30),
        send_cert: SendCert::IfAsked,
        send_certreq: true,
        rekey_time: Duration::from_secs(7200),
        reauth_time: Duration::ZERO,
        over_time: Duration::from_secs(720),
        rand_time: Duration::from_secs(720),
        keyingtries: 1,
        encap: false,
        unique: Default::default(),
    }
}

/// Connection has no PartialEq (it holds secrets): compare field by field.
fn assert_connection(got: &Connection, want: &Connection) {
    assert_eq!(got.name, want.name);
    assert_eq!(
        (got.local_addr, got.remote_addr),
        (want.local_addr, want.remote_addr)
    );
    assert_eq!(got.proposals, want.proposals);
    assert_eq!(got.preference, want.preference);
    assert_eq!(
        (&got.local_id, &got.remote_id),
        (&want.local_id, &want.remote_id)
    );
    assert_eq!(got.local_auth, want.local_auth);
    assert_eq!(got.remote_auth, want.remote_auth);
    assert_eq!(
        (got.dpd_delay, got.rekey_time, got.reauth_time),
        (want.dpd_delay, want.rekey_time, want.reauth_time)
    );
    assert_eq!(
        (got.over_time, got.rand_time, got.keyingtries),
        (want.over_time, want.rand_time, want.keyingtries)
    );
    assert_eq!(got.children.len(), want.children.len());
    for (got, want) in got.children.iter().zip(&want.children) {
        assert_eq!(got.name, want.name);
        assert_eq!(
            (&got.local_ts, &got.remote_ts),
            (&want.local_ts, &want.remote_ts)
        );
        assert_eq!(got.proposals, want.proposals);
        assert_eq!((got.protocol, got.mode), (want.protocol, want.mode));
        assert_eq!(
            (got.lifetime, got.jitter, got.replay_window),
            (want.lifetime, want.jitter, want.replay_window)
        );
    }
}

#[test]
fn moon_and_sun_site_to_site_psk() {
    let moon = load_swanctl(&testdata("moon/swanctl.conf")).unwrap();
    assert_eq!(moon.connections.len(), 1);
    let want = expected("moon", [192, 0, 2, 1], [192, 0, 2, 2], (1, 2));
    assert_connection(&moon.connections[0], &want);
    assert_eq!(moon.start, ["gw-gw"]);
    assert_eq!(moon.secrets.ike.len(), 3);
    assert_eq!(
        moon.connections[0].proposals[1].transforms[3].id,
        KeId::MODP_3072.0
    );

    // Secrets never show in Debug output, wherever they are held.
    let debug = format!("{moon:?}");
    assert!(
        !debug.contains("sun and moon") && !debug.contains("anyone"),
        "{debug}"
    );
    assert!(
        !debug.contains("3b1c72a8") && !debug.contains("c3VuIGFu"),
        "{debug}"
    );

    let sun = load(&testdata("sun/swanctl.conf")).unwrap();
    assert_connection(
        &sun[0],
        &expected("sun", [192, 0, 2, 2], [192, 0, 2, 1], (2, 1)),
    );
}

/// The one child of a connection whose child has `keys`.
fn child_with(keys: &str) -> Result<ChildConfig, ConfigError> {
    let text = format!(
        "connections {{ c {{\n\
         local_addrs = 192.0.2.1\nremote_addrs = 192.0.2.2\n\
         local {{ auth = psk\nid = moon }}\nremote {{ auth = psk\nid = sun }}\n\
         children {{ c {{\n{keys}\n}} }}\n\
         }} }}\n\
         secrets {{ ike {{ secret = abc }} }}\n"
    );
    let mut loaded = load_str(Path::new("/etc/swanctl/swanctl.conf"), &text)?;
    Ok(loaded.connections.remove(0).children.remove(0))
}

#[test]
fn byte_and_packet_limits_follow_strongswan() {
    // (keys, (soft, hard) bytes, (soft, hard) packets, jitter)
    type Case = (&'static str, (u64, u64), (u64, u64), Jitter);
    let cases: &[Case] = &[
        // None by default; the time limits keep theirs.
        (
            "",
            (0, 0),
            (0, 0),
            Jitter {
                seconds: 360,
                bytes: 0,
                packets: 0,
            },
        ),
        // life = rekey + 10 %, rand = life - rekey.
        (
            "rekey_bytes = 100k\nrekey_packets = 200",
            (102_400, 112_640),
            (200, 220),
            Jitter {
                seconds: 360,
                bytes: 10_240,
                packets: 20,
            },
        ),
        // rekey = life / 1.1 when only life is given, in floating point as strongSwan
        // computes it: 1100 / 1.1 is 999.99..., so 999.
        (
            "life_packets = 1100",
            (0, 0),
            (999, 1100),
            Jitter {
                seconds: 360,
                bytes: 0,
                packets: 101,
            },
        ),
        // An explicit rand, zero included; a hard limit alone.
        (
            "rekey_bytes = 1m\nlife_bytes = 2m\nrand_bytes = 0\nrekey_packets = 0\n\
             life_packets = 500\nrand_time = 1m",
            (1 << 20, 2 << 20),
            (0, 500),
            Jitter {
                seconds: 60,
                bytes: 0,
                packets: 500,
            },
        ),
    ];
    for (keys, bytes, packets, jitter) in cases {
        let child = child_with(keys).unwrap_or_else(|e| panic!("{keys}: {e}"));
        let l = child.lifetime;
        assert_eq!((l.soft_bytes, l.hard_bytes), *bytes, "{keys}");
        assert_eq!((l.soft_packets, l.hard_packets), *packets, "{keys}");
        assert_eq!((l.soft_seconds, l.hard_seconds), (3600, 3960), "{keys}");
        assert_eq!(child.jitter, *jitter, "{keys}");
    }
    // The child's keys start on line 9.
    for (keys, line, key, message) in [
        (
            "rekey_bytes = lots",
            9,
            "rekey_bytes",
            "'lots' is not a volume",
        ),
        ("life_bytes = 1t", 9, "life_bytes", "is not a volume"),
        ("rand_packets = -1", 9, "rand_packets", "is not a number"),
        (
            "rekey_packets = 200\nlife_packets = 100",
            10,
            "life_packets",
            "life_packets (100 packets) ends before rekey_packets (200 packets)",
        ),
        (
            "rekey_bytes = 2k\nlife_bytes = 1k",
            10,
            "life_bytes",
            "life_bytes (1024 bytes) ends before rekey_bytes (2048 bytes)",
        ),
    ] {
        let error = child_with(keys).unwrap_err();
        let got = problems(&error);
        let key = format!("connections.c.children.c.{key}");
        assert!(
            got.iter()
                .any(|p| p.0 == line && p.1 == key && p.2.contains(message)),
            "{keys}: {error}"
        );
        assert!(error.to_string().contains("swanctl.conf:"), "{error}");
    }
}

#[test]
fn defaults_follow_strongswan() {
    let text = "connections { c {\n\
                  remote_addrs = 192.0.2.2\n\
                  local { auth = psk }\n remote { auth = psk }\n\
                  children { c { } }\n\
                } }\n\
                secrets { ike { secret = abc } }\n";
    let loaded = load_str(Path::new("/etc/swanctl/swanctl.conf"), text);
    let problems = loaded.unwrap_err();
    // local_addrs is %any and local.id unset: the ID would come from the address in use.
    assert_eq!(problems.problems.len(), 1, "{problems}");
    assert!(
        problems.to_string().contains("local.id is needed"),
        "{problems}"
    );

    let text = text.replace("remote_addrs", "local_addrs = 192.0.2.1\nremote_addrs");
    let loaded = load_str(Path::new("/etc/swanctl/swanctl.conf"), &text).unwrap();
    let c = &loaded.connections[0];
    assert!(c.remote_addr == "192.0.2.2".parse::<std::net::IpAddr>().unwrap());
    assert_eq!(c.local_id, id::Repr::addr("192.0.2.1".parse().unwrap()));
    assert_eq!(c.remote_id, None);
    assert_eq!(c.proposals, parse_list(None, Kind::Ike).unwrap());
    assert_eq!(
        (c.dpd_delay, c.rekey_time),
        (Duration::ZERO, Duration::from_secs(14400))
    );
    assert_eq!(c.local_auth, Auth::Psk(Secret::from_slice(b"abc")));
    let child = &c.children[0];
    assert!(
        child.local_ts.is_empty() && child.remote_ts.is_empty(),
        "dynamic"
    );
    assert_eq!(child.proposals, parse_list(None, Kind::Esp).unwrap());
    assert_eq!(child.proposals[0].protocol, ProtocolId::ESP);
    assert_eq!((child.mode, child.replay_window), (Mode::Tunnel, 32));
    assert_eq!(
        (child.lifetime.soft_seconds, child.lifetime.hard_seconds),
        (3600, 3960)
    );
    assert!(loaded.start.is_empty());
    assert_eq!((c.send_cert, c.send_certreq), (SendCert::IfAsked, true));

    for (keys, expected) in [
        (
            "send_cert = always\nsend_certreq = no",
            Ok((SendCert::Always, false)),
        ),
        ("send_cert = never", Ok((SendCert::Never, true))),
        (
            "send_cert = sometimes",
            Err("expected always, ifasked or never"),
        ),
        ("send_certreq = perhaps", Err("send_certreq")),
    ] {
        let text = text.replace("remote_addrs", &format!("{keys}\nremote_addrs"));
        let loaded = load_str(Path::new("/etc/swanctl/swanctl.conf"), &text);
        match (loaded, expected) {
            (Ok(l), Ok(want)) => {
                let c = &l.connections[0];
                assert_eq!((c.send_cert, c.send_certreq), want, "{keys}");
            }
            (Err(e), Err(message)) => assert!(e.to_string().contains(message), "{e}"),
            (got, want) => panic!("{keys}: {:?} vs {want:?}", got.map(|_| ())),
        }
    }
}

/// The problems as `(line, key, message)`, by line.
fn problems(error: &ConfigError) -> Vec<(u32, &str, &str)> {
    let mut list: Vec<_> = error
        .problems
        .iter()
        .map(|p| (p.at.line, p.key.as_str(), p.message.as_str()))
        .collect();
    list.sort_by_key(|p| p.0);
    list
}

#[test]
fn unsupported_keys_one_error_each() {
    let path = testdata("unsupported/swanctl.conf");
    let error = load(&path).unwrap_err();
    let c = "connections.rw";
    let child = "connections.rw.children.rw";
    let want = [
        (4, format!("{c}.pools"), "not supported yet"),
        (
            8,
            format!("{c}.local.certs"),
            "only used with auth = pubkey",
        ),
        (16, format!("{child}.set_mark_in"), "not supported yet"),
        (17, format!("{child}.inactivity"), "not supported yet"),
        (18, format!("{child}.mode"), "'beet': not supported yet"),
        (
            19,
            format!("{child}.start_action"),
            "'trap|start': not supported yet",
        ),
        (20, format!("{child}.colour"), "unknown key"),
        (23, format!("{c}.version"), "IKEv1 is not supported"),
        (
            24,
            format!("{c}.remote_port"),
            "port 4500: only 500 is supported yet",
        ),
        (33, "secrets.eap-carol".to_string(), "not supported yet"),
    ];
    let got = problems(&error);
    let want: Vec<(u32, &str, &str)> = want.iter().map(|(l, k, m)| (*l, k.as_str(), *m)).collect();
    assert_eq!(got, want, "{error}");
    // Display: one problem per line, `file:line: key: message`.
    let text = error.to_string();
    assert_eq!(text.lines().count(), want.len());
    let line = format!(
        "{}:23: connections.rw.version: IKEv1 is not supported",
        path.display()
    );
    assert!(text.lines().any(|l| l == line), "{text}");
}

#[test]
fn values_and_sections_checked() {
    let text = "\
connections {
   c {
      local_addrs = 192.0.2.1
      proposals = aes128-sha256-x448
      dpd_delay = soon
      unique = sometimes
      fragmentation = no
      local-1 { auth = psk }
      local-2 { auth = eap-mschapv2 }
      remote { auth = psk\n id = *.example.org }  # \\n: id is on line 11
      elsewhere { }
      children {
         c {
            local_ts = dynamic, 10.0.0.0/8
            replay_window = lots
            rekey_time = 1h
            life_time = 30m
         }
      }
   }
}
secrets {
   ike { secret = 0xnothex }
   weird { }
}
stray = 1
";
    let error = load_str(Path::new("/etc/swanctl/swanctl.conf"), text).unwrap_err();
    let got = problems(&error);
    let has = |line: u32, key: &str, message: &str| {
        assert!(
            got.iter()
                .any(|p| p.0 == line && p.1 == key && p.2.contains(message)),
            "{line} {key} {message}:\n{error}"
        );
    };
    has(4, "connections.c.proposals", "'x448' is not supported yet");
    has(5, "connections.c.dpd_delay", "is not a time");
    has(
        6,
        "connections.c.unique",
        "'sometimes': expected never, no, replace or keep",
    );
    has(
        9,
        "connections.c.local-2.auth",
        "not supported yet (only psk and pubkey)",
    );
    has(9, "connections.c.local-2", "several authentication rounds");
    has(
        11,
        "connections.c.remote.id",
        "wildcard identities are not supported yet",
    );
    has(12, "connections.c.elsewhere", "unknown section");
    has(
        18,
        "connections.c.children.c.life_time",
        "life_time (1800s) ends before rekey_time (3600s)",
    );
    has(
        15,
        "connections.c.children.c.local_ts",
        "'dynamic' together with other selectors",
    );
    has(16, "connections.c.children.c.replay_window", "not a number");
    has(24, "secrets.ike.secret", "invalid hex");
    has(25, "secrets.weird", "unknown secret type");
    has(27, "stray", "unknown key");
    assert!(
        !error.to_string().contains("nothex"),
        "secrets never appear in errors"
    );
    assert!(
        !error.to_string().contains("missing secret"),
        "an invalid secret is not also missing"
    );
}

#[test]
fn missing_psk_is_reported() {
    let text = "connections { c {\n local_addrs = 192.0.2.1\n\
                local { auth = psk\n id = moon }\n remote { auth = psk\n id = sun }\n } }\n\
                secrets { ike { id = carol\n secret = x } }\n";
    let error = load_str(Path::new("/etc/swanctl/swanctl.conf"), text).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("no secrets.ike<suffix> section holds a key"),
        "{error}"
    );
}

#[test]
fn empty_default_config_loads() {
    // The shape of Debian's /etc/swanctl/swanctl.conf: empty sections and an include.
    let path = testdata("include/debian.conf");
    let text =
        "connections {\n}\npools {\n}\nauthorities {\n}\nsecrets {\n}\ninclude conf.d/*.conf\n";
    let error = load_str(&path, text).unwrap_err();
    // The include pulls in test files with unknown keys: each reported with its own file.
    assert!(
        error
            .problems
            .iter()
            .all(|p| p.at.file.starts_with(testdata("include")))
    );
    let loaded = load_str(&path, &text.replace("include conf.d/*.conf\n", "")).unwrap();
    assert!(loaded.connections.is_empty());
}

/// A seeded generator of plausible configurations: real keys, real and broken values, nested
/// in the sections swanctl.conf has, so the interpretation (not only the syntax) meets junk.
fn plausible(seed: u64) -> String {
    const KEYS: &[&str] = &[
        "version",
        "local_addrs",
        "remote_addrs",
        "local_port",
        "proposals",
        "dpd_delay",
        "rekey_time",
        "life_time",
        "mobike",
        "auth",
        "id",
        "secret",
        "id-1",
        "local_ts",
        "remote_ts",
        "esp_proposals",
        "mode",
        "replay_window",
        "start_action",
        "unknown",
    ];
    const VALUES: &[&str] = &[
        "2",
        "1",
        "0x",
        "%any",
        "192.0.2.1",
        "::1",
        "default",
        "aes128-sha256-x25519",
        "-",
        "aes128gcm16-esn",
        "30s",
        "4d",
        "99999999999999999999",
        "no",
        "psk",
        "@#",
        "@@",
        "*.example.org",
        "*",
        "10.0.0.0/8[tcp/http]",
        "dynamic",
        "[",
        "0s====",
        "0xabc",
        "ipv4:#",
        "10.0.0.0/0",
        "fe80::/129",
        "start",
        "transport",
        "10.0.0.1-10.0.0.0",
        "",
        "\"quoted, with comma\"",
        "a,b,,c",
    ];
    const SECTIONS: &[&str] = &[
        "connections",
        "c",
        "local",
        "remote",
        "children",
        "net",
        "secrets",
        "ike-1",
        "pools",
    ];
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let mut text = String::new();
    let mut open = 0;
    for _ in 0..next(60) {
        match next(4) {
            0 if open < 5 => {
                text += &format!("{} {{\n", SECTIONS[next(SECTIONS.len())]);
                open += 1;
            }
            1 if open > 0 => {
                text += "}\n";
                open -= 1;
            }
            _ => {
                text += &format!(
                    "{} = {}\n",
                    KEYS[next(KEYS.len())],
                    VALUES[next(VALUES.len())]
                )
            }
        }
    }
    text + &"}\n".repeat(open)
}

#[test]
fn plausible_junk_never_panics() {
    let path = Path::new("/nonexistent/swanctl.conf");
    let mut loaded = 0;
    for seed in 0..4000 {
        match load_str(path, &plausible(seed)) {
            Ok(_) => loaded += 1,
            Err(error) => assert!(!error.problems.is_empty()),
        }
    }
    assert!(loaded > 0, "some junk is a valid (empty) configuration");
}

#[test]
fn start_close_and_dpd_actions() {
    let text = "connections { c {\n\
                  local_addrs = 192.0.2.1\n remote_addrs = 192.0.2.2\n\
                  local { auth = psk }\n remote { auth = psk }\n\
                  children {\n\
                    a { start_action = trap\n close_action = restart\n dpd_action = clear }\n\
                    b { start_action = start\n close_action = trap\n dpd_action = restart }\n\
                    d { start_action = none }\n\
                  }\n\
                } }\n\
                secrets { ike { secret = abc } }\n";
    let loaded = load_str(Path::new("/etc/swanctl/swanctl.conf"), text).unwrap();
    let actions: Vec<_> = loaded.connections[0]
        .children
        .iter()
        .map(|c| {
            (
                c.name.as_str(),
                c.start_action,
                c.close_action,
                c.dpd_action,
            )
        })
        .collect();
    use ike::config::Action::{None, Start, Trap};
    assert_eq!(
        actions,
        [
            ("a", Trap, Start, None),
            ("b", Start, Trap, Start),
            ("d", None, None, None)
        ]
    );
    assert_eq!(loaded.start, ["c"], "only start_action = start initiates");
    let bad = text.replace("dpd_action = clear", "dpd_action = sometimes");
    let error = load_str(Path::new("/etc/swanctl/swanctl.conf"), &bad).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("children.a.dpd_action: 'sometimes' is not an action"),
        "{error}"
    );
}

#[test]
fn the_example_configurations_load() {
    for host in ["moon", "sun"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("etc/{host}/swanctl.conf"));
        let loaded = super::load_swanctl(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(loaded.connections.len(), 1, "{host}");
        assert_eq!(loaded.start.len(), usize::from(host == "moon"), "{host}");
    }
}

#[test]
fn ah_proposals_make_an_ah_child() {
    let text = |child: &str| {
        format!(
            "connections {{ c {{\n local_addrs = 192.0.2.1\n remote_addrs = 192.0.2.2\n\
             local {{ auth = psk }}\n remote {{ auth = psk }}\n\
             children {{ c {{ {child} }} }}\n }} }}\n secrets {{ ike {{ secret = abc }} }}\n"
        )
    };
    let path = Path::new("/etc/swanctl/swanctl.conf");
    let loaded = load_str(path, &text("ah_proposals = sha256-sha1")).unwrap();
    let child = &loaded.connections[0].children[0];
    assert_eq!(child.protocol, ike::kernel::IpsecProtocol::Ah);
    let p = &child.proposals[0];
    assert_eq!(p.protocol, ProtocolId::AH);
    let types: Vec<_> = p.transforms.iter().map(|t| (t.ty, t.id)).collect();
    use ike::wire::{EsnId, IntegId, TransformType as T};
    assert_eq!(
        types,
        [
            (T::INTEG, IntegId::AUTH_HMAC_SHA2_256_128.0),
            (T::INTEG, IntegId::AUTH_HMAC_SHA1_96.0),
            (T::ESN, EsnId::NO_ESN.0)
        ]
    );
    for (bad, why) in [
        (
            "ah_proposals = aes128-sha256",
            "AH proposals carry no encryption algorithm",
        ),
        (
            "ah_proposals = sha256\n esp_proposals = aes128-sha256",
            "AH together with ESP",
        ),
    ] {
        let error = load_str(path, &text(bad)).unwrap_err();
        assert!(error.to_string().contains(why), "{bad}: {error}");
    }
}
