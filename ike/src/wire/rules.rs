//! Per-exchange rules: which payloads each message of each exchange may carry (RFC 7296 1.2 to
//! 1.5, 2.6, 2.21, and the extensions we speak), turning a payload list into a typed message,
//! and a typed message back into payloads in the order we send them.
//!
//! Protected exchanges are checked on the payloads inside SK, after the crypto layer has opened
//! it. Unknown non-critical payloads are allowed anywhere and dropped here (RFC 7296 2.5).

use super::{
    Error, ExchangeType, NotifyType, Payload, PayloadType, auth, cert, certreq, cp, delete, eap,
    id, ke, nonce, notify, sa, ts, vendor,
};

/// At most how many of one payload type a message may carry.
#[derive(Clone, Copy)]
struct Rule {
    ty: PayloadType,
    max: usize,
}

const fn one(ty: PayloadType) -> Rule {
    Rule { ty, max: 1 }
}

const fn many(ty: PayloadType) -> Rule {
    Rule {
        ty,
        max: usize::MAX,
    }
}

use PayloadType as P;

// RFC 7296 1.2; CERTREQ in the response (3.7); N for COOKIE, NAT_D, capabilities and errors.
const IKE_SA_INIT_REQUEST: &[Rule] = &[
    one(P::SA),
    one(P::KE),
    one(P::NONCE),
    many(P::NOTIFY),
    many(P::VENDOR_ID),
];
const IKE_SA_INIT_RESPONSE: &[Rule] = &[
    one(P::SA),
    one(P::KE),
    one(P::NONCE),
    many(P::CERTREQ),
    many(P::NOTIFY),
    many(P::VENDOR_ID),
];
// RFC 7296 1.2, 2.16 (EAP), 3.15 (CP), RFC 4739 (several authentication rounds).
const IKE_AUTH_REQUEST: &[Rule] = &[
    one(P::IDI),
    many(P::CERT),
    many(P::CERTREQ),
    one(P::IDR),
    one(P::AUTH),
    one(P::EAP),
    one(P::CP),
    one(P::SA),
    one(P::TSI),
    one(P::TSR),
    many(P::NOTIFY),
    many(P::VENDOR_ID),
];
const IKE_AUTH_RESPONSE: &[Rule] = &[
    one(P::IDR),
    many(P::CERT),
    one(P::AUTH),
    one(P::EAP),
    one(P::CP),
    one(P::SA),
    one(P::TSI),
    one(P::TSR),
    many(P::NOTIFY),
    many(P::VENDOR_ID),
];
// RFC 7296 1.3.
const CREATE_CHILD_SA: &[Rule] = &[
    one(P::SA),
    one(P::NONCE),
    one(P::KE),
    one(P::TSI),
    one(P::TSR),
    many(P::NOTIFY),
    many(P::VENDOR_ID),
];
// RFC 7296 1.4, and CP for RFC 4555's and RFC 7296 3.15's uses.
const INFORMATIONAL: &[Rule] = &[
    many(P::NOTIFY),
    many(P::DELETE),
    one(P::CP),
    many(P::VENDOR_ID),
];

/// The payloads of one message, sorted by kind, each count within its rule.
#[derive(Default)]
struct Bag {
    sa: Option<sa::Repr>,
    ke: Option<ke::Repr>,
    nonce: Option<nonce::Repr>,
    id_i: Option<id::Repr>,
    id_r: Option<id::Repr>,
    auth: Option<auth::Repr>,
    eap: Option<eap::Repr>,
    cp: Option<cp::Repr>,
    ts_i: Option<ts::Repr>,
    ts_r: Option<ts::Repr>,
    certs: Vec<cert::Repr>,
    certreqs: Vec<certreq::Repr>,
    notifies: Vec<notify::Repr>,
    deletes: Vec<delete::Repr>,
    vendor_ids: Vec<vendor::Repr>,
}

