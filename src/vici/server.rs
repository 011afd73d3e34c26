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
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::broadcast;
use tokio::time::timeout;
use tracing::{debug, info, warn};

use super::wire::{self, Message, Packet, PacketType, RawPacket};
use super::{conns, drive, load, query, sas};
use crate::daemon::{Control, News};

/// Where strongSwan's charon listens, and so where swanctl looks first.
pub const DEFAULT_SOCKET: &str = "/var/run/charon.vici";
/// The socket's mode: root and the socket's group may connect, as strongSwan's default.
const MODE: u32 = 0o770;
/// Once a segment's first byte is in, the rest must follow within this time, and a client must
/// take each of our packets within it too. Between packets a client may wait as long as it
/// likes (a `swanctl --log` waits for events for hours).
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The events strongSwan's vici plugin offers, which clients register for by name. ikerd raises
/// `log`, the SA events and the events of the commands that stream; a registration for the
/// others is confirmed and recorded, and nothing comes.
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

/// The events carried by the daemon's news (the others answer one client's command).
const NEWS_EVENTS: [&str; 6] = [
    "log",
    "alert",
    "ike-updown",
    "ike-rekey",
    "child-updown",
    "child-rekey",
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
                        news: None,
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
pub(super) struct Client {
    id: u64,
    pub(super) control: Control,
    timeout: Duration,
    /// The events it registered for.
    events: Vec<String>,
    /// The daemon's news, while it is registered for an event they carry.
    pub(super) news: Option<broadcast::Receiver<Arc<News>>>,
}

/// What woke a client's task while it waited for the next packet.
enum Woken {
    Read(io::Result<usize>),
    News(Result<Arc<News>, broadcast::error::RecvError>),
}

/// The next piece of news, or never when the client listens to none.
pub(super) async fn next_news(
    news: &mut Option<broadcast::Receiver<Arc<News>>>,
) -> Result<Arc<News>, broadcast::error::RecvError> {
    match news {
        Some(news) => news.recv().await,
        None => std::future::pending().await,
    }
}

impl Client {
    /// Answers packets until the client closes the connection or breaks the protocol, and
    /// passes on the news it registered for meanwhile.
    async fn serve(mut self, mut stream: UnixStream) {
        let id = self.id;
        loop {
            let mut first = [0u8; 1];
            // Reading is cancel safe: news that comes first leaves the byte for the next turn.
            let woken = tokio::select! {
                read = stream.read(&mut first) => Woken::Read(read),
                news = next_news(&mut self.news) => Woken::News(news),
            };
            let packet = match woken {
                Woken::News(news) => match self.pass_on(&mut stream, news).await {
                    Ok(()) => continue,
                    Err(e) => {
                        warn!("vici client {id}: {e}; closing");
                        return;
                    }
                },
                Woken::Read(Ok(0)) => {
                    debug!("vici client {id} disconnected");
                    return;
                }
                Woken::Read(Ok(_)) => self.read_packet(&mut stream, first[0]).await,
                Woken::Read(Err(e)) => Err(e),
            };
            let packet = match packet {
                Ok(packet) => packet,
                Err(e) => {
                    warn!("vici client {id}: {e}; closing");
                    return;
                }
            };
            let (reply, close) = match self.answer(&mut stream, &packet).await {
                Ok(Next::Reply(reply)) => (Some(reply), None),
                Ok(Next::ReplyAndClose(reply, why)) => (Some(reply), Some(why)),
                Ok(Next::Close(why)) => (None, Some(why)),
                Err(e) => (None, Some(e.to_string())),
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

    /// Sends a piece of news as the event the client registered for; a client that fell so far
    /// behind that news was lost is told so by being closed.
    pub(super) async fn pass_on(
        &mut self,
        stream: &mut UnixStream,
        news: Result<Arc<News>, broadcast::error::RecvError>,
    ) -> io::Result<()> {
        match news {
            Ok(news) => {
                let (event, message) = sas::news_event(&news);
                if self.registered(event) {
                    self.write_event(stream, event, message).await?;
                }
                Ok(())
            }
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                Err(io::Error::other(format!("fell {missed} events behind")))
            }
            Err(broadcast::error::RecvError::Closed) => {
                self.news = None;
                Ok(())
            }
        }
    }

    pub(super) fn registered(&self, event: &str) -> bool {
        self.events.iter().any(|e| e == event)
    }

    /// Sends an event, if the client registered for it.
    pub(super) async fn write_event(
        &self,
        stream: &mut UnixStream,
        event: &str,
        message: Message,
    ) -> io::Result<()> {
        if !self.registered(event) {
            return Ok(());
        }
        let packet = Packet::Event {
            event: event.to_owned(),
            message,
        };
        self.write_packet(stream, &packet).await
    }

    /// Reads the rest of a segment whose first byte is in.
    async fn read_packet(
        &self,
        stream: &mut (impl AsyncRead + Unpin),
        first: u8,
    ) -> io::Result<Vec<u8>> {
        let mut header = [first, 0, 0, 0];
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
            Ok(packet)
        };
        timeout(self.timeout, rest).await.unwrap_or_else(|_| {
            Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("segment not complete within {:?}", self.timeout),
            ))
        })
    }

    pub(super) async fn write_packet(
        &self,
        stream: &mut UnixStream,
        packet: &Packet,
    ) -> io::Result<()> {
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

    /// The answer to one packet; streaming commands send their events first. An error is a
    /// connection that broke while events went out.
    async fn answer(&mut self, stream: &mut UnixStream, bytes: &[u8]) -> io::Result<Next> {
        let raw = match RawPacket::parse(bytes) {
            Ok(raw) => raw,
            Err(e) => return Ok(Next::Close(format!("malformed packet {e}"))),
        };
        let name = raw.name.unwrap_or_default();
        Ok(match raw.ty {
            PacketType::CMD_REQUEST => match raw.parse_message() {
                Ok(request) => Next::Reply(self.command(stream, name, &request).await?),
                Err(e) => Next::ReplyAndClose(
                    Packet::CmdResponse(query::failure(&format!("malformed request {e}"))),
                    format!("malformed {name} request {e}"),
                ),
            },
            PacketType::EVENT_REGISTER if EVENTS.contains(&name) => {
                if !self.registered(name) {
                    self.events.push(name.to_owned());
                }
                if NEWS_EVENTS.contains(&name) && self.news.is_none() {
                    self.news = Some(self.control.news());
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
                    if !NEWS_EVENTS.iter().any(|e| self.registered(e)) {
                        self.news = None;
                    }
                    Next::Reply(Packet::EventConfirm)
                }
                None => Next::Reply(Packet::EventUnknown),
            },
            other => Next::Close(format!("{other} packets are the daemon's to send")),
        })
    }

    /// The answer to the command `name`: its response, or CMD_UNKNOWN.
    async fn command(
        &mut self,
        stream: &mut UnixStream,
        name: &str,
        request: &Message,
    ) -> io::Result<Packet> {
        let gone = || query::failure("the daemon is shutting down");
        let response = match name {
            "version" => query::version(),
            "stats" => match self.control.stats().await {
                Some(stats) => query::stats(&stats),
                None => gone(),
            },
            "list-sas" => match self.control.list_sas(drive::selector(request)).await {
                Some(views) => {
                    for view in &views {
                        self.write_event(stream, "list-sa", sas::list_sa(view))
                            .await?;
                    }
                    Message::new()
                }
                None => gone(),
            },
            "list-conns" => match self.control.list_conns().await {
                Some(list) => {
                    let ike = request.str("ike");
                    for conn in list.iter().filter(|c| ike.is_none_or(|n| n == c.name)) {
                        self.write_event(stream, "list-conn", conns::list_conn(conn))
                            .await?;
                    }
                    Message::new()
                }
                None => gone(),
            },
            "list-policies" => match self.control.list_traps().await {
                Some(traps) => {
                    // ikerd installs no drop or pass policies: only traps are listed.
                    let wanted = |key: &str| request.str(key).is_some_and(|v| v == "yes");
                    let (ike, child) = (request.str("ike"), request.str("child"));
                    let traps = traps.iter().filter(|_| wanted("trap")).filter(|t| {
                        ike.is_none_or(|n| n == t.connection) && child.is_none_or(|n| n == t.child)
                    });
                    for trap in traps {
                        self.write_event(stream, "list-policy", sas::list_policy(trap))
                            .await?;
                    }
                    Message::new()
                }
                None => gone(),
            },
            "get-counters" => {
                let request = request.clone();
                let reply = self
                    .control
                    .with_counters(move |c| query::get_counters(c, &request))
                    .await;
                reply.unwrap_or_else(gone)
            }
            "reset-counters" => {
                let request = request.clone();
                let reply = self
                    .control
                    .with_counters(move |c| query::reset_counters(c, &request))
                    .await;
                reply.unwrap_or_else(gone)
            }
            "get-conns" => match self.control.list_conns().await {
                Some(list) => conns::get_conns(&list),
                None => gone(),
            },
            "initiate" => drive::initiate(self, stream, request).await?,
            "terminate" => drive::terminate(self, stream, request).await?,
            "rekey" => drive::rekey(self, request).await,
            "install" | "uninstall" => drive::trap(self, request, name == "install").await,
            "reload-settings" => match self.control.reload_settings().await {
                Some(Ok(())) => Message::new().with_value("success", "yes"),
                Some(Err(why)) => query::failure(&why),
                None => gone(),
            },
            "ikerd-failures" => match self.control.failures().await {
                Some(list) => query::failures(&list),
                None => gone(),
            },
            _ => match load::command(self, stream, name, request).await? {
                Some(response) => response,
                None => {
                    debug!("vici client {}: command {name} not served", self.id);
                    return Ok(Packet::CmdUnknown);
                }
            },
        };
        Ok(Packet::CmdResponse(response))
    }
}
