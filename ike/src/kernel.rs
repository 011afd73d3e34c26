//! What the protocol core asks of the kernel, and what the kernel tells it: plain data, no IO.
//!
//! The core emits [`KernelOp`]s as outputs and waits for each one's [`KernelReply`] (handed in
//! with `Endpoint::handle_kernel`); the daemon carries them out over XFRM netlink, tests with
//! an in-memory kernel. Unsolicited news (ACQUIRE, EXPIRE, MAPPING) arrives as
//! [`KernelEvent`]s.
//!
//! Install order (DESIGN): inbound SA, outbound SA, then policies; on rekey the old outbound
//! SA is removed only after the new one is in.

use std::net::{IpAddr, SocketAddr};

use crate::crypto::Secret;
use crate::crypto::encr::Encr;
use crate::crypto::integ::Integ;
use crate::wire::ts::TrafficSelector;

/// Names one kernel operation, so its reply finds the task that asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KernelOpId(pub u64);

/// ESP or AH.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpsecProtocol {
    Esp,
    Ah,
}

/// Tunnel or transport mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Mode {
    #[default]
    Tunnel,
    Transport,
}

/// Names an SA: destination, protocol and SPI (RFC 4301 4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SaRef {
    pub dst: IpAddr,
    pub protocol: IpsecProtocol,
    pub spi: u32,
}

/// Soft and hard limits of an SA; zero means none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Lifetime {
    pub soft_seconds: u64,
    pub hard_seconds: u64,
    pub soft_bytes: u64,
    pub hard_bytes: u64,
    pub soft_packets: u64,
    pub hard_packets: u64,
}

/// Everything the kernel needs to carry one direction of a Child SA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaParams {
    pub sa: SaRef,
    pub src: IpAddr,
    pub mode: Mode,
    /// Ties the SA to its policies' templates.
    pub reqid: u32,
    /// None for AH.
    pub encr: Option<Encr>,
    /// For an AEAD, the key followed by its salt; empty for AH.
    pub encr_key: Secret,
    pub integ: Option<(Integ, Secret)>,
    /// UDP encapsulation (NAT-T, RFC 3948): source and destination ports.
    pub encap: Option<(u16, u16)>,
    pub replay_window: u32,
    pub esn: bool,
    pub lifetime: Lifetime,
    /// Restricts a transport-mode SA to its traffic (local, remote).
    pub selector: Option<(TrafficSelector, TrafficSelector)>,
    pub mark: Option<(u32, u32)>,
    pub if_id: Option<u32>,
}

/// The direction of a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    In,
    Out,
    Fwd,
}

/// An IPsec policy: traffic from `src` to `dst` must use (or, inbound, must have used) an SA
/// matching the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyParams {
    pub dir: Direction,
    pub src: TrafficSelector,
    pub dst: TrafficSelector,
    /// The template's outer addresses (tunnel mode) and SA kind.
    pub tmpl_src: IpAddr,
    pub tmpl_dst: IpAddr,
    pub protocol: IpsecProtocol,
    pub mode: Mode,
    pub reqid: u32,
    pub mark: Option<(u32, u32)>,
    pub if_id: Option<u32>,
    /// A fixed priority; None: computed from the selectors, as strongSwan does.
    pub priority: Option<u32>,
}

/// One thing for the kernel to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelOp {
    /// Reserve an unused SPI for an inbound SA from `src` to `dst`; replied with
    /// [`KernelReply::Spi`].
    AllocSpi {
        src: IpAddr,
        dst: IpAddr,
        protocol: IpsecProtocol,
        reqid: u32,
    },
    /// Complete an SA whose SPI was reserved with AllocSpi (inbound).
    UpdateSa(Box<SaParams>),
    /// Add a new SA (outbound).
    AddSa(Box<SaParams>),
    DelSa(SaRef),
    AddPolicy(PolicyParams),
    DelPolicy(PolicyParams),
}

/// The kernel's answer to one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelReply {
    Done,
    Spi(u32),
    /// The operation failed; `errno` as the kernel gave it, `message` for people.
    Failed {
        errno: i32,
        message: String,
    },
}

/// News from the kernel nobody asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelEvent {
    /// A packet hit a policy without an SA (a trap): negotiate one.
    Acquire {
        reqid: u32,
        src: TrafficSelector,
        dst: TrafficSelector,
    },
    /// An SA reached its soft (rekey) or hard (gone) limit.
    Expire { sa: SaRef, hard: bool },
    /// The peer's NAT mapping changed (UDP-encapsulated SA).
    Mapping { sa: SaRef, new_peer: SocketAddr },
}
