//! The VICI server: a Unix stream socket, one task per client, each answering its client's
//! packets one at a time (the protocol has no request ids: one command at a time per
//! connection). What needs the daemon's state goes to the daemon's loop through
//! [`Control`]; no client can hold up the daemon or another client.
//!
//! Malformed input, as strongSwan's vici plugin meets it and as we do:
//! - a segment longer than 512 KiB: strongSwan closes the connection; so do we;
//! - a packet that is not a CMD_REQUEST, EVENT_REGISTER or EVENT_UNREGISTER with a name, or
//!   whose name is cut short: strongSwan logs it and sends nothing, leaving the client waiting
//!   for an answer that never comes; we log it and close the connection, so the client sees an
//!   error at once;
//! - a request whose message does not parse: strongSwan hands the command a message that fails
//!   as it is read, and the command answers `success = no` with an `errmsg`; we answer the same
//!   way for every command, saying where and why, then close the connection.

use std::io;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::time::timeout;
use tracing::{debug, info, warn};

use super::query;
use super::wire::{self, Message, Packet, PacketType, RawPacket};
use crate::daemon::Control;

/// Where strongSwan's charon listens, and so where swanctl looks first.
pub const DEFAULT_SOCKET: &str = "/var/run/charon.vici";
/// The socket's mode: root and the socket's group may connect, as strongSwan's default.
const MODE: u32 = 0o770;
/// Once a segment's first byte is in, the rest must follow within this time, and a client must
/// take each of our packets within it too. Between packets a client may wait as long as it
/// likes (a `swanctl --log` waits for events for hours).
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The events strongSwan's vici plugin offers, which clients register for by name. ikerd raises
/// none of them yet: a registration is confirmed and recorded, for the commands that stream.
const EVENTS: [&str; 13] = [
    "log",
    "control-log",
    "ike-updown",
    "ike-rekey",
    "ike-update",
    "child-updown",
    "child-rekey",
    "alert",
    "list-sa",
    "list-policy",
    "list-conn",
    "list-cert",
    "list-authority",
];

/// A bound VICI socket; [`Server::run`] serves it. The socket file goes when the server does.
#[derive(Debug)]
pub struct Server {
    listener: UnixListener,
    path: PathBuf,
    control: Control,
    timeout: Duration,
}

