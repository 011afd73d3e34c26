//! The VICI client `ikerctl` speaks with: a Unix stream socket, blocking, one command at a
//! time. Streaming commands (`list-sas`, `initiate`, ...) are wrapped as swanctl wraps them:
//! register for the command's events, send it, hand each event on as it comes, take the
//! response, unregister.
//!
//! Every failure is a [`ClientError`] that says what to do about it: no daemon, a socket the
//! user may not open (and which group may), a daemon that does not answer in time or does not
//! know the command.

use std::fmt;
use std::io::{self, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::wire::{self, Message, Packet};

/// Where swanctl and ikerctl look for the daemon unless told otherwise.
pub const DEFAULT_URI: &str = "unix:///var/run/charon.vici";

/// Why a VICI exchange failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClientError {
    /// The URI is not `unix://PATH`.
    BadUri(String),
    /// No socket at the path.
    NoSocket(PathBuf),
    /// A socket that no one listens on (a daemon that crashed).
    NotListening(PathBuf),
    /// The socket (or a directory above it) may not be opened; the group that may, if known.
    PermissionDenied {
        path: PathBuf,
        group: Option<String>,
    },
    /// No packet within the time allowed.
    Timeout { command: String, after: Duration },
    /// CMD_UNKNOWN.
    UnknownCommand(String),
    /// EVENT_UNKNOWN for a registration.
    UnknownEvent(String),
    /// The daemon closed the connection.
    Closed,
    /// Bytes that are not VICI, or a packet out of place.
    Protocol(String),
    /// Any other error of the socket.
    Io(io::Error),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::BadUri(uri) => {
                write!(f, "unsupported URI {uri:?}: give unix:///PATH/TO/SOCKET")
            }
            ClientError::NoSocket(path) => {
                write!(f, "is ikerd running? no socket at {}", path.display())
            }
            ClientError::NotListening(path) => write!(
                f,
                "is ikerd running? nothing listens on {} (a daemon that stopped left it)",
                path.display()
            ),
            ClientError::PermissionDenied { path, group } => {
                write!(f, "permission denied on {}: run as root", path.display())?;
                match group {
                    Some(group) => write!(f, " or as a member of group {group}"),
                    None => Ok(()),
                }
            }
            ClientError::Timeout { command, after } => write!(
                f,
                "no answer from the daemon to {command} within {}s",
                after.as_secs()
            ),
            ClientError::UnknownCommand(name) => {
                write!(f, "the daemon does not know command {name}")
            }
            ClientError::UnknownEvent(name) => write!(f, "the daemon does not offer event {name}"),
            ClientError::Closed => f.write_str("the daemon closed the connection"),
            ClientError::Protocol(why) => write!(f, "VICI protocol error: {why}"),
            ClientError::Io(e) => write!(f, "VICI socket: {e}"),
        }
    }
}

impl std::error::Error for ClientError {}

/// The socket path of a `unix://PATH` URI (swanctl's `--uri`); a bare absolute path is taken
/// as it is.
pub fn socket_path(uri: &str) -> Result<PathBuf, ClientError> {
    let path = match uri.strip_prefix("unix://") {
        Some(path) => path,
        None if uri.starts_with('/') => uri,
        None => return Err(ClientError::BadUri(uri.to_owned())),
    };
    if path.is_empty() {
        return Err(ClientError::BadUri(uri.to_owned()));
    }
    Ok(PathBuf::from(path))
}

/// The name of group `gid` in `group_file` (the format of /etc/group).
fn group_name(group_file: &str, gid: u32) -> Option<String> {
    group_file.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let id = fields.nth(1)?.parse::<u32>().ok()?;
        (id == gid).then(|| name.to_owned())
    })
}

