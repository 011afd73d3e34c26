//! strongswan.conf's charon settings reach the running daemon: the retransmission schedule
//! read at start and read again on VICI's `reload-settings` (Debian's swanctl) and on SIGHUP,
//! a broken file refused with its file, line and key. ikerd runs in a throwaway network namespace (root:
//! `scripts/test` runs these with `--run-ignored only`); the "peer" is a UDP socket on
//! 127.0.0.2:500 that counts IKE_SA_INIT requests and never answers.

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use xfrm::NetNs;

const SWANCTL: &str = "/usr/sbin/swanctl";

const CONFIG: &str = "connections {
  c {
    local_addrs = 127.0.0.1
    remote_addrs = 127.0.0.2
    local { auth = psk
      id = moon.example }
    remote { auth = psk
      id = sun.example }
    children { c { local_ts = 198.51.100.0/24
        remote_ts = 203.0.113.0/24
        start_action = start } }
  }
}
secrets { ike { secret = 0x00112233445566778899 } }
";

/// A schedule of `tries` retransmits 0.3 s apart.
fn settings(tries: &str) -> String {
    format!(
        "# as Debian's: plugin settings ikerd leaves alone\n\
         charon {{\n\
         \tretransmit_tries = {tries}\n\
         \tretransmit_timeout = 0.3\n\
         \tretransmit_base = 1\n\
         \tplugins {{ vici {{ socket = unix:///elsewhere }} }}\n\
         }}\n\
         starter {{ load_warning = yes }}\n"
    )
}

struct Ikerd {
    child: Child,
    dir: PathBuf,
    uri: String,
}

impl Drop for Ikerd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Ikerd {
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("ikerd.log")).unwrap_or_default()
    }

    fn swanctl(&self, args: &[&str]) -> Output {
        let mut child = Command::new(SWANCTL)
            .args(args)
            .args(["--uri", &self.uri])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start swanctl");
        let end = Instant::now() + Duration::from_secs(20);
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > end {
                let _ = child.kill();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        child.wait_with_output().unwrap()
    }
}

/// IKE_SA_INIT requests arriving at `peer` within `window`.
fn requests(peer: &UdpSocket, window: Duration) -> usize {
    let end = Instant::now() + window;
    let mut buf = [0u8; 2048];
    let mut count = 0;
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        peer.set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        if peer
            .recv(&mut buf)
            .is_ok_and(|len| len > 28 && buf[18] == 34)
        {
            count += 1;
        }
    }
    count
}

