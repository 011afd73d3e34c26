//! What other tasks (the VICI server's clients) may ask the daemon, and what they may hear
//! from it. A request goes down a channel with the means to answer it; the daemon's loop
//! answers between datagrams and timers, so the state it owns is never shared. News goes out
//! on a broadcast channel the loop never waits on: a listener that falls too far behind
//! misses news and is told so ([`broadcast::error::RecvError::Lagged`]).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::counters::Counters;
use crate::config::Store;
use ike::config::Connection;
use tokio::sync::{broadcast, mpsc, oneshot};

pub use super::view::{ChildView, IkeView, TrapView};

/// Requests the daemon may queue before senders wait.
pub(super) const QUEUE: usize = 64;
/// News the broadcast channel holds for its slowest listener before that one misses some.
pub(super) const NEWS: usize = 1024;
/// Log lines of one `initiate` or `terminate` waiting for its client; more are dropped.
pub const LOG_QUEUE: usize = 256;

/// A request to the daemon, with where its answer goes.
#[derive(Debug)]
pub(super) enum Request {
    Stats(oneshot::Sender<Stats>),
    ListSas(Selector, oneshot::Sender<Vec<IkeView>>),
    ListConns(oneshot::Sender<Vec<Connection>>),
    ListTraps(oneshot::Sender<Vec<TrapView>>),
    Initiate(Initiate),
    Terminate(Terminate),
    /// Rekey the selected SAs; IKE SAs reauthenticated instead with the flag.
    Rekey(Selector, bool, oneshot::Sender<Result<u32, String>>),
    /// Install (true) or remove the trap policies of a child.
    Trap(Selector, bool, oneshot::Sender<Result<(), String>>),
    /// Work on the configuration; the connections it changed are applied after.
    Store(StoreJob),
    /// Read or reset the IKE event counters.
    Counters(CountersJob),
    Failures(oneshot::Sender<Vec<super::failures::Failure>>),
    /// Read strongswan.conf again.
    ReloadSettings(oneshot::Sender<Result<(), String>>),
}

/// Work on the daemon's IKE event counters, run in its loop.
pub(super) struct CountersJob(pub Box<dyn FnOnce(&mut Counters) + Send>);

impl std::fmt::Debug for CountersJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CountersJob")
    }
}

/// Work on the daemon's configuration, run in its loop.
pub(super) struct StoreJob(pub Box<dyn FnOnce(&mut Store) + Send>);

impl std::fmt::Debug for StoreJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreJob")
    }
}

/// Which SAs a command means; what is not given matches any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector {
    /// The connection's name.
    pub ike: Option<String>,
    pub ike_id: Option<u32>,
    /// The Child SA's name.
    pub child: Option<String>,
    pub child_id: Option<u32>,
}

/// Start a connection (`ike`) or the connection with this child (`child`).
#[derive(Debug)]
pub(super) struct Initiate {
    pub ike: Option<String>,
    pub child: Option<String>,
    pub log: mpsc::Sender<LogLine>,
    /// Answered when the IKE SA (`ike` alone) or the Child SA is up, or failed.
    pub done: oneshot::Sender<Result<(), String>>,
}

/// Close the selected IKE SAs.
#[derive(Debug)]
pub(super) struct Terminate {
    pub selector: Selector,
    pub log: mpsc::Sender<LogLine>,
    /// How many IKE SAs matched, answered when all of them are gone; or why nothing is done.
    pub done: oneshot::Sender<Result<u32, String>>,
}

/// A line of the daemon's log, with strongSwan's fields for it: the subsystem (`IKE`, `CHD`,
/// `CFG`), the level (0 most important) and the IKE SA it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub group: &'static str,
    pub level: u8,
    /// The IKE SA's connection name and unique id.
    pub ike: Option<(String, u32)>,
    pub msg: String,
}

/// What the daemon tells every listener: strongSwan's SA events, and its log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum News {
    IkeUpDown {
        up: bool,
        ike: IkeView,
    },
    IkeRekey {
        old: IkeView,
        new: IkeView,
    },
    ChildUpDown {
        up: bool,
        ike: IkeView,
        child: ChildView,
    },
    ChildRekey {
        ike: IkeView,
        old: Box<ChildView>,
        new: Box<ChildView>,
    },
    Log(LogLine),
    /// Something failed that strongSwan raises an `alert` for: its alert type, and the IKE SA
    /// when one is concerned.
    Alert {
        kind: &'static str,
        ike: Option<IkeView>,
    },
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
    pub(super) news: broadcast::Sender<Arc<News>>,
}

