//! Debian's `swanctl` (strongSwan 5.9.8) driving tunnels through ikerd's VICI socket: two
//! daemons with in-memory kernels speak IKE over UDP on the loopback of a throwaway network
//! namespace (root: `scripts/test` runs these with `--run-ignored only`), and swanctl, run
//! against moon's socket, brings the tunnel up, lists it, rekeys it and takes it down.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use ike::testing::MemKernel;
use ikerd::daemon::Daemon;
use ikerd::kernel::mem::MemBackend;
use ikerd::vici::server::Server;
use ikerd::vici::wire::{self, Packet};
use xfrm::NetNs;

const SWANCTL: &str = "/usr/sbin/swanctl";

/// Connection `gw` with child `net` between 127.0.0.`me` and the other address.
fn connection(me: u8, dir: &Path) -> ike::config::Connection {
    let other = 3 - me;
    let text = format!(
        "connections {{\n gw {{\n  local_addrs = 127.0.0.{me}\n  remote_addrs = 127.0.0.{other}\n  \
         local {{ auth = psk\n id = h{me}.example }}\n  remote {{ auth = psk\n id = h{other}.example }}\n  \
         children {{ net {{ local_ts = 198.51.100.{me}/32\n remote_ts = 198.51.100.{other}/32 }} }}\n }}\n}}\n\
         secrets {{ ike {{ secret = 0x00112233445566778899 }} }}\n"
    );
    let path = dir.join(format!("h{me}.conf"));
    let mut loaded = ikerd::config::load_str(&path, &text).expect("valid config");
    loaded.connections.remove(0)
}

