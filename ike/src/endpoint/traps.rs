//! Trap policies (swanctl's `start_action = trap`, `install`/`uninstall`): installed for a
//! child of a connection, and the kernel's acquire for a packet they caught starts the
//! negotiation.

use std::sync::Arc;
use std::time::Instant;

use super::Endpoint;
use crate::config::Connection;
use crate::kernel::KernelOp;
use crate::sa::child::PolicyShape;
use crate::sa::{Event, Job, Output, Role, State};

impl Endpoint {
    /// Installs the trap policies of `child` in `conn`.
    pub(super) fn install_trap(
        &mut self,
        _now: Instant,
        conn: &Arc<Connection>,
        child: &str,
    ) -> Vec<Output> {
        let key = (conn.name.clone(), child.to_owned());
        let Some(config) = conn.children.iter().find(|c| c.name == child) else {
            return Vec::new();
        };
        if self.traps.contains_key(&key) {
            return Vec::new();
        }
        if conn.local_addr.is_unspecified() || conn.remote_addr.is_unspecified() {
            return vec![Output::Event(Event::ChildFailed {
                connection: conn.name.clone(),
                child: child.to_owned(),
                reason: "a trap needs both local_addrs and remote_addrs".into(),
            })];
        }
        let reqid = config.xfrm.reqid.unwrap_or_else(|| {
            let reqid = self.next_reqid;
            self.next_reqid = self.next_reqid.wrapping_add(1).max(1);
            reqid
        });
        let shape = PolicyShape {
            local: conn.local_addr,
            remote: conn.remote_addr,
            protocol: config.protocol,
            mode: config.mode,
            reqid,
            xfrm: config.xfrm,
        };
        let policies = shape.policies(
            &config.local_selectors(conn.local_addr),
            &config.remote_selectors(conn.remote_addr),
        );
        let out = policies
            .iter()
            .map(|p| self.unowned_op(KernelOp::AddPolicy(p.clone())))
            .collect();
        self.traps.insert(key, reqid);
        self.trap_policies.insert(reqid, policies);
        out
    }

    pub(super) fn uninstall_trap(&mut self, connection: &str, child: &str) -> Vec<Output> {
        let Some(reqid) = self
            .traps
            .remove(&(connection.to_owned(), child.to_owned()))
        else {
            return Vec::new();
        };
        let policies = self.trap_policies.remove(&reqid).unwrap_or_default();
        policies
            .into_iter()
            .map(|p| self.unowned_op(KernelOp::DelPolicy(p)))
            .collect()
    }

    /// A packet met a trap: negotiate its child, on the connection's IKE SA if there is one.
    pub(super) fn on_acquire(&mut self, now: Instant, reqid: u32) -> Vec<Output> {
        let Some((connection, child)) = self
            .traps
            .iter()
            .find(|(_, r)| **r == reqid)
            .map(|(key, _)| key.clone())
        else {
            return Vec::new();
        };
        let ours = self.sas.values().filter(|sa| sa.conn.name == connection);
        let mut established = None;
        for sa in ours {
            let busy_with_it = sa.children.iter().any(|c| c.reqid == reqid)
                || sa.pending.iter().any(|p| p.reqid == reqid);
            let connecting = !matches!(
                sa.state,
                State::Established | State::Rekeyed | State::Deleting
            );
            if busy_with_it || (connecting && sa.role == Role::Initiator) {
                // The kernel repeats acquires while the negotiation runs.
                return Vec::new();
            }
            if sa.state == State::Established {
                established = Some(sa.local_spi());
            }
        }
        match established {
            Some(spi) => self.with_sa(now, spi, |sa, ctx| {
                sa.queue(ctx, Job::CreateChild(child.clone()));
            }),
            None => {
                let Some(conn) = self.connection(&connection) else {
                    return Vec::new();
                };
                self.start(now, conn, Some(child), false)
            }
        }
    }
}
