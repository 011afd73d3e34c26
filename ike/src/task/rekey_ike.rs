//! CREATE_CHILD_SA replacing the IKE SA (RFC 7296 1.3.2, 2.18): new SPIs, nonces and a new
//! key exchange; SKEYSEED comes from the old SK_d. The new IKE SA takes over the Child SAs
//! and starts its Message IDs at zero; the rekey's initiator deletes the old IKE SA.
//!
//! Colliding IKE SA rekeys, and an IKE SA rekey crossing a Child SA exchange, are answered
//! with TEMPORARY_FAILURE (RFC 7296 2.25) and retried after a random pause.

use crate::crypto::ke::KeyExchange;
use crate::crypto::keys::{ike_sa_keys, skeyseed_rekey};
use crate::proposal::{check_response, select_proposal};
use crate::sa::{Ctx, DownReason, Event, IkeSa, Job, Keys, Role, State};
use crate::wire::message::Payload;
use crate::wire::rules::{CreateChildSa, CreateChildSaResponse, Typed};
use crate::wire::sa::Proposal;
use crate::wire::{ExchangeType, IkeSpi, KeId, MessageId, NotifyType, ke, nonce, notify, sa};

use super::{NONCE_LEN, ike_suite, numbered, offers_ke};

/// How long a replaced IKE SA waits for the Delete from the rekey's initiator.
const REPLACED_LINGER: std::time::Duration = std::time::Duration::from_secs(30);

/// Our IKE SA rekey in flight.
#[derive(Debug)]
pub struct IkeRekey {
    spi: IkeSpi,
    ni: Vec<u8>,
    ke: KeyExchange,
    offered: Vec<Proposal>,
}

impl IkeSa {
    /// Arms the IKE SA's rekey and reauthentication timers (swanctl's `rekey_time` and
    /// `reauth_time`, each less up to `rand_time`) and its hard end, `over_time` after the
    /// first of them, as strongSwan does. A reauthentication already due (inherited by a
    /// rekeyed IKE SA, which was not authenticated afresh) stays.
    pub(crate) fn schedule_ike_rekey(&mut self, ctx: &mut Ctx<'_>) {
        let (rekey, reauth, spread) = (
            self.conn.rekey_time,
            self.conn.reauth_time,
            self.conn.rand_time,
        );
        self.rekey_at = (!rekey.is_zero()).then(|| ctx.now + ctx.jittered(rekey, spread));
        if self.reauth_at.is_none() && !reauth.is_zero() {
            self.reauth_at = Some(ctx.now + ctx.jittered(reauth, spread));
        }
        let first = [self.rekey_at, self.reauth_at].into_iter().flatten().min();
        self.expire_at = first.map(|t| t + self.conn.over_time);
    }

    /// Initiator: sends the request for a new IKE SA.
    pub(crate) fn start_rekey_ike(&mut self, ctx: &mut Ctx<'_>) {
        let Some(group) = self.keys.as_ref().map(|k| k.group) else {
            return;
        };
        self.send_rekey_ike(ctx, group);
    }

    fn send_rekey_ike(&mut self, ctx: &mut Ctx<'_>, group: KeId) {
        let ke = match KeyExchange::generate(group, ctx.rng) {
            Ok(ke) => ke,
            Err(_) => return,
        };
        let spi = super::ike_init::random_spi(ctx);
        // The method we use now first, so the peer finds the key exchange we send.
        let mut proposals = self.conn.proposals.clone();
        proposals.sort_by_key(|p| !offers_ke(std::slice::from_ref(p), group));
        let offered = numbered(&proposals, &spi.0);
        let ni = ctx.random(NONCE_LEN);
        let request = CreateChildSa {
            sa: sa::Repr {
                proposals: offered.clone(),
            },
            nonce: nonce::Repr { data: ni.clone() },
            ke: Some(ke::Repr {
                group,
                data: ke.public_value(),
            }),
            ts: None,
            notifies: Vec::new(),
            vendor_ids: Vec::new(),
        };
        self.ike_rekey = Some(IkeRekey {
            spi,
            ni,
            ke,
            offered,
        });
        let payloads = Typed::CreateChildSaRequest(request).into_payloads();
        self.send_request(ctx, ExchangeType::CREATE_CHILD_SA, &payloads);
    }

