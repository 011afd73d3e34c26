//! strongswan.conf: the charon settings ikerd reads, the rest left alone.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ike::endpoint::Settings;

use super::strongswan::{Charon, load, load_str};

fn path() -> &'static Path {
    Path::new("/etc/strongswan.conf")
}

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/config/testdata")
        .join(name)
}

#[test]
fn charon_settings_are_read() {
    let text = "charon {\n\
                  retransmit_timeout = 1.5\n\
                  retransmit_base = 2\n\
                  retransmit_tries = 3\n\
                  retransmit_jitter = 10\n\
                  retransmit_limit = 30\n\
                  cookie_threshold = 50\n\
                  half_open_timeout = 10\n\
                  keep_alive = 1m\n\
                  install_routes = no\n\
                  routing_table = 100\n\
                  routing_table_prio = 101\n\
                  plugins { vici { socket = unix:///run/x.vici } }\n\
                }\n";
    let c = load_str(path(), text).unwrap();
    let r = c.retransmit;
    assert_eq!(
        (r.timeout, r.base, r.tries, r.jitter, r.limit),
        (
            Duration::from_millis(1500),
            2.0,
            3,
            10,
            Some(Duration::from_secs(30))
        )
    );
    assert_eq!((c.cookie_threshold, c.dos_protection), (50, true));
    assert_eq!(c.half_open_timeout, Duration::from_secs(10));
    assert_eq!(c.keep_alive, Duration::from_secs(60));
    assert_eq!(
        (c.install_routes, c.routing_table, c.routing_table_prio),
        (false, 100, 101)
    );
    assert_eq!(c.routes(), None, "install_routes = no");
    assert_eq!(c.vici_socket, Some(PathBuf::from("/run/x.vici")));

    // Into the core's settings, keeping what the daemon set itself.
    let base = Settings {
        first_reqid: 77,
        ..Settings::default()
    };
    let s = c.apply(&base);
    assert_eq!(
        (s.retransmit, s.first_reqid, s.cookie_threshold),
        (r, 77, 50)
    );
    assert_eq!(
        (s.half_open_timeout, s.keep_alive),
        (c.half_open_timeout, c.keep_alive)
    );
    let no_dos = load_str(path(), "charon { dos_protection = no }").unwrap();
    assert_eq!(
        no_dos.apply(&base).cookie_threshold,
        usize::MAX,
        "never cookies"
    );
}

#[test]
fn defaults_without_a_file_or_a_section() {
    let missing = load(&testdata("does-not-exist/strongswan.conf")).unwrap();
    assert_eq!(missing, Charon::default());
    assert_eq!(missing.vici_socket, None, "--vici or the default decide");
    let d = load_str(
        path(),
        "libstrongswan { leak_detective { detailed = no } }\n",
    )
    .unwrap();
    assert_eq!(d, Charon::default());
    let r = d.retransmit;
    assert_eq!(
        (r.timeout, r.base, r.tries, r.jitter, r.limit),
        (Duration::from_secs(4), 1.8, 5, 0, None)
    );
    assert_eq!(d.keep_alive, Duration::from_secs(20));
    let table = d.routes().unwrap();
    assert_eq!((table.table, table.rule_priority), (220, 220));
    // routing_table = 0 installs no routes; an empty value keeps the default.
    let zero = load_str(path(), "charon { routing_table = 0\nretransmit_tries =\n }").unwrap();
    assert_eq!((zero.routes(), zero.retransmit.tries), (None, 5));
}

#[test]
fn charon_systemd_overrides_charon() {
    let c = load_str(
        path(),
        "charon { retransmit_tries = 3\nkeep_alive = 5s }\ncharon-systemd { retransmit_tries = 7 }\n",
    )
    .unwrap();
    assert_eq!(
        (c.retransmit.tries, c.keep_alive),
        (7, Duration::from_secs(5))
    );
}

/// Debian's strongswan.conf: an include of strongswan.d, whose files are full of plugin
/// settings (and commented-out defaults): nothing in them is an error.
#[test]
fn debians_file_with_its_plugin_settings_loads() {
    let c = load(&testdata("strongswan/strongswan.conf")).unwrap();
    assert_eq!(c.retransmit.tries, 2, "from strongswan.d/charon.conf");
    assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    assert!(c.warnings[0].contains("charon.conf:") && c.warnings[0].contains("charon.port_nat_t"));
}

#[test]
fn bad_values_of_keys_ikerd_reads_are_errors_with_file_line_and_key() {
    let text = "charon {\n\
                  retransmit_timeout = soon\n\
                  retransmit_base = 0.5\n\
                  retransmit_tries = -1\n\
                  retransmit_limit = 1h\n\
                  dos_protection = perhaps\n\
                  keep_alive = 20x\n\
                  half_open_timeout = 0\n\
                  routing_table = 4294967296\n\
                  retransmit_timeout = nan\n\
                  unknown_key = whatever\n\
                  plugins { vici { socket = tcp://127.0.0.1:4502 } }\n\
                }\n";
    let error = load_str(path(), text).unwrap_err();
    let mut got: Vec<(u32, &str)> = error
        .problems
        .iter()
        .map(|p| (p.at.line, p.key.as_str()))
        .collect();
    // The second retransmit_timeout replaces the first in its place, with its own line.
    got.sort();
    assert_eq!(
        got,
        [
            (3, "charon.retransmit_base"),
            (4, "charon.retransmit_tries"),
            (5, "charon.retransmit_limit"),
            (6, "charon.dos_protection"),
            (7, "charon.keep_alive"),
            (8, "charon.half_open_timeout"),
            (9, "charon.routing_table"),
            (10, "charon.retransmit_timeout"),
            (12, "charon.plugins.vici.socket"),
        ],
        "{error}"
    );
    let text = error.to_string();
    assert!(
        text.contains("/etc/strongswan.conf:3: charon.retransmit_base: "),
        "{text}"
    );
    // A syntax error anywhere is an error too: strongSwan would not read the file either.
    let syntax = load_str(path(), "charon {\n retransmit_tries = 3\n").unwrap_err();
    assert_eq!(syntax.problems.len(), 1, "{syntax}");
}
