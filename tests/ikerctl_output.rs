//! ikerctl's output, text and JSON, rendered from fixed VICI messages (the keys and formats
//! ikerd and strongSwan send) and compared with the files in `tests/snapshots/`. After a
//! deliberate change of the output, `UPDATE_SNAPSHOTS=1 cargo nextest run --test
//! ikerctl_output` writes the files again; review the diff before committing it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use ikerd::cli::{
    completions, info, json, list_certs, list_conns, list_pols, list_sas, log, status,
};
use ikerd::vici::wire::Message;

fn path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name)
}

/// `actual` must equal the snapshot `name`.
fn snapshot(name: &str, actual: &str) {
    let path = path(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} missing: UPDATE_SNAPSHOTS=1 writes it", path.display()));
    assert!(
        actual == expected,
        "{name} differs from the snapshot.\n--- expected\n{expected}\n--- actual\n{actual}"
    );
}

/// The JSON must parse, by jq when it is installed (the root tier installs it), and keep
/// what jq reads from it.
fn parses(json: &str, filter: &str) -> String {
    let Ok(mut jq) = Command::new("jq")
        .args(["-c", filter])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        eprintln!("jq not installed: the JSON is checked against the snapshot only");
        return String::new();
    };
    use std::io::Write;
    jq.stdin.take().unwrap().write_all(json.as_bytes()).unwrap();
    let out = jq.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "jq refused the JSON: {}\n{json}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// An established IKE SA of `gw` with one installed Child SA, with the keys ikerd sends and
/// the ones strongSwan adds (last use, reauthentication, NAT).
fn gw_sa() -> Message {
    let child = Message::new()
        .with_value("name", "net")
        .with_value("uniqueid", "7")
        .with_value("reqid", "1")
        .with_value("state", "INSTALLED")
        .with_value("mode", "TUNNEL")
        .with_value("protocol", "ESP")
        .with_value("encap", "yes")
        .with_value("spi-in", "c1000007")
        .with_value("spi-out", "c2000009")
        .with_value("encr-alg", "AES_GCM_16")
        .with_value("encr-keysize", "256")
        .with_value("bytes-in", "1300000")
        .with_value("packets-in", "1042")
        .with_value("use-in", "2")
        .with_value("bytes-out", "840")
        .with_value("packets-out", "1")
        .with_value("use-out", "75")
        .with_value("rekey-time", "3130")
        .with_value("life-time", "3530")
        .with_value("install-time", "470")
        .with_list("local-ts", ["198.51.100.0/24"])
        .with_list("remote-ts", ["203.0.113.0/24", "203.0.114.0/24"]);
    let sa = Message::new()
        .with_value("uniqueid", "3")
        .with_value("version", "2")
        .with_value("state", "ESTABLISHED")
        .with_value("local-host", "192.0.2.1")
        .with_value("local-port", "4500")
        .with_value("local-id", "moon.example")
        .with_value("remote-host", "192.0.2.2")
        .with_value("remote-port", "4500")
        .with_value("remote-id", "C=CH, O=Example, CN=sun")
        .with_value("initiator", "yes")
        .with_value("initiator-spi", "0123456789abcdef")
        .with_value("responder-spi", "fedcba9876543210")
        .with_value("nat-remote", "yes")
        .with_value("nat-any", "yes")
        .with_value("encr-alg", "AES_GCM_16")
        .with_value("encr-keysize", "256")
        .with_value("prf-alg", "PRF_HMAC_SHA2_384")
        .with_value("dh-group", "CURVE_25519")
        .with_value("established", "492")
        .with_value("rekey-time", "13908")
        .with_value("reauth-time", "86000")
        .with_section("child-sas", Message::new().with_section("net-7", child));
    Message::new().with_section("gw", sa)
}

/// A responder's half-open IKE SA of `road`: no algorithms, no age, no children yet.
fn road_sa() -> Message {
    let sa = Message::new()
        .with_value("uniqueid", "4")
        .with_value("version", "2")
        .with_value("state", "CONNECTING")
        .with_value("local-host", "192.0.2.1")
        .with_value("local-port", "500")
        .with_value("local-id", "moon.example")
        .with_value("remote-host", "198.51.100.77")
        .with_value("remote-port", "500")
        .with_value("initiator-spi", "1111111111111111")
        .with_value("responder-spi", "0000000000000000")
        .with_section("child-sas", Message::new());
    Message::new().with_section("road", sa)
}

