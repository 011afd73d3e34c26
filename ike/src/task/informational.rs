//! INFORMATIONAL (RFC 7296 1.4): deleting IKE and Child SAs, liveness checks (2.4), and what
//! the timers decide.

use std::time::Instant;

use crate::sa::window::Resend;
use crate::sa::{Ctx, DownReason, IkeSa, State};
use crate::wire::message::Payload;
use crate::wire::rules::{Informational, Typed};
use crate::wire::{ExchangeType, MessageId, delete};

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
            return self.die(ctx, DownReason::DeletedByPeer);
        }
        let mut ours = Vec::new();
        for d in &request.deletes {
            let delete::Repr::Child { protocol, spis } = d else {
                continue;
            };
            // The peer names the SPIs it receives on: our outbound SAs.
            for spi in spis {
                if let Some(at) = self.children.iter().position(|c| c.spi_out == *spi) {
                    let child = self.children.remove(at);
                    ours.push(child.spi_in);
                    child.removal_ops().into_iter().for_each(|op| {
                        ctx.kernel(op);
                    });
                }
            }
            if !ours.is_empty() {
                let answer = delete::Repr::Child {
                    protocol: *protocol,
                    spis: std::mem::take(&mut ours),
                };
                let response = Typed::InformationalResponse(Informational {
                    deletes: vec![answer],
                    ..Default::default()
                });
                return self.send_response(
                    ctx,
                    ExchangeType::INFORMATIONAL,
                    id,
                    &response.into_payloads(),
                );
            }
        }
        // A liveness check, or notifies we only note.
        self.send_response(ctx, ExchangeType::INFORMATIONAL, id, &[]);
    }

    /// Our INFORMATIONAL request was answered.
    pub(crate) fn on_informational_response(
        &mut self,
        ctx: &mut Ctx<'_>,
        _response: Informational,
    ) {
        if self.state == State::Deleting {
            self.die(ctx, DownReason::Terminated);
        }
    }

    /// Closes the IKE SA (and with it its Child SAs) with a Delete to the peer.
    pub(crate) fn terminate(&mut self, ctx: &mut Ctx<'_>) {
        if self.state != State::Established || !self.requests.is_idle() {
            // Not authenticated yet, or an exchange in flight: nothing the peer would accept
            // now; drop it locally.
            self.release_pending(ctx);
            return self.die(ctx, DownReason::Terminated);
        }
        let request = Typed::InformationalRequest(Informational {
            deletes: vec![delete::Repr::Ike],
            ..Default::default()
        });
        self.send_request(ctx, ExchangeType::INFORMATIONAL, &request.into_payloads());
        self.state = State::Deleting;
    }

    /// When a liveness check is due: `dpd_delay` after we last heard from the peer.
    pub(crate) fn dpd_deadline(&self) -> Option<Instant> {
        let delay = self.conn.dpd_delay;
        (self.state == State::Established && !delay.is_zero()).then(|| self.last_heard + delay)
    }

    /// Timers: retransmission, giving up, liveness checks.
    pub(crate) fn on_timeout(&mut self, ctx: &mut Ctx<'_>) {
        match self.requests.on_timeout(ctx.now, ctx.retransmit) {
            Some(Resend::Bytes(bytes)) => self.transmit(ctx, bytes),
            Some(Resend::GiveUp) => {
                self.release_pending(ctx);
                return self.die(ctx, DownReason::Timeout);
            }
            None => {}
        }
        if self.dpd_deadline().is_some_and(|due| ctx.now >= due) && self.requests.is_idle() {
            // RFC 7296 2.4: an empty INFORMATIONAL request; its answer counts as hearing back.
            self.send_request(ctx, ExchangeType::INFORMATIONAL, &[] as &[Payload]);
            self.last_heard = ctx.now;
        }
    }
}
