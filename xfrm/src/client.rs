//! [`Xfrm`]: the typed XFRM client. One netlink socket per client, used by one request batch
//! at a time; every method is async and never blocks the runtime.

use std::net::IpAddr;
use std::ops::RangeInclusive;

use netlink_packet_xfrm::{
    UserSpiInfo, XfrmMessage,
    policy::{DelGetMessage as PolicyDelGet, ModifyMessage as PolicyModify},
    state::{
        AllocSpiMessage, DelGetMessage as SaDelGet, GetDumpMessage, ModifyMessage as SaModify,
    },
};
use tokio::sync::Mutex;

use crate::error::{Error, ErrorKind, Lack, Op, Result};
use crate::netns::NetNs;
use crate::policy::{self, PolicyId, PolicyInfo, PolicySpec};
use crate::sa::{self, SaId, SaInfo, SaSpec};
use crate::socket::{Outcome, Request, XfrmSocket, wipe_message};
use crate::types::{Counters, Mode, Proto, Spi};

/// Which SAs and policies belong to ikerd, so that a flush leaves everything else alone.
///
/// Ownership is recognised by reqid: ikerd takes every reqid it installs from this range, so
/// an SA is ikerd's when its reqid lies in the range, and a policy is when it has templates and
/// every template's reqid does. Other daemons (strongSwan numbers reqids from 1) and
/// hand-made entries (`ip xfrm`, reqid 0 by default) fall outside. Policies without templates
/// (bypass and drop shunts) carry no reqid; the daemon tracks and removes those itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub reqids: RangeInclusive<u32>,
}

impl Default for Owner {
    /// A range far above the reqids strongSwan and iproute2 users pick (small counters), so
    /// that ikerd can share a host with them.
    fn default() -> Self {
        Owner {
            reqids: 0x4b00_0000..=0x4bff_ffff,
        }
    }
}

impl Owner {
    pub fn owns_sa(&self, sa: &SaInfo) -> bool {
        self.reqids.contains(&sa.spec.reqid)
    }

    pub fn owns_policy(&self, policy: &PolicyInfo) -> bool {
        !policy.templates.is_empty()
            && policy
                .templates
                .iter()
                .all(|t| self.reqids.contains(&t.reqid))
    }
}

/// An ALLOCSPI request: reserve an SPI for an inbound SA that IKE is still negotiating. The
/// kernel creates a larval SA that UPDSA later completes, or that expires after
/// net.core.xfrm_acq_expires (30 s by default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpiRequest {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub proto: Proto,
    pub mode: Mode,
    pub reqid: u32,
    /// The SPI range; RFC 4303 2.1 reserves 1-255, so it must start at 256 or above.
    pub range: RangeInclusive<u32>,
    /// The sequence number of the ACQUIRE this SA answers, so that the kernel completes that
    /// larval SA rather than creating a second one; 0 when there was none.
    pub acquire_seq: u32,
}

/// One change of a batch (see [`Xfrm::apply`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    AddSa(SaSpec),
    UpdateSa(SaSpec),
    DeleteSa(SaId),
    AddPolicy(PolicySpec),
    UpdatePolicy(PolicySpec),
    DeletePolicy(PolicyId),
}

/// How many objects a flush removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flushed {
    pub sas: usize,
    pub policies: usize,
}

/// A client for the kernel's XFRM state (SAD) and policy (SPD) databases.
#[derive(Debug)]
pub struct Xfrm {
    socket: Mutex<XfrmSocket>,
    owner: Owner,
}

impl Xfrm {
    /// A client of the caller's network namespace. Must be called inside a tokio runtime.
    pub fn open() -> Result<Self> {
        Self::open_with(None)
    }

    /// A client of the namespace `ns`: its socket is created there and stays there.
    pub fn open_in(ns: &NetNs) -> Result<Self> {
        Self::open_with(Some(ns))
    }

    fn open_with(ns: Option<&NetNs>) -> Result<Self> {
        let socket = XfrmSocket::open(ns, 0).map_err(|e| Error::io(Op::Open, e))?;
        Ok(Xfrm {
            socket: Mutex::new(socket),
            owner: Owner::default(),
        })
    }

    /// Uses `owner` to recognise ikerd's objects in [`Xfrm::flush_owned`].
    pub fn with_owner(mut self, owner: Owner) -> Self {
        self.owner = owner;
        self
    }

    pub fn owner(&self) -> &Owner {
        &self.owner
    }