/// The group that may open `path`: the socket's own, or, when its directory cannot be
/// entered, that directory's.
fn allowed_group(path: &Path) -> Option<String> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(_) => std::fs::metadata(path.parent()?).ok()?,
    };
    let gid = meta.gid();
    let groups = std::fs::read_to_string("/etc/group").ok()?;
    Some(group_name(&groups, gid).unwrap_or_else(|| gid.to_string()))
}

/// A connection to the daemon.
#[derive(Debug)]
pub struct Client {
    stream: UnixStream,
    /// The longest wait for one packet; None waits for ever.
    timeout: Option<Duration>,
    /// The command being answered, for errors.
    command: String,
}

impl Client {
    /// Connects to the socket at `path`.
    pub fn connect(path: &Path) -> Result<Client, ClientError> {
        let stream = UnixStream::connect(path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => ClientError::NoSocket(path.to_owned()),
            io::ErrorKind::ConnectionRefused => ClientError::NotListening(path.to_owned()),
            io::ErrorKind::PermissionDenied => ClientError::PermissionDenied {
                path: path.to_owned(),
                group: allowed_group(path),
            },
            _ => ClientError::Io(e),
        })?;
        Ok(Client {
            stream,
            timeout: Some(Duration::from_secs(30)),
            command: String::new(),
        })
    }

    /// Connects to the daemon a `unix://PATH` URI names.
    pub fn connect_uri(uri: &str) -> Result<Client, ClientError> {
        Client::connect(&socket_path(uri)?)
    }

    /// The longest wait for each packet of an answer (30 s unless set); None waits for ever.
    pub fn set_timeout(&mut self, timeout: Option<Duration>) {
        self.timeout = timeout;
    }

    fn send(&mut self, packet: &Packet) -> Result<(), ClientError> {
        let segment = packet
            .to_segment()
            .map_err(|e| ClientError::Protocol(e.to_string()))?;
        self.stream.write_all(&segment).map_err(ClientError::Io)
    }

    /// The next packet from the daemon.
    pub fn receive(&mut self) -> Result<Packet, ClientError> {
        self.stream
            .set_read_timeout(self.timeout)
            .map_err(ClientError::Io)?;
        let mut header = [0u8; wire::LENGTH_LEN];
        self.read_exact(&mut header)?;
        let len = wire::segment_len(header).map_err(|e| ClientError::Protocol(e.to_string()))?;
        let mut packet = Vec::new();
        (&mut self.stream)
            .take(len as u64)
            .read_to_end(&mut packet)
            .map_err(|e| self.io_error(e))?;
        if packet.len() < len {
            return Err(ClientError::Closed);
        }
        Packet::parse(&packet).map_err(|e| ClientError::Protocol(e.to_string()))
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), ClientError> {
        self.stream.read_exact(buf).map_err(|e| self.io_error(e))
    }

    fn io_error(&self, e: io::Error) -> ClientError {
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => ClientError::Timeout {
                command: self.command.clone(),
                after: self.timeout.unwrap_or_default(),
            },
            io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset => ClientError::Closed,
            _ => ClientError::Io(e),
        }
    }

    /// The next packet that is not an event, handing events to `on_event` meanwhile.
    fn answer(&mut self, on_event: &mut dyn FnMut(&str, &Message)) -> Result<Packet, ClientError> {
        loop {
            match self.receive()? {
                Packet::Event { event, message } => on_event(&event, &message),
                other => return Ok(other),
            }
        }
    }

    /// Registers for `event`.
    pub fn register(&mut self, event: &str) -> Result<(), ClientError> {
        self.registration(Packet::EventRegister(event.to_owned()), event)
    }

    /// Registers no more for `event`.
    pub fn unregister(&mut self, event: &str) -> Result<(), ClientError> {
        self.registration(Packet::EventUnregister(event.to_owned()), event)
    }

    fn registration(&mut self, packet: Packet, event: &str) -> Result<(), ClientError> {
        self.command = format!("the registration for {event}");
        self.send(&packet)?;
        match self.answer(&mut |_, _| {})? {
            Packet::EventConfirm => Ok(()),
            Packet::EventUnknown => Err(ClientError::UnknownEvent(event.to_owned())),
            other => Err(ClientError::Protocol(format!(
                "{} in answer to {:?}",
                other.ty(),
                packet.ty()
            ))),
        }
    }

    /// Sends command `name` and returns its response.
    pub fn command(&mut self, name: &str, request: &Message) -> Result<Message, ClientError> {
        self.streamed(name, request, &[], &mut |_, _| {})
    }

    /// Sends command `name` registered for `events` around it, as swanctl does, handing each
    /// event to `on_event` as it comes; returns the response.
    pub fn streamed(
        &mut self,
        name: &str,
        request: &Message,
        events: &[&str],
        on_event: &mut dyn FnMut(&str, &Message),
    ) -> Result<Message, ClientError> {
        for event in events {
            self.register(event)?;
        }
        self.command = name.to_owned();
        self.send(&Packet::CmdRequest {
            command: name.to_owned(),
            message: request.clone(),
        })?;
        let response = match self.answer(on_event)? {
            Packet::CmdResponse(message) => message,
            Packet::CmdUnknown => return Err(ClientError::UnknownCommand(name.to_owned())),
            other => {
                return Err(ClientError::Protocol(format!(
                    "{} in answer to command {name}",
                    other.ty()
                )));
            }
        };
        for event in events {
            self.unregister(event)?;
        }
        Ok(response)
    }

    /// Sends a streaming command and collects its events: `(event, message)` in order, then
    /// the response.
    pub fn collect(
        &mut self,
        name: &str,
        request: &Message,
        events: &[&str],
    ) -> Result<(Vec<(String, Message)>, Message), ClientError> {
        let mut got = Vec::new();
        let response = self.streamed(name, request, events, &mut |event, message| {
            got.push((event.to_owned(), message.clone()));
        })?;
        Ok((got, response))
    }

    /// Registers for `events` and hands each to `on_event` until it returns false or the
    /// connection ends; waits as long as it takes.
    pub fn follow(
        &mut self,
        events: &[&str],
        on_event: &mut dyn FnMut(&str, &Message) -> bool,
    ) -> Result<(), ClientError> {
        for event in events {
            self.register(event)?;
        }
        self.timeout = None;
        self.command = events.join(", ");
        loop {
            match self.receive()? {
                Packet::Event { event, message } => {
                    if !on_event(&event, &message) {
                        return Ok(());
                    }
                }
                other => {
                    return Err(ClientError::Protocol(format!(
                        "{} while waiting for events",
                        other.ty()
                    )));
                }
            }
        }
    }
}

