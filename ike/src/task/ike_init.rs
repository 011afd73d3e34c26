//! IKE_SA_INIT (RFC 7296 1.2): algorithms, key exchange and nonces; the IKE SA's keys follow.

use crate::crypto::ke::KeyExchange;
use crate::crypto::keys::{ike_sa_keys, skeyseed};
use crate::proposal::{check_response, select_proposal};
use crate::sa::{Ctx, DownReason, IkeSa, Keys, State};
use crate::wire::message::Payload;
use crate::wire::rules::{IkeSaInitRequest, IkeSaInitResponse};
use crate::wire::{ExchangeType, Header, IkeSpi, KeId, NotifyType, ke, nonce, notify, sa};

use super::{NONCE_LEN, first_ke, ike_suite, numbered, offers_ke};

impl IkeSa {
    /// Initiator: picks our SPI and sends the IKE_SA_INIT request.
    pub(crate) fn initiate(&mut self, ctx: &mut Ctx<'_>) {
        self.spi_i = random_spi(ctx);
        self.ni = ctx.random(NONCE_LEN);
        self.offered = numbered(&self.conn.proposals, &[]);
        let Some(group) = first_ke(&self.offered) else {
            return self.die(
                ctx,
                DownReason::ProtocolError("no key exchange method configured".into()),
            );
        };
        self.send_init(ctx, group, None);
    }

    /// Sends (or, after INVALID_KE_PAYLOAD or COOKIE, sends again) the IKE_SA_INIT request.
    fn send_init(&mut self, ctx: &mut Ctx<'_>, group: KeId, cookie: Option<Vec<u8>>) {
        let ke = match KeyExchange::generate(group, ctx.rng) {
            Ok(ke) => ke,
            Err(e) => {
                return self.die(
                    ctx,
                    DownReason::ProtocolError(format!("key exchange {group}: {e}")),
                );
            }
        };
        let mut notifies = Vec::new();
        if let Some(cookie) = cookie {
            notifies.push(notify::Repr::new(NotifyType::COOKIE, &cookie));
        }
        notifies.extend(self.nat_notifies());
        notifies.extend(self.hash_notify());
        let request = IkeSaInitRequest {
            sa: sa::Repr {
                proposals: self.offered.clone(),
            },
            ke: ke::Repr {
                group,
                data: ke.public_value(),
            },
            nonce: nonce::Repr {
                data: self.ni.clone(),
            },
            notifies,
            vendor_ids: Vec::new(),
        };
        self.ke = Some(ke);
        // A retry is a new IKE_SA_INIT exchange with Message ID 0 again (RFC 7296 1.2, 2.6).
        self.requests = Default::default();
        let payloads = crate::wire::rules::Typed::IkeSaInitRequest(request).into_payloads();
        self.send_request(ctx, ExchangeType::IKE_SA_INIT, &payloads);
        self.state = State::InitSent;
    }

    /// Initiator: the IKE_SA_INIT response.
    pub(crate) fn on_init_response(
        &mut self,
        ctx: &mut Ctx<'_>,
        header: &Header,
        bytes: &[u8],
        response: IkeSaInitResponse,
    ) {
        let (chosen, kr, nr, notifies) = match response {
            IkeSaInitResponse::Notify(notifies) => return self.on_init_refusal(ctx, &notifies),
            IkeSaInitResponse::Accept {
                sa,
                ke,
                nonce,
                notifies,
                certreqs,
                ..
            } => {
                self.peer_asked_cert = !certreqs.is_empty();
                (sa, ke, nonce, notifies)
            }
        };
        let Ok(proposal) = check_response(&self.offered, &chosen.proposals) else {
            return self.die(
                ctx,
                DownReason::ProtocolError(
                    "IKE_SA_INIT answer picks a proposal we did not offer".into(),
                ),
            );
        };
        let Some((suite, group)) = ike_suite(&proposal) else {
            return self.die(
                ctx,
                DownReason::ProtocolError("IKE_SA_INIT answer picks unusable algorithms".into()),
            );
        };
        let Some(ke) = self
            .ke
            .take()
            .filter(|ke| ke.group() == group && kr.group == group)
        else {
            return self.die(
                ctx,
                DownReason::ProtocolError("key exchange method differs from ours".into()),
            );
        };
        let shared = match ke.shared_secret(&kr.data) {
            Ok(shared) => shared,
            Err(e) => return self.die(ctx, DownReason::ProtocolError(format!("peer's KE: {e}"))),
        };
        if header.spi_r.is_zero() {
            return self.die(
                ctx,
                DownReason::ProtocolError("responder SPI is zero".into()),
            );
        }
        self.spi_r = header.spi_r;
        self.detect_nat(&notifies, header.spi_r);
        self.note_peer_hashes(&notifies);
        self.float();
        self.nr = nr.data;
        self.init_response = bytes.to_vec();
        let seed = skeyseed(suite.prf, &self.ni, &self.nr, &shared);
        match ike_sa_keys(&suite, &seed, &self.ni, &self.nr, self.spi_i, self.spi_r) {
            Ok(ike) => self.keys = Some(Keys { suite, group, ike }),
            Err(e) => {
                return self.die(
                    ctx,
                    DownReason::ProtocolError(format!("key derivation: {e}")),
                );
            }
        }
        self.start_first_child(ctx);
    }