    /// Reserves an SPI in the range (XFRM_MSG_ALLOCSPI).
    pub async fn alloc_spi(&self, req: &SpiRequest) -> Result<Spi> {
        let (min, max) = (*req.range.start(), *req.range.end());
        if min < 256 || min > max || req.src.is_ipv4() != req.dst.is_ipv4() {
            return Err(Error::bad_input(
                Op::AllocSpi,
                format!(
                    "SPI range {min:#x}-{max:#x} for {} -> {} (the range must start at 0x100 \
                     or above, and both addresses be of one family)",
                    req.src, req.dst
                ),
            ));
        }
        let mut spi_info = UserSpiInfo::default();
        spi_info.info.source(&req.src);
        spi_info.info.destination(&req.dst);
        spi_info.info.mode = req.mode.number();
        spi_info.info.reqid = req.reqid;
        spi_info.info.seq = req.acquire_seq;
        spi_info.protocol(req.proto.number());
        spi_info.spi_range(min, max);
        let msg = XfrmMessage::AllocSpi(AllocSpiMessage {
            spi_info,
            nlas: Vec::new(),
        });
        let replies = self.one(Op::AllocSpi, msg).await?;
        replies
            .iter()
            .find_map(|m| match m {
                XfrmMessage::AddSa(sa) => Some(sa::allocated_spi(&sa.user_sa_info)),
                _ => None,
            })
            .ok_or_else(|| Error::protocol(Op::AllocSpi, "the kernel's reply has no SA"))
    }

    /// Installs an SA (XFRM_MSG_NEWSA); [`ErrorKind::Exists`] if it is there already.
    pub async fn add_sa(&self, sa: &SaSpec) -> Result<()> {
        self.single(Change::AddSa(sa.clone())).await
    }

    /// Replaces an SA, or completes one reserved by ALLOCSPI (XFRM_MSG_UPDSA).
    pub async fn update_sa(&self, sa: &SaSpec) -> Result<()> {
        self.single(Change::UpdateSa(sa.clone())).await
    }

    /// Removes an SA; [`ErrorKind::NotFound`] if there is none.
    pub async fn delete_sa(&self, id: &SaId) -> Result<()> {
        self.single(Change::DeleteSa(*id)).await
    }

    /// Reads an SA back, keys, settings and counters.
    pub async fn sa(&self, id: &SaId) -> Result<SaInfo> {
        let (user_sa_id, nlas) = sa::id_to_wire(id);
        let msg = XfrmMessage::GetSa(SaDelGet { user_sa_id, nlas });
        let mut replies = self.one(Op::GetSa, msg).await?;
        let result = replies
            .iter_mut()
            .find_map(|m| match m {
                XfrmMessage::AddSa(sa) => Some(SaSpec::from_wire(&sa.user_sa_info, &mut sa.nlas)),
                _ => None,
            })
            .unwrap_or_else(|| Err(Error::protocol(Op::GetSa, "the kernel's reply has no SA")));
        replies.iter_mut().for_each(wipe_message);
        result
    }

    /// What an SA has carried so far.
    pub async fn sa_counters(&self, id: &SaId) -> Result<Counters> {
        Ok(self.sa(id).await?.counters)
    }

    /// Every SA of the namespace. SAs this crate cannot represent (IPComp, BEET mode, other
    /// algorithms) are left out.
    pub async fn sas(&self) -> Result<Vec<SaInfo>> {
        let msg = XfrmMessage::GetDumpSa(GetDumpMessage { nlas: Vec::new() });
        let mut replies = self.dump(Op::DumpSa, msg).await?;
        let sas = replies
            .iter_mut()
            .filter_map(|m| match m {
                XfrmMessage::AddSa(sa) => SaSpec::from_wire(&sa.user_sa_info, &mut sa.nlas).ok(),
                _ => None,
            })
            .collect();
        replies.iter_mut().for_each(wipe_message);
        Ok(sas)
    }

    /// The identity and reqid of every ESP and AH SA, larval ones (reserved by ALLOCSPI or
    /// waiting for an ACQUIRE's answer, which have no algorithms yet) included.
    async fn sa_ids(&self) -> Result<Vec<(SaId, u32)>> {
        let msg = XfrmMessage::GetDumpSa(GetDumpMessage { nlas: Vec::new() });
        let mut replies = self.dump(Op::DumpSa, msg).await?;
        let ids = replies
            .iter()
            .filter_map(|m| match m {
                XfrmMessage::AddSa(sa) => sa::id_and_reqid(&sa.user_sa_info, &sa.nlas),
                _ => None,
            })
            .collect();
        replies.iter_mut().for_each(wipe_message);
        Ok(ids)
    }

