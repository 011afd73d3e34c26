//! The VICI server in front of a daemon with no connections and the in-memory kernel: what it
//! answers, how it meets malformed and stalling clients, and that neither holds up anyone else.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ikerd::daemon::Daemon;
use ikerd::kernel::mem::MemBackend;
use ikerd::vici::server::Server;
use ikerd::vici::wire::{self, Message, Packet};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::time::timeout;

/// How long a test waits for an answer that should come at once.
const PROMPT: Duration = Duration::from_secs(5);

/// A fresh directory for one test's socket.
fn socket_path(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ikerd-vici-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("charon.vici")
}

/// Runs `test` against a daemon serving VICI on `path` with the given segment timeout.
async fn with_daemon<F: Future<Output = ()>>(path: &Path, server_timeout: Duration, test: F) {
    let mut daemon = Daemon::new(Vec::new(), MemBackend::new(), 1).unwrap();
    let server = Server::bind(path, daemon.control())
        .unwrap()
        .with_timeout(server_timeout);
    let serving = tokio::spawn(server.run());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let run = daemon.serve_until(async {
        stopped.await.ok();
    });
    let test = async {
        test.await;
        stop.send(()).unwrap();
    };
    let (result, ()) = tokio::join!(run, test);
    result.unwrap();
    serving.abort();
    assert!(serving.await.unwrap_err().is_cancelled());
    assert!(!path.exists(), "the socket goes with the server");
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}

async fn send(stream: &mut UnixStream, packet: &Packet) {
    stream
        .write_all(&packet.to_segment().unwrap())
        .await
        .unwrap();
}

async fn receive(stream: &mut UnixStream) -> Packet {
    let read = async {
        let mut header = [0; wire::LENGTH_LEN];
        stream.read_exact(&mut header).await.unwrap();
        let mut packet = vec![0; wire::segment_len(header).unwrap()];
        stream.read_exact(&mut packet).await.unwrap();
        Packet::parse(&packet).unwrap()
    };
    timeout(PROMPT, read).await.expect("an answer in time")
}

fn request(command: &str) -> Packet {
    Packet::CmdRequest {
        command: command.into(),
        message: Message::new(),
    }
}

async fn ask(stream: &mut UnixStream, command: &str) -> Message {
    send(stream, &request(command)).await;
    match receive(stream).await {
        Packet::CmdResponse(message) => message,
        other => panic!("{command}: {other:?}"),
    }
}

/// Whether the server closed the connection (after any answer already read): the end of the
/// stream, or a reset when it closed with our bytes unread.
async fn closed(stream: &mut UnixStream) -> bool {
    let mut byte = [0];
    match timeout(PROMPT, stream.read(&mut byte)).await {
        Ok(Ok(0)) => true,
        Ok(Err(e)) => e.kind() == std::io::ErrorKind::ConnectionReset,
        _ => false,
    }
}

#[tokio::test]
async fn version_and_stats() {
    let path = socket_path("answers");
    with_daemon(&path, Duration::from_secs(10), async {
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o770);
        let mut client = UnixStream::connect(&path).await.unwrap();
        let version = ask(&mut client, "version").await;
        assert_eq!(version.str("daemon"), Some("ikerd"));
        assert_eq!(version.str("version"), Some(env!("CARGO_PKG_VERSION")));
        assert_eq!(version.str("sysname"), Some("Linux"));
        assert!(version.str("release").is_some());
        assert_eq!(version.str("machine"), Some(std::env::consts::ARCH));
        // Several commands on one connection, one at a time.
        let stats = ask(&mut client, "stats").await;
        assert_eq!(stats.find_str("ikesas.total"), Some("0"));
        assert_eq!(stats.find_str("ikesas.half-open"), Some("0"));
        assert!(
            stats
                .find_str("uptime.running")
                .unwrap()
                .ends_with("seconds")
        );
        assert_eq!(stats.find_str("workers.total"), Some("1"));
        assert_eq!(stats.list("plugins"), Some(&[][..]));
    })
    .await;
}

#[tokio::test]
async fn unknown_commands_and_events() {
    let path = socket_path("unknown");
    with_daemon(&path, Duration::from_secs(10), async {
        let mut client = UnixStream::connect(&path).await.unwrap();
        send(&mut client, &request("get-algorithms")).await;
        assert_eq!(receive(&mut client).await, Packet::CmdUnknown);
        // Served, with nothing to list.
        send(&mut client, &request("list-sas")).await;
        assert_eq!(
            receive(&mut client).await,
            Packet::CmdResponse(Message::new())
        );
        let register = |name: &str| Packet::EventRegister(name.into());
        let unregister = |name: &str| Packet::EventUnregister(name.into());
        for (packet, answer) in [
            (register("log"), Packet::EventConfirm),
            (register("no-such-event"), Packet::EventUnknown),
            (register("ike-updown"), Packet::EventConfirm),
            (unregister("log"), Packet::EventConfirm),
            (unregister("log"), Packet::EventUnknown),
            (unregister("child-updown"), Packet::EventUnknown),
        ] {
            send(&mut client, &packet).await;
            assert_eq!(receive(&mut client).await, answer, "{packet:?}");
        }
        // The connection is still good.
        assert_eq!(
            ask(&mut client, "version").await.str("daemon"),
            Some("ikerd")
        );
    })
    .await;
}

