//! The control plane's side of the daemon's loop: answering what other tasks ask (listings,
//! initiate, terminate, rekey, traps), and handing the core's events, as `news.rs` words
//! them, to whoever waits on a command and to every listener. Snapshots are taken only while
//! someone listens or waits, so a daemon nobody watches pays for ids and nothing more.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use ike::endpoint::Command;
use ike::sa::{DownReason, Event, IkeSa, Role, State};
use ike::wire::IkeSpi;
use tokio::sync::{mpsc, oneshot};

use super::Daemon;
use super::control::{self, LogLine, News, Selector};
use super::view::{self, IkeView};
use crate::kernel::KernelBackend;

/// A command answered only once the SAs it started or closed are up or gone.
#[derive(Debug)]
pub(super) enum Waiter {
    Initiate {
        connection: String,
        child: Option<String>,
        /// Our SPI of the IKE SA it started, when one was made.
        spi: Option<IkeSpi>,
        log: mpsc::Sender<LogLine>,
        done: oneshot::Sender<Result<(), String>>,
    },
    Terminate {
        /// Our SPIs of the IKE SAs still to go.
        spis: Vec<IkeSpi>,
        matches: u32,
        log: mpsc::Sender<LogLine>,
        done: oneshot::Sender<Result<u32, String>>,
    },
    TerminateChildren {
        /// Our SPI of each one's IKE SA, and the inbound SPIs of the Child SAs still to go.
        ike: Vec<IkeSpi>,
        spis_in: Vec<u32>,
        matches: u32,
        log: mpsc::Sender<LogLine>,
        done: oneshot::Sender<Result<u32, String>>,
    },
}

impl Waiter {
    fn gave_up(&self) -> bool {
        match self {
            Waiter::Initiate { done, .. } => done.is_closed(),
            Waiter::Terminate { done, .. } => done.is_closed(),
            Waiter::TerminateChildren { done, .. } => done.is_closed(),
        }
    }

    /// Whether lines about this IKE SA (our SPI, or its pair of SPIs) of `connection` are for
    /// this command's client.
    fn follows(&self, connection: &str, spis: &[IkeSpi]) -> bool {
        match self {
            Waiter::Initiate {
                connection: c, spi, ..
            } => c == connection && spi.is_none_or(|s| spis.is_empty() || spis.contains(&s)),
            Waiter::Terminate { spis: mine, .. } => spis.iter().any(|s| mine.contains(s)),
            Waiter::TerminateChildren { ike, .. } => spis.iter().any(|s| ike.contains(s)),
        }
    }

    fn log(&self, line: &LogLine) {
        let log = match self {
            Waiter::Initiate { log, .. }
            | Waiter::Terminate { log, .. }
            | Waiter::TerminateChildren { log, .. } => log,
        };
        // A client that does not keep up misses lines; the loop never waits for one.
        let _ = log.try_send(line.clone());
    }
}

/// What an event means to the control plane.
pub(super) struct Happened {
    pub(super) connection: String,
    /// The IKE SA's SPIs (ours among them), when the event names its IKE SA.
    pub(super) spis: Vec<IkeSpi>,
    pub(super) lines: Vec<LogLine>,
    pub(super) news: Vec<News>,
}

pub(super) fn line(group: &'static str, ike: Option<&IkeView>, msg: String) -> LogLine {
    LogLine {
        group,
        level: 0,
        ike: ike.map(|v| (v.name.clone(), v.uniqueid)),
        msg,
    }
}

/// `name[1]` as strongSwan names an IKE SA in its log.
pub(super) fn ike_name(v: &IkeView) -> String {
    format!("{}[{}]", v.name, v.uniqueid)
}

/// `local[local-id]...remote[remote-id]`.
pub(super) fn between(v: &IkeView) -> String {
    format!(
        "{}[{}]...{}[{}]",
        v.local.ip(),
        v.local_id,
        v.remote.ip(),
        v.remote_id
    )
}

pub(super) fn down_reason(reason: &DownReason) -> String {
    match reason {
        DownReason::Terminated => "deleted".into(),
        DownReason::DeletedByPeer => "deleted by the peer".into(),
        DownReason::Timeout => "no answer to the last retransmit".into(),
        DownReason::Refused(notify) => format!("refused by the peer: {notify}"),
        DownReason::AuthenticationFailed(why) => format!("authentication failed: {why}"),
        DownReason::ProtocolError(why) => format!("protocol error: {why}"),
        DownReason::Rekeyed => "replaced by its rekeyed successor".into(),
        DownReason::Reauthenticating => "deleted to reauthenticate".into(),
        DownReason::Expired => "deleted: not rekeyed or reauthenticated in time".into(),
        DownReason::Duplicate => "replaced by another IKE SA between the same identities".into(),
    }
}