    /// Installs a policy (XFRM_MSG_NEWPOLICY); [`ErrorKind::Exists`] if one with the same
    /// selector, direction and mark is there.
    pub async fn add_policy(&self, policy: &PolicySpec) -> Result<()> {
        self.single(Change::AddPolicy(policy.clone())).await
    }

    /// Installs or replaces a policy (XFRM_MSG_UPDPOLICY).
    pub async fn update_policy(&self, policy: &PolicySpec) -> Result<()> {
        self.single(Change::UpdatePolicy(policy.clone())).await
    }

    /// Removes a policy; [`ErrorKind::NotFound`] if there is none.
    pub async fn delete_policy(&self, id: &PolicyId) -> Result<()> {
        self.single(Change::DeletePolicy(*id)).await
    }

    /// Reads a policy back.
    pub async fn policy(&self, id: &PolicyId) -> Result<PolicyInfo> {
        let (user_policy_id, nlas) = policy::id_to_wire(id);
        let msg = XfrmMessage::GetPolicy(PolicyDelGet {
            user_policy_id,
            nlas,
        });
        let replies = self.one(Op::GetPolicy, msg).await?;
        replies
            .iter()
            .find_map(|m| match m {
                XfrmMessage::AddPolicy(p) => {
                    Some(PolicyInfo::from_wire(&p.user_policy_info, &p.nlas))
                }
                _ => None,
            })
            .unwrap_or_else(|| {
                Err(Error::protocol(
                    Op::GetPolicy,
                    "the kernel's reply has no policy",
                ))
            })
    }

    /// Every policy of the namespace (main policy type; socket policies are not listed).
    pub async fn policies(&self) -> Result<Vec<PolicyInfo>> {
        let msg = XfrmMessage::GetPolicy(PolicyDelGet {
            user_policy_id: Default::default(),
            nlas: Vec::new(),
        });
        let replies = self.dump(Op::DumpPolicy, msg).await?;
        Ok(replies
            .iter()
            .filter_map(|m| match m {
                XfrmMessage::AddPolicy(p) => {
                    PolicyInfo::from_wire(&p.user_policy_info, &p.nlas).ok()
                }
                _ => None,
            })
            .collect())
    }

