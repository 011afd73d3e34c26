//! Reserving SPIs for, installing and giving up on a Child SA being negotiated.

use crate::crypto::keys::child_sa_keys;
use crate::kernel::{KernelOp, KernelOpId, KernelReply};
use crate::sa::child::{self, ChildAlgorithms, ChildSa, Directions, PendingChild};
use crate::sa::{Ctx, Event, IkeSa, Role, State};
use crate::wire::sa::Proposal;
use crate::wire::ts::TrafficSelector;

impl IkeSa {
    /// Initiator: the IKE SA's keys are in; the first configured Child SA comes with IKE_AUTH.
    pub(crate) fn start_first_child(&mut self, ctx: &mut Ctx<'_>) {
        let Some(config) = self.conn.children.first().cloned() else {
            // Childless (RFC 6023 would let us say so); authenticate alone.
            return self.send_auth(ctx);
        };
        let (local, remote) = (self.local.ip(), self.remote.ip());
        self.pending = Some(PendingChild {
            ts_i: config.local_selectors(local),
            ts_r: config.remote_selectors(remote),
            reqid: ctx.reqid(),
            config,
            alloc: None,
            spi_in: None,
            proposals: Vec::new(),
            installing: Vec::new(),
            request: None,
            answer: Vec::new(),
            sa: None,
        });
        self.state = State::AllocatingSpi;
        self.reserve_spi(ctx);
    }

    /// Asks the kernel for the SPI we will receive the Child SA's traffic on.
    pub(crate) fn reserve_spi(&mut self, ctx: &mut Ctx<'_>) {
        let (local, remote) = (self.local.ip(), self.remote.ip());
        let Some(pending) = self.pending.as_mut() else {
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
        let Some(pending) = self.pending.as_mut() else {
            return;
        };
        if pending.alloc == Some(id) {
            pending.alloc = None;
            return match reply {
                KernelReply::Spi(spi) => self.on_spi(ctx, spi),
                other => self.fail_spi(ctx, format!("kernel refused an SPI: {other:?}")),
            };
        }
        let Some(at) = pending.installing.iter().position(|op| *op == id) else {
            return;
        };
        pending.installing.remove(at);
        if let KernelReply::Failed { message, .. } = reply {
            return self.on_install_done(ctx, Some(message));
        }
        if pending.installing.is_empty() {
            self.on_install_done(ctx, None);
        }
    }

    fn on_spi(&mut self, ctx: &mut Ctx<'_>, spi: u32) {
        let Some(pending) = self.pending.as_mut() else {
            return;
        };
        pending.spi_in = Some(spi);
        match self.role {
            Role::Initiator => self.send_auth(ctx),
            Role::Responder => {
                let chosen = Proposal {
                    spi: spi.to_be_bytes().to_vec(),
                    ..pending.proposals[0].clone()
                };
                let (ts_i, ts_r) = (pending.ts_i.clone(), pending.ts_r.clone());
                self.install_child(ctx, chosen, ts_i, ts_r);
            }
        }
    }

    fn fail_spi(&mut self, ctx: &mut Ctx<'_>, reason: String) {
        match self.role {
            Role::Initiator => {
                self.fail_pending(ctx, reason);
                self.send_auth(ctx);
            }
            Role::Responder => self.answer_auth(ctx, false),
        }
    }

    /// Both sides agree on `chosen` (with the peer's SPI, for the initiator, or ours, for the
    /// responder) and the selectors: derive the keys and install.
    pub(crate) fn install_child(
        &mut self,
        ctx: &mut Ctx<'_>,
        chosen: Proposal,
        ts_i: Vec<TrafficSelector>,
        ts_r: Vec<TrafficSelector>,
    ) {
        let (Some(keys), Some(pending)) = (self.keys.as_ref(), self.pending.as_mut()) else {
            return;
        };
        let peer_spi = match self.role {
            Role::Initiator => <[u8; 4]>::try_from(&chosen.spi[..])
                .ok()
                .map(u32::from_be_bytes),
            Role::Responder => pending.proposals[0]
                .spi
                .as_slice()
                .try_into()
                .ok()
                .map(u32::from_be_bytes),
        };
        let (Some(algorithms), Some(spi_out), Some(spi_in)) =
            (ChildAlgorithms::of(&chosen), peer_spi, pending.spi_in)
        else {
            return self.on_install_done(ctx, Some("unusable Child SA proposal".into()));
        };
        let (local_ts, remote_ts) = match self.role {
            Role::Initiator => (ts_i, ts_r),
            Role::Responder => (ts_r, ts_i),
        };
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
        };
        sa.policies = child::policies(&sa);
        let encr_len = algorithms.encr.keymat_len();
        let child_keys = child_sa_keys(
            keys.suite.prf,
            &keys.ike.sk_d,
            None,
            &self.ni,
            &self.nr,
            encr_len,
            algorithms.integ_key_len(),
        );
        let Ok(child_keys) = child_keys else {
            return self.on_install_done(ctx, Some("Child SA key derivation failed".into()));
        };
        let directions = Directions::new(&child_keys, self.role == Role::Initiator);
        let ops = child::install_ops(&sa, &pending.config, &algorithms, &directions);
        pending.installing = ops.into_iter().map(|op| ctx.kernel(op)).collect();
        pending.sa = Some(sa);
    }

