//! ikerctl against ikerd over VICI: two daemons with in-memory kernels speak IKE on the
//! loopback of a throwaway network namespace (root: `scripts/test` runs these with
//! `--run-ignored only`, and installs jq first), and the ikerctl binary, run against moon's
//! socket, lists the configuration, brings a tunnel up, shows why two others fail, follows the
//! log through a rekey and takes the tunnel down; `--json` output goes through jq. A user who
//! is neither root nor in the socket's group is told so.

#[path = "common/daemons.rs"]
mod daemons;
#[allow(dead_code)] // this test runs ikerd in-process: only the helpers are used
#[path = "common/ikerd.rs"]
mod running;

use std::io::{BufRead, Write};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use daemons::{Daemons, eventually};
use running::run_bounded;

const JQ: &str = "/usr/bin/jq";

/// moon (1) and sun (2): `gw` with child `net` between them; moon also has `bad`, whose IKE
/// proposal sun does not accept, and `wrongid`, which expects sun under another name.
fn configs() -> Vec<String> {
    let conn = |name: &str, me: u8, proposals: &str, remote_id: &str, child: &str| {
        let other = 3 - me;
        format!(
            " {name} {{\n  local_addrs = 127.0.0.{me}\n  remote_addrs = 127.0.0.{other}\n  \
             proposals = {proposals}\n  \
             local {{ auth = psk\n id = h{me}.example }}\n  remote {{ auth = psk\n id = {remote_id} }}\n  \
             children {{ {child} {{ local_ts = 198.51.100.{me}/32\n remote_ts = 198.51.100.{other}/32 }} }}\n }}\n"
        )
    };
    let good = "aes256gcm16-prfsha384-x25519";
    let secrets = "secrets { ike { secret = 0x00112233445566778899 } }\n";
    let moon = format!(
        "connections {{\n{}{}{}}}\n{secrets}",
        conn("gw", 1, good, "h2.example", "net"),
        conn("bad", 1, "aes128-sha256-modp2048", "h2.example", "net2"),
        conn("wrongid", 1, good, "h9.example", "net3"),
    );
    // moon's wrongid authenticates to sun as h1 with INITIAL_CONTACT (it has no IKE SA with
    // h9); sun, like strongSwan, would take that for moon starting afresh and drop gw's IKE
    // SA, unless it keeps every IKE SA (`unique = never`).
    let sun = format!(
        "connections {{\n{}}}\n{secrets}",
        conn("gw", 2, good, "h1.example", "net")
            .replace("  proposals", "  unique = never\n  proposals")
    );
    vec![moon, sun]
}

/// ikerctl ARGS --uri URI, for at most 20 s.
fn ikerctl(uri: &str, args: &[&str]) -> Output {
    run_bounded(
        Command::new(env!("CARGO_BIN_EXE_ikerctl"))
            .args(args)
            .args(["--uri", uri]),
        Duration::from_secs(20),
    )
}