    /// Removes the SAs and policies that [`Owner`] recognises as ikerd's, and nothing else.
    /// Policies go first, so no packet meets a policy whose SA is already gone. Larval SAs
    /// that ACQUIREs created have SPI 0 and cannot be deleted by id; with their policies gone
    /// they expire on their own (net.core.xfrm_acq_expires).
    pub async fn flush_owned(&self) -> Result<Flushed> {
        let policies: Vec<Change> = self
            .policies()
            .await?
            .into_iter()
            .filter(|p| self.owner.owns_policy(p))
            .map(|p| Change::DeletePolicy(p.id))
            .collect();
        let sas: Vec<Change> = self
            .sa_ids()
            .await?
            .into_iter()
            .filter(|(_, reqid)| self.owner.reqids.contains(reqid))
            .map(|(id, _)| Change::DeleteSa(id))
            .collect();
        let mut flushed = Flushed::default();
        for (changes, count) in [(policies, &mut flushed.policies), (sas, &mut flushed.sas)] {
            for result in self.apply(&changes).await? {
                match result {
                    Ok(()) => *count += 1,
                    // Expired or removed by someone else meanwhile: gone either way.
                    Err(e) if e.kind() == ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(flushed)
    }

    /// Sends many changes at once, pipelined: the kernel acknowledges each, and the result
    /// says, per change and in order, whether it took. The outer error is a socket failure.
    pub async fn apply(&self, changes: &[Change]) -> Result<Vec<Result<()>>> {
        let mut results: Vec<Option<Result<()>>> = Vec::with_capacity(changes.len());
        let mut requests = Vec::new();
        let mut sent = Vec::new();
        for (i, change) in changes.iter().enumerate() {
            match encode_change(change) {
                Ok(msg) => {
                    requests.push(Request { msg, dump: false });
                    sent.push(i);
                    results.push(None);
                }
                Err(e) => results.push(Some(Err(e))),
            }
        }
        let op = changes.first().map_or(Op::AddSa, change_op);
        let outcomes = self.socket.lock().await.transact(requests).await;
        let outcomes = outcomes.map_err(|e| Error::io(op, e))?;
        for (i, outcome) in sent.into_iter().zip(outcomes) {
            results[i] = Some(check(change_op(&changes[i]), outcome, &changes[i]).map(drop));
        }
        Ok(results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(Error::protocol(op, "no answer"))))
            .collect())
    }

    async fn single(&self, change: Change) -> Result<()> {
        let mut results = self.apply(std::slice::from_ref(&change)).await?;
        results
            .pop()
            .unwrap_or_else(|| Err(Error::protocol(change_op(&change), "no answer")))
    }

    pub(crate) async fn one(&self, op: Op, msg: XfrmMessage) -> Result<Vec<XfrmMessage>> {
        self.request(op, Request { msg, dump: false }).await
    }

    async fn dump(&self, op: Op, msg: XfrmMessage) -> Result<Vec<XfrmMessage>> {
        self.request(op, Request { msg, dump: true }).await
    }

    async fn request(&self, op: Op, req: Request) -> Result<Vec<XfrmMessage>> {
        let outcome = self
            .socket
            .lock()
            .await
            .transact(vec![req])
            .await
            .map_err(|e| Error::io(op, e))?
            .pop()
            .ok_or_else(|| Error::protocol(op, "no answer"))?;
        check_plain(op, outcome)
    }
}

fn change_op(change: &Change) -> Op {
    match change {
        Change::AddSa(_) => Op::AddSa,
        Change::UpdateSa(_) => Op::UpdateSa,
        Change::DeleteSa(_) => Op::DeleteSa,
        Change::AddPolicy(_) => Op::AddPolicy,
        Change::UpdatePolicy(_) => Op::UpdatePolicy,
        Change::DeletePolicy(_) => Op::DeletePolicy,
    }
}

fn encode_change(change: &Change) -> Result<XfrmMessage> {
    let op = change_op(change);
    Ok(match change {
        Change::AddSa(sa) | Change::UpdateSa(sa) => {
            sa.validate(op)?;
            let (user_sa_info, nlas) = sa.to_wire();
            let body = SaModify { user_sa_info, nlas };
            if op == Op::AddSa {
                XfrmMessage::AddSa(body)
            } else {
                XfrmMessage::UpdateSa(body)
            }
        }
        Change::DeleteSa(id) => {
            let (user_sa_id, nlas) = sa::id_to_wire(id);
            XfrmMessage::DeleteSa(SaDelGet { user_sa_id, nlas })
        }
        Change::AddPolicy(p) | Change::UpdatePolicy(p) => {
            p.validate(op)?;
            let (user_policy_info, nlas) = p.to_wire();
            let body = PolicyModify {
                user_policy_info,
                nlas,
            };
            if op == Op::AddPolicy {
                XfrmMessage::AddPolicy(body)
            } else {
                XfrmMessage::UpdatePolicy(body)
            }
        }
        Change::DeletePolicy(id) => {
            let (user_policy_id, nlas) = policy::id_to_wire(id);
            XfrmMessage::DeletePolicy(PolicyDelGet {
                user_policy_id,
                nlas,
            })
        }
    })
}

/// What the kernel lacks when it refuses an SA: the protocol module, or the algorithm.
fn lack(change: &Change, errno: i32) -> Option<Lack> {
    let sa = match change {
        Change::AddSa(sa) | Change::UpdateSa(sa) => sa,
        _ => return None,
    };
    let v4 = sa.src.is_ipv4();
    let (name, module, config) = match (sa.id.proto, v4) {
        (Proto::Esp, true) => ("ESP", "esp4", "CONFIG_INET_ESP"),
        (Proto::Esp, false) => ("ESP", "esp6", "CONFIG_INET6_ESP"),
        (Proto::Ah, true) => ("AH", "ah4", "CONFIG_INET_AH"),
        (Proto::Ah, false) => ("AH", "ah6", "CONFIG_INET6_AH"),
    };
    Some(if errno == libc::EPROTONOSUPPORT {
        Lack {
            what: format!("{name} for IPv{}", if v4 { 4 } else { 6 }),
            load: format!("{module} ({config})"),
        }
    } else {
        Lack {
            what: sa.crypto.describe(),
            load: format!("{module} and {}", sa.crypto.config_option()),
        }
    })
}

fn check(op: Op, outcome: Outcome, change: &Change) -> Result<Vec<XfrmMessage>> {
    match outcome {
        Outcome::Failed { errno, extack } => Err(Error::kernel(
            op,
            errno,
            lack(change, errno).as_ref(),
            extack.as_deref(),
        )),
        other => check_plain(op, other),
    }
}

fn check_plain(op: Op, outcome: Outcome) -> Result<Vec<XfrmMessage>> {
    match outcome {
        Outcome::Done(replies) => Ok(replies),
        Outcome::Failed { errno, extack } => Err(Error::kernel(op, errno, None, extack.as_deref())),
        Outcome::Garbled(why) => Err(Error::protocol(op, why)),
    }
}