impl<K: KernelBackend> Daemon<K> {
    /// Answers a request of another task.
    pub(super) async fn answer(&mut self, request: control::Request) {
        use control::Request as R;
        // A requester that gave up has dropped its receiver: nothing to do.
        match request {
            R::Stats(reply) => drop(reply.send(self.stats())),
            R::ListSas(selector, reply) => {
                let views = self.list_sas(&selector).await;
                drop(reply.send(views));
            }
            R::ListConns(reply) => {
                drop(reply.send(self.endpoint.connections().cloned().collect()));
            }
            R::ListTraps(reply) => {
                let mut traps = Vec::new();
                for (connection, child) in self.endpoint.traps() {
                    let conn = self.endpoint.connections().find(|c| c.name == connection);
                    let config =
                        conn.and_then(|c| Some((c, c.children.iter().find(|x| x.name == child)?)));
                    if let Some((conn, config)) = config {
                        traps.push(view::TrapView {
                            connection: connection.to_owned(),
                            child: child.to_owned(),
                            mode: config.mode,
                            local_ts: config.local_selectors(conn.local_addr),
                            remote_ts: config.remote_selectors(conn.remote_addr),
                        });
                    }
                }
                traps.sort_by(|a, b| (&a.connection, &a.child).cmp(&(&b.connection, &b.child)));
                drop(reply.send(traps));
            }
            R::Rekey(selector, reauth, reply) => {
                let (commands, answer) = self.rekey(&selector, reauth);
                for command in commands {
                    let outputs = self.endpoint.handle_command(Instant::now(), command);
                    self.carry_out(outputs).await;
                }
                drop(reply.send(answer));
            }
            R::Trap(selector, install, reply) => {
                let answer = self.trap(&selector, install).await;
                drop(reply.send(answer));
            }
            R::Store(work) => {
                (work.0)(&mut self.store);
                self.apply_store().await;
            }
            R::Counters(work) => (work.0)(&mut self.counters),
            R::ReloadSettings(reply) => drop(reply.send(self.reload_settings())),
            R::Initiate(initiate) => self.initiate_for(initiate).await,
            R::Terminate(terminate) => self.terminate_for(terminate).await,
            R::Failures(reply) => drop(reply.send(self.failures.list())),
        }
    }

    /// VICI's install and uninstall: the child by name, in the named connection or any.
    async fn trap(&mut self, selector: &Selector, install: bool) -> Result<(), String> {
        let Some(child) = &selector.child else {
            return Err("missing configuration name".into());
        };
        let connections: Vec<String> = self
            .endpoint
            .connections()
            .filter(|c| selector.ike.as_ref().is_none_or(|n| *n == c.name))
            .filter(|c| c.children.iter().any(|ch| ch.name == *child))
            .map(|c| c.name.clone())
            .collect();
        // charon's answers: an unknown child cannot be installed, a trap not installed cannot
        // be removed.
        if connections.is_empty() && install {
            return Err("configuration name not found".into());
        }
        let trapped = self
            .endpoint
            .traps()
            .any(|(c, ch)| ch == child && connections.iter().any(|n| n == c));
        if !install && !trapped {
            return Err(format!("policy '{child}' not found"));
        }
        for connection in connections {
            let child = Some(child.clone());
            let command = if install {
                Command::Install { connection, child }
            } else {
                Command::Uninstall { connection, child }
            };
            let outputs = self.endpoint.handle_command(Instant::now(), command);
            self.carry_out(outputs).await;
        }
        Ok(())
    }

    pub(super) fn watched(&self) -> bool {
        !self.waiters.is_empty() || self.news.receiver_count() > 0
    }