impl Bag {
    fn collect(payloads: Vec<Payload>, rules: &[Rule]) -> Result<Bag, Error> {
        let mut counts = vec![0usize; rules.len()];
        let mut bag = Bag::default();
        for payload in payloads {
            if let Payload::Unknown { .. } = payload {
                continue;
            }
            let ty = payload.ty();
            let Some(i) = rules.iter().position(|r| r.ty == ty) else {
                return Err(Error::UnexpectedPayload(ty));
            };
            counts[i] += 1;
            if counts[i] > rules[i].max {
                return Err(Error::UnexpectedPayload(ty));
            }
            bag.put(payload);
        }
        Ok(bag)
    }

    fn put(&mut self, payload: Payload) {
        match payload {
            Payload::Sa(p) => self.sa = Some(p),
            Payload::Ke(p) => self.ke = Some(p),
            Payload::Nonce(p) => self.nonce = Some(p),
            Payload::IdI(p) => self.id_i = Some(p),
            Payload::IdR(p) => self.id_r = Some(p),
            Payload::Auth(p) => self.auth = Some(p),
            Payload::Eap(p) => self.eap = Some(p),
            Payload::Cp(p) => self.cp = Some(p),
            Payload::TsI(p) => self.ts_i = Some(p),
            Payload::TsR(p) => self.ts_r = Some(p),
            Payload::Cert(p) => self.certs.push(p),
            Payload::CertReq(p) => self.certreqs.push(p),
            Payload::Notify(p) => self.notifies.push(p),
            Payload::Delete(p) => self.deletes.push(p),
            Payload::VendorId(p) => self.vendor_ids.push(p),
            // The rule tables admit none of these.
            Payload::Sk { .. } | Payload::Skf { .. } | Payload::Unknown { .. } => {}
        }
    }

    /// The SA and traffic selectors of a Child SA: all three or none.
    fn child(&mut self) -> Result<Option<ChildSaPayloads>, Error> {
        match (self.sa.take(), self.ts_i.take(), self.ts_r.take()) {
            (None, None, None) => Ok(None),
            (Some(sa), Some(ts_i), Some(ts_r)) => Ok(Some(ChildSaPayloads { sa, ts_i, ts_r })),
            (None, _, _) => Err(Error::MissingPayload(P::SA)),
            (_, None, _) => Err(Error::MissingPayload(P::TSI)),
            (_, _, None) => Err(Error::MissingPayload(P::TSR)),
        }
    }

    /// For responses that may be a bare notification instead: true when none of the payloads
    /// of an accepting answer is there, and some notify says why.
    fn is_bare_notify(&self) -> bool {
        self.sa.is_none() && self.ke.is_none() && self.nonce.is_none() && !self.notifies.is_empty()
    }
}

fn required<T>(payload: Option<T>, ty: PayloadType) -> Result<T, Error> {
    payload.ok_or(Error::MissingPayload(ty))
}

/// The SA and traffic selectors that ask for, or accept, a Child SA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildSaPayloads {
    pub sa: sa::Repr,
    pub ts_i: ts::Repr,
    pub ts_r: ts::Repr,
}

/// IKE_SA_INIT request: HDR, SAi1, KEi, Ni, [N+], [V+] (a COOKIE notify goes first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IkeSaInitRequest {
    pub sa: sa::Repr,
    pub ke: ke::Repr,
    pub nonce: nonce::Repr,
    pub notifies: Vec<notify::Repr>,
    pub vendor_ids: Vec<vendor::Repr>,
}

/// IKE_SA_INIT response: the chosen proposal and keys, or only notifies (an error, COOKIE,
/// INVALID_KE_PAYLOAD).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IkeSaInitResponse {
    Accept {
        sa: sa::Repr,
        ke: ke::Repr,
        nonce: nonce::Repr,
        certreqs: Vec<certreq::Repr>,
        notifies: Vec<notify::Repr>,
        vendor_ids: Vec<vendor::Repr>,
    },
    Notify(Vec<notify::Repr>),
}

/// IKE_AUTH request (inside SK). Which of the optional parts must be there depends on the
/// authentication round, which the task knows: IDi and AUTH in the first round with a PSK or
/// signatures; IDi without AUTH to start EAP; EAP or AUTH alone in later rounds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IkeAuthRequest {
    pub id_i: Option<id::Repr>,
    pub certs: Vec<cert::Repr>,
    pub certreqs: Vec<certreq::Repr>,
    pub id_r: Option<id::Repr>,
    pub auth: Option<auth::Repr>,
    pub eap: Option<eap::Repr>,
    pub cp: Option<cp::Repr>,
    pub child: Option<ChildSaPayloads>,
    pub notifies: Vec<notify::Repr>,
    pub vendor_ids: Vec<vendor::Repr>,
}

