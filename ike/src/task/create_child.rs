//! CREATE_CHILD_SA for Child SAs (RFC 7296 1.3.1, 1.3.3): another Child SA, or the
//! replacement of one (REKEY_SA), with an optional key exchange for perfect forward secrecy;
//! colliding rekeys of the same Child SA are settled by the lowest nonce (2.8.1).
//!
//! Make before break: the rekey initiator installs both new SAs, then removes the old
//! outbound SA and deletes the old pair; the responder installs the new inbound SA before it
//! answers and the new outbound SA when the old pair is deleted.

use crate::crypto::ke::KeyExchange;
use crate::proposal::check_response;
use crate::sa::child::{self, ChildKind, Exchange, PendingChild};
use crate::sa::{Ctx, IkeSa, Job, State};
use crate::wire::message::Payload;
use crate::wire::rules::{ChildSaPayloads, CreateChildSa, CreateChildSaResponse, Typed};
use crate::wire::{
    ExchangeType, KeId, MessageId, NotifyType, ProtocolId, ke, nonce, notify, sa, ts,
};

use super::ike_auth::{child_answer, has};
use super::{NONCE_LEN, first_ke, numbered, offers_ke};

impl IkeSa {
    /// Starts another Child SA from the configuration named `name`.
    pub(crate) fn start_create_child(&mut self, ctx: &mut Ctx<'_>, name: &str) {
        let Some(config) = self.conn.children.iter().find(|c| c.name == name).cloned() else {
            return;
        };
        let (local, remote) = (self.local.ip(), self.remote.ip());
        let reqid = ctx.reqid_for(&self.conn.name, &config);
        let mut pending = PendingChild::new(config, ChildKind::Create, true, reqid);
        pending.ts_i = pending.config.local_selectors(local);
        pending.ts_r = pending.config.remote_selectors(remote);
        self.start_exchange(ctx, pending);
    }

    /// Starts the rekey of the Child SA we receive on `spi_in`.
    pub(crate) fn start_rekey_child(&mut self, ctx: &mut Ctx<'_>, spi_in: u32) {
        let Some(old) = self
            .children
            .iter()
            .find(|c| c.spi_in == spi_in && !c.rekeyed)
        else {
            return;
        };
        if self
            .pending
            .iter()
            .any(|p| p.kind == (ChildKind::Rekey { old: spi_in }))
        {
            // The peer is rekeying it right now.
            return;
        }
        let Some(config) = self
            .conn
            .children
            .iter()
            .find(|c| c.name == old.name)
            .cloned()
        else {
            return;
        };
        let mut pending =
            PendingChild::new(config, ChildKind::Rekey { old: spi_in }, true, old.reqid);
        pending.ts_i = old.local_ts.clone();
        pending.ts_r = old.remote_ts.clone();
        self.start_exchange(ctx, pending);
    }

    /// Picks our nonce and key exchange and reserves the SPI; the request follows.
    fn start_exchange(&mut self, ctx: &mut Ctx<'_>, mut pending: PendingChild) {
        let group = first_ke(&pending.config.proposals);
        let ke = match group.map(|g| KeyExchange::generate(g, ctx.rng)) {
            Some(Err(e)) => {
                self.pending.push(pending);
                let at = self.pending.len() - 1;
                return self.fail_pending(ctx, at, format!("key exchange: {e}"));
            }
            Some(Ok(ke)) => Some(ke),
            None => None,
        };
        pending.exchange = Some(Exchange {
            ni: ctx.random(NONCE_LEN),
            ke,
            ..Exchange::default()
        });
        self.pending.push(pending);
        self.reserve_spi(ctx, self.pending.len() - 1);
    }