    /// The selected IKE SAs with their Child SAs, and the kernel's counters of each.
    async fn list_sas(&mut self, selector: &Selector) -> Vec<IkeView> {
        let now = Instant::now();
        let Daemon { endpoint, ids, .. } = self;
        let mut views = Vec::new();
        // The kernel SAs of each Child SA: (view, child, inbound, outbound).
        let mut kernel_sas = Vec::new();
        for sa in endpoint.ike_sas().filter(|sa| sa.state != State::Dead) {
            if selector.ike.as_ref().is_some_and(|n| *n != sa.conn.name)
                || selector
                    .ike_id
                    .is_some_and(|id| ids.ike(sa.local_spi()) != id)
            {
                continue;
            }
            let mut view = view::ike_view(ids, sa, now);
            // As strongSwan: the IKE SA is listed, with the Child SAs `child` and `child_id` pick.
            view.children.retain(|c| {
                selector.child.as_ref().is_none_or(|n| *n == c.name)
                    && selector.child_id.is_none_or(|id| id == c.uniqueid)
            });
            for (at, c) in view.children.iter().enumerate() {
                if let Some(child) = sa.children.iter().find(|x| x.spi_in == c.spi_in) {
                    let sa_ref = |dst, spi| ike::kernel::SaRef {
                        dst,
                        protocol: child.protocol,
                        spi,
                    };
                    let pair = (
                        sa_ref(child.local, child.spi_in),
                        sa_ref(child.remote, child.spi_out),
                    );
                    kernel_sas.push((views.len(), at, pair));
                }
            }
            views.push(view);
        }
        for (v, c, (sa_in, sa_out)) in kernel_sas {
            let traffic_in = self.kernel.traffic(&sa_in).await;
            let traffic_out = self.kernel.traffic(&sa_out).await;
            let child = &mut views[v].children[c];
            (child.traffic_in, child.traffic_out) = (traffic_in, traffic_out);
        }
        views.sort_by_key(|v| v.uniqueid);
        views
    }

    /// The commands a `rekey` request stands for, and its answer: how many SAs matched.
    /// The core rekeys a connection's Child SAs by name, on every IKE SA of the connection.
    fn rekey(&mut self, selector: &Selector, reauth: bool) -> (Vec<Command>, Result<u32, String>) {
        let Selector {
            ike,
            ike_id,
            child,
            child_id,
        } = selector;
        if ike.is_none() && ike_id.is_none() && child.is_none() && child_id.is_none() {
            return (Vec::new(), Err("missing rekey selector".into()));
        }
        let children = child.is_some() || child_id.is_some();
        let Daemon { endpoint, ids, .. } = self;
        let mut commands = Vec::new();
        let mut matches = 0;
        for sa in endpoint
            .ike_sas()
            .filter(|sa| sa.state == State::Established)
        {
            let spi = sa.local_spi();
            if ike.as_ref().is_some_and(|n| *n != sa.conn.name)
                || ike_id.is_some_and(|id| ids.ike(spi) != id)
            {
                continue;
            }
            let connection = sa.conn.name.clone();
            if !children {
                matches += 1;
                commands.push(match reauth {
                    true => Command::ReauthIke { connection },
                    false => Command::RekeyIke { connection },
                });
                continue;
            }
            for c in sa.children.iter().filter(|c| !c.rekeyed) {
                if child.as_ref().is_some_and(|n| *n != c.name)
                    || child_id.is_some_and(|id| ids.child(spi, c.spi_in) != id)
                {
                    continue;
                }
                matches += 1;
                commands.push(Command::RekeyChild {
                    connection: connection.clone(),
                    child: Some(c.name.clone()),
                });
            }
        }
        let mut seen = HashSet::new();
        commands.retain(|c| seen.insert(format!("{c:?}")));
        if matches == 0 {
            return (commands, Err("no matching SAs to rekey found".into()));
        }
        (commands, Ok(matches))
    }

    async fn initiate_for(&mut self, request: control::Initiate) {
        let control::Initiate {
            ike,
            child,
            log,
            done,
        } = request;
        let (kind, name) = match (&child, &ike) {
            (Some(child), _) => ("CHILD_SA", child.clone()),
            (None, Some(ike)) => ("IKE_SA", ike.clone()),
            (None, None) => {
                let _ = done.send(Err("missing configuration name".into()));
                return;
            }
        };
        let conn = self.endpoint.connections().find(|c| {
            ike.as_ref().is_none_or(|n| *n == c.name)
                && child
                    .as_ref()
                    .is_none_or(|n| c.children.iter().any(|ch| ch.name == *n))
        });
        let Some(connection) = conn.map(|c| c.name.clone()) else {
            let _ = done.send(Err(format!("{kind} config '{name}' not found")));
            return;
        };
        let of_conn = |sa: &&IkeSa| sa.conn.name == connection && sa.role == Role::Initiator;
        let before: HashSet<IkeSpi> = self
            .endpoint
            .ike_sas()
            .filter(of_conn)
            .map(IkeSa::local_spi)
            .collect();
        let now = Instant::now();
        // A child comes up on the connection's IKE SA if it has one, as with strongSwan.
        let command = match &child {
            Some(child) => Command::InitiateChild {
                connection: connection.clone(),
                child: child.clone(),
            },
            None => Command::Initiate {
                connection: connection.clone(),
            },
        };
        let outputs = self.endpoint.handle_command(now, command);
        let new = self
            .endpoint
            .ike_sas()
            .filter(of_conn)
            .find(|sa| !before.contains(&sa.local_spi()));
        let spi = new.map(IkeSa::local_spi);
        if let Some(sa) = new {
            let view = view::ike_view(&mut self.ids, sa, now);
            let text = format!(
                "initiating IKE_SA {} to {}",
                ike_name(&view),
                view.remote.ip()
            );
            let _ = log.try_send(line("IKE", Some(&view), text));
        }
        self.waiters.push(Waiter::Initiate {
            connection,
            child,
            spi,
            log,
            done,
        });
        self.carry_out(outputs).await;
    }

