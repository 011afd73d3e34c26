//! The NETLINK_XFRM socket: requests with their replies and acknowledgements, pipelined, and
//! the event subscription's datagrams.
//!
//! This is a small request loop over netlink-sys rather than netlink-proto's `Connection`,
//! because the latter serializes requests into a buffer it reuses without wiping and logs each
//! message, keys included, at trace level. Here every buffer that held a key is wiped: the
//! serialized request after `sendto`, the request's own key vectors right after serializing,
//! and the receive buffer after each datagram (GETSA replies carry keys too).
//!
//! Socket options, and why:
//! - NETLINK_CAP_ACK: without it the kernel echoes the whole request in an error reply, keys
//!   included.
//! - NETLINK_EXT_ACK: the kernel explains some EINVALs in text; the error message quotes it.
//! - SO_RCVBUF(FORCE): a pipelined batch gets one acknowledgement per request, and an event
//!   burst one message per SA; a full receive queue drops them (ENOBUFS).

use std::io;
use std::os::fd::AsRawFd;

use netlink_packet_core::{
    Emitable, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, NetlinkBuffer, NetlinkMessage, NetlinkPayload,
};
use netlink_packet_xfrm::{
    XFRM_USER_ACQUIRE_LEN, XFRM_USER_EXPIRE_LEN, XFRM_USER_MAPPING_LEN,
    XFRM_USER_POLICY_EXPIRE_LEN, XFRM_USER_POLICY_INFO_LEN, XFRM_USER_SA_INFO_LEN, XfrmMessage,
};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_XFRM};
use nix::sys::socket::NetlinkAddr;
use tokio::io::unix::AsyncFd;
use zeroize::{Zeroize, Zeroizing};

use crate::netns::NetNs;
use crate::sa::wipe_attrs;

/// Receive buffer: twice the largest datagram the kernel sends (32 KiB).
const RX_SIZE: usize = 64 * 1024;
/// Requests sent before reading their acknowledgements: bounded by bytes (one sendmsg) and by
/// count (each acknowledgement takes ~1 KiB of the receive queue's budget).
const WINDOW_BYTES: usize = 60 * 1024;
const WINDOW_COUNT: usize = 512;
/// Receive queue size asked for; SO_RCVBUFFORCE (root) goes past net.core.rmem_max.
const RCVBUF: usize = 4 * 1024 * 1024;
/// NLM_F_CAPPED and NLM_F_ACK_TLVS of linux/netlink.h (flags of an NLMSG_ERROR).
const NLM_F_CAPPED: u16 = 0x100;
const NLM_F_ACK_TLVS: u16 = 0x200;
/// NLMSGERR_ATTR_MSG of linux/netlink.h.
const NLMSGERR_ATTR_MSG: u16 = 1;
/// Size of struct nlmsghdr.
const NLMSG_HDRLEN: usize = 16;

/// One request of a batch. Its key bytes are wiped when it is dropped, sent or not.
#[derive(Debug)]
pub(crate) struct Request {
    pub msg: XfrmMessage,
    pub dump: bool,
}

impl Drop for Request {
    fn drop(&mut self) {
        wipe_message(&mut self.msg);
    }
}

/// What the kernel answered to one request.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Success, with the reply messages (a GETSA's SA, a dump's entries, ALLOCSPI's SA).
    Done(Vec<XfrmMessage>),
    /// The kernel's errno (positive) and its explanation, if any.
    Failed { errno: i32, extack: Option<String> },
    /// A reply that does not decode.
    Garbled(String),
}

/// A NETLINK_XFRM socket registered with the tokio reactor.
#[derive(Debug)]
pub(crate) struct XfrmSocket {
    fd: AsyncFd<Socket>,
    seq: u32,
    rx: Zeroizing<Vec<u8>>,
}

impl XfrmSocket {
    /// Opens a socket in `ns` (or the caller's namespace), subscribed to the multicast
    /// `groups` bitmask. Must run inside a tokio runtime.
    pub fn open(ns: Option<&NetNs>, groups: u32) -> io::Result<Self> {
        let make = || -> io::Result<Socket> {
            let mut socket = Socket::new(NETLINK_XFRM)?;
            socket.bind(&SocketAddr::new(0, groups))?;
            Ok(socket)
        };
        let socket = match ns {
            Some(ns) => ns.run(make)??,
            None => make()?,
        };
        socket.set_cap_ack(true)?;
        // Older kernels lack extended acks; errors are still reported without their text.
        let _ = socket.set_ext_ack(true);
        raise_rcvbuf(&socket);
        socket.set_non_blocking(true)?;
        // SAFETY: `Socket` owns its file descriptor and closes it only when dropped, which
        // happens after the AsyncFd deregisters it; nothing else replaces or closes it.
        #[allow(unsafe_code)]
        let fd = unsafe { AsyncFd::register(socket)? };
        Ok(XfrmSocket {
            fd,
            seq: 0,
            rx: Zeroizing::new(vec![0; RX_SIZE]),
        })
    }