#[tokio::test]
async fn malformed_input_is_answered_or_closed() {
    let path = socket_path("malformed");
    with_daemon(&path, Duration::from_secs(10), async {
        // A request whose message does not parse: an error reply, then the connection closes.
        let mut client = UnixStream::connect(&path).await.unwrap();
        client
            .write_all(b"\x00\x00\x00\x0a\x00\x07version\x02")
            .await
            .unwrap();
        let Packet::CmdResponse(reply) = receive(&mut client).await else {
            panic!("no error reply");
        };
        assert_eq!(reply.str("success"), Some("no"));
        assert_eq!(
            reply.str("errmsg"),
            Some("malformed request at byte 9: SECTION_END without an open section")
        );
        assert!(closed(&mut client).await);
        for garbage in [
            // An unknown packet type.
            &b"\x00\x00\x00\x01\x08"[..],
            // A packet type only the daemon sends.
            b"\x00\x00\x00\x01\x01",
            // A name cut short.
            b"\x00\x00\x00\x03\x00\x07v",
            // An empty packet.
            b"\x00\x00\x00\x00",
            // A segment over 512 KiB: refused from its length alone.
            b"\x00\x08\x00\x01\x00",
        ] {
            let mut client = UnixStream::connect(&path).await.unwrap();
            client.write_all(garbage).await.unwrap();
            assert!(closed(&mut client).await, "{garbage:02x?}");
        }
    })
    .await;
}

#[tokio::test]
async fn garbage_and_stalled_clients_do_not_hold_up_others() {
    let path = socket_path("stall");
    let segment_timeout = Duration::from_millis(500);
    with_daemon(&path, segment_timeout, async {
        // One client stops inside a segment's length, one inside a segment, one sends junk and
        // keeps sending it, one connects and says nothing.
        let mut in_length = UnixStream::connect(&path).await.unwrap();
        in_length.write_all(&[0, 0]).await.unwrap();
        let mut in_segment = UnixStream::connect(&path).await.unwrap();
        in_segment
            .write_all(b"\x00\x00\x01\x00\x00\x05st")
            .await
            .unwrap();
        let mut junk = UnixStream::connect(&path).await.unwrap();
        let junk_writer = tokio::spawn(async move {
            let chunk = [0xffu8; 4096];
            while junk.write_all(&chunk).await.is_ok() {}
        });
        let mut silent = UnixStream::connect(&path).await.unwrap();

        let mut good = UnixStream::connect(&path).await.unwrap();
        for _ in 0..3 {
            let version = ask(&mut good, "version").await;
            assert_eq!(version.str("daemon"), Some("ikerd"));
        }
        assert_eq!(
            ask(&mut good, "stats").await.find_str("ikesas.total"),
            Some("0")
        );

        // The stalled segments are given up on after the timeout; the junk client is dropped
        // at its first packet; the silent one may stay, as event listeners do.
        assert!(closed(&mut in_length).await);
        assert!(closed(&mut in_segment).await);
        timeout(PROMPT, junk_writer).await.unwrap().unwrap();
        let mut byte = [0];
        assert!(
            timeout(2 * segment_timeout, silent.read(&mut byte))
                .await
                .is_err(),
            "an idle client keeps its connection"
        );
        assert_eq!(ask(&mut good, "version").await.str("daemon"), Some("ikerd"));
    })
    .await;
}

#[tokio::test]
async fn a_socket_in_use_is_not_taken_over_and_a_stale_one_is_replaced() {
    let path = socket_path("bind");
    with_daemon(&path, Duration::from_secs(10), async {
        let daemon = Daemon::new(Vec::new(), MemBackend::new(), 1).unwrap();
        let err = Server::bind(&path, daemon.control()).unwrap_err();
        assert!(err.to_string().contains("another daemon"), "{err}");
        assert!(path.exists(), "the running server keeps its socket");
    })
    .await;
    // A socket file nobody listens on, as a crashed daemon leaves it.
    let path = socket_path("stale");
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(path.exists());
    with_daemon(&path, Duration::from_secs(10), async {
        let mut client = UnixStream::connect(&path).await.unwrap();
        assert_eq!(
            ask(&mut client, "version").await.str("daemon"),
            Some("ikerd")
        );
    })
    .await;
}