    /// Every install operation answered, or one failed (`failure`).
    fn on_install_done(&mut self, ctx: &mut Ctx<'_>, failure: Option<String>) {
        if self.role == Role::Responder && self.state == State::AuthInstalling {
            if let (Some(reason), Some(pending)) = (&failure, self.pending.as_ref()) {
                ctx.event(Event::ChildFailed {
                    connection: self.conn.name.clone(),
                    child: pending.config.name.clone(),
                    reason: reason.clone(),
                });
            }
            return self.answer_auth(ctx, failure.is_none());
        }
        let Some(pending) = self.pending.take() else {
            return;
        };
        let installed = failure.is_none();
        if let Some(reason) = failure {
            ctx.event(Event::ChildFailed {
                connection: self.conn.name.clone(),
                child: pending.config.name.clone(),
                reason,
            });
        }
        self.finish_child(ctx, pending, installed);
    }

    /// Records an installed Child SA, or removes what a failed one left in the kernel.
    pub(crate) fn finish_child(
        &mut self,
        ctx: &mut Ctx<'_>,
        pending: PendingChild,
        installed: bool,
    ) {
        if !installed {
            match &pending.sa {
                Some(sa) => sa.removal_ops().into_iter().for_each(|op| {
                    ctx.kernel(op);
                }),
                None => self.release(ctx, &pending),
            }
            return;
        }
        let Some(sa) = pending.sa else {
            return;
        };
        ctx.event(Event::ChildUp {
            connection: self.conn.name.clone(),
            child: sa.name.clone(),
            spi_in: sa.spi_in,
            spi_out: sa.spi_out,
        });
        self.children.push(sa);
    }

    /// Gives up on the Child SA being negotiated, releasing its reserved SPI.
    pub(crate) fn fail_pending(&mut self, ctx: &mut Ctx<'_>, reason: String) {
        let Some(pending) = self.pending.take() else {
            return;
        };
        ctx.event(Event::ChildFailed {
            connection: self.conn.name.clone(),
            child: pending.config.name.clone(),
            reason,
        });
        self.release(ctx, &pending);
    }

    /// Drops the Child SA being negotiated without an event (its IKE SA is failing).
    pub(crate) fn release_pending(&mut self, ctx: &mut Ctx<'_>) {
        if let Some(pending) = self.pending.take() {
            self.release(ctx, &pending);
        }
    }

    fn release(&self, ctx: &mut Ctx<'_>, pending: &PendingChild) {
        if let Some(spi) = pending.spi_in {
            ctx.kernel(KernelOp::DelSa(crate::kernel::SaRef {
                dst: self.local.ip(),
                protocol: pending.config.protocol,
                spi,
            }));
        }
    }
}
