//! Reserving SPIs for, installing, giving up on and removing Child SAs, whichever exchange
//! negotiated them.

use crate::crypto::keys::child_sa_keys;
use crate::kernel::{KernelOp, KernelOpId, KernelReply};
use crate::sa::child::{self, ChildAlgorithms, ChildKind, ChildSa, Directions, PendingChild};
use crate::sa::{Ctx, Event, IkeSa, Job};
use crate::wire::sa::Proposal;
use crate::wire::ts::TrafficSelector;

impl IkeSa {
    /// Initiator: the IKE SA's keys are in; the first configured Child SA comes with IKE_AUTH.
    pub(crate) fn start_first_child(&mut self, ctx: &mut Ctx<'_>) {
        let first = match &self.first_child {
            Some(name) => self.conn.children.iter().find(|c| c.name == *name),
            None => self.conn.children.first(),
        };
        let Some(config) = first.cloned() else {
            // Childless (RFC 6023 would let us say so); authenticate alone.
            return self.send_auth(ctx);
        };
        let (local, remote) = (self.local.ip(), self.remote.ip());
        let reqid = ctx.reqid_for(&self.conn.name, &config);
        let mut pending = PendingChild::new(config, ChildKind::Auth, true, reqid);
        pending.ts_i = pending.config.local_selectors(local);
        pending.ts_r = pending.config.remote_selectors(remote);
        self.pending.push(pending);
        self.state = crate::sa::State::AllocatingSpi;
        self.reserve_spi(ctx, self.pending.len() - 1);
    }

    /// Asks the kernel for the SPI we will receive the Child SA's traffic on.
    pub(crate) fn reserve_spi(&mut self, ctx: &mut Ctx<'_>, at: usize) {
        let (local, remote) = (self.local.ip(), self.remote.ip());
        let Some(pending) = self.pending.get_mut(at) else {
            return;
        };
        let op = KernelOp::AllocSpi {
            src: remote,
            dst: local,
            protocol: pending.config.protocol,
            reqid: pending.reqid,
        };
        pending.alloc = Some(ctx.kernel(op));
    }

    /// A kernel reply for this IKE SA.
    pub(crate) fn on_kernel_reply(
        &mut self,
        ctx: &mut Ctx<'_>,
        id: KernelOpId,
        reply: KernelReply,
    ) {
        let Some(at) = self
            .pending
            .iter()
            .position(|p| p.alloc == Some(id) || p.installing.contains(&id))
        else {
            return;
        };
        let pending = &mut self.pending[at];
        if pending.alloc == Some(id) {
            pending.alloc = None;
            return match reply {
                KernelReply::Spi(spi) => self.on_spi(ctx, at, spi),
                other => self.fail_spi(ctx, at, format!("kernel refused an SPI: {other:?}")),
            };
        }
        pending.installing.retain(|op| *op != id);
        if let KernelReply::Failed { message, .. } = reply {
            // The other operations' replies no longer matter: forget them.
            pending.installing.clear();
            return self.on_install_done(ctx, at, Some(message));
        }
        if pending.installing.is_empty() {
            self.on_install_done(ctx, at, None);
        }
    }

    fn on_spi(&mut self, ctx: &mut Ctx<'_>, at: usize, spi: u32) {
        let pending = &mut self.pending[at];
        pending.spi_in = Some(spi);
        match (pending.initiator, pending.kind) {
            (true, ChildKind::Auth) => self.send_auth(ctx),
            (true, _) => self.send_create_child(ctx, at),
            (false, _) => {
                let chosen = Proposal {
                    spi: spi.to_be_bytes().to_vec(),
                    ..pending.proposals[0].clone()
                };
                let (ts_i, ts_r) = (pending.ts_i.clone(), pending.ts_r.clone());
                self.install_child(ctx, at, chosen, ts_i, ts_r);
            }
        }
    }

    fn fail_spi(&mut self, ctx: &mut Ctx<'_>, at: usize, reason: String) {
        match (self.pending[at].initiator, self.pending[at].kind) {
            (true, ChildKind::Auth) => {
                self.fail_pending(ctx, at, reason);
                self.send_auth(ctx);
            }
            (true, _) => {
                self.fail_pending(ctx, at, reason);
                self.kick(ctx);
            }
            (false, ChildKind::Auth) => self.answer_auth(ctx, at, false),
            (false, _) => self.answer_create_child(ctx, at, false),
        }
    }