    /// Sends the requests, pipelined in windows, and collects each one's outcome, in order.
    pub async fn transact(&mut self, requests: Vec<Request>) -> io::Result<Vec<Outcome>> {
        let mut outcomes = Vec::with_capacity(requests.len());
        let mut requests = requests.into_iter().peekable();
        while requests.peek().is_some() {
            let mut tx = Zeroizing::new(Vec::with_capacity(WINDOW_BYTES));
            let mut window = Vec::new();
            while let Some(req) = requests.next_if(|_| window.len() < WINDOW_COUNT) {
                let seq = self.next_seq();
                encode(&req, seq, &mut tx);
                drop(req);
                window.push(Pending::new(seq));
                if tx.len() >= WINDOW_BYTES {
                    break;
                }
            }
            self.send(&tx).await?;
            drop(tx);
            self.collect(&mut window).await?;
            outcomes.extend(window.into_iter().map(Pending::finish));
        }
        Ok(outcomes)
    }

    /// Receives one datagram's messages (for event subscriptions).
    pub async fn receive(&mut self) -> io::Result<Vec<Parsed>> {
        let n = self.recv_datagram().await?;
        let parsed = parse_datagram(&self.rx[..n]);
        self.rx[..n].zeroize();
        Ok(parsed)
    }

    pub(crate) fn next_seq(&mut self) -> u32 {
        // Sequence 0 is what the kernel's multicast messages carry; never use it.
        self.seq = self.seq.wrapping_add(1).max(1);
        self.seq
    }

    async fn send(&self, buf: &[u8]) -> io::Result<()> {
        let kernel = SocketAddr::new(0, 0);
        loop {
            let mut guard = self.fd.writable().await?;
            match guard.try_io(|fd| fd.get_ref().send_to(buf, &kernel, 0)) {
                Ok(Ok(n)) if n == buf.len() => return Ok(()),
                Ok(Ok(n)) => {
                    return Err(io::Error::other(format!(
                        "netlink sent {n} of {} bytes",
                        buf.len()
                    )));
                }
                Ok(Err(e)) => return Err(e),
                Err(_would_block) => continue,
            }
        }
    }

    /// Receives one datagram from the kernel into `rx`; datagrams from other sockets (a
    /// process with CAP_NET_ADMIN could send some) are dropped, as strongSwan does.
    async fn recv_datagram(&mut self) -> io::Result<usize> {
        loop {
            let mut guard = self.fd.readable().await?;
            let rx = &mut self.rx;
            let res = guard.try_io(|fd| {
                nix::sys::socket::recvfrom::<NetlinkAddr>(fd.get_ref().as_raw_fd(), rx)
                    .map_err(io::Error::from)
            });
            match res {
                // The kernel sends at most 32 KiB per datagram (netlink_recvmsg caps its dump
                // allocations there), so a full buffer means something is wrong.
                Ok(Ok((n, _))) if n >= RX_SIZE => {
                    self.rx.zeroize();
                    self.rx.resize(RX_SIZE, 0);
                    return Err(io::Error::other(format!(
                        "netlink datagram of {n} bytes or more, larger than any the kernel sends"
                    )));
                }
                Ok(Ok((n, from))) if from.is_some_and(|a| a.pid() == 0) => return Ok(n),
                Ok(Ok((n, _))) => self.rx[..n].zeroize(),
                Ok(Err(e)) => return Err(e),
                Err(_would_block) => continue,
            }
        }
    }

    /// Reads until every request of the window has its final answer.
    async fn collect(&mut self, window: &mut [Pending]) -> io::Result<()> {
        let first = window.first().map_or(0, |p| p.seq);
        while window.iter().any(|p| !p.complete) {
            let n = self.recv_datagram().await?;
            for parsed in parse_datagram(&self.rx[..n]) {
                let seq = parsed.seq;
                // Sequence numbers are consecutive within a window, except where they wrap
                // past 0, which is skipped: then search.
                let slot = seq.wrapping_sub(first) as usize;
                let hit = match window.get(slot) {
                    Some(p) if p.seq == seq => Some(slot),
                    _ => window.iter().position(|p| p.seq == seq),
                };
                match hit.and_then(|i| window.get_mut(i)) {
                    Some(p) => p.absorb(parsed),
                    // A late answer to a request whose caller gave up: wipe and forget it.
                    None => {
                        if let Body::Message(mut m) = parsed.body {
                            wipe_message(&mut m);
                        }
                    }
                }
            }
            self.rx[..n].zeroize();
        }
        Ok(())
    }
}