    /// Initiator: the SPI is reserved; send the CREATE_CHILD_SA request.
    pub(crate) fn send_create_child(&mut self, ctx: &mut Ctx<'_>, at: usize) {
        if let ChildKind::Rekey { old } = self.pending[at].kind
            && !self.children.iter().any(|c| c.spi_in == old && !c.rekeyed)
        {
            // The peer rekeyed or deleted it while we reserved the SPI: nothing to do.
            let pending = self.pending.remove(at);
            return self.release(ctx, &pending);
        }
        let pending = &mut self.pending[at];
        let spi = pending.spi_in.unwrap_or_default();
        pending.proposals = numbered(&pending.config.proposals, &spi.to_be_bytes());
        let protocol = protocol_id(pending.config.protocol);
        let mut notifies = Vec::new();
        if let ChildKind::Rekey { old } = pending.kind {
            // RFC 7296 1.3.3: the SPI we receive the old Child SA's traffic on.
            notifies.push(notify::Repr::for_child(
                NotifyType::REKEY_SA,
                protocol,
                old,
                &[],
            ));
        }
        if pending.config.mode == crate::kernel::Mode::Transport {
            notifies.push(notify::Repr::new(NotifyType::USE_TRANSPORT_MODE, &[]));
        }
        let exchange = pending.exchange.get_or_insert_with(Exchange::default);
        let request = CreateChildSa {
            sa: sa::Repr {
                proposals: pending.proposals.clone(),
            },
            nonce: nonce::Repr {
                data: exchange.ni.clone(),
            },
            ke: exchange.ke.as_ref().map(|ke| ke::Repr {
                group: ke.group(),
                data: ke.public_value(),
            }),
            ts: Some((
                ts::Repr {
                    selectors: pending.ts_i.clone(),
                },
                ts::Repr {
                    selectors: pending.ts_r.clone(),
                },
            )),
            notifies,
            vendor_ids: Vec::new(),
        };
        let payloads = Typed::CreateChildSaRequest(request).into_payloads();
        self.send_request(ctx, ExchangeType::CREATE_CHILD_SA, &payloads);
    }

    /// Initiator: the answer to our CREATE_CHILD_SA request for a Child SA.
    pub(crate) fn on_create_child_response(
        &mut self,
        ctx: &mut Ctx<'_>,
        response: CreateChildSaResponse,
    ) {
        let Some(at) = self
            .pending
            .iter()
            .position(|p| p.initiator && p.kind != ChildKind::Auth)
        else {
            return;
        };
        let answer = match response {
            CreateChildSaResponse::Accept(answer) => answer,
            CreateChildSaResponse::Notify(notifies) => {
                return self.on_child_refusal(ctx, at, &notifies);
            }
        };
        let pending = &mut self.pending[at];
        let chosen = check_response(&pending.proposals, &answer.sa.proposals).ok();
        let ts_ok = answer.ts.as_ref().is_some_and(|(ts_i, ts_r)| {
            crate::ts::within(&ts_i.selectors, &pending.ts_i)
                && crate::ts::within(&ts_r.selectors, &pending.ts_r)
        });
        let transport = has(&answer.notifies, NotifyType::USE_TRANSPORT_MODE);
        let mode_ok = transport == (pending.config.mode == crate::kernel::Mode::Transport);
        let (Some(chosen), Some((ts_i, ts_r)), true, true) = (chosen, answer.ts, ts_ok, mode_ok)
        else {
            self.fail_pending(
                ctx,
                at,
                "peer's Child SA answer is not what we proposed".into(),
            );
            return self.kick(ctx);
        };
        // The key exchange method chosen must be ours, and the peer's value must fit it.
        let group = first_ke(std::slice::from_ref(&chosen));
        let exchange = pending.exchange.get_or_insert_with(Exchange::default);
        exchange.nr = answer.nonce.data;
        let shared = match (group, exchange.ke.take(), answer.ke) {
            (None, _, None) => Ok(None),
            (Some(g), Some(ke), Some(kr)) if ke.group() == g && kr.group == g => ke
                .shared_secret(&kr.data)
                .map(Some)
                .map_err(|e| e.to_string()),
            _ => Err("key exchange of the answer does not match the proposal".into()),
        };
        match shared {
            Ok(shared) => {
                exchange.shared = shared;
                self.install_child(ctx, at, chosen, ts_i.selectors, ts_r.selectors);
            }
            Err(reason) => {
                self.fail_pending(ctx, at, reason);
                self.kick(ctx);
            }
        }
    }