/// IKE_AUTH response (inside SK).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IkeAuthResponse {
    pub id_r: Option<id::Repr>,
    pub certs: Vec<cert::Repr>,
    pub auth: Option<auth::Repr>,
    pub eap: Option<eap::Repr>,
    pub cp: Option<cp::Repr>,
    pub child: Option<ChildSaPayloads>,
    pub notifies: Vec<notify::Repr>,
    pub vendor_ids: Vec<vendor::Repr>,
}

/// CREATE_CHILD_SA request or accepting response: a new Child SA (with traffic selectors),
/// a Child SA rekey (the same, with REKEY_SA), or an IKE SA rekey (no traffic selectors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateChildSa {
    pub sa: sa::Repr,
    pub nonce: nonce::Repr,
    pub ke: Option<ke::Repr>,
    pub ts: Option<(ts::Repr, ts::Repr)>,
    pub notifies: Vec<notify::Repr>,
    pub vendor_ids: Vec<vendor::Repr>,
}

/// CREATE_CHILD_SA response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateChildSaResponse {
    Accept(CreateChildSa),
    /// A refusal: NO_PROPOSAL_CHOSEN, INVALID_KE_PAYLOAD, TEMPORARY_FAILURE, ...
    Notify(Vec<notify::Repr>),
}

/// INFORMATIONAL request or response: deletes, notifies, configuration; empty for liveness.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Informational {
    pub notifies: Vec<notify::Repr>,
    pub deletes: Vec<delete::Repr>,
    pub cp: Option<cp::Repr>,
    pub vendor_ids: Vec<vendor::Repr>,
}

/// A message of one of the exchanges we speak, checked against its rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Typed {
    IkeSaInitRequest(IkeSaInitRequest),
    IkeSaInitResponse(IkeSaInitResponse),
    IkeAuthRequest(IkeAuthRequest),
    IkeAuthResponse(IkeAuthResponse),
    CreateChildSaRequest(CreateChildSa),
    CreateChildSaResponse(CreateChildSaResponse),
    InformationalRequest(Informational),
    InformationalResponse(Informational),
}

impl Typed {
    /// Checks `payloads` (for protected exchanges, those inside SK) against the rules of the
    /// exchange and direction, and sorts them into a typed message.
    pub fn from_payloads(
        exchange: ExchangeType,
        response: bool,
        payloads: Vec<Payload>,
    ) -> Result<Typed, Error> {
        let rules = match (exchange, response) {
            (ExchangeType::IKE_SA_INIT, false) => IKE_SA_INIT_REQUEST,
            (ExchangeType::IKE_SA_INIT, true) => IKE_SA_INIT_RESPONSE,
            (ExchangeType::IKE_AUTH, false) => IKE_AUTH_REQUEST,
            (ExchangeType::IKE_AUTH, true) => IKE_AUTH_RESPONSE,
            (ExchangeType::CREATE_CHILD_SA, _) => CREATE_CHILD_SA,
            (ExchangeType::INFORMATIONAL, _) => INFORMATIONAL,
            (other, _) => return Err(Error::UnknownExchange(other)),
        };
        let mut bag = Bag::collect(payloads, rules)?;
        Ok(match (exchange, response) {
            (ExchangeType::IKE_SA_INIT, false) => Typed::IkeSaInitRequest(IkeSaInitRequest {
                sa: required(bag.sa, P::SA)?,
                ke: required(bag.ke, P::KE)?,
                nonce: required(bag.nonce, P::NONCE)?,
                notifies: bag.notifies,
                vendor_ids: bag.vendor_ids,
            }),
            (ExchangeType::IKE_SA_INIT, true) if bag.is_bare_notify() => {
                Typed::IkeSaInitResponse(IkeSaInitResponse::Notify(bag.notifies))
            }
            (ExchangeType::IKE_SA_INIT, true) => {
                Typed::IkeSaInitResponse(IkeSaInitResponse::Accept {
                    sa: required(bag.sa, P::SA)?,
                    ke: required(bag.ke, P::KE)?,
                    nonce: required(bag.nonce, P::NONCE)?,
                    certreqs: bag.certreqs,
                    notifies: bag.notifies,
                    vendor_ids: bag.vendor_ids,
                })
            }
            (ExchangeType::IKE_AUTH, false) => Typed::IkeAuthRequest(IkeAuthRequest {
                child: bag.child()?,
                id_i: bag.id_i,
                certs: bag.certs,
                certreqs: bag.certreqs,
                id_r: bag.id_r,
                auth: bag.auth,
                eap: bag.eap,
                cp: bag.cp,
                notifies: bag.notifies,
                vendor_ids: bag.vendor_ids,
            }),
            (ExchangeType::IKE_AUTH, _) => Typed::IkeAuthResponse(IkeAuthResponse {
                child: bag.child()?,
                id_r: bag.id_r,
                certs: bag.certs,
                auth: bag.auth,
                eap: bag.eap,
                cp: bag.cp,
                notifies: bag.notifies,
                vendor_ids: bag.vendor_ids,
            }),
            (ExchangeType::CREATE_CHILD_SA, true) if bag.is_bare_notify() => {
                Typed::CreateChildSaResponse(CreateChildSaResponse::Notify(bag.notifies))
            }
            (ExchangeType::CREATE_CHILD_SA, response) => {
                let create = CreateChildSa::from_bag(bag)?;
                if response {
                    Typed::CreateChildSaResponse(CreateChildSaResponse::Accept(create))
                } else {
                    Typed::CreateChildSaRequest(create)
                }
            }
            (_, false) => Typed::InformationalRequest(Informational::from_bag(bag)),
            (_, true) => Typed::InformationalResponse(Informational::from_bag(bag)),
        })
    }