    /// Initiator: the answer to our IKE SA rekey.
    pub(crate) fn on_rekey_ike_response(
        &mut self,
        ctx: &mut Ctx<'_>,
        response: CreateChildSaResponse,
    ) {
        let Some(rekey) = self.ike_rekey.take() else {
            return;
        };
        let answer = match response {
            CreateChildSaResponse::Accept(answer) => answer,
            CreateChildSaResponse::Notify(notifies) => {
                return self.on_rekey_ike_refusal(ctx, &rekey, &notifies);
            }
        };
        let chosen = check_response(&rekey.offered, &answer.sa.proposals).ok();
        let successor = chosen.and_then(|chosen| {
            let peer_spi = IkeSpi(<[u8; 8]>::try_from(&chosen.spi[..]).ok()?);
            let (suite, group) = ike_suite(&chosen)?;
            let kr = answer.ke.as_ref().filter(|kr| kr.group == group)?;
            if rekey.ke.group() != group || peer_spi.is_zero() {
                return None;
            }
            let shared = rekey.ke.shared_secret(&kr.data).ok()?;
            let (ni, nr) = (rekey.ni.as_slice(), answer.nonce.data.as_slice());
            let keys = self.successor_keys(suite, group, &shared, ni, nr, rekey.spi, peer_spi)?;
            Some((keys, peer_spi))
        });
        let Some((keys, peer_spi)) = successor else {
            // Keep the IKE SA we have; try again later.
            self.rekey_at = Some(ctx.now + super::child_install::REKEY_RETRY);
            return self.kick(ctx);
        };
        let (ni, nr) = (rekey.ni, answer.nonce.data);
        self.hand_over(ctx, Role::Initiator, (rekey.spi, peer_spi), keys, ni, nr);
        // RFC 7296 1.3.2: the initiator of the rekey deletes the old IKE SA.
        self.send_delete_ike(ctx);
    }

    fn on_rekey_ike_refusal(
        &mut self,
        ctx: &mut Ctx<'_>,
        rekey: &IkeRekey,
        notifies: &[notify::Repr],
    ) {
        if let Some(invalid) = notifies
            .iter()
            .find(|n| n.ty == NotifyType::INVALID_KE_PAYLOAD)
        {
            let wanted =
                <[u8; 2]>::try_from(&invalid.data[..]).map(|b| KeId(u16::from_be_bytes(b)));
            if let Ok(group) = wanted
                && offers_ke(&self.conn.proposals, group)
                && group != rekey.ke.group()
            {
                return self.send_rekey_ike(ctx, group);
            }
        }
        if notifies
            .iter()
            .any(|n| n.ty == NotifyType::TEMPORARY_FAILURE)
        {
            self.jobs.push_back(Job::RekeyIke);
            self.hold_until = Some(ctx.now + super::retry_pause(ctx));
        } else {
            self.rekey_at = Some(ctx.now + super::child_install::REKEY_RETRY);
        }
        self.kick(ctx);
    }

