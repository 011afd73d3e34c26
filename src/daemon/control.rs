//! What other tasks (the VICI server's clients) may ask the daemon. A request goes down a
//! channel with the means to answer it; the daemon's loop answers between datagrams and timers,
//! so the state it owns is never shared.

use std::time::{Duration, SystemTime};

use tokio::sync::{mpsc, oneshot};

/// Requests the daemon may queue before senders wait.
pub(super) const QUEUE: usize = 64;

/// A request to the daemon, with where its answer goes.
#[derive(Debug)]
pub(super) enum Request {
    Stats(oneshot::Sender<Stats>),
}

/// The daemon's figures, for VICI `stats`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stats {
    /// How long the daemon has run.
    pub running: Duration,
    /// When it started, by the wall clock.
    pub since: SystemTime,
    /// IKE SAs, in any state.
    pub ike_sas: usize,
    /// IKE SAs not established yet (IKE_SA_INIT or IKE_AUTH under way), as strongSwan counts
    /// half-open SAs: both roles.
    pub half_open: usize,
    /// Datagrams and requests waiting for the daemon's loop.
    pub queued: usize,
    /// Timers armed: the loop keeps one, for the core's next deadline.
    pub scheduled: usize,
}

/// A handle on the daemon for other tasks; cheap to clone.
#[derive(Debug, Clone)]
pub struct Control {
    pub(super) requests: mpsc::Sender<Request>,
}

impl Control {
    /// The daemon's figures, or `None` when it has stopped.
    pub async fn stats(&self) -> Option<Stats> {
        let (tx, rx) = oneshot::channel();
        self.requests.send(Request::Stats(tx)).await.ok()?;
        rx.await.ok()
    }
}