    /// The exchange and direction of this message.
    pub fn exchange(&self) -> (ExchangeType, bool) {
        match self {
            Typed::IkeSaInitRequest(_) => (ExchangeType::IKE_SA_INIT, false),
            Typed::IkeSaInitResponse(_) => (ExchangeType::IKE_SA_INIT, true),
            Typed::IkeAuthRequest(_) => (ExchangeType::IKE_AUTH, false),
            Typed::IkeAuthResponse(_) => (ExchangeType::IKE_AUTH, true),
            Typed::CreateChildSaRequest(_) => (ExchangeType::CREATE_CHILD_SA, false),
            Typed::CreateChildSaResponse(_) => (ExchangeType::CREATE_CHILD_SA, true),
            Typed::InformationalRequest(_) => (ExchangeType::INFORMATIONAL, false),
            Typed::InformationalResponse(_) => (ExchangeType::INFORMATIONAL, true),
        }
    }

    /// The payloads to send, in our order. RFC 7296 2.6: a COOKIE notify comes first.
    pub fn into_payloads(self) -> Vec<Payload> {
        let mut out = Vec::new();
        match self {
            Typed::IkeSaInitRequest(m) => {
                let (cookie, others) = split_cookie(m.notifies);
                push_notifies(&mut out, cookie);
                out.extend([
                    Payload::Sa(m.sa),
                    Payload::Ke(m.ke),
                    Payload::Nonce(m.nonce),
                ]);
                push_notifies(&mut out, others);
                out.extend(m.vendor_ids.into_iter().map(Payload::VendorId));
            }
            Typed::IkeSaInitResponse(IkeSaInitResponse::Accept {
                sa,
                ke,
                nonce,
                certreqs,
                notifies,
                vendor_ids,
            }) => {
                out.extend([Payload::Sa(sa), Payload::Ke(ke), Payload::Nonce(nonce)]);
                push_notifies(&mut out, notifies);
                out.extend(certreqs.into_iter().map(Payload::CertReq));
                out.extend(vendor_ids.into_iter().map(Payload::VendorId));
            }
            Typed::IkeSaInitResponse(IkeSaInitResponse::Notify(notifies))
            | Typed::CreateChildSaResponse(CreateChildSaResponse::Notify(notifies)) => {
                push_notifies(&mut out, notifies);
            }
            Typed::IkeAuthRequest(m) => m.push_payloads(&mut out),
            Typed::IkeAuthResponse(m) => m.push_payloads(&mut out),
            Typed::CreateChildSaRequest(m)
            | Typed::CreateChildSaResponse(CreateChildSaResponse::Accept(m)) => {
                m.push_payloads(&mut out)
            }
            Typed::InformationalRequest(m) | Typed::InformationalResponse(m) => {
                push_notifies(&mut out, m.notifies);
                out.extend(m.deletes.into_iter().map(Payload::Delete));
                out.extend(m.cp.map(Payload::Cp));
                out.extend(m.vendor_ids.into_iter().map(Payload::VendorId));
            }
        }
        out
    }
}