    /// Initiator: our Child SA request was refused.
    fn on_child_refusal(&mut self, ctx: &mut Ctx<'_>, at: usize, notifies: &[notify::Repr]) {
        let pending = &mut self.pending[at];
        if let Some(invalid) = notifies
            .iter()
            .find(|n| n.ty == NotifyType::INVALID_KE_PAYLOAD)
        {
            // RFC 7296 1.3: again with the method the peer wants, if we offered it.
            let wanted =
                <[u8; 2]>::try_from(&invalid.data[..]).map(|b| KeId(u16::from_be_bytes(b)));
            let exchange = pending.exchange.get_or_insert_with(Exchange::default);
            let current = exchange.ke.as_ref().map(KeyExchange::group);
            if let Ok(group) = wanted
                && offers_ke(&pending.config.proposals, group)
                && current != Some(group)
                && let Ok(ke) = KeyExchange::generate(group, ctx.rng)
            {
                exchange.ke = Some(ke);
                // The wanted method first, so the peer finds it.
                let mut proposals = pending.config.proposals.clone();
                proposals.sort_by_key(|p| !offers_ke(std::slice::from_ref(p), group));
                pending.config.proposals = proposals;
                return self.send_create_child(ctx, at);
            }
        }
        let ty = notifies
            .iter()
            .map(|n| n.ty)
            .find(|t| t.is_error())
            .unwrap_or(NotifyType::NO_PROPOSAL_CHOSEN);
        if ty == NotifyType::TEMPORARY_FAILURE || ty == NotifyType::CHILD_SA_NOT_FOUND {
            // RFC 7296 2.25: the peer is rekeying too, or already deleting; a rekey is retried
            // later if the old pair still exists then, a new Child SA after a pause.
            if pending.kind == ChildKind::Create {
                self.jobs
                    .push_back(Job::CreateChild(pending.config.name.clone()));
                self.hold_until = Some(ctx.now + super::retry_pause(ctx));
            }
        }
        self.fail_pending(ctx, at, format!("peer refused the Child SA: {ty}"));
        self.kick(ctx);
    }