/// Runs `swanctl ARGS --uri unix://SOCKET`, for at most 20 s.
fn swanctl(socket: &Path, args: &[&str]) -> Output {
    let mut child = Command::new(SWANCTL)
        .args(args)
        .args(["--uri", &format!("unix://{}", socket.display())])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start swanctl");
    let end = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > end {
            child.kill().unwrap();
            panic!("swanctl {args:?} did not finish within 20 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// swanctl's standard output; it must succeed.
fn ok(socket: &Path, args: &[&str]) -> String {
    let out = swanctl(socket, args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "swanctl {args:?}: {:?}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// What `swanctl --list-sas` shows of the one IKE SA and its installed Child SAs.
#[derive(Debug, PartialEq, Eq)]
struct Listed {
    /// `SPIi_i SPIr_r` without the marks of our side.
    ike_spis: String,
    ours_initiator: bool,
    /// (in, out) SPIs of the INSTALLED Child SAs.
    children: Vec<(String, String)>,
    text: String,
}

fn list_sas(socket: &Path) -> Option<Listed> {
    let text = ok(socket, &["--list-sas"]);
    let head = text.lines().find(|l| l.starts_with("gw: #"))?;
    // gw: #1, ESTABLISHED, IKEv2, 0123456789abcdef_i* fedcba9876543210_r
    let spis: Vec<&str> = head.split(", ").nth(3)?.split(' ').collect();
    let ours_initiator = spis[0].ends_with('*');
    let ike_spis = spis.join(" ").replace('*', "");
    let mut children = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(l) = lines.next() {
        if !(l.starts_with("  net: #") && l.contains(", INSTALLED, ")) {
            continue;
        }
        let spi = |prefix: &str, l: Option<&str>| {
            let l = l.unwrap_or_default();
            l.strip_prefix(prefix)
                .and_then(|rest| rest.split(',').next())
                .unwrap_or_else(|| panic!("no {prefix:?} in {l:?}:\n{text}"))
                .to_owned()
        };
        let mut rest = lines.clone().take(4);
        let spi_in = spi("    in  ", rest.find(|l| l.starts_with("    in  ")));
        let spi_out = spi("    out ", rest.find(|l| l.starts_with("    out ")));
        children.push((spi_in, spi_out));
    }
    Some(Listed {
        ike_spis,
        ours_initiator,
        children,
        text,
    })
}

/// A VICI client registered for events, reading them as they come.
struct Listener(std::os::unix::net::UnixStream);

impl Listener {
    fn register(socket: &Path, events: &[&str]) -> Listener {
        let mut listener = Listener(std::os::unix::net::UnixStream::connect(socket).unwrap());
        for event in events {
            listener.send(&Packet::EventRegister((*event).into()));
            assert_eq!(listener.receive(), Packet::EventConfirm, "{event}");
        }
        listener
    }

    fn send(&mut self, packet: &Packet) {
        use std::io::Write;
        self.0.write_all(&packet.to_segment().unwrap()).unwrap();
    }

    fn receive(&mut self) -> Packet {
        use std::io::Read;
        self.0
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut len = [0u8; wire::LENGTH_LEN];
        self.0.read_exact(&mut len).unwrap();
        let mut packet = vec![0; wire::segment_len(len).unwrap()];
        self.0.read_exact(&mut packet).unwrap();
        Packet::parse(&packet).unwrap()
    }

    /// The next event, by name and message.
    fn event(&mut self) -> (String, wire::Message) {
        match self.receive() {
            Packet::Event { event, message } => (event, message),
            other => panic!("not an event: {other:?}"),
        }
    }
}

/// Polls until `f` holds, for at most 10 s.
fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < end, "not in time: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The SPIs of both sides mirror each other: one Child SA each, moon's in is sun's out.
fn mirrored(moon: &Listed, sun: &Listed) -> bool {
    moon.ike_spis == sun.ike_spis
        && moon.ours_initiator
        && !sun.ours_initiator
        && moon.children.len() == 1
        && sun.children.len() == 1
        && moon.children[0].0 == sun.children[0].1
        && moon.children[0].1 == sun.children[0].0
}

#[test]
#[ignore = "root: needs CAP_SYS_ADMIN and CAP_NET_ADMIN"]
fn root_swanctl_initiates_lists_rekeys_and_terminates_a_tunnel() {
    assert!(
        Path::new(SWANCTL).exists(),
        "{SWANCTL} missing: apt-get install strongswan-swanctl (scripts/test does)"
    );
    let dir: PathBuf = std::env::temp_dir().join(format!("ikerd-vici-sas-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sockets = [dir.join("moon.vici"), dir.join("sun.vici")];
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let ns = NetNs::create().unwrap();
    let daemons = ns
        .run(|| {
            assert!(
                Command::new("ip")
                    .args(["link", "set", "lo", "up"])
                    .status()
                    .unwrap()
                    .success()
            );
            let (dir, sockets) = (dir.clone(), sockets.clone());
            // A thread started here stays in the namespace, and keeps the daemons running
            // while the test drives them.
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async move {
                    let start = |me: u8, socket: &Path| {
                        // Distinct SPI ranges, so each side's SPIs tell which kernel made them.
                        let mut kernel = MemBackend::new();
                        kernel.kernel = MemKernel::new(0xc000_0000 + (u32::from(me) << 24));
                        let daemon = Daemon::new(vec![connection(me, &dir)], kernel, 1).unwrap();
                        let server = Server::bind(socket, daemon.control()).unwrap();
                        tokio::spawn(server.run());
                        daemon
                    };
                    let (mut moon, mut sun) = (start(1, &sockets[0]), start(2, &sockets[1]));
                    let until_stopped = || {
                        let mut stopped = stopped.clone();
                        async move {
                            let _ = stopped.wait_for(|s| *s).await;
                        }
                    };
                    let (a, b) = tokio::join!(
                        moon.serve_until(until_stopped()),
                        sun.serve_until(until_stopped())
                    );
                    a.unwrap();
                    b.unwrap();
                    [&moon, &sun].map(|d| (d.kernel().kernel.sas.len(), d.ids_held()))
                })
            })
        })
        .unwrap();
    let [moon, sun] = &sockets;
    let end = Instant::now() + Duration::from_secs(20);
    while !(moon.exists() && sun.exists()) {
        assert!(Instant::now() < end, "no VICI sockets");
        std::thread::sleep(Duration::from_millis(20));
    }

    // The configuration, as swanctl prints it.
    let conns = ok(moon, &["--list-conns"]);
    for expected in [
        "gw: IKEv2, no reauthentication, rekeying every 14400s",
        "  local:  127.0.0.1",
        "  remote: 127.0.0.2",
        "  local pre-shared key authentication:",
        "    id: h1.example",
        "  net: TUNNEL, rekeying every 3600s",
        "    local:  198.51.100.1/32",
        "    remote: 198.51.100.2/32",
    ] {
        assert!(
            conns.lines().any(|l| l == expected),
            "{expected:?}:\n{conns}"
        );
    }
    assert!(list_sas(moon).is_none());

    // sun's listener hears of the tunnel; one that never reads holds no one up.
    let mut events = Listener::register(sun, &["ike-updown", "child-updown", "child-rekey"]);
    let _deaf = Listener::register(sun, &["log", "ike-updown", "child-updown"]);

    // swanctl --log follows sun's log meanwhile.
    // Line-buffered (stdbuf): its output goes to a pipe, and it is killed at the end.
    let mut follower = Command::new("stdbuf")
        .args([
            "-oL",
            SWANCTL,
            "--log",
            "--uri",
            &format!("unix://{}", sun.display()),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start swanctl --log");
    // Registered once it has connected: give it a moment, as a user would.
    std::thread::sleep(Duration::from_millis(500));

    // Up, with the negotiation's log streamed until it is done.
    let up = ok(moon, &["--initiate", "--child", "net"]);
    for expected in [
        "[IKE] initiating IKE_SA gw[1] to 127.0.0.2",
        "[IKE] IKE_SA gw[1] established between 127.0.0.1[h1.example]...127.0.0.2[h2.example]",
        "initiate completed successfully",
    ] {
        assert!(up.lines().any(|l| l == expected), "{expected:?}:\n{up}");
    }
    let child_up = up
        .lines()
        .find(|l| l.starts_with("[IKE] CHILD_SA net{1} established with SPIs "))
        .unwrap_or_else(|| panic!("no CHILD_SA line:\n{up}"));
    assert!(
        child_up.ends_with(" and TS 198.51.100.1/32 === 198.51.100.2/32"),
        "{child_up}"
    );
    let (moon_sas, sun_sas) = eventually("both sides list the tunnel", || {
        let (m, s) = (list_sas(moon)?, list_sas(sun)?);
        mirrored(&m, &s).then_some((m, s))
    });
    eprintln!("{up}\nmoon:\n{}\nsun:\n{}", moon_sas.text, sun_sas.text);
    assert!(
        moon_sas.text.contains("gw: #1, ESTABLISHED, IKEv2, "),
        "{}",
        moon_sas.text
    );
    assert!(
        moon_sas
            .text
            .contains("  local  'h1.example' @ 127.0.0.1[500]"),
        "{}",
        moon_sas.text
    );
    assert!(
        moon_sas
            .text
            .contains("  net: #1, reqid 1, INSTALLED, TUNNEL, ESP:"),
        "{}",
        moon_sas.text
    );
    assert!(moon_sas.children[0].0.starts_with("c1"), "{moon_sas:?}");
    assert!(sun_sas.children[0].0.starts_with("c2"), "{sun_sas:?}");
    assert!(child_up.contains(&format!(
        "{}_i {}_o",
        moon_sas.children[0].0, moon_sas.children[0].1
    )));

    let (name, ike_up) = events.event();
    assert_eq!(name, "ike-updown");
    assert_eq!(ike_up.str("up"), Some("yes"));
    assert_eq!(ike_up.find_str("gw.state"), Some("ESTABLISHED"));
    assert_eq!(ike_up.find_str("gw.remote-id"), Some("h1.example"));
    assert!(ike_up.find_str("gw.initiator").is_none());
    let (name, child_event) = events.event();
    assert_eq!(name, "child-updown");
    assert_eq!(child_event.str("up"), Some("yes"));
    assert_eq!(
        child_event.find_str("gw.child-sas.net-1.spi-in"),
        Some(sun_sas.children[0].0.as_str())
    );

    // sun's log, as swanctl --log prints it (the thread, 00: ikerd has one).
    std::thread::sleep(Duration::from_millis(200));
    follower.kill().unwrap();
    let logged = follower.wait_with_output().unwrap();
    let logged = String::from_utf8_lossy(&logged.stdout);
    assert!(
        logged
            .lines()
            .any(|l| l == "00[IKE] IKE_SA gw[1] established between 127.0.0.2[h2.example]...127.0.0.1[h1.example]"),
        "{logged}"
    );
    assert!(
        logged.lines().any(|l| l
            .starts_with("00[IKE] CHILD_SA net{1} established with SPIs c2000001_i c1000001_o")),
        "{logged}"
    );

    // Rekeyed: new SPIs on both sides, still mirrored, the old pair gone.
    let rekey = ok(moon, &["--rekey", "--child", "net"]);
    assert!(rekey.contains("rekey completed successfully"), "{rekey}");
    let (moon_new, _) = eventually("the rekeyed tunnel on both sides", || {
        let (m, s) = (list_sas(moon)?, list_sas(sun)?);
        let fresh = m.children.len() == 1 && m.children[0] != moon_sas.children[0];
        (fresh && mirrored(&m, &s) && !m.text.contains("REKEYED")).then_some((m, s))
    });
    eprintln!("rekeyed:\n{}", moon_new.text);
    assert_eq!(moon_new.ike_spis, moon_sas.ike_spis);
    assert_ne!(moon_new.children[0].0, moon_sas.children[0].0);
    assert_ne!(moon_new.children[0].1, moon_sas.children[0].1);
    let (name, rekeyed) = events.event();
    assert_eq!(name, "child-rekey");
    assert_eq!(
        rekeyed.find_str("gw.child-sas.net.old.spi-out"),
        Some(moon_sas.children[0].0.as_str())
    );
    assert_eq!(
        rekeyed.find_str("gw.child-sas.net.new.spi-out"),
        Some(moon_new.children[0].0.as_str())
    );
    let (name, old_down) = events.event();
    assert_eq!(name, "child-updown");
    assert!(old_down.str("up").is_none());
    assert_eq!(
        old_down.find_str("gw.child-sas.net-1.state"),
        Some("DELETED")
    );

    // A child filter lists the IKE SA with the Child SAs it picks.
    let filtered = ok(moon, &["--list-sas", "--child", "nope"]);
    assert!(
        filtered.contains("gw: #1") && !filtered.contains("net: #"),
        "{filtered}"
    );
    let picked = ok(moon, &["--list-sas", "--child", "net"]);
    assert!(picked.contains("  net: #"), "{picked}");

    // strongSwan's counters of IKE messages and rekeyings, by connection and global.
    let counted = |text: &str, name: &str| -> u64 {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no {name} in:\n{text}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    let gw = ok(moon, &["--counters", "--name", "gw"]);
    assert!(gw.starts_with("gw:"), "{gw}");
    assert_eq!(counted(&gw, "ike-init-out-req"), 1, "{gw}");
    assert_eq!(counted(&gw, "ike-init-in-resp"), 1, "{gw}");
    assert_eq!(counted(&gw, "ike-auth-out-req"), 1, "{gw}");
    assert_eq!(counted(&gw, "child-rekey"), 1, "{gw}");
    assert!(counted(&gw, "create-child-out-req") >= 1, "{gw}");
    let sun_gw = ok(sun, &["--counters", "--name", "gw"]);
    assert_eq!(counted(&sun_gw, "ike-auth-in-req"), 1, "{sun_gw}");
    assert_eq!(counted(&sun_gw, "ike-auth-out-resp"), 1, "{sun_gw}");
    let global = ok(sun, &["--counters"]);
    assert!(global.starts_with("global:"), "{global}");
    // Only the global counters see an IKE_SA_INIT request come in.
    assert_eq!(counted(&global, "ike-init-in-req"), 1, "{global}");
    assert_eq!(counted(&sun_gw, "ike-init-in-req"), 0, "{sun_gw}");
    ok(moon, &["--counters", "--reset", "--name", "gw"]);
    let reset = swanctl(moon, &["--counters", "--name", "gw"]);
    assert!(
        String::from_utf8_lossy(&reset.stderr).contains("no counters found"),
        "{reset:?}"
    );

    // Junk and a message for no IKE SA raise alerts (and count).
    let mut alerts = Listener::register(moon, &["alert"]);
    let mut stranger = [0u8; 28];
    stranger[..16].copy_from_slice(&[7; 16]);
    stranger[17] = 0x20; // IKEv2
    stranger[18] = 37; // INFORMATIONAL
    stranger[19] = 0x08; // from the original initiator
    stranger[27] = 28;
    ns.run(|| {
        let udp = std::net::UdpSocket::bind("127.0.0.2:0").unwrap();
        udp.send_to(&stranger, "127.0.0.1:500").unwrap();
        udp.send_to(b"junk", "127.0.0.1:500").unwrap();
    })
    .unwrap();
    for expected in ["invalid-ike-spi", "parse-error-header"] {
        let (name, alert) = alerts.event();
        assert_eq!(name, "alert");
        assert_eq!(alert.str("type"), Some(expected));
    }
    let global = ok(moon, &["--counters"]);
    assert_eq!(counted(&global, "invalid-spi"), 1, "{global}");
    assert_eq!(counted(&global, "invalid"), 1, "{global}");

    // The Child SA alone: its IKE SA stays up on both sides.
    let child_down = ok(moon, &["--terminate", "--child", "net"]);
    assert!(
        child_down.contains("terminate completed successfully")
            && child_down.contains("[CHD] deleting CHILD_SA net{"),
        "{child_down}"
    );
    let (moon_left, _) = eventually("no Child SA on either side", || {
        let (m, s) = (list_sas(moon)?, list_sas(sun)?);
        (m.children.is_empty() && s.children.is_empty()).then_some((m, s))
    });
    assert_eq!(moon_left.ike_spis, moon_sas.ike_spis);
    let (name, child_gone) = events.event();
    assert_eq!(name, "child-updown");
    assert!(child_gone.str("up").is_none());
    let none = swanctl(moon, &["--terminate", "--child", "net"]);
    assert!(!none.status.success());

    // Down, on both sides.
    let down = ok(moon, &["--terminate", "--ike", "gw"]);
    assert!(
        down.lines()
            .any(|l| l.starts_with("[IKE] deleting IKE_SA gw[1] between 127.0.0.1[h1.example]")),
        "{down}"
    );
    eprintln!("{down}");
    assert!(down.contains("terminate completed successfully"), "{down}");
    assert!(list_sas(moon).is_none(), "moon after terminate");
    eventually("sun without SAs", || list_sas(sun).is_none().then_some(()));
    let (name, ike_down) = events.event();
    assert_eq!(name, "ike-updown");
    assert!(ike_down.str("up").is_none());
    let missing = swanctl(moon, &["--terminate", "--ike", "gw"]);
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("no matching SAs to terminate found")
    );

    stop.send(true).unwrap();
    let left = daemons.join().unwrap();
    assert_eq!(left, [(0, (0, 0)), (0, (0, 0))], "SAs or ids left behind");
    std::fs::remove_dir_all(&dir).unwrap();
}
