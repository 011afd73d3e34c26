//! IKE_AUTH (RFC 7296 1.2, 2.15) with pre-shared keys or certificates, carrying the first
//! Child SA. A Child SA that cannot be agreed on does not take the IKE SA down (RFC 7296
//! 2.21.3).

use crate::auth::octets::{SignedOctets, Signer};
use crate::auth::psk;
use crate::config::Auth;
use crate::crypto::prf::Prf;
use crate::proposal::{check_response, select_proposal};
use crate::sa::child::{ChildKind, PendingChild};
use crate::sa::{Ctx, DownReason, Event, IkeSa, Job, Role, State};
use crate::wire::message::Payload;
use crate::wire::rules::{ChildSaPayloads, IkeAuthRequest, IkeAuthResponse, Informational, Typed};
use crate::wire::{ExchangeType, MessageId, NotifyType, auth, cert, id, notify, sa, ts};

use super::pubkey::{self, OurProof};
use super::{numbered, without_ke};

impl IkeSa {
    /// The signed octets of one side's AUTH (RFC 7296 2.15), ours or the peer's (with the
    /// identity it sent), and the PRF a pre-shared key is applied with.
    fn signed_octets(&self, ours: bool, id: &id::Repr) -> Option<(Prf, SignedOctets)> {
        let keys = self.keys.as_ref()?;
        let initiators = ours == (self.role == Role::Initiator);
        let (sk_p, init_message, peer_nonce) = if initiators {
            (&keys.ike.sk_pi, &self.init_request, &self.nr)
        } else {
            (&keys.ike.sk_pr, &self.init_response, &self.ni)
        };
        let signer = Signer {
            prf: keys.suite.prf,
            sk_p,
            init_message,
            peer_nonce,
            id,
            int_auth: &[],
        };
        Some((keys.suite.prf, signer.signed_octets()))
    }

    /// The AUTH payload proving our identity, and the certificates that back it.
    fn our_auth(&self) -> Result<OurProof, String> {
        let (prf, octets) = self
            .signed_octets(true, &self.conn.local_id)
            .ok_or("no IKE SA keys")?;
        match &self.conn.local_auth {
            Auth::Psk(secret) => Ok(OurProof {
                auth: psk::auth_payload(prf, secret, &octets),
                certs: Vec::new(),
            }),
            Auth::Pubkey(ours) => {
                let mut proof = pubkey::sign_auth(ours, self.peer_hashes.as_deref(), &octets)?;
                if !self.sends_certs() {
                    proof.certs.clear();
                }
                Ok(proof)
            }
        }
    }

    /// Checks the peer's identity and AUTH payload (with its certificates, for public-key
    /// authentication); the error says which check failed and why.
    fn check_peer_auth(
        &self,
        ctx: &Ctx<'_>,
        peer_id: &id::Repr,
        certs: &[cert::Repr],
        received: &auth::Repr,
    ) -> Result<(), String> {
        if let Some(want) = self.conn.remote_id.as_ref()
            && !want.matches(peer_id)
        {
            return Err(format!(
                "peer's identity {peer_id} is not the configured {want}"
            ));
        }
        let (prf, octets) = self.signed_octets(false, peer_id).ok_or("no IKE SA keys")?;
        match &self.conn.remote_auth {
            Auth::Psk(secret) => psk::verify_payload(prf, secret, &octets, received)
                .map_err(|e| format!("pre-shared key AUTH does not verify: {e}")),
            Auth::Pubkey(peer) => {
                pubkey::verify_pubkey(ctx, peer, peer_id, certs, received, &octets)
            }
        }
    }