    /// Responder: a CREATE_CHILD_SA request for a Child SA.
    pub(crate) fn on_create_child_request(
        &mut self,
        ctx: &mut Ctx<'_>,
        id: MessageId,
        request: CreateChildSa,
        (ts_i, ts_r): (ts::Repr, ts::Repr),
    ) {
        let refuse = |sa: &mut IkeSa, ctx: &mut Ctx<'_>, ty: NotifyType, data: &[u8]| {
            let n = notify::Repr::new(ty, data);
            sa.send_response(
                ctx,
                ExchangeType::CREATE_CHILD_SA,
                id,
                &[Payload::Notify(n)],
            );
        };
        if self.state != State::Established || self.ike_rekey.is_some() {
            return refuse(self, ctx, NotifyType::TEMPORARY_FAILURE, &[]);
        }
        let transport = has(&request.notifies, NotifyType::USE_TRANSPORT_MODE);
        let rekey = request
            .notifies
            .iter()
            .find(|n| n.ty == NotifyType::REKEY_SA);
        let payloads = ChildSaPayloads {
            sa: request.sa,
            ts_i,
            ts_r,
        };
        let chosen = match rekey {
            Some(n) => {
                // The peer names the SPI it receives on: our outbound one.
                let old = self.children.iter().find(|c| {
                    Some(c.spi_out) == n.child_spi() && protocol_id(c.protocol) == n.protocol
                });
                let Some(old) = old else {
                    let n = notify::Repr {
                        ty: NotifyType::CHILD_SA_NOT_FOUND,
                        data: Vec::new(),
                        ..n.clone()
                    };
                    let answer = [Payload::Notify(n)];
                    return self.send_response(ctx, ExchangeType::CREATE_CHILD_SA, id, &answer);
                };
                let (old_spi, reqid) = (old.spi_in, old.reqid);
                self.choose_child(ctx, &payloads, transport, ChildKind::Rekey { old: old_spi })
                    .map(|mut p| {
                        p.reqid = reqid;
                        p
                    })
            }
            None => self.choose_child(ctx, &payloads, transport, ChildKind::Create),
        };
        let mut pending = match chosen {
            Ok(pending) => pending,
            Err(ty) => return refuse(self, ctx, ty, &[]),
        };
        // The key exchange method of the chosen proposal, and the peer's value for it.
        let group = first_ke(&pending.proposals);
        let shared = match (group, &request.ke) {
            (None, None) => None,
            (Some(g), Some(kei)) if kei.group == g => {
                let ke = KeyExchange::generate(g, ctx.rng);
                match ke.and_then(|ke| Ok((ke.shared_secret(&kei.data)?, ke))) {
                    Ok(pair) => Some(pair),
                    Err(_) => return refuse(self, ctx, NotifyType::INVALID_SYNTAX, &[]),
                }
            }
            (Some(g), _) => {
                return refuse(
                    self,
                    ctx,
                    NotifyType::INVALID_KE_PAYLOAD,
                    &g.0.to_be_bytes(),
                );
            }
            (None, Some(_)) => return refuse(self, ctx, NotifyType::NO_PROPOSAL_CHOSEN, &[]),
        };
        let nr = ctx.random(NONCE_LEN);
        if let ChildKind::Rekey { old } = pending.kind {
            self.note_collision(old, child::lower_nonce(&request.nonce.data, &nr).to_vec());
        }
        let (shared, ke) = match shared {
            Some((shared, ke)) => (Some(shared), Some(ke)),
            None => (None, None),
        };
        pending.exchange = Some(Exchange {
            ni: request.nonce.data,
            nr,
            ke,
            shared,
        });
        pending.request = Some(id);
        self.pending.push(pending);
        self.reserve_spi(ctx, self.pending.len() - 1);
    }

    /// The peer rekeys the Child SA we receive on `old` while we rekey it too, or did
    /// (RFC 7296 2.8.1). `theirs` is the lower nonce of the peer's exchange; whichever
    /// exchange has the lowest nonce made the redundant pair, which its initiator deletes.
    fn note_collision(&mut self, old: u32, theirs: Vec<u8>) {
        if let Some(ours) = self
            .pending
            .iter_mut()
            .find(|p| p.initiator && p.kind == (ChildKind::Rekey { old }))
        {
            // Still in flight: settled when our answer comes.
            ours.collision = Some(theirs);
            return;
        }
        // Ours completed already: the successor we made has the same reqid and was made by an
        // exchange we started (its keys do not come from the peer's request).
        let Some(previous) = self.children.iter().find(|c| c.spi_in == old && c.rekeyed) else {
            return;
        };
        let reqid = previous.reqid;
        let ours = self
            .children
            .iter_mut()
            .find(|c| c.reqid == reqid && c.replaces == Some(old) && c.deferred_out.is_none());
        if let Some(ours) = ours
            && ours.nonce_min < theirs
        {
            // We lost: the old pair is the peer's to delete, and once it has, our new pair
            // goes too (we keep sending on it until the peer's pair is complete).
            ours.redundant = true;
            self.jobs.retain(|j| *j != Job::DeleteChild(old));
        }
    }

    /// Responder: the Child SA is installed (or failed); answer the request.
    pub(crate) fn answer_create_child(&mut self, ctx: &mut Ctx<'_>, at: usize, installed: bool) {
        if at >= self.pending.len() {
            return;
        }
        let mut pending = self.pending.remove(at);
        let Some(id) = pending.request else {
            return;
        };
        let exchange = pending.exchange.take().unwrap_or_default();
        let answer = match (&pending.sa, installed) {
            (Some(child), true) => {
                let mut answer = child_answer(child);
                // SA, Nr, [KEr], TSi, TSr: the nonce and key exchange follow the SA.
                let rest = answer.split_off(answer.len() - 2);
                answer.push(Payload::Nonce(nonce::Repr {
                    data: exchange.nr.clone(),
                }));
                if let Some(ke) = &exchange.ke {
                    answer.push(Payload::Ke(ke::Repr {
                        group: ke.group(),
                        data: ke.public_value(),
                    }));
                }
                answer.extend(rest);
                answer
            }
            _ => vec![Payload::Notify(notify::Repr::new(
                NotifyType::NO_PROPOSAL_CHOSEN,
                &[],
            ))],
        };
        self.send_response(ctx, ExchangeType::CREATE_CHILD_SA, id, &answer);
        self.finish_child(ctx, pending, installed);
    }
}

/// The protocol ID of an IPsec protocol, as SA proposals and notifies name it.
pub(crate) fn protocol_id(protocol: crate::kernel::IpsecProtocol) -> ProtocolId {
    match protocol {
        crate::kernel::IpsecProtocol::Esp => ProtocolId::ESP,
        crate::kernel::IpsecProtocol::Ah => ProtocolId::AH,
    }
}