    async fn terminate_for(&mut self, request: control::Terminate) {
        let control::Terminate {
            selector,
            log,
            done,
        } = request;
        let now = Instant::now();
        let (ike, ike_id) = (selector.ike.clone(), selector.ike_id);
        if ike.is_none() && ike_id.is_none() && selector.child.is_none() {
            let _ = done.send(Err("missing terminate selector".into()));
            return;
        }
        if selector.child.is_some() || selector.child_id.is_some() {
            return self.terminate_children(selector, log, done).await;
        }
        let Daemon { endpoint, ids, .. } = self;
        // A replaced IKE SA goes with its successor, and quietly.
        let live = |sa: &&IkeSa| !matches!(sa.state, State::Dead | State::Rekeyed);
        let matched: Vec<&IkeSa> = endpoint
            .ike_sas()
            .filter(live)
            .filter(|sa| ike.as_ref().is_none_or(|n| *n == sa.conn.name))
            .filter(|sa| ike_id.is_none_or(|id| ids.ike(sa.local_spi()) == id))
            .collect();
        if matched.is_empty() {
            let _ = done.send(Err("no matching SAs to terminate found".into()));
            return;
        }
        let connections: Vec<String> = matched.iter().map(|sa| sa.conn.name.clone()).collect();
        // The core closes a connection's IKE SAs all together.
        let spared = endpoint
            .ike_sas()
            .filter(live)
            .filter(|sa| connections.contains(&sa.conn.name))
            .count();
        if spared > matched.len() {
            let _ = done.send(Err(
                "terminating one of several IKE SAs of a connection is not supported yet".into(),
            ));
            return;
        }
        let spis: Vec<IkeSpi> = matched.iter().map(|sa| sa.local_spi()).collect();
        for sa in &matched {
            let view = view::ike_view(ids, sa, now);
            let text = format!(
                "deleting IKE_SA {} between {}",
                ike_name(&view),
                between(&view)
            );
            let _ = log.try_send(line("IKE", Some(&view), text));
        }
        self.waiters.push(Waiter::Terminate {
            matches: spis.len() as u32,
            spis,
            log,
            done,
        });
        let mut connections = connections;
        connections.dedup();
        for connection in connections {
            let outputs = self
                .endpoint
                .handle_command(now, Command::Terminate { connection });
            self.carry_out(outputs).await;
        }
    }

    /// Deletes the Child SAs `selector` names (by `child` or `child_id`, within its `ike` and
    /// `ike_id`); their IKE SAs stay.
    async fn terminate_children(
        &mut self,
        selector: Selector,
        log: mpsc::Sender<LogLine>,
        done: oneshot::Sender<Result<u32, String>>,
    ) {
        let now = Instant::now();
        let Daemon { endpoint, ids, .. } = self;
        let mut matched = Vec::new();
        for sa in endpoint.ike_sas() {
            if sa.state != State::Established
                || selector.ike.as_ref().is_some_and(|n| *n != sa.conn.name)
                || selector
                    .ike_id
                    .is_some_and(|id| ids.ike(sa.local_spi()) != id)
            {
                continue;
            }
            for child in sa.children.iter().filter(|c| !c.rekeyed) {
                let id = ids.child(sa.local_spi(), child.spi_in);
                if selector.child.as_ref().is_some_and(|n| *n != child.name)
                    || selector.child_id.is_some_and(|want| want != id)
                {
                    continue;
                }
                let view = view::ike_view(ids, sa, now);
                let text = format!(
                    "deleting CHILD_SA {}{{{id}}} with SPIs {:08x}_i {:08x}_o",
                    child.name, child.spi_in, child.spi_out
                );
                let _ = log.try_send(line("CHD", Some(&view), text));
                matched.push((sa.conn.name.clone(), sa.local_spi(), child.spi_in));
            }
        }
        if matched.is_empty() {
            let _ = done.send(Err("no matching SAs to terminate found".into()));
            return;
        }
        self.waiters.push(Waiter::TerminateChildren {
            ike: matched.iter().map(|(_, ike, _)| *ike).collect(),
            spis_in: matched.iter().map(|(_, _, spi)| *spi).collect(),
            matches: matched.len() as u32,
            log,
            done,
        });
        for (connection, _, spi_in) in matched {
            let command = Command::TerminateChild { connection, spi_in };
            let outputs = self.endpoint.handle_command(now, command);
            self.carry_out(outputs).await;
        }
    }

