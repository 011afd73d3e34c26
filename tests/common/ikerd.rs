//! The ikerd binary in a throwaway network namespace (root tests): a folder of its own with its
//! swanctl.conf, its VICI socket there, its log in `ikerd.log`; Debian's swanctl against it.

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use xfrm::NetNs;

/// Debian's swanctl (strongswan-swanctl), which `scripts/test` installs.
pub const SWANCTL: &str = "/usr/sbin/swanctl";

/// A running ikerd; killed, and its folder removed, when dropped.
pub struct Ikerd {
    pub ns: NetNs,
    pub child: Child,
    pub dir: PathBuf,
}

impl Ikerd {
    /// Starts ikerd in a new namespace (loopback up) in the folder `ikerd-TAG-PID` of the
    /// temporary directory, with `config` as its swanctl.conf there, `args` added to its
    /// command line, under `wrapper` (a command and arguments that exec what follows them);
    /// returns once its VICI socket answers.
    pub fn start(tag: &str, config: &str, args: &[&str], wrapper: &[&str]) -> Ikerd {
        let dir = std::env::temp_dir().join(format!("ikerd-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("swanctl.conf"), config).unwrap();
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
                argv.extend(args.iter().map(|s| s.to_string()));
                Command::new(&argv[0])
                    .args(&argv[1..])
                    .current_dir(&dir)
                    .stdout(Stdio::null())
                    .stderr(log)
                    .spawn()
                    .unwrap()
            })
            .unwrap();
        let mut ikerd = Ikerd { ns, child, dir };
        let end = Instant::now() + Duration::from_secs(20);
        while std::os::unix::net::UnixStream::connect(ikerd.socket()).is_err() {
            if let Some(status) = ikerd.child.try_wait().unwrap() {
                panic!("ikerd exited ({status}): {}", ikerd.log());
            }
            assert!(Instant::now() < end, "no VICI socket: {}", ikerd.log());
            std::thread::sleep(Duration::from_millis(50));
        }
        ikerd
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.join("vici")
    }

    /// The socket as swanctl's and ikerctl's `--uri` name it.
    pub fn uri(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("ikerd.log")).unwrap_or_default()
    }

    /// Waits until `text` appears `count` times in the log, for at most 20 s.
    pub fn wait_log(&self, text: &str, count: usize) {
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

    /// Runs Debian's swanctl with `args` against this ikerd, for at most 20 s: whether it
    /// succeeded, and what it printed (standard output, then standard error).
    pub fn swanctl(&self, args: &[&str]) -> (bool, String) {
        let out = self.swanctl_output(args);
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.success(), text)
    }

    /// Runs Debian's swanctl with `args` against this ikerd, for at most 20 s.
    pub fn swanctl_output(&self, args: &[&str]) -> Output {
        assert!(
            std::path::Path::new(SWANCTL).exists(),
            "{SWANCTL} missing: apt-get install strongswan-swanctl (scripts/test does)"
        );
        run_bounded(
            Command::new(SWANCTL)
                .args(args)
                .args(["--uri", &self.uri()]),
            Duration::from_secs(20),
        )
    }

    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, signal).unwrap();
    }

    /// SIGTERM; it must exit successfully within 15 s and take its VICI socket with it.
    pub fn stop(mut self) {
        self.signal(nix::sys::signal::Signal::SIGTERM);
        let end = Instant::now() + Duration::from_secs(15);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < end, "ikerd did not exit in time");
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(status.success(), "{status:?}: {}", self.log());
        assert!(!self.socket().exists(), "ikerd left its VICI socket behind");
    }
}

impl Drop for Ikerd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `command`, killing it after `limit`; its output.
pub fn run_bounded(command: &mut Command, limit: Duration) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the command");
    let end = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > end {
            child.kill().unwrap();
            panic!("{command:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}
