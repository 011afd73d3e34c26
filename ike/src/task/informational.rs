//! INFORMATIONAL (RFC 7296 1.4): deleting IKE and Child SAs, liveness checks (2.4), and what
//! the timers decide.

use std::time::Instant;

use crate::sa::window::Resend;
use crate::sa::{Ctx, DownReason, IkeSa, Informing, State};
use crate::wire::message::Payload;
use crate::wire::rules::{Informational, Typed};
use crate::wire::{ExchangeType, MessageId, NotifyType, delete};

use super::create_child::protocol_id;

impl IkeSa {
    /// Responder side of an INFORMATIONAL request.
    pub(crate) fn on_informational_request(
        &mut self,
        ctx: &mut Ctx<'_>,
        id: MessageId,
        request: Informational,
    ) {
        if request.deletes.contains(&delete::Repr::Ike) {
            // RFC 7296 1.4.1: answer with an empty INFORMATIONAL, then the SA is gone.
            self.send_response(ctx, ExchangeType::INFORMATIONAL, id, &[]);
            let reason = if self.state == State::Rekeyed {
                DownReason::Rekeyed
            } else {
                DownReason::DeletedByPeer
            };
            return self.die(ctx, reason);
        }
        if request
            .notifies
            .iter()
            .any(|n| n.ty == NotifyType::AUTHENTICATION_FAILED)
        {
            // RFC 7296 2.21.2: the initiator did not accept our IKE_AUTH answer.
            self.send_response(ctx, ExchangeType::INFORMATIONAL, id, &[]);
            return self.die(ctx, DownReason::Refused(NotifyType::AUTHENTICATION_FAILED));
        }
        let ours_in_flight = match &self.informing {
            Some(Informing::DeleteChildren(spis)) => spis.clone(),
            _ => Vec::new(),
        };
        let mut answers = Vec::new();
        for d in &request.deletes {
            let delete::Repr::Child { protocol, spis } = d else {
                continue;
            };
            let mut ours = Vec::new();
            // The peer names the SPIs it receives on: our outbound SAs.
            for spi in spis {
                let Some(child) = self
                    .children
                    .iter()
                    .find(|c| c.spi_out == *spi && protocol_id(c.protocol) == *protocol)
                else {
                    continue;
                };
                let spi_in = child.spi_in;
                if ours_in_flight.contains(&spi_in) {
                    // Deletes that cross (RFC 7296 1.4.1): the outbound SA goes now, the
                    // inbound one with the answer to ours, and this answer names neither.
                    self.retire_outbound(ctx, spi_in);
                    continue;
                }
                self.remove_child(ctx, spi_in);
                ours.push(spi_in);
            }
            if !ours.is_empty() {
                answers.push(delete::Repr::Child {
                    protocol: *protocol,
                    spis: ours,
                });
            }
        }
        // A liveness check, notifies we only note, or the answer to Deletes.
        let response = Typed::InformationalResponse(Informational {
            deletes: answers,
            ..Default::default()
        });
        self.send_response(
            ctx,
            ExchangeType::INFORMATIONAL,
            id,
            &response.into_payloads(),
        );
    }

    /// Our INFORMATIONAL request was answered.
    pub(crate) fn on_informational_response(
        &mut self,
        ctx: &mut Ctx<'_>,
        _response: Informational,
    ) {
        match self.informing.take() {
            Some(Informing::DeleteIke) if self.state == State::Rekeyed => {
                self.die(ctx, DownReason::Rekeyed)
            }
            Some(Informing::DeleteIke) => {
                let reason = self.close_reason.take().unwrap_or(DownReason::Terminated);
                self.die(ctx, reason);
            }
            Some(Informing::DeleteChildren(spis)) => {
                for spi in spis {
                    self.remove_child(ctx, spi);
                }
            }
            Some(Informing::Liveness) | None => {}
        }
    }

    /// Closes the IKE SA (and with it its Child SAs) with a Delete to the peer.
    pub(crate) fn terminate(&mut self, ctx: &mut Ctx<'_>) {
        if self.state != State::Established || !self.requests.is_idle() {
            // Not authenticated yet, or an exchange in flight: nothing the peer would accept
            // now; drop it locally.
            self.release_pending(ctx);
            let reason = self.close_reason.take().unwrap_or(DownReason::Terminated);
            return self.die(ctx, reason);
        }
        self.send_delete_ike(ctx);
        self.state = State::Deleting;
    }

    /// Sends a Delete for this IKE SA; queued requests are dropped.
    pub(crate) fn send_delete_ike(&mut self, ctx: &mut Ctx<'_>) {
        let request = Typed::InformationalRequest(Informational {
            deletes: vec![delete::Repr::Ike],
            ..Default::default()
        });
        self.jobs.clear();
        self.informing = Some(Informing::DeleteIke);
        self.send_request(ctx, ExchangeType::INFORMATIONAL, &request.into_payloads());
    }

    /// When a liveness check is due: `dpd_delay` after we last heard from the peer.
    pub(crate) fn dpd_deadline(&self) -> Option<Instant> {
        let delay = self.conn.dpd_delay;
        (self.state == State::Established && !delay.is_zero()).then(|| self.last_heard + delay)
    }

    /// Timers: retransmission, giving up, liveness checks.
    pub(crate) fn on_timeout(&mut self, ctx: &mut Ctx<'_>) {
        let fraction = ctx.retransmit_fraction();
        match self.requests.on_timeout(ctx.now, ctx.retransmit, fraction) {
            Some(Resend::Bytes(bytes)) => self.transmit(ctx, bytes),
            Some(Resend::GiveUp) => {
                self.release_pending(ctx);
                return self.die(ctx, DownReason::Timeout);
            }
            None => {}
        }
        self.on_lifetime_timers(ctx);
        self.on_keepalive_timer(ctx);
        if self.state == State::Dead {
            return;
        }
        if self.dpd_deadline().is_some_and(|due| ctx.now >= due) && self.requests.is_idle() {
            // RFC 7296 2.4: an empty INFORMATIONAL request; its answer counts as hearing back.
            self.informing = Some(Informing::Liveness);
            self.send_request(ctx, ExchangeType::INFORMATIONAL, &[] as &[Payload]);
            self.last_heard = ctx.now;
        }
    }
}
