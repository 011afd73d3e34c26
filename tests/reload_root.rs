//! The real binary reloading its configuration on SIGHUP, and running with only the two
//! capabilities the systemd unit grants, in a throwaway network namespace (root: `scripts/test`
//! runs these with `--run-ignored only`). Trap policies make the configuration visible in the
//! namespace's kernel without any peer or ESP.

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

#[allow(dead_code)] // shared by several test binaries, each using a part
#[path = "common/ikerd.rs"]
mod running;

use running::Ikerd;

/// A connection `name` to 127.0.0.2 whose child traps traffic to `remote_ts`.
fn trapped(name: &str, remote_ts: &str) -> String {
    format!(
        "  {name} {{
    local_addrs = 127.0.0.1
    remote_addrs = 127.0.0.2
    local {{ auth = psk
      id = moon.example }}
    remote {{ auth = psk
      id = sun.example }}
    children {{ {name} {{ local_ts = 198.51.100.0/24
        remote_ts = {remote_ts}
        start_action = trap }} }}
  }}
"
    )
}

fn config(connections: &[String]) -> String {
    format!(
        "connections {{\n{}}}\nsecrets {{ ike {{ secret = 0x00112233445566778899 }} }}\n",
        connections.concat()
    )
}

/// The namespace's policies (not the sockets' own), one line each: "dir src dst".
fn policies(ikerd: &Ikerd) -> Vec<String> {
    let out = ikerd
        .ns
        .run(|| Command::new("ip").args(["xfrm", "policy", "list"]).output())
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut policies = Vec::new();
    let mut selector = String::new();
    for line in text.lines() {
        if line.starts_with("src ") {
            selector = line.trim().to_string();
        } else if let Some(dir) = line.trim().strip_prefix("dir ") {
            let dir = dir.split_whitespace().next().unwrap_or_default();
            policies.push(format!("{dir} {selector}"));
        }
    }
    policies.sort();
    policies
}