impl Control {
    async fn ask<T>(&self, request: impl FnOnce(oneshot::Sender<T>) -> Request) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        self.requests.send(request(tx)).await.ok()?;
        rx.await.ok()
    }

    /// The daemon's figures, or `None` when it has stopped.
    pub async fn stats(&self) -> Option<Stats> {
        self.ask(Request::Stats).await
    }

    /// The IKE SAs the selector's `ike` and `ike_id` match, by unique id.
    pub async fn list_sas(&self, selector: Selector) -> Option<Vec<IkeView>> {
        self.ask(|tx| Request::ListSas(selector, tx)).await
    }

    /// The configured connections, in their order.
    pub async fn list_conns(&self) -> Option<Vec<Connection>> {
        self.ask(Request::ListConns).await
    }

    /// The installed trap policies, by connection and child.
    pub async fn list_traps(&self) -> Option<Vec<TrapView>> {
        self.ask(Request::ListTraps).await
    }

    /// Starts a connection; its log lines come on `log` until `done` is answered.
    pub async fn initiate(
        &self,
        ike: Option<String>,
        child: Option<String>,
        log: mpsc::Sender<LogLine>,
    ) -> Option<oneshot::Receiver<Result<(), String>>> {
        let (done, rx) = oneshot::channel();
        let request = Request::Initiate(Initiate {
            ike,
            child,
            log,
            done,
        });
        self.requests.send(request).await.ok()?;
        Some(rx)
    }

    /// Closes IKE SAs; their log lines come on `log` until the answer does.
    pub async fn terminate(
        &self,
        selector: Selector,
        log: mpsc::Sender<LogLine>,
    ) -> Option<oneshot::Receiver<Result<u32, String>>> {
        let (done, rx) = oneshot::channel();
        let request = Request::Terminate(Terminate {
            selector,
            log,
            done,
        });
        self.requests.send(request).await.ok()?;
        Some(rx)
    }

    /// Rekeys the selected Child SAs (with `child` or `child_id`) or IKE SAs (reauthenticates
    /// them with `reauth`); answers how many matched.
    pub async fn rekey(&self, selector: Selector, reauth: bool) -> Option<Result<u32, String>> {
        self.ask(|tx| Request::Rekey(selector, reauth, tx)).await
    }

    /// Installs (`install`) or removes the trap policies of the child `selector.child`, in the
    /// connection `selector.ike` or whichever connection has a child of that name.
    pub async fn trap(&self, selector: Selector, install: bool) -> Option<Result<(), String>> {
        self.ask(|tx| Request::Trap(selector, install, tx)).await
    }

    /// Runs `work` on the daemon's configuration and answers what it returns. Connections
    /// it loads, changes or unloads are applied at once, as a reload applies them.
    pub async fn with_store<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Store) -> T + Send + 'static,
    ) -> Option<T> {
        self.ask(|tx| {
            Request::Store(StoreJob(Box::new(move |store: &mut Store| {
                drop(tx.send(work(store)));
            })))
        })
        .await
    }

    /// Runs `work` on the daemon's IKE event counters and answers what it returns.
    pub async fn with_counters<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Counters) -> T + Send + 'static,
    ) -> Option<T> {
        self.ask(|tx| {
            Request::Counters(CountersJob(Box::new(move |counters: &mut Counters| {
                drop(tx.send(work(counters)));
            })))
        })
        .await
    }

    /// The last failure of each connection that had one.
    pub async fn failures(&self) -> Option<Vec<super::failures::Failure>> {
        self.ask(Request::Failures).await
    }

    /// Reads strongswan.conf again and applies it; why not, when it has errors.
    pub async fn reload_settings(&self) -> Option<Result<(), String>> {
        self.ask(Request::ReloadSettings).await
    }

    /// The daemon's news from now on.
    pub fn news(&self) -> broadcast::Receiver<Arc<News>> {
        self.news.subscribe()
    }
}