    /// Initiator: the first Child SA's SPI is reserved; send IKE_AUTH.
    pub(crate) fn send_auth(&mut self, ctx: &mut Ctx<'_>) {
        let proof = match self.our_auth() {
            Ok(proof) => proof,
            Err(e) => {
                self.release_pending(ctx);
                let reason = format!("cannot prove our identity: {e}");
                return self.die(ctx, DownReason::ProtocolError(reason));
            }
        };
        let mut request = IkeAuthRequest {
            id_i: Some(self.conn.local_id.clone()),
            certs: proof.certs,
            certreqs: self.certreq().into_iter().collect(),
            id_r: self.conn.remote_id.clone(),
            auth: Some(proof.auth),
            notifies: self
                .initial_contact
                .then(|| notify::Repr::new(NotifyType::INITIAL_CONTACT, &[]))
                .into_iter()
                .collect(),
            ..IkeAuthRequest::default()
        };
        if let Some(pending) = self.pending.iter_mut().find(|p| p.kind == ChildKind::Auth) {
            let spi = pending.spi_in.unwrap_or_default().to_be_bytes();
            pending.proposals = numbered(&without_ke(&pending.config.proposals), &spi);
            if pending.config.mode == crate::kernel::Mode::Transport {
                request
                    .notifies
                    .push(notify::Repr::new(NotifyType::USE_TRANSPORT_MODE, &[]));
            }
            request.child = Some(ChildSaPayloads {
                sa: sa::Repr {
                    proposals: pending.proposals.clone(),
                },
                ts_i: ts::Repr {
                    selectors: pending.ts_i.clone(),
                },
                ts_r: ts::Repr {
                    selectors: pending.ts_r.clone(),
                },
            });
        }
        let payloads = Typed::IkeAuthRequest(request).into_payloads();
        self.send_request(ctx, ExchangeType::IKE_AUTH, &payloads);
        self.state = State::AuthSent;
    }

    /// Initiator: the IKE_AUTH response.
    pub(crate) fn on_auth_response(&mut self, ctx: &mut Ctx<'_>, response: IkeAuthResponse) {
        let (Some(id_r), Some(auth)) = (&response.id_r, &response.auth) else {
            let refused = response
                .notifies
                .iter()
                .map(|n| n.ty)
                .find(|t| t.is_error());
            self.release_pending(ctx);
            let reason = refused.map_or_else(
                || DownReason::AuthenticationFailed("responder sent no IDr and AUTH".into()),
                DownReason::Refused,
            );
            return self.die(ctx, reason);
        };
        if let Err(why) = self.check_peer_auth(ctx, id_r, &response.certs, auth) {
            self.release_pending(ctx);
            // RFC 7296 2.21.2: the initiator may tell the responder in an INFORMATIONAL of
            // its own; sent once, as the IKE SA ends here.
            let notice = Typed::InformationalRequest(Informational {
                notifies: vec![notify::Repr::new(NotifyType::AUTHENTICATION_FAILED, &[])],
                ..Informational::default()
            });
            self.send_request(ctx, ExchangeType::INFORMATIONAL, &notice.into_payloads());
            return self.die(ctx, DownReason::AuthenticationFailed(why));
        }
        self.peer_id = Some(id_r.clone());
        self.establish(ctx);
        // The connection's other Child SAs follow, one CREATE_CHILD_SA each (not when this
        // IKE SA is for one trapped child).
        if self.first_child.is_none() {
            let others = self.conn.children.iter().skip(1);
            let others: Vec<Job> = others.map(|c| Job::CreateChild(c.name.clone())).collect();
            self.jobs.extend(others);
        }
        let Some(child) = response.child else {
            let reason = child_refusal(&response.notifies);
            return self.fail_pending(ctx, 0, reason);
        };
        let transport = has(&response.notifies, NotifyType::USE_TRANSPORT_MODE);
        self.accept_child(ctx, child, transport);
    }

    /// Initiator: checks the responder's Child SA choice and installs it.
    fn accept_child(&mut self, ctx: &mut Ctx<'_>, child: ChildSaPayloads, transport: bool) {
        let Some(pending) = self.pending.first() else {
            return;
        };
        let chosen = check_response(&pending.proposals, &child.sa.proposals).ok();
        let ts_ok = crate::ts::within(&child.ts_i.selectors, &pending.ts_i)
            && crate::ts::within(&child.ts_r.selectors, &pending.ts_r);
        let mode_ok = transport == (pending.config.mode == crate::kernel::Mode::Transport);
        match chosen {
            Some(chosen) if ts_ok && mode_ok => {
                self.install_child(ctx, 0, chosen, child.ts_i.selectors, child.ts_r.selectors);
            }
            _ => self.fail_pending(
                ctx,
                0,
                "responder's Child SA answer is not what we proposed".into(),
            ),
        }
    }

