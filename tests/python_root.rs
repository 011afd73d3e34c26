//! VICI clients that share no code with ikerd, run against it in a throwaway network namespace
//! (root: `scripts/test` runs these with `--run-ignored only`): strongSwan's Python `vici`
//! package (from PyPI), in `tests/python/vici_client.py`, drives two daemons with in-memory
//! kernels through a tunnel's life and checks every answer (and, against strongSwan's charon,
//! that the answers it expects are strongSwan's); `tests/python/vici_malformed.py`,
//! raw sockets and no VICI library, sends the ikerd binary malformed input of every kind and
//! checks after each case that it still answers, and that it did what its server promises.
//!
//! The scripts run under the Python that `IKERD_PYTHON` names: `scripts/test` sets it to a
//! virtual environment with the pinned `vici` package (`need_pyvici` in `scripts/lib/prereqs.sh`).

#[path = "common/daemons.rs"]
mod daemons;
#[allow(dead_code)] // shared by several test binaries, each using a part
#[path = "common/ikerd.rs"]
mod running;

use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use daemons::Daemons;
use running::{Ikerd, run_bounded};

/// The Python to run the scripts with; the tests fail without one rather than pass unchecked.
fn python() -> PathBuf {
    let python = std::env::var_os("IKERD_PYTHON").unwrap_or_default();
    let python = PathBuf::from(python);
    assert!(
        python.is_file(),
        "IKERD_PYTHON ({}) must name a Python with strongSwan's `vici` package: scripts/test \
         sets it up, or by hand: `source scripts/lib/prereqs.sh; need_pyvici; \
         export IKERD_PYTHON=$PYVICI`",
        match python.as_os_str().is_empty() {
            true => "unset".to_owned(),
            false => format!("{python:?}"),
        }
    );
    python
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(name)
}

/// Prints what a script said, and fails unless it succeeded.
fn passed(what: &str, out: &Output) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{what}:\n{stdout}{stderr}");
    assert!(
        out.status.success(),
        "{what} failed ({:?}):\n{stdout}{stderr}",
        out.status
    );
}

/// moon (1) and sun (2): `gw` with child `net` between them; moon also has `trap`, whose child
/// `t` is installed and uninstalled.
fn configs() -> Vec<String> {
    let conn = |name: &str, me: u8, child: &str, remote_ts: &str| {
        let other = 3 - me;
        format!(
            " {name} {{\n  local_addrs = 127.0.0.{me}\n  remote_addrs = 127.0.0.{other}\n  \
             proposals = aes256gcm16-prfsha384-x25519\n  \
             local {{ auth = psk\n id = h{me}.example }}\n  remote {{ auth = psk\n id = h{other}.example }}\n  \
             children {{ {child} {{ local_ts = 198.51.100.{me}/32\n remote_ts = {remote_ts} }} }}\n }}\n"
        )
    };
    let secrets = "secrets { ike { secret = 0x00112233445566778899 } }\n";
    let moon = format!(
        "connections {{\n{}{}}}\n{secrets}",
        conn("gw", 1, "net", "198.51.100.2/32"),
        conn("trap", 1, "t", "203.0.113.0/24"),
    );
    let sun = format!(
        "connections {{\n{}}}\n{secrets}",
        conn("gw", 2, "net", "198.51.100.1/32")
    );
    vec![moon, sun]
}

#[test]
#[ignore = "root: needs CAP_SYS_ADMIN and CAP_NET_ADMIN"]
fn root_strongswans_python_client_drives_ikerd() {
    let python = python();
    let daemons = Daemons::start("pyvici", &configs());
    let out = run_bounded(
        Command::new(&python)
            .arg(script("vici_client.py"))
            .arg(&daemons.sockets[0])
            .arg(&daemons.sockets[1]),
        Duration::from_secs(300),
    );
    passed("vici_client.py", &out);
    let left = daemons.stop();
    assert_eq!(left, [(0, (0, 0)), (0, (0, 0))], "SAs or ids left behind");
}