/// ikerctl's standard output; it must succeed.
fn ok(uri: &str, args: &[&str]) -> String {
    let out = ikerctl(uri, args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "ikerctl {args:?}: {:?}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// ikerctl's standard error; it must fail with status 1.
fn fails(uri: &str, args: &[&str]) -> String {
    let out = ikerctl(uri, args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "ikerctl {args:?}: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `filter` applied by jq (`-r`) to `json`; jq must accept the JSON.
fn jq(json: &str, filter: &str) -> String {
    assert!(
        std::path::Path::new(JQ).exists(),
        "{JQ} missing: apt-get install jq (scripts/test does)"
    );
    let mut child = Command::new(JQ)
        .args(["-r", filter])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(json.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "jq {filter}: {}\n{json}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn has_line(text: &str, expected: &str) {
    assert!(
        text.lines().any(|l| l == expected),
        "{expected:?} in:\n{text}"
    );
}

#[test]
#[ignore = "root: needs CAP_SYS_ADMIN and CAP_NET_ADMIN"]
fn root_ikerctl_lists_starts_explains_and_stops_tunnels() {
    let daemons = Daemons::start("ikerctl", &configs());
    let (moon, sun) = (daemons.uri(1), daemons.uri(2));

    // The configuration, in both spellings, and as JSON.
    let conns = ok(&moon, &["list-conns"]);
    has_line(&conns, "gw: IKEv2, 127.0.0.1 ... 127.0.0.2");
    has_line(&conns, "  local   pre-shared key, id h1.example");
    has_line(&conns, "  net: TUNNEL, rekey every 1h00m");
    has_line(&conns, "    remote  198.51.100.2/32");
    assert_eq!(ok(&moon, &["--list-conns"]), conns);
    let json = ok(&moon, &["list-conns", "--json"]);
    assert_eq!(jq(&json, ".[] | keys[]"), "gw\nbad\nwrongid\n");
    assert_eq!(
        jq(&json, r#".[0].gw.children.net["local-ts"][0]"#),
        "198.51.100.1/32\n"
    );
    assert_eq!(ok(&moon, &["list-sas"]), "no IKE SAs\n");
    assert_eq!(jq(&ok(&moon, &["list-sas", "--json"]), "length"), "0\n");
    let status = ok(&moon, &["status"]);
    for expected in ["gw: down", "  net: down", "bad: down", "wrongid: down"] {
        has_line(&status, expected);
    }

    // Up, with the negotiation's log as it comes.
    let up = ok(&moon, &["--initiate", "--child", "net"]);
    for expected in [
        "[IKE] <gw|1> initiating IKE_SA gw[1] to 127.0.0.2",
        "[IKE] <gw|1> IKE_SA gw[1] established between 127.0.0.1[h1.example]...127.0.0.2[h2.example]",
        "initiate completed successfully",
    ] {
        has_line(&up, expected);
    }
    let sas = ok(&moon, &["list-sas"]);
    eprintln!("{up}\n{sas}");
    assert!(sas.starts_with("gw #1: ESTABLISHED "), "{sas}");
    has_line(&sas, "  local       h1.example @ 127.0.0.1[500]");
    has_line(&sas, "  remote      h2.example @ 127.0.0.2[500]");
    has_line(
        &sas,
        "  algorithms  AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519",
    );
    assert!(
        sas.lines()
            .any(|l| l.starts_with("  net #1: INSTALLED, TUNNEL, ESP, reqid 1, installed ")),
        "{sas}"
    );
    has_line(&sas, "    local       198.51.100.1/32");
    // Both sides' JSON, through jq: moon's inbound SPI is sun's outbound one.
    let spi = |uri: &str, dir: &str| {
        let json = ok(uri, &["--list-sas", "--json"]);
        jq(&json, &format!(r#".[0].gw["child-sas"][]["spi-{dir}"]"#))
    };
    let (moon_in, moon_out) = (spi(&moon, "in"), spi(&moon, "out"));
    assert!(moon_in.starts_with("c1"), "{moon_in}");
    let (sun_in, sun_out) = eventually("sun lists the Child SA", || {
        let (i, o) = (spi(&sun, "in"), spi(&sun, "out"));
        (!i.is_empty()).then_some((i, o))
    });
    assert_eq!(
        (moon_in.as_str(), moon_out.as_str()),
        (sun_out.as_str(), sun_in.as_str())
    );
    let by_id = ok(&moon, &["list-sas", "--ike-id", "1", "--json"]);
    assert_eq!(jq(&by_id, ".[0].gw.uniqueid"), "1\n");
    assert_eq!(ok(&moon, &["list-sas", "--ike", "bad"]), "no IKE SAs\n");
    // (The text says how long ago: compare the lines that do not.)
    let steady = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| !l.contains(" ago") && !l.contains(" in "))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(
        steady(&ok(&moon, &["list-sas", "--child", "net"])),
        steady(&sas)
    );
    assert_eq!(ok(&moon, &["-l", "-c", "net2"]), "no IKE SAs\n");

    // Two that fail, each with its reason: refused proposals, a peer that is not who we expect.
    let refused = fails(&moon, &["initiate", "--child", "net2"]);
    assert!(refused.contains("NO_PROPOSAL_CHOSEN"), "{refused}");
    let wrong = fails(&moon, &["initiate", "--child", "net3", "--timeout", "10"]);
    assert!(wrong.starts_with("ikerctl initiate: "), "{wrong}");
    let status = eventually("both failures recorded", || {
        let status = ok(&moon, &["status"]);
        (status.matches("last failure").count() == 2).then_some(status)
    });
    eprintln!("{status}");
    has_line(&status, "gw: up, 1 IKE SA");
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("    net #1: INSTALLED, in 0 B, out 0 B")),
        "{status}"
    );
    has_line(&status, "bad: down");
    assert!(
        status.contains(
            "s ago: peer rejected our proposals (NO_PROPOSAL_CHOSEN); we offered \
             aes128-sha256-prfsha256-modp2048\n"
        ),
        "{status}"
    );
    let wrongid = status
        .split("wrongid: down\n")
        .nth(1)
        .unwrap_or_else(|| panic!("wrongid down:\n{status}"));
    assert!(wrongid.contains("authentication failed: "), "{status}");
    assert!(wrongid.contains("h9.example"), "{status}");
    let json = ok(&moon, &["status", "--json"]);
    assert_eq!(
        jq(
            &json,
            r#".[] | "\(.name) \(.state) \(.children | to_entries | map(.value) | join(","))""#
        ),
        "gw up up\nbad down down\nwrongid down down\n"
    );
    assert_eq!(
        jq(
            &json,
            r#".[] | select(.name == "bad") | .["last-failure"].kind"#
        ),
        "refused\n"
    );

    // The log, followed while the Child SA is rekeyed.
    let mut log = Command::new(env!("CARGO_BIN_EXE_ikerctl"))
        .args(["--log", "--uri", &moon])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Registered once it says so.
    let mut note = String::new();
    std::io::BufReader::new(log.stderr.take().unwrap())
        .read_line(&mut note)
        .unwrap();
    assert_eq!(
        note,
        "ikerctl log: following the daemon's log; Ctrl-C stops\n"
    );
    let rekey = ok(&moon, &["rekey", "--child", "net"]);
    assert_eq!(rekey, "rekey completed successfully (1 matched)\n");
    eventually("new SPIs after the rekey", || {
        (spi(&moon, "in")
            .lines()
            .all(|s| format!("{s}\n") != moon_in))
        .then_some(())
    });
    // The new Child SA's line comes; read until it does, for at most 10 s.
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = log.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    let end = std::time::Instant::now() + Duration::from_secs(10);
    while !lines.iter().any(|l: &String| {
        l.starts_with("[IKE] <gw|1> CHILD_SA net{") && l.contains("} established with SPIs ")
    }) {
        let left = end.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => lines.push(line),
            Err(_) => panic!("no CHILD_SA line in the log:\n{}", lines.join("\n")),
        }
    }
    eprintln!("log:\n{}", lines.join("\n"));
    log.kill().unwrap();
    let _ = log.wait();

    // What the daemon counted and installed: no trap policies, the IKE messages of gw.
    assert_eq!(ok(&moon, &["list-pols"]), "no policies\n");
    assert_eq!(jq(&ok(&moon, &["list-pols", "--json"]), "length"), "0\n");
    let counted = ok(&moon, &["counters", "--name", "gw", "--json"]);
    assert_eq!(jq(&counted, ".counters.gw.\"ike-auth-out-req\""), "1\n");
    let unknown = fails(&moon, &["counters", "--name", "nope"]);
    assert!(unknown.contains("no counters found"), "{unknown}");
    let stats = ok(&moon, &["-S"]);
    assert!(
        stats
            .lines()
            .any(|l| l.starts_with("IKE SAs ") && l.ends_with(" 1 total, 0 half-open")),
        "{stats}"
    );
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    assert_eq!(
        ok(&moon, &["version", "--daemon"]),
        format!(
            "ikerd {} (Linux, {}, {})\n",
            env!("CARGO_PKG_VERSION"),
            release.trim(),
            std::env::consts::ARCH
        )
    );
    assert_eq!(jq(&ok(&moon, &["stats", "--json"]), ".ikesas.total"), "1\n");

    // Someone else may not connect, and is told who may.
    let bin = daemons.dir.join("ikerctl");
    std::fs::copy(env!("CARGO_BIN_EXE_ikerctl"), &bin).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let nobody = run_bounded(
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&bin)
            .args(["list-sas", "--uri", &moon]),
        Duration::from_secs(20),
    );
    let err = String::from_utf8_lossy(&nobody.stderr);
    assert_eq!(nobody.status.code(), Some(1), "{err}");
    assert_eq!(
        err,
        format!(
            "ikerctl list-sas: permission denied on {}: run as root or as a member of group root\n",
            daemons.sockets[0].display()
        )
    );

    // Down, on both sides.
    let down = ok(&moon, &["terminate", "--ike", "gw"]);
    assert!(
        down.lines()
            .any(|l| l
                .starts_with("[IKE] <gw|1> deleting IKE_SA gw[1] between 127.0.0.1[h1.example]")),
        "{down}"
    );
    has_line(&down, "terminate completed successfully");
    assert_eq!(ok(&moon, &["list-sas"]), "no IKE SAs\n");
    eventually("sun without SAs", || {
        (ok(&sun, &["list-sas"]) == "no IKE SAs\n").then_some(())
    });
    let again = fails(&moon, &["terminate", "--ike", "gw"]);
    assert_eq!(
        again,
        "ikerctl terminate: no matching SAs to terminate found\n"
    );
    has_line(&ok(&moon, &["status"]), "gw: down");

    let left = daemons.stop();
    assert_eq!(left, [(0, (0, 0)), (0, (0, 0))], "SAs or ids left behind");
}