fn conn(name: &str, remote: &str, children: &[(&str, &str, &str)]) -> Message {
    let auth = |class: &str, id: Option<&str>| {
        let mut m = Message::new().with_value("class", class);
        if let Some(id) = id {
            m = m.with_value("id", id);
        }
        m.with_list("groups", Vec::<String>::new())
            .with_list("certs", Vec::<String>::new())
            .with_list("cacerts", Vec::<String>::new())
    };
    let mut kids = Message::new();
    for (child, local, remote) in children {
        kids = kids.with_section(
            *child,
            Message::new()
                .with_value("mode", "TUNNEL")
                .with_value("rekey_time", "3600")
                .with_value("dpd_action", "none")
                .with_value("close_action", "none")
                .with_list("local-ts", [*local])
                .with_list("remote-ts", [*remote]),
        );
    }
    let m = Message::new()
        .with_list("local_addrs", ["192.0.2.1"])
        .with_list("remote_addrs", [remote])
        .with_value("version", "IKEv2")
        .with_value("reauth_time", "0")
        .with_value("rekey_time", "14400")
        .with_value("unique", "UNIQUE_NO")
        .with_value("dpd_delay", "30")
        .with_section("local-1", auth("pre-shared key", Some("moon.example")))
        .with_section("remote-1", auth("public key", None))
        .with_section("children", kids);
    Message::new().with_section(name, m)
}

fn conns() -> Vec<Message> {
    vec![
        conn(
            "gw",
            "192.0.2.2",
            &[("net", "198.51.100.0/24", "203.0.113.0/24")],
        ),
        conn(
            "backup",
            "192.0.2.3",
            &[("net2", "198.51.100.0/24", "203.0.114.0/24")],
        ),
        conn("road", "%any", &[("rw", "dynamic", "dynamic")]),
    ]
}

/// ikerd-failures: what went wrong with `backup` 12 s before the view and with `gw` an hour
/// before it came up.
fn failures() -> Message {
    Message::new()
        .with_section(
            "backup",
            Message::new()
                .with_value("kind", "refused")
                .with_value(
                    "reason",
                    "peer rejected our proposals (NO_PROPOSAL_CHOSEN); we offered \
                     aes256gcm16-prfsha384-x25519",
                )
                .with_value("time", "1799999988"),
        )
        .with_section(
            "gw",
            Message::new()
                .with_value("kind", "child")
                .with_value("reason", "peer refused the Child SA: TS_UNACCEPTABLE")
                .with_value("child", "net")
                .with_value("time", "1799996400"),
        )
}

const NOW: u64 = 1_800_000_000;

#[test]
fn list_sas_text_and_json() {
    let events = [gw_sa(), road_sa()];
    snapshot("list-sas.txt", &list_sas::text(&events));
    assert_eq!(list_sas::text(&[]), "no IKE SAs\n");
    let json = json::messages(&events).pretty();
    snapshot("list-sas.json", &json);
    // Filtered by child: the IKE SAs without one go.
    let only = list_sas::only_children(events.to_vec(), Some("net"), None);
    assert_eq!(only, [gw_sa()]);
    assert!(list_sas::only_children(events.to_vec(), Some("net"), Some(8)).is_empty());
    assert_eq!(
        list_sas::only_children(events.to_vec(), None, Some(7)),
        [gw_sa()]
    );
    if !parses(&json, ".").is_empty() {
        assert_eq!(
            parses(
                &json,
                r#"[.[0].gw.state, .[0].gw["child-sas"]["net-7"]["bytes-in"]]"#
            ),
            "[\"ESTABLISHED\",\"1300000\"]\n"
        );
    }
}

#[test]
fn list_conns_text_and_json() {
    let events = conns();
    snapshot("list-conns.txt", &list_conns::text(&events));
    let json = json::messages(&events).pretty();
    snapshot("list-conns.json", &json);
    parses(&json, ".");
}