/// strongSwan's charon (Debian's, 5.9.8) in network and mount namespaces of its own (its pid
/// file is compiled into /run), serving VICI in a folder of its own; stopped when dropped.
struct Charon {
    child: Child,
    dir: PathBuf,
    socket: PathBuf,
}

impl Charon {
    const BINARY: &str = "/usr/lib/ipsec/charon";

    fn start() -> Charon {
        assert!(
            Path::new(Self::BINARY).exists(),
            "{} missing: apt-get install strongswan-charon libstrongswan-standard-plugins \
             libcharon-extra-plugins (scripts/test does)",
            Self::BINARY
        );
        let dir = std::env::temp_dir().join(format!("ikerd-charon-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let socket = dir.join("charon.vici");
        // TESTING.md's plugins (Debian's openssl plugin does X25519), with pkcs8 for the
        // loaded key and counters for get-counters; its log to the file, not the host's syslog.
        let conf = format!(
            "charon {{\n  load = random nonce openssl aes sha1 sha2 hmac gcm kdf pem pkcs1 pkcs8 \
             x509 pubkey kernel-netlink socket-default vici counters\n  plugins {{\n    vici {{\n      \
             socket = unix://{}\n    }}\n  }}\n  filelog {{\n    stderr {{\n      default = 1\n    }}\n  }}\n  \
             syslog {{\n    daemon {{\n      default = -1\n    }}\n  }}\n}}\n",
            socket.display()
        );
        let conf_path = dir.join("strongswan.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let child = Command::new("unshare")
            .args(["--mount", "--propagation", "private", "--net", "sh", "-c"])
            .arg(format!(
                "mount -t tmpfs tmpfs /run && ip link set lo up && exec {}",
                Self::BINARY
            ))
            .env("STRONGSWAN_CONF", &conf_path)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("charon.log")).unwrap())
            .spawn()
            .unwrap();
        let charon = Charon { child, dir, socket };
        let end = Instant::now() + Duration::from_secs(20);
        while UnixStream::connect(&charon.socket).is_err() {
            assert!(Instant::now() < end, "no VICI socket: {}", charon.log());
            std::thread::sleep(Duration::from_millis(50));
        }
        charon
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("charon.log")).unwrap_or_default()
    }
}

impl Drop for Charon {
    fn drop(&mut self) {
        // sh exec'd charon: the child is charon itself.
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let end = Instant::now() + Duration::from_secs(10);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The client's expectations are strongSwan's: those that need no tunnel hold for charon too.
#[test]
#[ignore = "root: needs CAP_SYS_ADMIN and CAP_NET_ADMIN"]
fn root_strongswans_python_client_expects_what_charon_answers() {
    let python = python();
    let charon = Charon::start();
    let out = run_bounded(
        Command::new(&python)
            .arg(script("vici_client.py"))
            .arg("--reference")
            .arg(&charon.socket),
        Duration::from_secs(120),
    );
    if !out.status.success() {
        eprintln!("charon's log:\n{}", charon.log());
    }
    passed("vici_client.py --reference", &out);
}

#[test]
#[ignore = "root: needs CAP_SYS_ADMIN and CAP_NET_ADMIN"]
fn root_malformed_vici_input_leaves_ikerd_answering() {
    let python = python();
    let mut ikerd = Ikerd::start("malformed", &configs()[0], &[], &[]);
    let out = run_bounded(
        Command::new(&python)
            .arg(script("vici_malformed.py"))
            .arg(ikerd.socket())
            .args(["--pid", &ikerd.child.id().to_string()]),
        Duration::from_secs(300),
    );
    let alive = ikerd.child.try_wait().unwrap().is_none();
    if !out.status.success() || !alive {
        eprintln!("ikerd's log:\n{}", ikerd.log());
    }
    passed("vici_malformed.py", &out);
    assert!(alive, "ikerd exited: {}", ikerd.log());
    // And it still stops cleanly.
    ikerd.stop();
}