    /// Responder: a CREATE_CHILD_SA request for a new IKE SA.
    pub(crate) fn on_rekey_ike_request(
        &mut self,
        ctx: &mut Ctx<'_>,
        id: MessageId,
        request: CreateChildSa,
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
        // Our own request in flight would be answered on an IKE SA that no longer holds the
        // Child SAs it concerns (RFC 7296 2.25).
        let busy = !self.pending.is_empty() || self.ike_rekey.is_some() || !self.requests.is_idle();
        if self.state != State::Established || busy {
            return refuse(self, ctx, NotifyType::TEMPORARY_FAILURE, &[]);
        }
        let chosen = select_proposal(
            &request.sa.proposals,
            &self.conn.proposals,
            self.conn.preference,
        );
        let Some((chosen, (suite, group))) = chosen.and_then(|c| Some((c.clone(), ike_suite(&c)?)))
        else {
            let ours = self.conn.proposals.clone();
            self.no_proposal_chosen(
                ctx,
                ExchangeType::CREATE_CHILD_SA,
                &request.sa.proposals,
                ours,
            );
            return refuse(self, ctx, NotifyType::NO_PROPOSAL_CHOSEN, &[]);
        };
        let peer_spi = <[u8; 8]>::try_from(&chosen.spi[..]).map(IkeSpi);
        let Some(kei) = request.ke.as_ref().filter(|k| k.group == group) else {
            return refuse(
                self,
                ctx,
                NotifyType::INVALID_KE_PAYLOAD,
                &group.0.to_be_bytes(),
            );
        };
        let ke = KeyExchange::generate(group, ctx.rng);
        let shared = ke.as_ref().ok().map(|ke| ke.shared_secret(&kei.data));
        let (Ok(peer_spi), Ok(ke), Some(Ok(shared))) = (peer_spi, ke, shared) else {
            return refuse(self, ctx, NotifyType::INVALID_SYNTAX, &[]);
        };
        if peer_spi.is_zero() {
            return refuse(self, ctx, NotifyType::INVALID_SYNTAX, &[]);
        }
        let spi = super::ike_init::random_spi(ctx);
        let nr = ctx.random(NONCE_LEN);
        let ni = request.nonce.data;
        let Some(keys) = self.successor_keys(suite, group, &shared, &ni, &nr, peer_spi, spi) else {
            return refuse(self, ctx, NotifyType::NO_PROPOSAL_CHOSEN, &[]);
        };
        let answer = [
            Payload::Sa(sa::Repr {
                proposals: vec![Proposal {
                    spi: spi.0.to_vec(),
                    ..chosen
                }],
            }),
            Payload::Nonce(nonce::Repr { data: nr.clone() }),
            Payload::Ke(ke::Repr {
                group,
                data: ke.public_value(),
            }),
        ];
        self.send_response(ctx, ExchangeType::CREATE_CHILD_SA, id, &answer);
        self.hand_over(ctx, Role::Responder, (peer_spi, spi), keys, ni, nr);
        // The initiator deletes this one; if its Delete never comes, it goes quietly.
        self.rekey_at = Some(ctx.now + REPLACED_LINGER);
    }

    /// The keys of the IKE SA replacing this one (RFC 7296 2.18).
    #[allow(clippy::too_many_arguments)]
    fn successor_keys(
        &self,
        suite: crate::crypto::keys::IkeSuite,
        group: KeId,
        shared: &crate::crypto::Secret,
        ni: &[u8],
        nr: &[u8],
        spi_i: IkeSpi,
        spi_r: IkeSpi,
    ) -> Option<Keys> {
        let old = self.keys.as_ref()?;
        let seed = skeyseed_rekey(old.suite.prf, &old.ike.sk_d, shared, ni, nr);
        let ike = ike_sa_keys(&suite, &seed, ni, nr, spi_i, spi_r).ok()?;
        Some(Keys { suite, group, ike })
    }

    /// Creates the new IKE SA, in the role of the rekey's initiator or responder, and gives it
    /// the Child SAs; this one is left to be deleted.
    fn hand_over(
        &mut self,
        ctx: &mut Ctx<'_>,
        role: Role,
        (spi_i, spi_r): (IkeSpi, IkeSpi),
        keys: Keys,
        ni: Vec<u8>,
        nr: Vec<u8>,
    ) {
        let mut next = IkeSa::new(self.conn.clone(), role, self.local, self.remote, ctx.now);
        next.spi_i = spi_i;
        next.spi_r = spi_r;
        next.keys = Some(keys);
        next.ni = ni;
        next.nr = nr;
        next.state = State::Established;
        next.established_at = Some(ctx.now);
        next.nat = self.nat;
        next.reauth_at = self.reauth_at;
        next.peer_id = self.peer_id.clone();
        next.keepalive_interval = self.keepalive_interval;
        next.children = std::mem::take(&mut self.children);
        next.jobs = self
            .jobs
            .drain(..)
            .filter(|j| *j != Job::RekeyIke)
            .collect();
        next.schedule_ike_rekey(ctx);
        ctx.event(Event::IkeRekeyed {
            connection: self.conn.name.clone(),
            old: (self.spi_i, self.spi_r),
            new: (spi_i, spi_r),
        });
        ctx.spawned.push(next);
        self.state = State::Rekeyed;
        self.rekey_at = None;
    }

    /// A replaced IKE SA whose Delete never came.
    pub(crate) fn on_replaced_timeout(&mut self, ctx: &mut Ctx<'_>) {
        self.die(ctx, DownReason::Rekeyed);
    }
}