#[test]
fn status_merges_connections_sas_and_failures() {
    let reports = status::Reports {
        conns: conns(),
        sas: vec![gw_sa(), road_sa()],
        failures: Some(failures()),
    };
    snapshot("status.txt", &status::text(&reports, NOW));
    let json = status::json(&reports).pretty();
    snapshot("status.json", &json);
    if !parses(&json, ".").is_empty() {
        assert_eq!(
            parses(&json, r#"[.[] | select(.state == "down") | .name]"#),
            "[\"backup\"]\n"
        );
    }
    // strongSwan's charon has no ikerd-failures: the view comes without them.
    let charon = status::Reports {
        failures: None,
        ..reports
    };
    assert!(!status::text(&charon, NOW).contains("last failure"));
}

#[test]
fn stats_version_and_counters_text() {
    let stats = Message::new()
        .with_section(
            "uptime",
            Message::new()
                .with_value("running", "3 hours")
                .with_value("since", "Nov 30 04:00:00 2026"),
        )
        .with_section(
            "workers",
            Message::new()
                .with_value("total", "1")
                .with_value("idle", "0")
                .with_section(
                    "active",
                    Message::new()
                        .with_value("critical", "0")
                        .with_value("high", "0")
                        .with_value("medium", "1")
                        .with_value("low", "0"),
                ),
        )
        .with_value("scheduled", "2")
        .with_section(
            "ikesas",
            Message::new()
                .with_value("total", "3")
                .with_value("half-open", "1"),
        )
        .with_list("plugins", Vec::<String>::new())
        .with_section(
            "mallinfo",
            Message::new()
                .with_value("sbrk", "2170880")
                .with_value("mmap", "0")
                .with_value("used", "1589248")
                .with_value("free", "581632"),
        );
    let version = Message::new()
        .with_value("daemon", "ikerd")
        .with_value("version", "0.1.0")
        .with_value("sysname", "Linux")
        .with_value("release", "6.1.0-28-amd64")
        .with_value("machine", "x86_64");
    let counters = Message::new().with_section(
        "counters",
        Message::new().with_section(
            "",
            Message::new()
                .with_value("ike-rekey-init", "4")
                .with_value("ike-init-in-req", "12")
                .with_value("invalid", "0"),
        ),
    );
    let text = [
        info::stats_text(&stats),
        info::version_text(&version),
        info::counters_text(&counters),
    ]
    .join("--\n");
    snapshot("info.txt", &text);
}

#[test]
fn policies_certificates_and_log_lines() {
    let policy = Message::new().with_section(
        "gw/net",
        Message::new()
            .with_value("child", "net")
            .with_value("ike", "gw")
            .with_value("mode", "TRAP")
            .with_list("local-ts", ["198.51.100.0/24"])
            .with_list("remote-ts", ["203.0.113.0/24"]),
    );
    let der = std::fs::read(path("moon-cert.der")).unwrap();
    let cert = Message::new()
        .with_value("type", "X509")
        .with_value("flag", "CA")
        .with_value("has_privkey", "yes")
        .with_value("data", der);
    let broken = Message::new()
        .with_value("type", "X509")
        .with_value("flag", "NONE")
        .with_value("data", vec![0x30, 0x03, 0x02, 0x01, 0x00]);
    let log_line = Message::new()
        .with_value("group", "IKE")
        .with_value("level", "1")
        .with_value("ikesa-name", "gw")
        .with_value("ikesa-uniqueid", "3")
        .with_value("msg", "IKE_SA gw[3] established");
    let text = [
        list_pols::text(&[policy]),
        list_certs::text(&[cert.clone(), broken]),
        log::line(&log_line),
        log::line(&Message::new().with_value("msg", "no group")),
    ]
    .join("--\n");
    snapshot("other.txt", &text);
    let json = json::messages(&[cert]).pretty();
    assert!(json.contains("\"data\": \"0x3082"), "{json}");
    parses(&json, ".");
}

#[test]
fn completion_scripts_know_every_command_in_both_spellings() {
    let bash = completions::script(completions::Shell::Bash);
    for word in [
        "list-sas",
        "--list-sas",
        "-l",
        "status",
        "--status",
        "--ike-id",
        "--json",
    ] {
        assert!(bash.contains(word), "{word}:\n{bash}");
    }
    let zsh = completions::script(completions::Shell::Zsh);
    assert!(zsh.starts_with("#compdef ikerctl\n"));
    assert!(
        zsh.contains("'--child[The child to start]:child:'"),
        "{zsh}"
    );
    let fish = completions::script(completions::Shell::Fish);
    assert!(
        fish.contains("-l ike-id -s I -r -d 'Only the IKE SA with this unique id'"),
        "{fish}"
    );
    // The bash script is valid bash.
    if let Ok(out) = Command::new("bash").args(["-n", "-c", &bash]).output() {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