fn split_cookie(notifies: Vec<notify::Repr>) -> (Vec<notify::Repr>, Vec<notify::Repr>) {
    notifies
        .into_iter()
        .partition(|n| n.ty == NotifyType::COOKIE)
}

fn push_notifies(out: &mut Vec<Payload>, notifies: Vec<notify::Repr>) {
    out.extend(notifies.into_iter().map(Payload::Notify));
}

fn push_child(out: &mut Vec<Payload>, child: Option<ChildSaPayloads>) {
    if let Some(child) = child {
        out.extend([
            Payload::Sa(child.sa),
            Payload::TsI(child.ts_i),
            Payload::TsR(child.ts_r),
        ]);
    }
}

impl IkeAuthRequest {
    fn push_payloads(self, out: &mut Vec<Payload>) {
        out.extend(self.id_i.map(Payload::IdI));
        out.extend(self.certs.into_iter().map(Payload::Cert));
        out.extend(self.certreqs.into_iter().map(Payload::CertReq));
        out.extend(self.id_r.map(Payload::IdR));
        out.extend(self.auth.map(Payload::Auth));
        out.extend(self.eap.map(Payload::Eap));
        out.extend(self.cp.map(Payload::Cp));
        push_notifies(out, self.notifies);
        push_child(out, self.child);
        out.extend(self.vendor_ids.into_iter().map(Payload::VendorId));
    }
}

impl IkeAuthResponse {
    fn push_payloads(self, out: &mut Vec<Payload>) {
        out.extend(self.id_r.map(Payload::IdR));
        out.extend(self.certs.into_iter().map(Payload::Cert));
        out.extend(self.auth.map(Payload::Auth));
        out.extend(self.eap.map(Payload::Eap));
        out.extend(self.cp.map(Payload::Cp));
        push_notifies(out, self.notifies);
        push_child(out, self.child);
        out.extend(self.vendor_ids.into_iter().map(Payload::VendorId));
    }
}

impl CreateChildSa {
    fn from_bag(mut bag: Bag) -> Result<CreateChildSa, Error> {
        let ts = match (bag.ts_i.take(), bag.ts_r.take()) {
            (None, None) => None,
            (Some(ts_i), Some(ts_r)) => Some((ts_i, ts_r)),
            (None, _) => return Err(Error::MissingPayload(P::TSI)),
            (_, None) => return Err(Error::MissingPayload(P::TSR)),
        };
        Ok(CreateChildSa {
            sa: required(bag.sa, P::SA)?,
            nonce: required(bag.nonce, P::NONCE)?,
            ke: bag.ke,
            ts,
            notifies: bag.notifies,
            vendor_ids: bag.vendor_ids,
        })
    }

    fn push_payloads(self, out: &mut Vec<Payload>) {
        // RFC 7296 1.3.1: a REKEY_SA notify precedes the SA of a Child SA rekey.
        push_notifies(out, self.notifies);
        out.push(Payload::Sa(self.sa));
        out.push(Payload::Nonce(self.nonce));
        out.extend(self.ke.map(Payload::Ke));
        if let Some((ts_i, ts_r)) = self.ts {
            out.extend([Payload::TsI(ts_i), Payload::TsR(ts_r)]);
        }
        out.extend(self.vendor_ids.into_iter().map(Payload::VendorId));
    }
}

impl Informational {
    fn from_bag(bag: Bag) -> Informational {
        Informational {
            notifies: bag.notifies,
            deletes: bag.deletes,
            cp: bag.cp,
            vendor_ids: bag.vendor_ids,
        }
    }
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