    /// Both sides agree on `chosen` (with the peer's SPI, for the exchange's initiator, or
    /// ours, for its responder) and the selectors: derive the keys and install.
    pub(crate) fn install_child(
        &mut self,
        ctx: &mut Ctx<'_>,
        at: usize,
        chosen: Proposal,
        ts_i: Vec<TrafficSelector>,
        ts_r: Vec<TrafficSelector>,
    ) {
        let Some(keys) = self.keys.as_ref() else {
            return;
        };
        let pending = &self.pending[at];
        let peer_spi = if pending.initiator {
            <[u8; 4]>::try_from(&chosen.spi[..])
                .ok()
                .map(u32::from_be_bytes)
        } else {
            pending.proposals[0]
                .spi
                .as_slice()
                .try_into()
                .ok()
                .map(u32::from_be_bytes)
        };
        let (Some(algorithms), Some(spi_out), Some(spi_in)) =
            (ChildAlgorithms::of(&chosen), peer_spi, pending.spi_in)
        else {
            return self.on_install_done(ctx, at, Some("unusable Child SA proposal".into()));
        };
        let (local_ts, remote_ts) = if pending.initiator {
            (ts_i, ts_r)
        } else {
            (ts_r, ts_i)
        };
        let (ni, nr) = pending.nonces().unwrap_or((&self.ni, &self.nr));
        let nonce_min = child::lower_nonce(ni, nr).to_vec();
        let mut sa = ChildSa {
            name: pending.config.name.clone(),
            protocol: pending.config.protocol,
            mode: pending.config.mode,
            reqid: pending.reqid,
            spi_in,
            spi_out,
            local_ts,
            remote_ts,
            proposal: chosen,
            local: self.local.ip(),
            remote: self.remote.ip(),
            policies: Vec::new(),
            rekey_at: None,
            rekeyed: false,
            out_installed: true,
            deferred_out: None,
            nonce_min,
            replaces: None,
            redundant: false,
            reap_at: None,
            installed_at: ctx.now,
        };
        let shared = pending.exchange.as_ref().and_then(|e| e.shared.as_ref());
        let child_keys = child_sa_keys(
            keys.suite.prf,
            &keys.ike.sk_d,
            shared,
            ni,
            nr,
            algorithms.encr_key_len(),
            algorithms.integ_key_len(),
        );
        let Ok(child_keys) = child_keys else {
            return self.on_install_done(ctx, at, Some("Child SA key derivation failed".into()));
        };
        let directions = Directions::new(&child_keys, pending.initiator);
        let (mut sa_in, mut sa_out) =
            child::sa_pair(&sa, &pending.config, &algorithms, &directions, self.encap());
        // strongSwan's rekey jitter: each soft limit falls at a random point up to its `rand_*`
        // before the configured one, and the hard limits stay where configured. The kernel
        // counts bytes and packets and reports a soft expiry, which starts a rekey as the
        // timer does for time (Endpoint::handle_kernel_event).
        let (lifetime, jitter) = (pending.config.lifetime, pending.config.jitter);
        if lifetime.soft_seconds != 0 {
            let soft = ctx.jittered(
                std::time::Duration::from_secs(lifetime.soft_seconds),
                std::time::Duration::from_secs(jitter.seconds),
            );
            sa.rekey_at = Some(ctx.now + soft);
            sa_in.lifetime.soft_seconds = soft.as_secs().max(1);
            sa_out.lifetime.soft_seconds = soft.as_secs().max(1);
        }
        let soft_bytes = ctx.jittered_limit(lifetime.soft_bytes, jitter.bytes);
        let soft_packets = ctx.jittered_limit(lifetime.soft_packets, jitter.packets);
        for params in [&mut sa_in, &mut sa_out] {
            params.lifetime.soft_bytes = soft_bytes;
            params.lifetime.soft_packets = soft_packets;
        }
        let mut ops = vec![KernelOp::UpdateSa(Box::new(sa_in))];
        let rekey = matches!(pending.kind, ChildKind::Rekey { .. });
        if rekey && !pending.initiator {
            // Held back until the initiator deletes the old pair (see ChildSa::deferred_out).
            sa.deferred_out = Some(Box::new(sa_out));
            sa.out_installed = false;
        } else {
            ops.push(KernelOp::AddSa(Box::new(sa_out)));
        }
        if !rekey && !ctx.is_trap(sa.reqid) {
            // A rekeyed pair keeps its predecessor's policies (same reqid); a trapped child
            // uses the trap's.
            sa.policies = child::policies(&sa, pending.config.xfrm);
            ops.extend(sa.policies.iter().cloned().map(KernelOp::AddPolicy));
        }
        let pending = &mut self.pending[at];
        pending.installing = ops.into_iter().map(|op| ctx.kernel(op)).collect();
        pending.sa = Some(sa);
    }

