//! Under systemd, ikerd's standard error is a stream into the journal, announced by
//! `JOURNAL_STREAM=DEVICE:INODE` (systemd.exec(5)): ikerd then writes sd-daemon(3) lines, a
//! `<N>` priority and no timestamp. Here a file stands in for the journal's stream. ikerd runs
//! in a throwaway network namespace (root: `scripts/test` runs these with `--run-ignored only`).

use std::os::unix::fs::MetadataExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use xfrm::NetNs;

const CONFIG: &str = "connections { c {
    local_addrs = 127.0.0.1
    remote_addrs = 127.0.0.2
    local { auth = psk
      id = moon.example }
    remote { auth = psk
      id = sun.example }
    children { c { local_ts = 198.51.100.0/24
        remote_ts = 203.0.113.0/24 } }
} }
secrets { ike { secret = 0x00112233445566778899 } }
";

/// ikerd's log until it listens, with JOURNAL_STREAM naming its stderr (`journal`) or
/// another file.
fn first_lines(journal: bool) -> String {
    let dir = std::env::temp_dir().join(format!("ikerd-journal-{}-{journal}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("swanctl.conf"), CONFIG).unwrap();
    let log = dir.join("stderr");
    let stderr = std::fs::File::create(&log).unwrap();
    let named = if journal {
        log.clone()
    } else {
        dir.join("swanctl.conf")
    };
    let meta = std::fs::metadata(&named).unwrap();
    let ns = NetNs::create().unwrap();
    let mut child = ns
        .run(|| {
            Command::new("ip")
                .args(["link", "set", "lo", "up"])
                .status()
                .unwrap();
            Command::new(env!("CARGO_BIN_EXE_ikerd"))
                .args(["--config", dir.join("swanctl.conf").to_str().unwrap()])
                .args(["--settings", dir.join("none.conf").to_str().unwrap()])
                .args(["--run-dir", dir.join("run").to_str().unwrap()])
                .args(["--vici", dir.join("charon.vici").to_str().unwrap()])
                .env("JOURNAL_STREAM", format!("{}:{}", meta.dev(), meta.ino()))
                .stdout(Stdio::null())
                .stderr(stderr)
                .spawn()
                .unwrap()
        })
        .unwrap();
    let end = Instant::now() + Duration::from_secs(20);
    let text = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("VICI on") || Instant::now() > end {
            break text;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    text
}

#[test]
#[ignore = "root: needs CAP_SYS_ADMIN and CAP_NET_ADMIN"]
fn root_journal_lines_when_stderr_is_the_journal_stream() {
    let journal = first_lines(true);
    let listening = journal.lines().find(|l| l.contains("listening on"));
    assert!(
        listening.is_some_and(|l| l.starts_with("<6>listening on 127.0.0.1:500")),
        "{journal}"
    );
    assert!(journal.lines().all(|l| l.starts_with('<')), "{journal}");
    // JOURNAL_STREAM inherited but naming another stream: the usual lines, with a time.
    let usual = first_lines(false);
    let listening = usual
        .lines()
        .find(|l| l.contains("listening on"))
        .unwrap_or_default();
    assert!(listening.contains(" INFO listening on"), "{usual}");
    assert!(!usual.contains("<6>"), "{usual}");
}