fn wait_policies(ikerd: &Ikerd, count: usize) -> Vec<String> {
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let policies = policies(ikerd);
        if policies.len() == count {
            return policies;
        }
        assert!(
            Instant::now() < end,
            "{policies:?}, want {count}\n{}",
            ikerd.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// ikerd in a namespace of its own with `text` as its swanctl.conf, under `wrapper`.
fn start(tag: &str, text: &str, wrapper: &[&str]) -> Ikerd {
    Ikerd::start(tag, text, &[], wrapper)
}

fn write(path: &Path, text: &str) {
    std::fs::File::create(path)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
}

#[test]
#[ignore = "root: needs CAP_SYS_ADMIN and CAP_NET_ADMIN"]
fn root_sighup_applies_only_what_changed_and_refuses_a_broken_file() {
    let a = trapped("a", "203.0.113.0/24");
    let ikerd = start("reload", &config(std::slice::from_ref(&a)), &[]);
    let only_a = wait_policies(&ikerd, 3);
    let hup = || ikerd.signal(nix::sys::signal::Signal::SIGHUP);
    let conf = ikerd.dir.join("swanctl.conf");

    // A broken file: an error naming file and line, and nothing changes.
    write(
        &conf,
        &config(std::slice::from_ref(&a)).replace("local_addrs", "local_adrs"),
    );
    hup();
    ikerd.wait_log("the running configuration stays", 1);
    assert!(
        ikerd
            .log()
            .contains("swanctl.conf:3: connections.a.local_adrs"),
        "{}",
        ikerd.log()
    );
    assert_eq!(policies(&ikerd), only_a);

    // b is new: its traps are added, a's stay as they are.
    let b = trapped("b", "192.0.2.128/25");
    write(&conf, &config(&[a.clone(), b.clone()]));
    hup();
    ikerd.wait_log("1 new or changed (b)", 1);
    let with_b = wait_policies(&ikerd, 6);
    assert!(only_a.iter().all(|p| with_b.contains(p)), "{with_b:?}");

    // a changes: its traps are replaced; b's stay.
    let a2 = trapped("a", "203.0.113.0/25");
    write(&conf, &config(&[a2, b]));
    hup();
    ikerd.wait_log("1 new or changed (a)", 1);
    let changed = wait_policies(&ikerd, 6);
    assert!(
        changed.iter().any(|p| p.contains("203.0.113.0/25")),
        "{changed:?}"
    );
    assert!(
        !changed.iter().any(|p| p.contains("203.0.113.0/24")),
        "{changed:?}"
    );
    assert_eq!(
        changed
            .iter()
            .filter(|p| p.contains("192.0.2.128/25"))
            .count(),
        3,
        "b untouched"
    );
    ikerd.stop();
}

#[test]
#[ignore = "root: needs CAP_SYS_ADMIN and CAP_NET_ADMIN"]
fn root_ikerd_runs_with_only_net_admin_and_net_bind_service() {
    // setpriv leaves ikerd nothing but the two capabilities systemd/ikerd.service grants.
    let wrapper = [
        "setpriv",
        "--bounding-set=-all,+net_admin,+net_bind_service",
        "--inh-caps=-all",
        "--",
    ];
    let a = trapped("a", "203.0.113.0/24");
    let ikerd = start("caps", &config(&[a]), &wrapper);
    let status = std::fs::read_to_string(format!("/proc/{}/status", ikerd.child.id())).unwrap();
    let eff = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .map(str::trim)
        .unwrap();
    // CAP_NET_BIND_SERVICE is bit 10, CAP_NET_ADMIN bit 12.
    assert_eq!(eff, "0000000000001400", "{status}");
    // It bound ports 500 and 4500 and programmed XFRM (the trap policies) with them.
    wait_policies(&ikerd, 3);
    ikerd.stop();
}

#[test]
#[ignore = "root: needs CAP_SYS_ADMIN and CAP_NET_ADMIN"]
fn root_swanctl_installs_and_uninstalls_trap_policies() {
    let idle = trapped("a", "203.0.113.0/24").replace("start_action = trap", "start_action = none");
    let ikerd = start("install", &config(&[idle]), &[]);
    assert!(policies(&ikerd).is_empty());
    let swanctl = |args: &[&str]| ikerd.swanctl(args);
    let (ok, text) = swanctl(&["--list-pols"]);
    assert!(ok && !text.contains("a/a"), "{text}");
    let (ok, text) = swanctl(&["--install", "--child", "a"]);
    assert!(ok, "{text}");
    wait_policies(&ikerd, 3);
    let (ok, text) = swanctl(&["--list-pols"]);
    assert!(ok, "{text}");
    for expected in [
        "a/a, TUNNEL",
        "local:  198.51.100.0/24",
        "remote: 203.0.113.0/24",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
    let (_, text) = swanctl(&["--list-pols", "--drop"]);
    assert!(!text.contains("a/a"), "{text}");
    let (ok, text) = swanctl(&["--install", "--child", "nope"]);
    assert!(
        !ok && text.contains("configuration name not found"),
        "{text}"
    );
    let (ok, text) = swanctl(&["--uninstall", "--child", "a"]);
    assert!(ok, "{text}");
    wait_policies(&ikerd, 0);
    // As charon answers: nothing installed, nothing to remove.
    let (ok, text) = swanctl(&["--uninstall", "--child", "a"]);
    assert!(!ok && text.contains("policy 'a' not found"), "{text}");
    ikerd.stop();
}

/// A CA, and a certificate and key for moon.example, made with openssl in `dir`'s `x509ca/`,
/// `x509/` and `pkcs8/` as swanctl(8) expects them.
fn moon_pki(dir: &Path) {
    for sub in ["x509", "x509ca", "pkcs8"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let script = "set -e
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out caKey.pem
openssl req -x509 -new -key caKey.pem -days 30 -out x509ca/caCert.pem \
  -subj '/O=ikerd test/CN=ikerd test CA' \
  -addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign,cRLSign
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out pkcs8/moonKey.pem
printf 'subjectAltName = DNS:moon.example\nbasicConstraints = CA:false\n' > moon.ext
openssl req -new -key pkcs8/moonKey.pem -subj '/O=ikerd test/CN=moon.example' -out moon.csr
openssl x509 -req -in moon.csr -CA x509ca/caCert.pem -CAkey caKey.pem -CAserial ca.srl -CAcreateserial \
  -days 30 -extfile moon.ext -out x509/moonCert.pem
";
    let out = Command::new("sh")
        .args(["-c", script])
        .current_dir(dir)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// swanctl's lines saying a load or unload failed (not those about its own plugins and
/// folders).
fn failures(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| l.contains("failed"))
        .filter(|l| !l.starts_with("plugin '") && !l.starts_with("opening directory"))
        .collect()
}

/// Everything `swanctl --load-all` loads: connections with a pre-shared key and with
/// certificates, a secret, an authority and a pool.
fn full_config(psk_peer: &str, with_cert: bool, secret_id: &str) -> String {
    let cert = "  cert {
    local_addrs = 127.0.0.1
    remote_addrs = 127.0.0.3
    local { auth = pubkey
      certs = moonCert.pem
      id = moon.example }
    remote { auth = pubkey
      id = sun.example
      cacerts = caCert.pem }
    children { host { mode = transport } }
  }
";
    format!(
        "connections {{
  psk {{
    local_addrs = 127.0.0.1
    remote_addrs = {psk_peer}
    proposals = aes256-sha256-x25519, aes128gcm16-prfsha256-ecp256
    local {{ auth = psk
      id = moon.example }}
    remote {{ auth = psk
      id = sun.example }}
    children {{ net {{ local_ts = 198.51.100.0/24, 192.0.2.0/25
        remote_ts = 203.0.113.0/24
        esp_proposals = aes128gcm16, aes256-sha256 }} }}
  }}
{}}}
secrets {{ {secret_id} {{ id = sun.example
    secret = 0x00112233445566778899 }} }}
authorities {{ test {{ cacert = caCert.pem }} }}
pools {{ p {{ addrs = 10.3.0.0/24
    dns = 192.0.2.53 }} }}
",
        if with_cert { cert } else { "" }
    )
}

#[test]
#[ignore = "root: needs CAP_SYS_ADMIN and CAP_NET_ADMIN"]
fn root_swanctl_load_all_gives_what_ikerd_read_itself() {
    // The folder Ikerd::start uses, with the credentials in place before ikerd starts.
    let dir = std::env::temp_dir().join(format!("ikerd-load-{}", std::process::id()));
    moon_pki(&dir);
    // ikerd reads the file and the credentials beside it itself.
    let ikerd = start("load", &full_config("127.0.0.2", true, "ike-sun"), &[]);
    let conf = ikerd.dir.join("swanctl.conf");
    let conf_arg = conf.to_str().unwrap();

    // swanctl --load-all of the same file: everything loads, and nothing changes.
    let (ok, text) = ikerd.swanctl(&["--load-all", "--file", conf_arg]);
    assert!(ok && failures(&text).is_empty(), "{text}\n{}", ikerd.log());
    for expected in [
        "loaded certificate from",
        "loaded ECDSA key from",
        "loaded ike secret 'ike-sun'",
        "loaded authority 'test'",
        "loaded pool 'p'",
        "loaded connection 'psk'",
        "loaded connection 'cert'",
        "successfully loaded 2 connections, 0 unloaded",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
    ikerd.wait_log("2 connections, 0 new or changed", 1);

    let (ok, certs) = ikerd.swanctl(&["--list-certs"]);
    assert!(ok, "{certs}");
    assert!(certs.contains("CN=moon.example"), "{certs}");
    assert!(certs.contains("has private key"), "{certs}");
    assert!(certs.contains("CN=ikerd test CA"), "{certs}");
    let (ok, pools) = ikerd.swanctl(&["--list-pools"]);
    assert!(
        ok && pools.contains("p") && pools.contains("10.3.0.0"),
        "{pools}"
    );
    let (ok, authorities) = ikerd.swanctl(&["--list-authorities"]);
    assert!(ok && authorities.contains("test"), "{authorities}");

    // The file changes: one connection goes, one changes, the secret is renamed. swanctl
    // unloads what the file no longer has and ikerd applies only what changed.
    write(&conf, &full_config("127.0.0.4", false, "ike-peer"));
    let (ok, text) = ikerd.swanctl(&["--load-all", "--file", conf_arg]);
    assert!(ok && failures(&text).is_empty(), "{text}\n{}", ikerd.log());
    assert!(
        text.contains("successfully loaded 1 connections, 1 unloaded"),
        "{text}"
    );
    let (_, conns) = ikerd.swanctl(&["--list-conns"]);
    assert!(conns.contains("127.0.0.4"), "{conns}");
    assert!(!conns.contains("cert:"), "{conns}");
    let (_, raw) = ikerd.swanctl(&["--load-creds", "--raw", "--file", conf_arg]);
    assert!(
        raw.contains("ike-peer") && !raw.contains("ike-sun"),
        "{raw}"
    );

    // A connection with a mistake: swanctl says what is wrong, and nothing changes.
    let bad = full_config("127.0.0.4", false, "ike-peer").replace("esp_proposals", "esp_proposal");
    write(&conf, &bad);
    let (ok, text) = ikerd.swanctl(&["--load-conns", "--file", conf_arg]);
    assert!(!ok, "{text}");
    assert!(
        text.contains("loading connection 'psk' failed: connections.psk.children.net.esp_proposal: unknown key"),
        "{text}"
    );
    let (_, after) = ikerd.swanctl(&["--list-conns"]);
    assert_eq!(after, conns);

    // ikerctl loads as swanctl does: the first file again, then once more to no effect.
    write(&conf, &full_config("127.0.0.2", true, "ike-sun"));
    let ikerctl = |args: &[&str]| {
        let uri = ikerd.uri();
        let out = Command::new(env!("CARGO_BIN_EXE_ikerctl"))
            .args(["--uri", &uri])
            .args(args)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.success(), text)
    };
    let (ok, text) = ikerctl(&["--load-all", "--file", conf_arg]);
    assert!(ok, "{text}\n{}", ikerd.log());
    for expected in [
        "loaded certificate from",
        "loaded ike secret 'ike-sun'",
        "successfully loaded 1 authorities, 0 unloaded",
        "successfully loaded 1 pools, 0 unloaded",
        "successfully loaded 2 connections, 0 unloaded",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
    let (_, conns) = ikerd.swanctl(&["--list-conns"]);
    assert!(
        conns.contains("cert:") && conns.contains("127.0.0.2"),
        "{conns}"
    );
    let (_, raw) = ikerd.swanctl(&["--load-creds", "--raw", "--file", conf_arg]);
    assert!(
        raw.contains("ike-sun") && !raw.contains("ike-peer"),
        "{raw}"
    );
    let changes = ikerd
        .log()
        .matches("2 connections, 0 new or changed")
        .count();
    let (ok, text) = ikerctl(&["load-all", "--file", conf_arg]);
    assert!(ok, "{text}");
    ikerd.wait_log("2 connections, 0 new or changed", changes + 1);
    let (ok, text) = ikerctl(&["load-conns", "--file", conf_arg.trim_end_matches(".conf")]);
    assert!(!ok && text.contains("ikerctl load-conns:"), "{text}");
    ikerd.stop();
}