impl Server {
    /// Binds `path` with mode 0770, replacing a socket no one listens on any more (one a
    /// crashed run left). Must run inside a tokio runtime.
    pub fn bind(path: &Path, control: Control) -> io::Result<Server> {
        let context = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
        if let Ok(meta) = std::fs::symlink_metadata(path) {
            if !meta.file_type().is_socket() {
                return Err(context(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "exists and is not a socket",
                )));
            }
            if std::os::unix::net::UnixStream::connect(path).is_ok() {
                return Err(context(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    "another daemon is listening on it",
                )));
            }
            std::fs::remove_file(path).map_err(context)?;
        }
        let listener = UnixListener::bind(path).map_err(context)?;
        let server = Server {
            listener,
            path: path.to_owned(),
            control,
            timeout: TIMEOUT,
        };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(MODE)).map_err(context)?;
        info!("VICI on {}", path.display());
        Ok(server)
    }

    /// Another time than [`TIMEOUT`] for a started segment to complete and a reply to be taken.
    pub fn with_timeout(mut self, timeout: Duration) -> Server {
        self.timeout = timeout;
        self
    }

    /// Accepts clients until the task is dropped, each served by a task of its own.
    pub async fn run(self) {
        let mut next_id: u64 = 1;
        loop {
            match self.listener.accept().await {
                Ok((stream, _)) => {
                    let id = next_id;
                    next_id += 1;
                    debug!("vici client {id} connected");
                    let client = Client {
                        id,
                        control: self.control.clone(),
                        timeout: self.timeout,
                        events: Vec::new(),
                    };
                    tokio::spawn(client.serve(stream));
                }
                Err(e) => {
                    // Out of file descriptors, most likely: wait instead of spinning.
                    warn!("vici accept: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_file(&self.path) {
            debug!("removing {}: {e}", self.path.display());
        }
    }
}

/// What to do after a packet.
#[derive(Debug)]
enum Next {
    Reply(Packet),
    /// Answer, then close: the client sent something we will not read on after.
    ReplyAndClose(Packet, String),
    Close(String),
}

/// One client's connection.
struct Client {
    id: u64,
    control: Control,
    timeout: Duration,
    /// The events it registered for.
    events: Vec<String>,
}

impl Client {
    /// Answers packets until the client closes the connection or breaks the protocol.
    async fn serve(mut self, mut stream: UnixStream) {
        let id = self.id;
        loop {
            let packet = match self.read_packet(&mut stream).await {
                Ok(Some(packet)) => packet,
                Ok(None) => {
                    debug!("vici client {id} disconnected");
                    return;
                }
                Err(e) => {
                    warn!("vici client {id}: {e}; closing");
                    return;
                }
            };
            let (reply, close) = match self.answer(&packet).await {
                Next::Reply(reply) => (Some(reply), None),
                Next::ReplyAndClose(reply, why) => (Some(reply), Some(why)),
                Next::Close(why) => (None, Some(why)),
            };
            if let Some(reply) = reply
                && let Err(e) = self.write_packet(&mut stream, &reply).await
            {
                warn!("vici client {id}: {e}; closing");
                return;
            }
            if let Some(why) = close {
                warn!("vici client {id}: {why}; closing");
                return;
            }
        }
    }

    /// Reads one segment's packet; `None` when the client closed the connection between
    /// packets.
    async fn read_packet(
        &self,
        stream: &mut (impl AsyncRead + Unpin),
    ) -> io::Result<Option<Vec<u8>>> {
        let mut header = [0u8; wire::LENGTH_LEN];
        if stream.read(&mut header[..1]).await? == 0 {
            return Ok(None);
        }
        let rest = async {
            stream.read_exact(&mut header[1..]).await?;
            let len = wire::segment_len(header)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
            // Grows with what arrives, so an announced length costs nothing until it is sent.
            let mut packet = Vec::new();
            (&mut *stream)
                .take(len as u64)
                .read_to_end(&mut packet)
                .await?;
            if packet.len() < len {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("closed after {} of {len} bytes", packet.len()),
                ));
            }
            Ok(Some(packet))
        };
        timeout(self.timeout, rest).await.unwrap_or_else(|_| {
            Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("segment not complete within {:?}", self.timeout),
            ))
        })
    }

    async fn write_packet(&self, stream: &mut UnixStream, packet: &Packet) -> io::Result<()> {
        let segment = packet
            .to_segment()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
        timeout(self.timeout, stream.write_all(&segment))
            .await
            .unwrap_or_else(|_| {
                Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("reply not taken within {:?}", self.timeout),
                ))
            })
    }

    /// The answer to one packet.
    async fn answer(&mut self, bytes: &[u8]) -> Next {
        let raw = match RawPacket::parse(bytes) {
            Ok(raw) => raw,
            Err(e) => return Next::Close(format!("malformed packet {e}")),
        };
        let name = raw.name.unwrap_or_default();
        match raw.ty {
            PacketType::CMD_REQUEST => match raw.parse_message() {
                Ok(request) => Next::Reply(self.command(name, &request).await),
                Err(e) => Next::ReplyAndClose(
                    Packet::CmdResponse(query::failure(&format!("malformed request {e}"))),
                    format!("malformed {name} request {e}"),
                ),
            },
            PacketType::EVENT_REGISTER if EVENTS.contains(&name) => {
                if !self.events.iter().any(|e| e == name) {
                    self.events.push(name.to_owned());
                }
                Next::Reply(Packet::EventConfirm)
            }
            PacketType::EVENT_REGISTER => {
                debug!("vici client {}: no event {name}", self.id);
                Next::Reply(Packet::EventUnknown)
            }
            PacketType::EVENT_UNREGISTER => match self.events.iter().position(|e| e == name) {
                Some(i) => {
                    self.events.remove(i);
                    Next::Reply(Packet::EventConfirm)
                }
                None => Next::Reply(Packet::EventUnknown),
            },
            other => Next::Close(format!("{other} packets are the daemon's to send")),
        }
    }

    /// The answer to the command `name`: its response, or CMD_UNKNOWN.
    async fn command(&self, name: &str, _request: &Message) -> Packet {
        let response = match name {
            "version" => query::version(),
            "stats" => match self.control.stats().await {
                Some(stats) => query::stats(&stats),
                None => query::failure("the daemon is shutting down"),
            },
            _ => {
                debug!("vici client {}: command {name} not served", self.id);
                return Packet::CmdUnknown;
            }
        };
        Packet::CmdResponse(response)
    }
}