#[test]
#[ignore = "root: needs CAP_SYS_ADMIN and CAP_NET_ADMIN"]
fn root_retransmit_settings_from_strongswan_conf_at_start_and_on_reload_settings() {
    assert!(
        Path::new(SWANCTL).exists(),
        "{SWANCTL} missing: apt-get install strongswan-swanctl (scripts/test does)"
    );
    let dir = std::env::temp_dir().join(format!("ikerd-settings-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (config, conf) = (dir.join("swanctl.conf"), dir.join("strongswan.conf"));
    std::fs::write(&config, CONFIG).unwrap();
    std::fs::write(&conf, settings("2")).unwrap();
    let socket = dir.join("charon.vici");
    let ns = NetNs::create().unwrap();
    let (child, peer) = ns
        .run(|| {
            let up = Command::new("ip")
                .args(["link", "set", "lo", "up"])
                .status()
                .unwrap();
            assert!(up.success());
            let peer = UdpSocket::bind("127.0.0.2:500").unwrap();
            let child = Command::new(env!("CARGO_BIN_EXE_ikerd"))
                .args(["--config", config.to_str().unwrap()])
                .args(["--settings", conf.to_str().unwrap()])
                .args(["--run-dir", dir.join("run").to_str().unwrap()])
                .args(["--vici", socket.to_str().unwrap()])
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(dir.join("ikerd.log")).unwrap())
                .spawn()
                .unwrap();
            (child, peer)
        })
        .unwrap();
    let ikerd = Ikerd {
        child,
        dir: dir.clone(),
        uri: format!("unix://{}", socket.display()),
    };

    // --vici wins over strongswan.conf's plugins.vici.socket (else there would be no socket
    // for swanctl below). retransmit_tries = 2 at 0.3 s: the request and two retransmits, then
    // nothing (strongSwan's default would have sent one request in this time, and gone on for
    // 165 s).
    let sent = requests(&peer, Duration::from_secs(3));
    assert_eq!(sent, 3, "{}", ikerd.log());

    // Four tries now, through VICI's reload-settings, for the next negotiation.
    std::fs::write(&conf, settings("4")).unwrap();
    let out = ikerd.swanctl(&["--reload-settings"]);
    assert!(out.status.success(), "{out:?}\n{}", ikerd.log());
    // swanctl --initiate waits for the outcome: here, the peer's silence.
    let initiate = std::thread::spawn({
        let uri = ikerd.uri.clone();
        move || {
            Command::new(SWANCTL)
                .args([
                    "--initiate",
                    "--child",
                    "c",
                    "--timeout",
                    "10",
                    "--uri",
                    &uri,
                ])
                .output()
                .unwrap()
        }
    });
    let sent = requests(&peer, Duration::from_secs(3));
    assert_eq!(sent, 5, "{}", ikerd.log());
    let initiated = initiate.join().unwrap();
    assert!(!initiated.status.success(), "{initiated:?}");

    // A bad value is refused with its place, and the running settings stay.
    std::fs::write(&conf, settings("lots")).unwrap();
    let out = ikerd.swanctl(&["--reload-settings"]);
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{said}");
    let place = format!("{}:3: charon.retransmit_tries", conf.display());
    assert!(said.contains(&place), "{said}");
    assert!(ikerd.log().contains(&place), "{}", ikerd.log());

    // SIGHUP reads it again too: one retransmit now.
    std::fs::write(&conf, settings("1")).unwrap();
    let pid = nix::unistd::Pid::from_raw(ikerd.child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGHUP).unwrap();
    let end = Instant::now() + Duration::from_secs(10);
    while ikerd.log().matches("reloaded settings from").count() < 2 {
        assert!(
            Instant::now() < end,
            "SIGHUP did not reload: {}",
            ikerd.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let initiate = std::thread::spawn({
        let uri = ikerd.uri.clone();
        move || {
            Command::new(SWANCTL)
                .args([
                    "--initiate",
                    "--child",
                    "c",
                    "--timeout",
                    "10",
                    "--uri",
                    &uri,
                ])
                .output()
                .unwrap()
        }
    });
    let sent = requests(&peer, Duration::from_secs(2));
    assert_eq!(sent, 2, "{}", ikerd.log());
    initiate.join().unwrap();
    drop(ikerd);
}

#[test]
#[ignore = "root: needs CAP_SYS_ADMIN and CAP_NET_ADMIN"]
fn root_without_vici_the_socket_of_strongswan_conf_is_served() {
    let dir = std::env::temp_dir().join(format!("ikerd-settings-vici-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (config, conf) = (dir.join("swanctl.conf"), dir.join("strongswan.conf"));
    std::fs::write(&config, CONFIG.replace("start_action = start", "")).unwrap();
    let socket = dir.join("from-settings.vici");
    let text = format!(
        "charon {{ plugins {{ vici {{ socket = unix://{} }} }} }}\n",
        socket.display()
    );
    std::fs::write(&conf, text).unwrap();
    let ns = NetNs::create().unwrap();
    let child = ns
        .run(|| {
            Command::new("ip")
                .args(["link", "set", "lo", "up"])
                .status()
                .unwrap();
            Command::new(env!("CARGO_BIN_EXE_ikerd"))
                .args(["--config", config.to_str().unwrap()])
                .args(["--settings", conf.to_str().unwrap()])
                .args(["--run-dir", dir.join("run").to_str().unwrap()])
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(dir.join("ikerd.log")).unwrap())
                .spawn()
                .unwrap()
        })
        .unwrap();
    let ikerd = Ikerd {
        child,
        dir: dir.clone(),
        uri: format!("unix://{}", socket.display()),
    };
    let end = Instant::now() + Duration::from_secs(20);
    while !socket.exists() {
        assert!(
            Instant::now() < end,
            "no socket at {}: {}",
            socket.display(),
            ikerd.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = ikerd.swanctl(&["--list-conns"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("c: IKEv2"),
        "{out:?}"
    );
}
