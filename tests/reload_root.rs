//! The real binary reloading its configuration on SIGHUP, and running with only the two
//! capabilities the systemd unit grants, in a throwaway network namespace (root: `scripts/test`
//! runs these with `--run-ignored only`). Trap policies make the configuration visible in the
//! namespace's kernel without any peer or ESP.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use xfrm::NetNs;

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

struct Running {
    ns: NetNs,
    child: Child,
    dir: PathBuf,
}

impl Running {
    /// Starts ikerd in a new namespace with `text` as its swanctl.conf, under `wrapper` (a
    /// command and arguments that exec what follows them), and waits until it listens.
    fn start(tag: &str, text: &str, wrapper: &[&str]) -> Running {
        let dir = std::env::temp_dir().join(format!("ikerd-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        write(&dir.join("swanctl.conf"), text);
        let ns = NetNs::create().unwrap();
        let log = std::fs::File::create(dir.join("ikerd.log")).unwrap();
        let child = ns
            .run(|| {
                let up = Command::new("ip")
                    .args(["link", "set", "lo", "up"])
                    .status();
                assert!(up.unwrap().success());
                let mut argv: Vec<String> = wrapper.iter().map(|s| s.to_string()).collect();
                argv.push(env!("CARGO_BIN_EXE_ikerd").into());
                for arg in [
                    "--config",
                    "swanctl.conf",
                    "--run-dir",
                    "run",
                    "--vici",
                    "vici",
                ] {
                    argv.push(arg.into());
                }
                Command::new(&argv[0])
                    .args(&argv[1..])
                    .current_dir(&dir)
                    .stdout(Stdio::null())
                    .stderr(log)
                    .spawn()
                    .unwrap()
            })
            .unwrap();
        let running = Running { ns, child, dir };
        running.wait_log("listening on", 1);
        running
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("ikerd.log")).unwrap_or_default()
    }

    /// Waits until `text` appears `count` times in the log.
    fn wait_log(&self, text: &str, count: usize) {
        let end = Instant::now() + Duration::from_secs(20);
        while self.log().matches(text).count() < count {
            assert!(
                Instant::now() < end,
                "no {text:?} (x{count}) in:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The namespace's policies (not the sockets' own), one line each: "dir src dst".
    fn policies(&self) -> Vec<String> {
        let out = self
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

    fn wait_policies(&self, count: usize) -> Vec<String> {
        let end = Instant::now() + Duration::from_secs(10);
        loop {
            let policies = self.policies();
            if policies.len() == count {
                return policies;
            }
            assert!(
                Instant::now() < end,
                "{policies:?}, want {count}\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn signal(&self, signal: nix::sys::signal::Signal) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, signal).unwrap();
    }

    fn stop(mut self) {
        self.signal(nix::sys::signal::Signal::SIGTERM);
        let end = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < end, "ikerd did not stop");
            std::thread::sleep(Duration::from_millis(50));
        }
        std::fs::remove_dir_all(&self.dir).ok();
    }
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
    let ikerd = Running::start("reload", &config(std::slice::from_ref(&a)), &[]);
    let only_a = ikerd.wait_policies(3);
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
    assert_eq!(ikerd.policies(), only_a);

    // b is new: its traps are added, a's stay as they are.
    let b = trapped("b", "192.0.2.128/25");
    write(&conf, &config(&[a.clone(), b.clone()]));
    hup();
    ikerd.wait_log("1 new or changed (b)", 1);
    let with_b = ikerd.wait_policies(6);
    assert!(only_a.iter().all(|p| with_b.contains(p)), "{with_b:?}");

    // a changes: its traps are replaced; b's stay.
    let a2 = trapped("a", "203.0.113.0/25");
    write(&conf, &config(&[a2, b]));
    hup();
    ikerd.wait_log("1 new or changed (a)", 1);
    let changed = ikerd.wait_policies(6);
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
    let ikerd = Running::start("caps", &config(&[a]), &wrapper);
    let status = std::fs::read_to_string(format!("/proc/{}/status", ikerd.child.id())).unwrap();
    let eff = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .map(str::trim)
        .unwrap();
    // CAP_NET_BIND_SERVICE is bit 10, CAP_NET_ADMIN bit 12.
    assert_eq!(eff, "0000000000001400", "{status}");
    // It bound ports 500 and 4500 and programmed XFRM (the trap policies) with them.
    ikerd.wait_policies(3);
    ikerd.stop();
}

#[test]
#[ignore = "root: needs CAP_SYS_ADMIN and CAP_NET_ADMIN"]
fn root_swanctl_installs_and_uninstalls_trap_policies() {
    let idle = trapped("a", "203.0.113.0/24").replace("start_action = trap", "start_action = none");
    let ikerd = Running::start("install", &config(&[idle]), &[]);
    assert!(ikerd.policies().is_empty());
    let uri = format!("unix://{}", ikerd.dir.join("vici").display());
    let swanctl = |args: &[&str]| {
        let out = Command::new("swanctl")
            .args(args)
            .args(["--uri", &uri])
            .output()
            .expect("Debian's swanctl (strongswan-swanctl)");
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.success(), text)
    };
    let (ok, text) = swanctl(&["--install", "--child", "a"]);
    assert!(ok, "{text}");
    ikerd.wait_policies(3);
    let (ok, text) = swanctl(&["--install", "--child", "nope"]);
    assert!(
        !ok && text.contains("configuration name not found"),
        "{text}"
    );
    let (ok, text) = swanctl(&["--uninstall", "--child", "a"]);
    assert!(ok, "{text}");
    ikerd.wait_policies(0);
    ikerd.stop();
}