    /// Responder: the IKE_AUTH request.
    pub(crate) fn on_auth_request(
        &mut self,
        ctx: &mut Ctx<'_>,
        id: MessageId,
        request: IkeAuthRequest,
    ) {
        self.peer_asked_cert = !request.certreqs.is_empty();
        let checked = match (&request.id_i, &request.auth) {
            (Some(id_i), Some(auth)) => self.check_peer_auth(ctx, id_i, &request.certs, auth),
            _ => Err("initiator sent no IDi and AUTH".into()),
        };
        if checked.is_ok() {
            self.peer_id = request.id_i.clone();
            self.peer_initial_contact = has(&request.notifies, NotifyType::INITIAL_CONTACT);
        }
        let proof = checked.and_then(|()| {
            self.our_auth()
                .map_err(|e| format!("cannot prove our identity: {e}"))
        });
        let proof = match proof {
            Ok(proof) => proof,
            Err(why) => {
                let refusal = [Payload::Notify(notify::Repr::new(
                    NotifyType::AUTHENTICATION_FAILED,
                    &[],
                ))];
                self.send_response(ctx, ExchangeType::IKE_AUTH, id, &refusal);
                return self.die(ctx, DownReason::AuthenticationFailed(why));
            }
        };
        // RFC 7296 1.2: IDr, [CERT,] AUTH.
        let mut answer = vec![Payload::IdR(self.conn.local_id.clone())];
        answer.extend(proof.certs.into_iter().map(Payload::Cert));
        answer.push(Payload::Auth(proof.auth));
        let transport = has(&request.notifies, NotifyType::USE_TRANSPORT_MODE);
        let Some(child) = request.child else {
            self.send_response(ctx, ExchangeType::IKE_AUTH, id, &answer);
            return self.establish(ctx);
        };
        match self.choose_child(ctx, &child, transport, ChildKind::Auth) {
            Ok(mut pending) => {
                pending.request = Some(id);
                pending.answer = answer;
                self.pending.push(pending);
                self.state = State::AuthInstalling;
                self.reserve_spi(ctx, self.pending.len() - 1);
            }
            Err(refusal) => {
                let mut answer = answer;
                answer.push(Payload::Notify(notify::Repr::new(refusal, &[])));
                self.send_response(ctx, ExchangeType::IKE_AUTH, id, &answer);
                self.establish(ctx);
            }
        }
    }

    /// Responder: the first configured Child SA whose proposals and selectors fit the request
    /// (with key exchange methods only for CREATE_CHILD_SA: RFC 7296 1.2).
    pub(crate) fn choose_child(
        &mut self,
        ctx: &mut Ctx<'_>,
        child: &ChildSaPayloads,
        transport: bool,
        kind: ChildKind,
    ) -> Result<PendingChild, NotifyType> {
        let (local, remote) = (self.local.ip(), self.remote.ip());
        let mut refusal = NotifyType::NO_PROPOSAL_CHOSEN;
        // For the log: the selectors of the children whose proposals fit.
        let mut narrowed_away = Vec::new();
        // A rekey keeps the configuration of the Child SA it replaces.
        let only = match kind {
            ChildKind::Rekey { old } => self
                .children
                .iter()
                .find(|c| c.spi_in == old)
                .map(|c| c.name.clone()),
            _ => None,
        };
        for config in &self.conn.children {
            if only.as_ref().is_some_and(|name| *name != config.name) {
                continue;
            }
            if transport != (config.mode == crate::kernel::Mode::Transport) {
                continue;
            }
            let ours = if kind == ChildKind::Auth {
                without_ke(&config.proposals)
            } else {
                config.proposals.clone()
            };
            let Some(chosen) = select_proposal(&child.sa.proposals, &ours, self.conn.preference)
            else {
                continue;
            };
            // TSi are the initiator's (the peer's) selectors, TSr ours.
            let ts_i = crate::ts::narrow(&child.ts_i.selectors, &config.remote_selectors(remote));
            let ts_r = crate::ts::narrow(&child.ts_r.selectors, &config.local_selectors(local));
            if ts_i.is_empty() || ts_r.is_empty() {
                refusal = NotifyType::TS_UNACCEPTABLE;
                narrowed_away.push((
                    config.local_selectors(local),
                    config.remote_selectors(remote),
                ));
                continue;
            }
            let reqid = ctx.reqid_for(&self.conn.name, config);
            let mut pending = PendingChild::new(config.clone(), kind, false, reqid);
            pending.proposals = vec![chosen];
            pending.ts_i = ts_i;
            pending.ts_r = ts_r;
            return Ok(pending);
        }
        if refusal == NotifyType::NO_PROPOSAL_CHOSEN {
            let ours = self
                .conn
                .children
                .iter()
                .filter(|c| only.as_ref().is_none_or(|name| *name == c.name))
                .flat_map(|c| c.proposals.iter().cloned())
                .collect();
            let exchange = match kind {
                ChildKind::Auth => ExchangeType::IKE_AUTH,
                _ => ExchangeType::CREATE_CHILD_SA,
            };
            self.no_proposal_chosen(ctx, exchange, &child.sa.proposals, ours);
        } else if refusal == NotifyType::TS_UNACCEPTABLE {
            ctx.event(crate::sa::Event::TsUnacceptable {
                connection: self.conn.name.clone(),
                ts_i: child.ts_i.selectors.clone(),
                ts_r: child.ts_r.selectors.clone(),
                ours: narrowed_away,
            });
        }
        Err(refusal)
    }

