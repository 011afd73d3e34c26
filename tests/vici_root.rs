//! Debian's `swanctl` (strongSwan 5.9.8) against the ikerd binary over VICI, ikerd running in a
//! throwaway network namespace (root: `scripts/test` runs these with `--run-ignored only`, and
//! installs the `strongswan-swanctl` package first).

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

#[allow(dead_code)] // shared by several test binaries, each using a part
#[path = "common/ikerd.rs"]
mod running;

use running::Ikerd;

/// One connection that ikerd starts at once towards 127.0.0.2, where no one answers: its IKE
/// SA stays half-open, retransmitting IKE_SA_INIT.
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

/// Runs swanctl against `ikerd`; it must succeed. Its standard output.
fn ok(ikerd: &Ikerd, args: &[&str]) -> String {
    let out = ikerd.swanctl_output(args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "swanctl {args:?}: {:?}\n{stdout}\n{}\nikerd: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        ikerd.log()
    );
    stdout
}

fn start(test: &str) -> Ikerd {
    Ikerd::start(&format!("vici-{test}"), CONFIG, &[], &[])
}

fn line<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line {prefix:?} in:\n{text}"))
}

#[test]
#[ignore = "root: needs CAP_SYS_ADMIN and CAP_NET_ADMIN"]
fn root_swanctl_reads_version_and_stats_from_ikerd() {
    let ikerd = start("swanctl");

    // Without --daemon swanctl prints its own version and does not connect.
    let own = ok(&ikerd, &["--version"]);
    assert!(own.starts_with("strongSwan swanctl 5."), "{own}");

    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let daemon = ok(&ikerd, &["--version", "--daemon"]);
    assert_eq!(
        daemon,
        format!(
            "strongSwan {} ikerd (Linux, {}, {})\n",
            env!("CARGO_PKG_VERSION"),
            release.trim(),
            std::env::consts::ARCH
        )
    );

    let stats = ok(&ikerd, &["--stats"]);
    let uptime = line(&stats, "uptime: ");
    assert!(uptime.contains(" second"), "{uptime}");
    assert!(uptime.contains(", since "), "{uptime}");
    assert_eq!(
        line(&stats, "worker threads: "),
        "worker threads: 1 total, 0 idle, working: 0/0/1/0"
    );
    assert_eq!(line(&stats, "job queues: "), "job queues: 0/0/0/0");
    // The one connection's IKE SA, waiting for an IKE_SA_INIT answer, and its retransmit timer.
    assert_eq!(line(&stats, "jobs scheduled: "), "jobs scheduled: 1");
    assert_eq!(line(&stats, "IKE_SAs: "), "IKE_SAs: 1 total, 1 half-open");
    assert!(line(&stats, "mallinfo: ").starts_with("mallinfo: sbrk "));
    assert_eq!(line(&stats, "loaded plugins:"), "loaded plugins:");

    let raw = ok(&ikerd, &["--stats", "--raw"]);
    assert!(raw.contains("ikesas {total=1 half-open=1}"), "{raw}");

    ikerd.stop();
}

#[test]
#[ignore = "root: needs CAP_SYS_ADMIN and CAP_NET_ADMIN"]
fn root_garbage_and_stalled_clients_do_not_hold_up_swanctl() {
    let ikerd = start("stall");
    // Stopped inside a segment's length, inside a segment, and a client that sends a request
    // and never reads the answer.
    let mut in_length = UnixStream::connect(ikerd.socket()).unwrap();
    in_length.write_all(&[0, 0]).unwrap();
    let mut in_segment = UnixStream::connect(ikerd.socket()).unwrap();
    in_segment.write_all(b"\x00\x00\x01\x00\x00\x05st").unwrap();
    let mut deaf = UnixStream::connect(ikerd.socket()).unwrap();
    deaf.write_all(b"\x00\x00\x00\x09\x00\x07version").unwrap();
    // Junk: an unknown packet type, which closes its connection.
    let mut junk = UnixStream::connect(ikerd.socket()).unwrap();
    junk.write_all(b"\x00\x00\x00\x03\xee\xee\xee").unwrap();

    let start = Instant::now();
    for _ in 0..3 {
        let out = ok(&ikerd, &["--version", "--daemon"]);
        assert!(out.contains(" ikerd (Linux, "), "{out}");
    }
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "swanctl took {:?}",
        start.elapsed()
    );
    junk.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    assert_eq!(
        junk.read(&mut [0; 16]).unwrap(),
        0,
        "junk connection closed"
    );
    // The stalled segments are dropped after ikerd's 10 s.
    for stalled in [&mut in_length, &mut in_segment] {
        stalled
            .set_read_timeout(Some(Duration::from_secs(15)))
            .unwrap();
        assert_eq!(
            stalled.read(&mut [0; 16]).unwrap(),
            0,
            "stalled connection closed"
        );
    }
    let out = ok(&ikerd, &["--stats"]);
    assert!(out.contains("IKE_SAs: "), "{out}");
    ikerd.stop();
}
