//! Requests of our own wait for the Message ID window (RFC 7296 2.3, a window of one): each
//! job starts when nothing we sent is unanswered and no Child SA we asked for is still being
//! set up.

use crate::sa::child::ChildKind;
use crate::sa::{Ctx, DownReason, IkeSa, Informing, Job, State};
use crate::wire::rules::{Informational, Typed};
use crate::wire::{ExchangeType, delete};

use super::create_child::protocol_id;

impl IkeSa {
    /// Queues `job` (once) and starts it if it can go now.
    pub(crate) fn queue(&mut self, ctx: &mut Ctx<'_>, job: Job) {
        if !self.jobs.contains(&job) {
            self.jobs.push_back(job);
        }
        self.kick(ctx);
    }

    /// Whether one of our requests, or what it set off, is still under way.
    fn busy(&self) -> bool {
        !self.requests.is_idle()
            || self.ike_rekey.is_some()
            || self.pending.iter().any(|p| p.initiator)
    }

    /// Starts the next queued job, if the window is free.
    pub(crate) fn kick(&mut self, ctx: &mut Ctx<'_>) {
        if self.state != State::Established || self.busy() {
            return;
        }
        if self.hold_until.is_some_and(|t| ctx.now < t) {
            return;
        }
        self.hold_until = None;
        while let Some(job) = self.jobs.pop_front() {
            match job {
                Job::CreateChild(name) => self.start_create_child(ctx, &name),
                Job::RekeyChild(spi) => self.start_rekey_child(ctx, spi),
                Job::DeleteChild(spi) => self.send_delete_child(ctx, spi),
                Job::RekeyIke if self.pending.is_empty() => self.start_rekey_ike(ctx),
                Job::RekeyIke => {
                    // The peer's Child SA exchange finishes first.
                    self.jobs.push_front(Job::RekeyIke);
                    return;
                }
                Job::Reauth => {
                    self.close_reason = Some(DownReason::Reauthenticating);
                    return self.terminate(ctx);
                }
            }
            if self.busy() {
                return;
            }
        }
    }

    /// Sends a Delete for the Child SA we receive on `spi`, if it is still there.
    fn send_delete_child(&mut self, ctx: &mut Ctx<'_>, spi: u32) {
        let Some(child) = self.children.iter().find(|c| c.spi_in == spi) else {
            return;
        };
        let request = Typed::InformationalRequest(Informational {
            deletes: vec![delete::Repr::Child {
                protocol: protocol_id(child.protocol),
                spis: vec![spi],
            }],
            ..Default::default()
        });
        // The peer removes its inbound SA as it reads the Delete: stop sending on it now.
        self.retire_outbound(ctx, spi);
        self.informing = Some(Informing::DeleteChildren(vec![spi]));
        self.send_request(ctx, ExchangeType::INFORMATIONAL, &request.into_payloads());
    }

    /// Timers of the IKE SA's and its Child SAs' lifetimes.
    pub(crate) fn on_lifetime_timers(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now;
        let due = |at: Option<std::time::Instant>| at.is_some_and(|t| t <= now);
        if self.state == State::Rekeyed {
            if due(self.rekey_at) {
                self.on_replaced_timeout(ctx);
            }
            return;
        }
        if self.state == State::InitDone {
            if due(self.rekey_at) {
                // Never authenticated: it goes without a word to anyone.
                self.state = State::Dead;
            }
            return;
        }
        if self.state == State::Established && due(self.expire_at) {
            self.expire_at = None;
            self.close_reason = Some(DownReason::Expired);
            return self.terminate(ctx);
        }
        if self.state == State::Established && due(self.reauth_at) {
            self.reauth_at = None;
            self.rekey_at = None;
            self.queue(ctx, Job::Reauth);
            return;
        }
        if self.state == State::Established && due(self.rekey_at) {
            self.rekey_at = None;
            self.queue(ctx, Job::RekeyIke);
        }
        let rekeys: Vec<u32> = self
            .children
            .iter_mut()
            .filter(|c| !c.rekeyed && due(c.rekey_at))
            .map(|c| {
                c.rekey_at = None;
                c.spi_in
            })
            .collect();
        for spi in rekeys {
            self.queue(ctx, Job::RekeyChild(spi));
        }
        let reaps: Vec<u32> = self
            .children
            .iter_mut()
            .filter(|c| due(c.reap_at))
            .map(|c| {
                c.reap_at = None;
                c.rekeyed = true;
                c.spi_in
            })
            .collect();
        for spi in reaps {
            self.queue(ctx, Job::DeleteChild(spi));
        }
    }

    /// The kernel says the Child SA with `spi_in` reached a soft (rekey) or hard (gone) limit.
    pub(crate) fn on_child_expire(&mut self, ctx: &mut Ctx<'_>, spi_in: u32, hard: bool) {
        let Some(child) = self.children.iter_mut().find(|c| c.spi_in == spi_in) else {
            return;
        };
        if hard {
            child.rekeyed = true;
            self.queue(ctx, Job::DeleteChild(spi_in));
        } else if !child.rekeyed {
            let rekeying = self
                .pending
                .iter()
                .any(|p| p.kind == (ChildKind::Rekey { old: spi_in }));
            if !rekeying {
                child.rekey_at = None;
                self.queue(ctx, Job::RekeyChild(spi_in));
            }
        }
    }
}
