//! What follows an IKE SA's end (a reauthentication negotiates it afresh, an initiation
//! without answer is tried again, the children's `dpd_action` and `close_action`), and the
//! uniqueness policy once one is established.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use super::Endpoint;
use crate::config::{Action, Connection, Unique};
use crate::sa::{DownReason, Ended, IkeSa, Job, Output, Role, State};
use crate::wire::IkeSpi;

impl Endpoint {
    /// What follows an IKE SA's end: a reauthentication negotiates it afresh with the Child
    /// SAs it had; an initiation that got no answer is tried again (`keyingtries`); otherwise
    /// the `dpd_action` (the peer stopped answering) or `close_action` (the peer closed the
    /// IKE SA) of its children: start them again, or trap them.
    pub(super) fn after_end(
        &mut self,
        now: Instant,
        conn: &Arc<Connection>,
        ended: &Ended,
    ) -> Vec<Output> {
        let (reason, children) = (&ended.reason, &ended.children[..]);
        let current = self.connection(&conn.name).filter(|c| Arc::ptr_eq(c, conn));
        if *reason == DownReason::Reauthenticating
            && let Some(conn) = current.clone()
        {
            return self.again(now, conn, ended, 1);
        }
        if *reason == DownReason::Timeout
            && !ended.established
            && (conn.keyingtries == 0 || ended.attempt < conn.keyingtries)
            && let Some(conn) = current
        {
            let attempt = ended.attempt + 1;
            return self.again(now, conn, ended, attempt);
        }
        let mut out = Vec::new();
        let mut restart = None;
        for config in conn.children.iter().filter(|c| children.contains(&c.name)) {
            let action = match reason {
                DownReason::Timeout => config.dpd_action,
                DownReason::DeletedByPeer => config.close_action,
                _ => Action::None,
            };
            match action {
                Action::Start => restart = restart.or(Some(config.name.clone())),
                Action::Trap => out.extend(self.install_trap(now, conn, &config.name)),
                Action::None => {}
            }
        }
        if let Some(child) = restart
            && !conn.remote_addr.is_unspecified()
        {
            out.extend(self.start(now, conn.clone(), Some(child), true));
        }
        out
    }

    /// Negotiates an IKE SA of `conn` again, with the Child SAs `ended` had, towards the
    /// address the peer was at; `attempt` counts toward `keyingtries`.
    pub(super) fn again(
        &mut self,
        now: Instant,
        conn: Arc<Connection>,
        ended: &Ended,
        attempt: u32,
    ) -> Vec<Output> {
        let local = SocketAddr::new(conn.local_addr, crate::IKE_PORT);
        let remote = SocketAddr::new(ended.remote.ip(), crate::IKE_PORT);
        if remote.ip().is_unspecified() {
            return Vec::new();
        }
        let mut sa = IkeSa::new(conn.clone(), Role::Initiator, local, remote, now);
        if ended.children.is_empty() {
            sa.first_child = ended.first_child.clone();
        } else {
            let mut names = ended.children.iter();
            sa.first_child = names.next().cloned();
            sa.jobs.extend(names.map(|n| Job::CreateChild(n.clone())));
        }
        sa.restarting = true;
        sa.attempt = attempt;
        sa.initial_contact = self.first_contact(&sa.conn);
        self.run_sa(now, sa, |sa, ctx| sa.initiate(ctx))
    }

    /// Whether an IKE SA of `conn` would be the only one between its identities, so that it
    /// tells the peer so (INITIAL_CONTACT), as strongSwan decides: only with a configured
    /// peer identity and a uniqueness policy other than `never`.
    pub(super) fn first_contact(&self, conn: &Connection) -> bool {
        let Some(remote_id) = &conn.remote_id else {
            return false;
        };
        conn.unique != Unique::Never
            && !self.sas.values().any(|o| {
                o.state != State::Dead
                    && o.conn.local_id.matches(&conn.local_id)
                    && o.peer_id.as_ref().or(o.conn.remote_id.as_ref()) == Some(remote_id)
            })
    }

    /// The uniqueness policy, once the IKE SA with our SPI `spi` is established: a peer that
    /// says it starts afresh (INITIAL_CONTACT) takes the place of every other IKE SA between
    /// the same identities (they go without a Delete: the peer forgot them); `replace` deletes
    /// the connection's others; `keep` deletes the new one when another, from another
    /// address, exists.
    pub(super) fn enforce_unique(&mut self, now: Instant, spi: IkeSpi) -> Vec<Output> {
        let Some(new) = self.sas.get(&spi) else {
            return Vec::new();
        };
        let (Some(peer), policy) = (new.peer_id.clone(), new.conn.unique) else {
            return Vec::new();
        };
        let (name, local_id, remote, forgot) = (
            new.conn.name.clone(),
            new.conn.local_id.clone(),
            new.remote,
            new.peer_initial_contact,
        );
        let duplicates: Vec<(IkeSpi, bool, SocketAddr)> = self
            .sas
            .values()
            .filter(|o| o.local_spi() != spi)
            .filter(|o| matches!(o.state, State::Established | State::Deleting))
            .filter(|o| o.conn.local_id.matches(&local_id))
            .filter(|o| o.peer_id.as_ref().is_some_and(|p| p.matches(&peer)))
            .filter(|o| o.remote.is_ipv4() == remote.is_ipv4())
            .map(|o| (o.local_spi(), o.conn.name == name, o.remote))
            .collect();
        let mut out = Vec::new();
        if forgot && policy != Unique::Never {
            for (other, _, _) in duplicates {
                out.extend(self.with_sa(now, other, |sa, ctx| {
                    sa.release_pending(ctx);
                    sa.die(ctx, DownReason::Duplicate);
                }));
            }
            return out;
        }
        let same_conn = duplicates.iter().filter(|(_, same, _)| *same);
        match policy {
            Unique::Replace => {
                let others: Vec<IkeSpi> = same_conn.map(|(s, _, _)| *s).collect();
                for other in others {
                    out.extend(self.with_sa(now, other, |sa, ctx| {
                        sa.close_reason = Some(DownReason::Duplicate);
                        sa.terminate(ctx);
                    }));
                }
            }
            Unique::Keep => {
                if same_conn.clone().any(|(_, _, at)| at.ip() != remote.ip()) {
                    out.extend(self.with_sa(now, spi, |sa, ctx| {
                        sa.close_reason = Some(DownReason::Duplicate);
                        sa.terminate(ctx);
                    }));
                }
            }
            Unique::No | Unique::Never => {}
        }
        out
    }
}