/// Whether a response says the command failed (`success = no`), and why.
pub fn failed(response: &Message) -> Option<String> {
    match response.str("success") {
        Some("no") => Some(
            response
                .str("errmsg")
                .unwrap_or("the daemon gives no reason")
                .to_owned(),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_name_unix_sockets() {
        assert_eq!(
            socket_path("unix:///var/run/charon.vici").unwrap(),
            Path::new("/var/run/charon.vici")
        );
        assert_eq!(
            socket_path("/run/x.vici").unwrap(),
            Path::new("/run/x.vici")
        );
        for bad in ["tcp://127.0.0.1:4502", "unix://", "charon.vici"] {
            assert!(
                matches!(socket_path(bad), Err(ClientError::BadUri(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn group_names_come_from_the_group_file() {
        let file = "root:x:0:\nvpn:x:120:alice,bob\nbroken\n";
        assert_eq!(group_name(file, 120).as_deref(), Some("vpn"));
        assert_eq!(group_name(file, 7), None);
    }

    #[test]
    fn errors_say_what_to_do() {
        let missing = ClientError::NoSocket("/run/x.vici".into());
        assert_eq!(
            missing.to_string(),
            "is ikerd running? no socket at /run/x.vici"
        );
        let denied = ClientError::PermissionDenied {
            path: "/var/run/charon.vici".into(),
            group: Some("vpn".into()),
        };
        assert_eq!(
            denied.to_string(),
            "permission denied on /var/run/charon.vici: run as root or as a member of group vpn"
        );
        assert_eq!(
            ClientError::UnknownCommand("list-certs".into()).to_string(),
            "the daemon does not know command list-certs"
        );
    }

    /// A daemon played by a thread: answers each request with the packets given.
    fn daemon(answers: Vec<Vec<Packet>>) -> (tempdir::Dir, std::thread::JoinHandle<Vec<Packet>>) {
        let dir = tempdir::Dir::new();
        let path = dir.0.join("s.vici");
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let handle = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut got = Vec::new();
            for answer in answers {
                let mut len = [0u8; 4];
                stream.read_exact(&mut len).unwrap();
                let mut packet = vec![0; wire::segment_len(len).unwrap()];
                stream.read_exact(&mut packet).unwrap();
                got.push(Packet::parse(&packet).unwrap());
                for p in answer {
                    stream.write_all(&p.to_segment().unwrap()).unwrap();
                }
            }
            // Open a while longer, so a client waiting for more times out rather than sees
            // the connection end.
            std::thread::sleep(Duration::from_millis(500));
            got
        });
        (dir, handle)
    }

    mod tempdir {
        /// A directory removed when dropped.
        pub struct Dir(pub std::path::PathBuf);

        impl Dir {
            pub fn new() -> Dir {
                use std::sync::atomic::{AtomicU32, Ordering};
                static N: AtomicU32 = AtomicU32::new(0);
                let n = N.fetch_add(1, Ordering::Relaxed);
                let path =
                    std::env::temp_dir().join(format!("ikerd-client-{}-{n}", std::process::id()));
                std::fs::create_dir_all(&path).unwrap();
                Dir(path)
            }
        }

        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    #[test]
    fn a_streamed_command_registers_collects_and_unregisters() {
        let event = |n: &str| Packet::Event {
            event: "list-sa".into(),
            message: Message::new().with_section(n, Message::new()),
        };
        let (dir, daemon) = daemon(vec![
            vec![Packet::EventConfirm],
            vec![event("a"), event("b"), Packet::CmdResponse(Message::new())],
            vec![Packet::EventConfirm],
            vec![Packet::CmdUnknown],
        ]);
        let mut client = Client::connect(&dir.0.join("s.vici")).unwrap();
        let (events, response) = client
            .collect("list-sas", &Message::new(), &["list-sa"])
            .unwrap();
        assert!(response.is_empty());
        let names: Vec<&str> = events.iter().map(|(_, m)| m.items[0].0.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        let unknown = client.command("list-certs", &Message::new()).unwrap_err();
        assert!(matches!(unknown, ClientError::UnknownCommand(c) if c == "list-certs"));
        let sent = daemon.join().unwrap();
        assert_eq!(
            sent.iter().map(Packet::ty).collect::<Vec<_>>(),
            [
                wire::PacketType::EVENT_REGISTER,
                wire::PacketType::CMD_REQUEST,
                wire::PacketType::EVENT_UNREGISTER,
                wire::PacketType::CMD_REQUEST
            ]
        );
    }

    #[test]
    fn a_silent_daemon_times_out_and_a_missing_one_is_named() {
        let (dir, _daemon) = daemon(vec![vec![]]);
        let mut client = Client::connect(&dir.0.join("s.vici")).unwrap();
        client.set_timeout(Some(Duration::from_millis(200)));
        let err = client.command("stats", &Message::new()).unwrap_err();
        assert!(matches!(err, ClientError::Timeout { .. }), "{err:?}");
        let missing = Client::connect(&dir.0.join("nothing.vici")).unwrap_err();
        assert!(matches!(missing, ClientError::NoSocket(_)), "{missing:?}");
    }
}