    /// Initiator: an IKE_SA_INIT answered with notifies only.
    fn on_init_refusal(&mut self, ctx: &mut Ctx<'_>, notifies: &[notify::Repr]) {
        if let Some(cookie) = notifies.iter().find(|n| n.ty == NotifyType::COOKIE) {
            // RFC 7296 2.6: send the request again with the cookie first; the same nonce.
            let group = self.ke.as_ref().map_or(KeId::NONE, KeyExchange::group);
            return self.send_init(ctx, group, Some(cookie.data.clone()));
        }
        if let Some(invalid) = notifies
            .iter()
            .find(|n| n.ty == NotifyType::INVALID_KE_PAYLOAD)
        {
            // RFC 7296 1.2: retry with the group the responder wants, if we offered it.
            let wanted =
                <[u8; 2]>::try_from(&invalid.data[..]).map(|b| KeId(u16::from_be_bytes(b)));
            let current = self.ke.as_ref().map(KeyExchange::group);
            if let Ok(group) = wanted
                && offers_ke(&self.offered, group)
                && current != Some(group)
            {
                return self.send_init(ctx, group, None);
            }
        }
        let ty = notifies
            .iter()
            .map(|n| n.ty)
            .find(|t| t.is_error())
            .unwrap_or(NotifyType::NO_PROPOSAL_CHOSEN);
        self.die(ctx, DownReason::Refused(ty));
    }

    /// Responder: the IKE_SA_INIT request. On refusal the SA answers and dies at once, keeping
    /// no state (RFC 7296 2.6).
    pub(crate) fn on_init_request(
        &mut self,
        ctx: &mut Ctx<'_>,
        header: &Header,
        bytes: &[u8],
        request: IkeSaInitRequest,
    ) {
        self.spi_i = header.spi_i;
        let Some(proposal) = select_proposal(
            &request.sa.proposals,
            &self.conn.proposals,
            self.conn.preference,
        ) else {
            self.no_proposal_chosen(
                ctx,
                ExchangeType::IKE_SA_INIT,
                &request.sa.proposals,
                self.conn.proposals.clone(),
            );
            return self.refuse_init(
                ctx,
                header,
                notify::Repr::new(NotifyType::NO_PROPOSAL_CHOSEN, &[]),
            );
        };
        let Some((suite, group)) = ike_suite(&proposal) else {
            return self.refuse_init(
                ctx,
                header,
                notify::Repr::new(NotifyType::NO_PROPOSAL_CHOSEN, &[]),
            );
        };
        if request.ke.group != group {
            let wanted = notify::Repr::new(NotifyType::INVALID_KE_PAYLOAD, &group.0.to_be_bytes());
            return self.refuse_init(ctx, header, wanted);
        }
        let ke = KeyExchange::generate(group, ctx.rng);
        let shared = ke
            .as_ref()
            .ok()
            .map(|ke| ke.shared_secret(&request.ke.data));
        let (Ok(ke), Some(Ok(shared))) = (ke, shared) else {
            return self.refuse_init(
                ctx,
                header,
                notify::Repr::new(NotifyType::INVALID_SYNTAX, &[]),
            );
        };
        self.detect_nat(&request.notifies, IkeSpi::ZERO);
        self.note_peer_hashes(&request.notifies);
        self.spi_r = random_spi(ctx);
        self.ni = request.nonce.data;
        self.nr = ctx.random(NONCE_LEN);
        self.init_request = bytes.to_vec();
        let seed = skeyseed(suite.prf, &self.ni, &self.nr, &shared);
        let Ok(ike) = ike_sa_keys(&suite, &seed, &self.ni, &self.nr, self.spi_i, self.spi_r) else {
            return self.refuse_init(
                ctx,
                header,
                notify::Repr::new(NotifyType::NO_PROPOSAL_CHOSEN, &[]),
            );
        };
        self.keys = Some(Keys { suite, group, ike });
        let mut answer = vec![
            Payload::Sa(sa::Repr {
                proposals: vec![proposal],
            }),
            Payload::Ke(ke::Repr {
                group,
                data: ke.public_value(),
            }),
            Payload::Nonce(nonce::Repr {
                data: self.nr.clone(),
            }),
        ];
        // Only to a peer that spoke of NAT first (RFC 7296 2.23).
        if self.nat.supported {
            answer.extend(self.nat_notifies().map(Payload::Notify));
        }
        // RFC 7427 4: announced back to a peer that announced its own.
        if self.peer_hashes.is_some() {
            answer.extend(self.hash_notify().map(Payload::Notify));
        }
        // RFC 7296 1.2, 3.7: the responder asks for a certificate here, the initiator in
        // IKE_AUTH.
        answer.extend(self.certreq().map(Payload::CertReq));
        self.send_response(ctx, ExchangeType::IKE_SA_INIT, header.message_id, &answer);
        self.state = State::InitDone;
    }

    /// Tells the operator what the peer offered and what we have, as we refuse it.
    pub(crate) fn no_proposal_chosen(
        &self,
        ctx: &mut Ctx<'_>,
        exchange: ExchangeType,
        theirs: &[crate::wire::sa::Proposal],
        ours: Vec<crate::wire::sa::Proposal>,
    ) {
        ctx.event(crate::sa::Event::NoProposalChosen {
            connection: self.conn.name.clone(),
            exchange,
            theirs: theirs.to_vec(),
            ours,
        });
    }

    /// Responder: answers IKE_SA_INIT with one notify and forgets the SA.
    fn refuse_init(&mut self, ctx: &mut Ctx<'_>, header: &Header, notify: notify::Repr) {
        self.spi_r = IkeSpi::ZERO;
        self.send_response(
            ctx,
            ExchangeType::IKE_SA_INIT,
            header.message_id,
            &[Payload::Notify(notify)],
        );
        self.state = State::Dead;
    }
}

/// A random, non-zero IKE SPI.
pub(crate) fn random_spi(ctx: &mut Ctx<'_>) -> IkeSpi {
    loop {
        let mut spi = [0u8; 8];
        ctx.rng.fill(&mut spi);
        if spi != [0; 8] {
            return IkeSpi(spi);
        }
    }
}