/// Appends a request to `tx` as one netlink message, aligned to 4 bytes (NLMSG_ALIGN).
fn encode(req: &Request, seq: u32, tx: &mut Vec<u8>) {
    let flags = NLM_F_REQUEST | if req.dump { NLM_F_DUMP } else { NLM_F_ACK };
    let len = NLMSG_HDRLEN + Emitable::buffer_len(&req.msg);
    let start = tx.len();
    let end = start + len.next_multiple_of(4);
    // Growing a Vec moves its bytes and frees the old block unwiped: move them ourselves and
    // wipe the old block, so key bytes only ever sit in buffers that get wiped.
    if tx.capacity() < end {
        let mut bigger = Vec::with_capacity(end.max(2 * tx.capacity()));
        bigger.extend_from_slice(tx);
        tx.zeroize();
        *tx = bigger;
    }
    tx.resize(end, 0);
    let msg = &mut tx[start..start + len];
    // struct nlmsghdr: length, type, flags, sequence number, port (0: the kernel assigns).
    msg[0..4].copy_from_slice(&(len as u32).to_ne_bytes());
    msg[4..6].copy_from_slice(&req.msg.message_type().to_ne_bytes());
    msg[6..8].copy_from_slice(&flags.to_ne_bytes());
    msg[8..12].copy_from_slice(&seq.to_ne_bytes());
    msg[12..16].copy_from_slice(&0u32.to_ne_bytes());
    req.msg.emit(&mut msg[NLMSG_HDRLEN..]);
}

/// Wipes the key bytes of a request or reply.
pub(crate) fn wipe_message(msg: &mut XfrmMessage) {
    match msg {
        XfrmMessage::AddSa(m) | XfrmMessage::UpdateSa(m) => wipe_attrs(&mut m.nlas),
        XfrmMessage::AllocSpi(m) => wipe_attrs(&mut m.nlas),
        XfrmMessage::GetSa(m) | XfrmMessage::DeleteSa(m) => wipe_attrs(&mut m.nlas),
        XfrmMessage::Acquire(m) => wipe_attrs(&mut m.nlas),
        _ => {}
    }
}

fn raise_rcvbuf(socket: &Socket) {
    let size = RCVBUF as libc::c_int;
    let fd = socket.as_raw_fd();
    let set = |opt| {
        // SAFETY: fd is a valid socket for the duration of the call, and the option value is
        // a c_int that outlives it, with its exact size passed.
        #[allow(unsafe_code)]
        unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                opt,
                (&size as *const libc::c_int).cast(),
                size_of::<libc::c_int>() as libc::socklen_t,
            )
        }
    };
    // Without CAP_NET_ADMIN only the capped SO_RCVBUF works; either is fine to try.
    if set(libc::SO_RCVBUFFORCE) != 0 {
        let _ = set(libc::SO_RCVBUF);
    }
}

/// One message of a datagram.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub seq: u32,
    pub body: Body,
}

#[derive(Debug)]
pub(crate) enum Body {
    Message(Box<XfrmMessage>),
    /// An acknowledgement (errno 0) or error, with the extended-ack text.
    Ack {
        errno: i32,
        extack: Option<String>,
    },
    /// NLMSG_DONE, the end of a dump; a non-zero code is an error.
    Done(i32),
    /// NLMSG_NOOP or NLMSG_OVERRUN.
    Ignored,
    /// A message that does not decode; the text says why.
    Garbled(String),
}

/// The message types decoded, each with the size of its fixed part: NLMSG_NOOP, _ERROR,
/// _DONE and _OVERRUN, then XFRM_MSG_NEWSA, _NEWPOLICY, _ACQUIRE, _EXPIRE, _POLEXPIRE,
/// _NEWSADINFO, _NEWSPDINFO and _MAPPING of linux/xfrm.h. netlink-packet-xfrm 0.5 slices
/// the fixed part of its messages without checking the length, so a short message would
/// panic inside it: those are refused here, and other types are never handed to it.
const DECODED: [(u16, usize); 12] = [
    (1, 0),
    (2, 0),
    (3, 0),
    (4, 0),
    (0x10, XFRM_USER_SA_INFO_LEN),
    (0x13, XFRM_USER_POLICY_INFO_LEN),
    (0x17, XFRM_USER_ACQUIRE_LEN),
    (0x18, XFRM_USER_EXPIRE_LEN),
    (0x1b, XFRM_USER_POLICY_EXPIRE_LEN),
    (0x22, 4),
    (0x24, 4),
    (0x26, XFRM_USER_MAPPING_LEN),
];