    /// Every install operation answered, or one failed (`failure`).
    fn on_install_done(&mut self, ctx: &mut Ctx<'_>, at: usize, failure: Option<String>) {
        let pending = &self.pending[at];
        if let Some(reason) = &failure {
            ctx.event(Event::ChildFailed {
                connection: self.conn.name.clone(),
                child: pending.config.name.clone(),
                reason: reason.clone(),
            });
        }
        let installed = failure.is_none();
        match (pending.initiator, pending.kind) {
            (false, ChildKind::Auth) => self.answer_auth(ctx, at, installed),
            (false, _) => self.answer_create_child(ctx, at, installed),
            (true, _) => {
                let pending = self.pending.remove(at);
                self.finish_child(ctx, pending, installed);
                self.kick(ctx);
            }
        }
    }

    /// Records an installed Child SA, or removes what a failed one left in the kernel.
    pub(crate) fn finish_child(
        &mut self,
        ctx: &mut Ctx<'_>,
        mut pending: PendingChild,
        installed: bool,
    ) {
        if !installed {
            return self.release(ctx, &pending);
        }
        let Some(mut sa) = pending.sa.take() else {
            return;
        };
        let ChildKind::Rekey { old } = pending.kind else {
            ctx.event(Event::ChildUp {
                connection: self.conn.name.clone(),
                child: sa.name.clone(),
                spi_in: sa.spi_in,
                spi_out: sa.spi_out,
                info: Box::new(self.child_info(&sa, true)),
            });
            return self.children.push(sa);
        };
        ctx.event(Event::ChildRekeyed {
            connection: self.conn.name.clone(),
            child: sa.name.clone(),
            old_spi_in: old,
            spi_in: sa.spi_in,
            spi_out: sa.spi_out,
        });
        sa.replaces = Some(old);
        sa.policies = std::mem::take(&mut pending.policies);
        let predecessor = self.children.iter_mut().find(|c| c.spi_in == old);
        match predecessor {
            Some(previous) => {
                previous.rekeyed = true;
                sa.policies.append(&mut previous.policies);
            }
            None => {
                // The old pair went meanwhile: nothing to wait for.
                if let Some(out) = sa.deferred_out.take() {
                    sa.out_installed = true;
                    ctx.kernel(KernelOp::AddSa(out));
                }
            }
        }
        let redundant = pending.initiator
            && pending
                .collision
                .as_ref()
                .is_some_and(|theirs| sa.nonce_min < *theirs);
        let (new_spi, old_present) = (sa.spi_in, self.children.iter().any(|c| c.spi_in == old));
        self.children.push(sa);
        if !pending.initiator {
            return;
        }
        if redundant {
            // RFC 7296 2.8.1: both sides rekeyed the same Child SA and ours has the lowest
            // nonce: we close our new pair; the peer closes the old one.
            self.jobs.push_front(Job::DeleteChild(new_spi));
        } else {
            if pending.collision.is_some() {
                // We won: the pair the peer's exchange made is its to delete. A peer that
                // never learnt of the collision (its answer came before our request) keeps
                // it, so it goes after a grace period if it is still there.
                let deadline = ctx.now + REDUNDANT_GRACE;
                for c in self.children.iter_mut() {
                    if c.replaces == Some(old) && c.spi_in != new_spi {
                        c.reap_at = Some(deadline);
                    }
                }
            }
            if old_present {
                // Make before break: the new outbound SA is in, so the old one goes now; its
                // inbound half goes once the peer has heard of the Delete.
                self.retire_outbound(ctx, old);
                self.jobs.push_front(Job::DeleteChild(old));
            }
        }
    }

    /// Removes the outbound SA of the Child SA we receive on `spi_in`, keeping the inbound one.
    pub(crate) fn retire_outbound(&mut self, ctx: &mut Ctx<'_>, spi_in: u32) {
        if let Some(c) = self.children.iter_mut().find(|c| c.spi_in == spi_in)
            && c.out_installed
        {
            c.out_installed = false;
            ctx.kernel(KernelOp::DelSa(c.sa_out()));
        }
    }