    /// Keeps the ids in step with the core, and tells waiters and listeners.
    pub(super) fn on_event(&mut self, event: &Event) {
        let conn = self.endpoint.connections().find(|c| match event {
            Event::IkeDown { connection, .. } | Event::ChildFailed { connection, .. } => {
                c.name == *connection
            }
            _ => false,
        });
        self.failures
            .record(event, conn, std::time::SystemTime::now());
        let happened = self.happened(event);
        let Some(happened) = happened else {
            return;
        };
        self.waiters.retain(|w| !w.gave_up());
        for l in &happened.lines {
            for waiter in &self.waiters {
                if waiter.follows(&happened.connection, &happened.spis) {
                    waiter.log(l);
                }
            }
        }
        if self.news.receiver_count() > 0 {
            // Sending fails only when no one listens.
            for l in &happened.lines {
                let _ = self.news.send(Arc::new(News::Log(l.clone())));
            }
            for news in happened.news {
                let _ = self.news.send(Arc::new(news));
            }
        }
        self.settle(event, &happened.spis);
    }

    /// Answers the waiters this event completes.
    fn settle(&mut self, event: &Event, spis: &[IkeSpi]) {
        let ours = |spi: &Option<IkeSpi>| spi.is_none_or(|s| spis.contains(&s));
        let waiters = std::mem::take(&mut self.waiters);
        for waiter in waiters {
            let waiter = match (waiter, event) {
                (
                    Waiter::Initiate {
                        connection,
                        child: None,
                        spi,
                        done,
                        ..
                    },
                    Event::IkeUp { connection: c, .. },
                ) if *c == connection && ours(&spi) => {
                    let _ = done.send(Ok(()));
                    continue;
                }
                (
                    Waiter::Initiate {
                        connection,
                        child: Some(child),
                        spi,
                        done,
                        ..
                    },
                    Event::ChildUp {
                        connection: c,
                        child: ch,
                        ..
                    },
                ) if *c == connection && *ch == child && ours(&spi) => {
                    let _ = done.send(Ok(()));
                    continue;
                }
                (
                    Waiter::Initiate {
                        connection,
                        child: Some(child),
                        done,
                        ..
                    },
                    Event::ChildFailed {
                        connection: c,
                        child: ch,
                        reason,
                    },
                ) if *c == connection && *ch == child => {
                    let _ = done.send(Err(format!(
                        "establishing CHILD_SA '{child}' failed: {reason}"
                    )));
                    continue;
                }
                (
                    Waiter::Initiate {
                        connection,
                        child,
                        spi,
                        done,
                        ..
                    },
                    Event::IkeDown {
                        connection: c,
                        reason,
                        ..
                    },
                ) if *c == connection && ours(&spi) => {
                    let (kind, name) = match &child {
                        Some(child) => ("CHILD_SA", child),
                        None => ("IKE_SA", &connection),
                    };
                    let why = down_reason(reason);
                    let _ = done.send(Err(format!("establishing {kind} '{name}' failed: {why}")));
                    continue;
                }
                (
                    Waiter::Terminate {
                        mut spis,
                        matches,
                        log,
                        done,
                    },
                    Event::IkeDown { spi_i, spi_r, .. },
                ) => {
                    spis.retain(|s| s != spi_i && s != spi_r);
                    if spis.is_empty() {
                        let _ = done.send(Ok(matches));
                        continue;
                    }
                    Waiter::Terminate {
                        spis,
                        matches,
                        log,
                        done,
                    }
                }
                (
                    Waiter::TerminateChildren {
                        ike,
                        mut spis_in,
                        matches,
                        log,
                        done,
                    },
                    Event::ChildDown { spi_in, .. },
                ) => {
                    spis_in.retain(|s| s != spi_in);
                    if spis_in.is_empty() {
                        let _ = done.send(Ok(matches));
                        continue;
                    }
                    Waiter::TerminateChildren {
                        ike,
                        spis_in,
                        matches,
                        log,
                        done,
                    }
                }
                (waiter, _) => waiter,
            };
            self.waiters.push(waiter);
        }
    }
}

/// Ids the table still holds, for tests that check nothing is left behind.
impl<K: KernelBackend> Daemon<K> {
    pub fn ids_held(&self) -> (usize, usize) {
        self.ids.len()
    }
}