/// Splits a datagram into messages and decodes each. Never panics on bad input.
pub(crate) fn parse_datagram(mut buf: &[u8]) -> Vec<Parsed> {
    let mut out = Vec::new();
    while buf.len() >= NLMSG_HDRLEN {
        let Ok(nl) = NetlinkBuffer::new_checked(buf) else {
            break;
        };
        let len = nl.length() as usize;
        if len < NLMSG_HDRLEN || len > buf.len() {
            break;
        }
        let (seq, flags) = (nl.sequence_number(), nl.flags());
        let kind = nl.message_type();
        let fixed = DECODED
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, fixed)| *fixed);
        let body = if let Some(fixed) = fixed.filter(|f| len < NLMSG_HDRLEN + f) {
            Body::Garbled(format!(
                "message type {kind:#x} shorter than its {fixed} fixed bytes"
            ))
        } else if fixed.is_none() {
            Body::Ignored
        } else {
            match NetlinkMessage::<XfrmMessage>::deserialize(&buf[..len]) {
                Ok(msg) => body_of(msg, flags),
                Err(e) => Body::Garbled(e.to_string()),
            }
        };
        out.push(Parsed { seq, body });
        // Messages are aligned to 4 bytes (NLMSG_ALIGN).
        let next = (len + 3) & !3;
        buf = buf.get(next..).unwrap_or(&[]);
    }
    out
}

fn body_of(msg: NetlinkMessage<XfrmMessage>, flags: u16) -> Body {
    match msg.payload {
        NetlinkPayload::InnerMessage(m) => Body::Message(Box::new(m)),
        NetlinkPayload::Error(mut e) => {
            let errno = e.code.map_or(0, |c| -c.get());
            let extack = if flags & NLM_F_ACK_TLVS != 0 {
                extack_message(&e.header, flags & NLM_F_CAPPED != 0)
            } else {
                None
            };
            e.header.zeroize();
            Body::Ack { errno, extack }
        }
        NetlinkPayload::Done(d) => Body::Done(-d.code),
        _ => Body::Ignored,
    }
}

/// The NLMSGERR_ATTR_MSG text of an error's TLVs, which follow the echoed request (only its
/// header when the kernel capped it).
fn extack_message(after_code: &[u8], capped: bool) -> Option<String> {
    let echoed = if capped {
        NLMSG_HDRLEN
    } else {
        let len = u32::from_ne_bytes(after_code.get(..4)?.try_into().ok()?) as usize;
        (len + 3) & !3
    };
    let mut tlvs = after_code.get(echoed..)?;
    while tlvs.len() >= 4 {
        let len = u16::from_ne_bytes([tlvs[0], tlvs[1]]) as usize;
        let kind = u16::from_ne_bytes([tlvs[2], tlvs[3]]);
        if len < 4 || len > tlvs.len() {
            return None;
        }
        if kind == NLMSGERR_ATTR_MSG {
            let text = &tlvs[4..len];
            let end = text.iter().position(|&b| b == 0).unwrap_or(text.len());
            return Some(String::from_utf8_lossy(&text[..end]).into_owned());
        }
        tlvs = tlvs.get((len + 3) & !3..).unwrap_or(&[]);
    }
    None
}

/// A request awaiting its answer.
#[derive(Debug)]
struct Pending {
    seq: u32,
    replies: Vec<XfrmMessage>,
    error: Option<(i32, Option<String>)>,
    garbled: Option<String>,
    complete: bool,
}

impl Drop for Pending {
    /// Replies not handed over (the transaction failed half-way) may hold keys.
    fn drop(&mut self) {
        self.replies.iter_mut().for_each(wipe_message);
    }
}

impl Pending {
    fn new(seq: u32) -> Self {
        Pending {
            seq,
            replies: Vec::new(),
            error: None,
            garbled: None,
            complete: false,
        }
    }

    fn absorb(&mut self, parsed: Parsed) {
        match parsed.body {
            Body::Message(m) => self.replies.push(*m),
            Body::Ack { errno, extack } => {
                if errno != 0 {
                    self.error = Some((errno, extack));
                }
                self.complete = true;
            }
            Body::Done(code) => {
                if code != 0 {
                    self.error = Some((code, None));
                }
                self.complete = true;
            }
            Body::Garbled(why) => {
                self.garbled.get_or_insert(why);
            }
            Body::Ignored => {}
        }
    }

    fn finish(mut self) -> Outcome {
        if let Some((errno, extack)) = self.error.take() {
            self.replies.iter_mut().for_each(wipe_message);
            Outcome::Failed { errno, extack }
        } else if let Some(why) = self.garbled.take() {
            self.replies.iter_mut().for_each(wipe_message);
            Outcome::Garbled(why)
        } else {
            Outcome::Done(std::mem::take(&mut self.replies))
        }
    }
}

#[cfg(test)]
#[path = "socket_tests.rs"]
mod tests;
