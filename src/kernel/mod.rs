//! The daemon's kernel: something that carries out the core's [`KernelOp`]s. The real one
//! programs XFRM over netlink ([`xfrm::XfrmBackend`]); the in-memory one ([`mem::MemBackend`])
//! keeps the state in tables, for tests and load tests, and can be told to fail.

pub mod mem;
pub mod xfrm;

use std::future::Future;

use ike::kernel::{KernelEvent, KernelOp, KernelReply, SaRef};
use ike::sa::ChildInfo;
use tokio::sync::mpsc;

/// Carries out kernel operations, one at a time, in the order given.
pub trait KernelBackend {
    fn execute(&mut self, op: &KernelOp) -> impl Future<Output = KernelReply>;

    /// Removes everything this daemon (or an earlier, crashed run of it) installed.
    fn flush(&mut self) -> impl Future<Output = Result<String, String>>;

    /// Routes to the remote networks of a tunnel-mode Child SA that came up (`up`) or finally
    /// went down, where strongSwan puts them (table 220). Failures are logged, not fatal: the
    /// tunnel works wherever the routing table already leads to the peer.
    fn routes(&mut self, info: &ChildInfo, up: bool) -> impl Future<Output = ()>;

    /// The kernel's unsolicited news (expiries, acquires), once: later calls give None.
    fn events(&mut self) -> Option<mpsc::Receiver<KernelEvent>>;

    /// What an SA has carried so far; None when the kernel has no such SA or cannot say.
    fn traffic(&mut self, sa: &SaRef) -> impl Future<Output = Option<Traffic>>;
}

/// An SA's traffic counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Traffic {
    pub bytes: u64,
    pub packets: u64,
    /// When it last carried a packet, when the kernel says (Linux 6.1 does not for ESP SAs).
    pub last_used: Option<std::time::SystemTime>,
}