    /// Removes the Child SA we receive on `spi_in` from the kernel and from the IKE SA. Its
    /// policies pass to a sibling with the same reqid, if any, and that sibling's held-back
    /// outbound SA goes in first if no outbound SA would be left for the reqid.
    pub(crate) fn remove_child(&mut self, ctx: &mut Ctx<'_>, spi_in: u32) -> Option<ChildSa> {
        let at = self.children.iter().position(|c| c.spi_in == spi_in)?;
        let mut gone = self.children.remove(at);
        let reqid = gone.reqid;
        // Its successors' outbound SAs go in first; redundant ones are deleted next.
        for c in self
            .children
            .iter_mut()
            .filter(|c| c.replaces == Some(spi_in))
        {
            if let Some(out) = c.deferred_out.take() {
                c.out_installed = true;
                ctx.kernel(KernelOp::AddSa(out));
            }
            if c.redundant {
                self.jobs.push_front(Job::DeleteChild(c.spi_in));
            }
        }
        let outbound_left = self
            .children
            .iter()
            .any(|c| c.reqid == reqid && c.out_installed);
        // The newest sibling carries on, or the rekey under way.
        if let Some(heir) = self.children.iter_mut().rev().find(|c| c.reqid == reqid) {
            if !outbound_left && let Some(out) = heir.deferred_out.take() {
                heir.out_installed = true;
                ctx.kernel(KernelOp::AddSa(out));
            }
            heir.policies.append(&mut gone.policies);
        } else if let Some(heir) = self.pending.iter_mut().find(|p| p.reqid == reqid) {
            heir.policies.append(&mut gone.policies);
        }
        for op in gone.removal_ops() {
            ctx.kernel(op);
        }
        let last = !self.children.iter().any(|c| c.reqid == reqid)
            && !self.pending.iter().any(|p| p.reqid == reqid);
        ctx.event(Event::ChildDown {
            connection: self.conn.name.clone(),
            child: gone.name.clone(),
            spi_in: gone.spi_in,
            spi_out: gone.spi_out,
            info: Box::new(self.child_info(&gone, last)),
        });
        Some(gone)
    }

    /// Gives up on the Child SA being negotiated, releasing its reserved SPI.
    pub(crate) fn fail_pending(&mut self, ctx: &mut Ctx<'_>, at: usize, reason: String) {
        if at >= self.pending.len() {
            return;
        }
        let pending = self.pending.remove(at);
        ctx.event(Event::ChildFailed {
            connection: self.conn.name.clone(),
            child: pending.config.name.clone(),
            reason,
        });
        if let ChildKind::Rekey { old } = pending.kind
            && let Some(c) = self.children.iter_mut().find(|c| c.spi_in == old)
        {
            // Try again later, as long as the old pair lives.
            c.rekey_at = Some(ctx.now + REKEY_RETRY);
        }
        self.release(ctx, &pending);
    }

    /// Drops the Child SAs being negotiated without an event (their IKE SA is failing).
    pub(crate) fn release_pending(&mut self, ctx: &mut Ctx<'_>) {
        for pending in std::mem::take(&mut self.pending) {
            self.release(ctx, &pending);
        }
    }

    /// Undoes what a negotiation left in the kernel: its reserved SPI, or its installed SAs,
    /// and the policies it inherited unless a pair of the same reqid lives on.
    pub(crate) fn release(&mut self, ctx: &mut Ctx<'_>, pending: &PendingChild) {
        match self.children.iter_mut().find(|c| c.reqid == pending.reqid) {
            Some(heir) => heir.policies.extend(pending.policies.iter().cloned()),
            None => {
                for p in &pending.policies {
                    ctx.kernel(KernelOp::DelPolicy(p.clone()));
                }
            }
        }
        if let Some(sa) = &pending.sa {
            for op in sa.removal_ops() {
                ctx.kernel(op);
            }
            return;
        }
        if let Some(spi) = pending.spi_in {
            ctx.kernel(KernelOp::DelSa(crate::kernel::SaRef {
                dst: self.local.ip(),
                protocol: pending.config.protocol,
                spi,
            }));
        }
    }
}

/// How long the winner of colliding rekeys waits for the peer to delete its redundant pair.
pub(crate) const REDUNDANT_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// How long after a failed rekey to try again.
pub(crate) const REKEY_RETRY: std::time::Duration = std::time::Duration::from_secs(30);