    /// Responder: the Child SA is installed, or failed; answer IKE_AUTH.
    pub(crate) fn answer_auth(&mut self, ctx: &mut Ctx<'_>, at: usize, installed: bool) {
        if at >= self.pending.len() {
            return;
        }
        let pending = self.pending.remove(at);
        let Some(id) = pending.request else {
            return;
        };
        let mut answer = pending.answer.clone();
        match (&pending.sa, installed) {
            (Some(child), true) => answer.extend(child_answer(child)),
            _ => answer.push(Payload::Notify(notify::Repr::new(
                NotifyType::NO_PROPOSAL_CHOSEN,
                &[],
            ))),
        }
        self.send_response(ctx, ExchangeType::IKE_AUTH, id, &answer);
        self.establish(ctx);
        self.finish_child(ctx, pending, installed);
    }

    /// The IKE SA is authenticated both ways.
    fn establish(&mut self, ctx: &mut Ctx<'_>) {
        if self.state == State::Established {
            return;
        }
        self.state = State::Established;
        self.established_at = Some(ctx.now);
        self.schedule_ike_rekey(ctx);
        ctx.event(Event::IkeUp {
            connection: self.conn.name.clone(),
            spi_i: self.spi_i,
            spi_r: self.spi_r,
        });
    }
}

/// The responder's half of an agreed Child SA: USE_TRANSPORT_MODE if so, SA, TSi, TSr.
pub(crate) fn child_answer(child: &crate::sa::child::ChildSa) -> Vec<Payload> {
    let mut answer = Vec::new();
    if child.mode == crate::kernel::Mode::Transport {
        answer.push(Payload::Notify(notify::Repr::new(
            NotifyType::USE_TRANSPORT_MODE,
            &[],
        )));
    }
    answer.extend([
        Payload::Sa(sa::Repr {
            proposals: vec![child.proposal.clone()],
        }),
        Payload::TsI(ts::Repr {
            selectors: child.remote_ts.clone(),
        }),
        Payload::TsR(ts::Repr {
            selectors: child.local_ts.clone(),
        }),
    ]);
    answer
}

/// Why the responder gave no Child SA, from its notifies.
fn child_refusal(notifies: &[notify::Repr]) -> String {
    match notifies.iter().map(|n| n.ty).find(|t| t.is_error()) {
        Some(ty) => format!("peer refused the Child SA: {ty}"),
        None => "peer answered without a Child SA".into(),
    }
}

pub(crate) fn has(notifies: &[notify::Repr], ty: NotifyType) -> bool {
    notifies.iter().any(|n| n.ty == ty)
}
