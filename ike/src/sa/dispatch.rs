//! Incoming messages of an IKE SA: authenticate, check the Message ID, type the payloads by
//! their exchange's rules, and hand them to the exchange that waits for them. Anything that
//! fails before authentication is dropped without an answer (RFC 7296 2.21).

use std::net::SocketAddr;

use crate::crypto::sk;
use crate::wire::message::Message;
use crate::wire::rules::Typed;
use crate::wire::{ExchangeType, Header, NotifyType, Payload, notify};

use super::window::RequestCheck;
use super::{Ctx, IkeSa, Role, State};

impl IkeSa {
    /// A datagram for this IKE SA.
    pub(crate) fn on_datagram(
        &mut self,
        ctx: &mut Ctx<'_>,
        (local, remote): (SocketAddr, SocketAddr),
        header: &Header,
        bytes: &[u8],
    ) {
        if header.exchange == ExchangeType::IKE_SA_INIT {
            return self.on_init_datagram(ctx, header, bytes);
        }
        let Some(keys) = self.sk_keys(false) else {
            return;
        };
        let response = header.flags.is_response();
        let inner = match sk::unprotect(&keys, bytes) {
            Ok(opened) => Ok(opened.inner),
            Err(crate::crypto::Error::Inner(e)) => Err(e),
            Err(_) => return,
        };
        self.last_heard = ctx.now;
        if response {
            if !self.requests.is_awaited(header.message_id) {
                return;
            }
            self.requests.answered();
        } else {
            match self.responses.check(header.message_id) {
                RequestCheck::New => {}
                RequestCheck::Retransmit(cached) => return self.transmit(ctx, cached),
                RequestCheck::Drop => return,
            }
        }
        // Authentic, and new: the address it came from is the peer's now.
        self.follow_peer(local, remote);
        match inner.and_then(|inner| Typed::from_payloads(header.exchange, response, inner)) {
            Ok(typed) => self.on_typed(ctx, header, typed),
            Err(crate::wire::Error::UnsupportedCritical(ty)) if !response => {
                // RFC 7296 2.5: refuse the request, naming the payload type.
                let n = notify::Repr::new(NotifyType::UNSUPPORTED_CRITICAL_PAYLOAD, &[ty.0]);
                self.send_response(
                    ctx,
                    header.exchange,
                    header.message_id,
                    &[Payload::Notify(n)],
                );
            }
            Err(_) if !response => {
                // RFC 7296 2.21.4: authenticated but malformed.
                let n = notify::Repr::new(NotifyType::INVALID_SYNTAX, &[]);
                self.send_response(
                    ctx,
                    header.exchange,
                    header.message_id,
                    &[Payload::Notify(n)],
                );
            }
            Err(e) => self.die(
                ctx,
                super::DownReason::ProtocolError(format!("malformed response: {e}")),
            ),
        }
    }

    /// IKE_SA_INIT messages travel in the clear and have no Message ID window of their own.
    fn on_init_datagram(&mut self, ctx: &mut Ctx<'_>, header: &Header, bytes: &[u8]) {
        let Ok(message) = Message::parse(bytes) else {
            return;
        };
        let response = header.flags.is_response();
        match (self.role, response, self.state) {
            (Role::Initiator, true, State::InitSent)
                if self.requests.is_awaited(header.message_id) =>
            {
                self.requests.answered();
                if let Ok(Typed::IkeSaInitResponse(r)) =
                    Typed::from_payloads(header.exchange, true, message.payloads)
                {
                    self.on_init_response(ctx, header, bytes, r);
                }
            }
            (Role::Responder, false, _) if bytes == self.init_request.as_slice() => {
                // RFC 7296 2.1: the same request again; the same answer.
                if let Some((_, cached)) = self.responses.cached.clone() {
                    self.transmit(ctx, cached);
                }
            }
            _ => {}
        }
    }

    fn on_typed(&mut self, ctx: &mut Ctx<'_>, header: &Header, typed: Typed) {
        let id = header.message_id;
        match typed {
            Typed::IkeAuthRequest(r)
                if self.role == Role::Responder && self.state == State::InitDone =>
            {
                self.on_auth_request(ctx, id, r)
            }
            Typed::IkeAuthResponse(r) if self.state == State::AuthSent => {
                self.on_auth_response(ctx, r)
            }
            Typed::InformationalRequest(r) => self.on_informational_request(ctx, id, r),
            Typed::InformationalResponse(r) => self.on_informational_response(ctx, r),
            Typed::CreateChildSaRequest(mut r) => match r.ts.take() {
                Some(ts) => self.on_create_child_request(ctx, id, r, ts),
                None => self.on_rekey_ike_request(ctx, id, r),
            },
            Typed::CreateChildSaResponse(r) if self.ike_rekey.is_some() => {
                self.on_rekey_ike_response(ctx, r)
            }
            Typed::CreateChildSaResponse(r) => self.on_create_child_response(ctx, r),
            Typed::IkeSaInitRequest(_) | Typed::IkeSaInitResponse(_) => {}
            Typed::IkeAuthRequest(_) | Typed::IkeAuthResponse(_) => {}
        }
    }
}
