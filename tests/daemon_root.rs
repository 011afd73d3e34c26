//! The daemon as systemd and an administrator meet it, in a throwaway network namespace (root:
//! `scripts/test` runs these with `--run-ignored only`). No ESP is needed: no peer answers.

use std::io::Write;
use std::os::unix::net::UnixDatagram;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use xfrm::NetNs;

const CONFIG: &str = "connections {
  c {
    local_addrs = 127.0.0.1
    remote_addrs = 127.0.0.2
    local { auth = psk
      id = moon.example }
    remote { auth = psk
      id = sun.example }
    children { c { local_ts = 198.51.100.0/24
        remote_ts = 203.0.113.0/24 } }
  }
}
secrets { ike { secret = 0x00112233445566778899 } }
";

/// Waits for one notification, for at most `limit`.
fn next_notification(socket: &UnixDatagram, limit: Duration) -> String {
    socket.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 512];
    let len = socket.recv(&mut buf).expect("a notification in time");
    String::from_utf8_lossy(&buf[..len]).into_owned()
}

fn wait_exit(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let end = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < end, "ikerd did not exit in time");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
#[ignore = "root: needs CAP_SYS_ADMIN and CAP_NET_ADMIN"]
fn root_ikerd_notifies_systemd_and_stops_cleanly_on_sigterm() {
    let dir = std::env::temp_dir().join(format!("ikerd-daemon-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("swanctl.conf");
    std::fs::File::create(&config)
        .unwrap()
        .write_all(CONFIG.as_bytes())
        .unwrap();
    let notify_path = dir.join("notify");
    let notify = UnixDatagram::bind(&notify_path).unwrap();

    let ns = NetNs::create().unwrap();
    let mut child = ns
        .run(|| {
            let up = Command::new("ip")
                .args(["link", "set", "lo", "up"])
                .status()
                .unwrap();
            assert!(up.success());
            Command::new(env!("CARGO_BIN_EXE_ikerd"))
                .args([
                    "--config",
                    config.to_str().unwrap(),
                    "--run-dir",
                    dir.join("run").to_str().unwrap(),
                    "--vici",
                    dir.join("charon.vici").to_str().unwrap(),
                ])
                .env("NOTIFY_SOCKET", &notify_path)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .unwrap();

    let ready = next_notification(&notify, Duration::from_secs(20));
    assert!(ready.lines().any(|l| l == "READY=1"), "{ready:?}");
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let stopping = next_notification(&notify, Duration::from_secs(10));
    assert!(stopping.lines().any(|l| l == "STOPPING=1"), "{stopping:?}");
    let status = wait_exit(&mut child, Duration::from_secs(10));
    assert!(status.success(), "{status:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_systemd_unit_is_valid_and_hardened() {
    let unit = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/systemd/ikerd.service"
    ))
    .unwrap();
    for line in [
        "Type=notify",
        "Restart=on-failure",
        "CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_BIND_SERVICE",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
    ] {
        assert!(unit.lines().any(|l| l == line), "missing {line}");
    }
    // swanctl's default path leads to the VICI socket in the runtime directory.
    let tmpfiles = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/systemd/ikerd.tmpfiles"
    ))
    .unwrap();
    let exec = unit.lines().find(|l| l.starts_with("ExecStart=")).unwrap();
    assert!(exec.ends_with(" --vici /run/ikerd/charon.vici"), "{exec}");
    assert!(
        tmpfiles
            .lines()
            .any(|l| l == "L /run/charon.vici - - - - /run/ikerd/charon.vici"),
        "{tmpfiles}"
    );
    // systemd's own check, with ExecStart pointing at the binary just built.
    let dir = std::env::temp_dir().join(format!("ikerd-unit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ikerd.service");
    std::fs::write(
        &path,
        unit.replace("/usr/sbin/ikerd", env!("CARGO_BIN_EXE_ikerd")),
    )
    .unwrap();
    let out = Command::new("systemd-analyze")
        .args(["verify", path.to_str().unwrap()])
        .output()
        .expect("systemd-analyze (Debian package systemd) to verify the unit");
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A site-to-site connection between 127.0.0.1 and 127.0.0.2 (both on the namespace's lo).
fn loopback_connection(me: u8) -> ike::config::Connection {
    let other = 3 - me;
    let text = format!(
        "connections {{\n c {{\n  local_addrs = 127.0.0.{me}\n  remote_addrs = 127.0.0.{other}\n  \
         local {{ auth = psk\n id = h{me}.example }}\n  remote {{ auth = psk\n id = h{other}.example }}\n  \
         children {{ c {{ local_ts = 198.51.100.{me}/32\n remote_ts = 198.51.100.{other}/32 }} }}\n }}\n}}\n\
         secrets {{ ike {{ secret = 0x00112233445566778899 }} }}\n"
    );
    let path =
        std::path::Path::new("/tmp").join(format!("ikerd-mem-{}-{me}.conf", std::process::id()));
    let mut loaded = ikerd::config::load_str(&path, &text).expect("valid config");
    std::fs::remove_file(&path).ok();
    loaded.connections.remove(0)
}

#[test]
#[ignore = "root: needs CAP_SYS_ADMIN and CAP_NET_ADMIN"]
fn root_two_daemons_with_in_memory_kernels_bring_up_a_tunnel_and_remove_it() {
    use ike::kernel::KernelOp;
    use ikerd::daemon::Daemon;
    use ikerd::kernel::mem::MemBackend;

    let ns = NetNs::create().unwrap();
    let (moon_ops, sun_ops, left) = ns
        .run(|| {
            assert!(
                Command::new("ip")
                    .args(["link", "set", "lo", "up"])
                    .status()
                    .unwrap()
                    .success()
            );
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let (moon_kernel, sun_kernel) = (MemBackend::new(), MemBackend::new());
                let (moon_ops, sun_ops) = (moon_kernel.history.clone(), sun_kernel.history.clone());
                let mut moon = Daemon::new(vec![loopback_connection(1)], moon_kernel, 1).unwrap();
                let mut sun = Daemon::new(vec![loopback_connection(2)], sun_kernel, 1).unwrap();
                moon.initiate(&["c".to_owned()]).await;
                // Both serve over real UDP sockets; moon stops first (its Deletes reach sun),
                // then sun.
                let moon_run = moon.serve_until(tokio::time::sleep(Duration::from_secs(2)));
                let sun_run = sun.serve_until(tokio::time::sleep(Duration::from_secs(3)));
                let (a, b) = tokio::join!(moon_run, sun_run);
                a.unwrap();
                b.unwrap();
                let left = [&moon, &sun].map(|d| {
                    (
                        d.kernel().kernel.sas.len(),
                        d.kernel().kernel.policies.len(),
                    )
                });
                let take = |ops: &std::sync::Mutex<Vec<KernelOp>>| ops.lock().unwrap().clone();
                (take(&moon_ops), take(&sun_ops), left)
            })
        })
        .unwrap();
    for (name, ops) in [("moon", &moon_ops), ("sun", &sun_ops)] {
        let count = |f: fn(&KernelOp) -> bool| ops.iter().filter(|op| f(op)).count();
        assert_eq!(
            count(|op| matches!(op, KernelOp::UpdateSa(_))),
            1,
            "{name}: inbound SA"
        );
        assert_eq!(
            count(|op| matches!(op, KernelOp::AddSa(_))),
            1,
            "{name}: outbound SA"
        );
        assert_eq!(
            count(|op| matches!(op, KernelOp::AddPolicy(_))),
            3,
            "{name}: policies"
        );
        assert_eq!(
            count(|op| matches!(op, KernelOp::DelSa(_))),
            2,
            "{name}: SAs removed"
        );
    }
    assert_eq!(left, [(0, 0), (0, 0)], "kernel state left behind");
}
