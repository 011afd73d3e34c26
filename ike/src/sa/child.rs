//! Child SAs: what a negotiated one holds, what one under negotiation holds, and the kernel
//! operations that install and remove one.

use std::net::IpAddr;
use std::time::Instant;

use crate::config::{ChildConfig, XfrmOptions};
use crate::crypto::Secret;
use crate::crypto::encr::Encr;
use crate::crypto::integ::Integ;
use crate::crypto::ke::KeyExchange;
use crate::crypto::keys::ChildSaKeys;
use crate::kernel::{
    Direction, IpsecProtocol, KernelOp, KernelOpId, Mode, PolicyParams, SaParams, SaRef,
};
use crate::wire::message::Payload;
use crate::wire::sa::Proposal;
use crate::wire::ts::TrafficSelector;
use crate::wire::{EsnId, MessageId, TransformType};

/// An installed Child SA pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildSa {
    pub name: String,
    pub protocol: IpsecProtocol,
    pub mode: Mode,
    pub reqid: u32,
    /// The SPI we receive on, and the one the peer receives on.
    pub spi_in: u32,
    pub spi_out: u32,
    pub local_ts: Vec<TrafficSelector>,
    pub remote_ts: Vec<TrafficSelector>,
    pub proposal: Proposal,
    pub local: IpAddr,
    pub remote: IpAddr,
    /// The policies this pair installed; when rekeyed, they pass to the successor, which has
    /// the same reqid.
    pub policies: Vec<PolicyParams>,
    /// When to rekey it (its soft lifetime, randomised).
    pub rekey_at: Option<Instant>,
    /// Replaced by a rekey, or being replaced: never rekeyed again.
    pub rekeyed: bool,
    /// Whether the outbound SA is in the kernel. A rekey responder keeps the new outbound SA
    /// back (`deferred_out`) until the initiator deletes the old pair, so it never sends on an
    /// SA whose inbound half the initiator has not installed yet.
    pub out_installed: bool,
    pub deferred_out: Option<Box<SaParams>>,
    /// The lower of the two nonces of the exchange that created it: RFC 7296 2.8.1 decides
    /// colliding rekeys by it.
    pub nonce_min: Vec<u8>,
    /// The Child SA (our inbound SPI) this one rekeyed: when that one goes, a held-back
    /// outbound SA goes in, and a redundant pair is deleted.
    pub replaces: Option<u32>,
    /// Made by our half of colliding rekeys that lost (RFC 7296 2.8.1): deleted once the
    /// winner has replaced the old pair.
    pub redundant: bool,
    /// When to delete it ourselves: a redundant pair the peer should have deleted.
    pub reap_at: Option<Instant>,
    /// When both sides agreed on it and its installation began.
    pub installed_at: Instant,
}

impl ChildSa {
    pub fn sa_in(&self) -> SaRef {
        SaRef {
            dst: self.local,
            protocol: self.protocol,
            spi: self.spi_in,
        }
    }

    pub fn sa_out(&self) -> SaRef {
        SaRef {
            dst: self.remote,
            protocol: self.protocol,
            spi: self.spi_out,
        }
    }

    /// Removes the policies first, so no packet meets a policy whose SA is gone, then the SAs.
    pub fn removal_ops(&self) -> Vec<KernelOp> {
        let mut ops: Vec<KernelOp> = self
            .policies
            .iter()
            .cloned()
            .map(KernelOp::DelPolicy)
            .collect();
        if self.out_installed {
            ops.push(KernelOp::DelSa(self.sa_out()));
        }
        ops.push(KernelOp::DelSa(self.sa_in()));
        ops
    }
}

/// What a Child SA negotiation is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildKind {
    /// The first Child SA, carried by IKE_AUTH.
    Auth,
    /// Another Child SA, by CREATE_CHILD_SA.
    Create,
    /// The replacement of the Child SA we receive on `old` (CREATE_CHILD_SA with REKEY_SA).
    Rekey { old: u32 },
}

/// Nonces and key exchange of a CREATE_CHILD_SA exchange (the first Child SA uses the IKE SA's).
#[derive(Debug, Default)]
pub struct Exchange {
    pub ni: Vec<u8>,
    pub nr: Vec<u8>,
    /// Our key exchange for perfect forward secrecy, then the shared secret it gave.
    pub ke: Option<KeyExchange>,
    pub shared: Option<Secret>,
}

/// A Child SA being negotiated.
#[derive(Debug)]
pub struct PendingChild {
    pub config: ChildConfig,
    pub kind: ChildKind,
    /// Whether we started the exchange: its "initiator" for the keys and selectors
    /// (RFC 7296 2.17), whatever our role in the IKE SA.
    pub initiator: bool,
    pub reqid: u32,
    /// CREATE_CHILD_SA only.
    pub exchange: Option<Exchange>,
    /// A rekey initiator that answered the peer's rekey of the same Child SA meanwhile: the
    /// lower nonce of the peer's exchange (RFC 7296 2.8.1).
    pub collision: Option<Vec<u8>>,
    /// The ALLOCSPI in flight, then the SPI it reserved.
    pub alloc: Option<KernelOpId>,
    pub spi_in: Option<u32>,
    /// What the initiator offered (with its SPI), or the responder chose.
    pub proposals: Vec<Proposal>,
    pub ts_i: Vec<TrafficSelector>,
    pub ts_r: Vec<TrafficSelector>,
    /// Kernel operations installing it, until all have answered.
    pub installing: Vec<KernelOpId>,
    /// The responder's IKE_AUTH request being answered, and the payloads of the answer that
    /// go before the Child SA's (IDr, AUTH).
    pub request: Option<MessageId>,
    pub answer: Vec<Payload>,
    /// The SA once both sides agree.
    pub sa: Option<ChildSa>,
    /// Policies of the pair being rekeyed, if that pair went before this one was done.
    pub policies: Vec<PolicyParams>,
}

impl PendingChild {
    pub fn new(config: ChildConfig, kind: ChildKind, initiator: bool, reqid: u32) -> PendingChild {
        PendingChild {
            config,
            kind,
            initiator,
            reqid,
            exchange: None,
            collision: None,
            alloc: None,
            spi_in: None,
            proposals: Vec::new(),
            ts_i: Vec::new(),
            ts_r: Vec::new(),
            installing: Vec::new(),
            request: None,
            answer: Vec::new(),
            sa: None,
            policies: Vec::new(),
        }
    }

    /// The Child SA's nonces: the CREATE_CHILD_SA exchange's, or None for the IKE SA's.
    pub fn nonces(&self) -> Option<(&[u8], &[u8])> {
        self.exchange
            .as_ref()
            .map(|e| (e.ni.as_slice(), e.nr.as_slice()))
    }
}

/// The lower of two nonces, compared as byte strings.
pub fn lower_nonce<'a>(a: &'a [u8], b: &'a [u8]) -> &'a [u8] {
    if a <= b { a } else { b }
}

/// The algorithms of a chosen ESP/AH proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChildAlgorithms {
    /// None for AH, which only authenticates.
    pub encr: Option<Encr>,
    pub integ: Option<Integ>,
    pub esn: bool,
}

impl ChildAlgorithms {
    /// Reads the chosen proposal; None when it names something we cannot install.
    pub fn of(proposal: &Proposal) -> Option<ChildAlgorithms> {
        let (encr, integ) = if proposal.protocol == crate::wire::ProtocolId::AH {
            // RFC 4302: an integrity algorithm and nothing to encrypt with.
            let has_encr = proposal
                .transforms
                .iter()
                .any(|t| t.ty == TransformType::ENCR);
            let integ = proposal
                .transforms
                .iter()
                .find(|t| t.ty == TransformType::INTEG && t.id != 0)?;
            let integ = Integ::from_id(crate::wire::IntegId(integ.id)).ok()?;
            (!has_encr).then_some((None, Some(integ)))?
        } else {
            let (encr, integ) = crate::task::encr_integ(proposal)?;
            (Some(encr), integ)
        };
        let esn = proposal
            .transforms
            .iter()
            .any(|t| t.ty == TransformType::ESN && t.id == EsnId::ESN.0);
        Some(ChildAlgorithms { encr, integ, esn })
    }

    /// Bytes of encryption key material (with an AEAD's salt); none for AH.
    pub fn encr_key_len(&self) -> usize {
        self.encr.map_or(0, Encr::keymat_len)
    }

    pub fn integ_key_len(&self) -> usize {
        self.integ.map_or(0, Integ::key_len)
    }
}

/// Which keys of the Child SA key material go which way.
#[derive(Debug)]
pub struct Directions<'a> {
    pub encr_in: &'a crate::crypto::Secret,
    pub integ_in: &'a crate::crypto::Secret,
    pub encr_out: &'a crate::crypto::Secret,
    pub integ_out: &'a crate::crypto::Secret,
}

impl<'a> Directions<'a> {
    /// RFC 7296 2.17: the first keys protect what the initiator sends.
    pub fn new(keys: &'a ChildSaKeys, we_initiated: bool) -> Directions<'a> {
        if we_initiated {
            Directions {
                encr_in: &keys.encr_r,
                integ_in: &keys.integ_r,
                encr_out: &keys.encr_i,
                integ_out: &keys.integ_i,
            }
        } else {
            Directions {
                encr_in: &keys.encr_i,
                integ_in: &keys.integ_i,
                encr_out: &keys.encr_r,
                integ_out: &keys.integ_r,
            }
        }
    }
}

/// The two SAs of `child` with `algorithms` and `keys`: inbound (completing the reserved SPI),
/// then outbound. DESIGN's install order is inbound SA, outbound SA, then the policies.
/// `encap` is (our port, the peer's) for ESP in UDP behind a NAT.
pub fn sa_pair(
    child: &ChildSa,
    config: &ChildConfig,
    algorithms: &ChildAlgorithms,
    keys: &Directions<'_>,
    encap: Option<(u16, u16)>,
) -> (SaParams, SaParams) {
    let sa = |sa: SaRef,
              src: IpAddr,
              encr_key: &crate::crypto::Secret,
              integ_key: &crate::crypto::Secret,
              encap: Option<(u16, u16)>| SaParams {
        sa,
        src,
        mode: child.mode,
        reqid: child.reqid,
        encr: algorithms.encr,
        encr_key: encr_key.clone(),
        integ: algorithms.integ.map(|i| (i, integ_key.clone())),
        encap,
        replay_window: config.replay_window,
        esn: algorithms.esn,
        lifetime: config.lifetime,
        selector: None,
        mark: None,
        if_id: None,
    };
    let (inbound, outbound) = (config.xfrm.if_id_in, config.xfrm.if_id_out);
    let mark_in = config.xfrm.mark_in.filter(|_| config.xfrm.mark_in_sa);
    let flip = |(ours, theirs): (u16, u16)| (theirs, ours);
    (
        SaParams {
            if_id: inbound,
            mark: mark_in,
            ..sa(
                child.sa_in(),
                child.remote,
                keys.encr_in,
                keys.integ_in,
                encap.map(flip),
            )
        },
        SaParams {
            if_id: outbound,
            mark: config.xfrm.mark_out,
            ..sa(
                child.sa_out(),
                child.local,
                keys.encr_out,
                keys.integ_out,
                encap,
            )
        },
    )
}

/// The policies of a Child SA: out for our selectors to theirs, in (and fwd in tunnel mode)
/// for theirs to ours, for every pair of selectors.
pub fn policies(child: &ChildSa, xfrm: XfrmOptions) -> Vec<PolicyParams> {
    let shape = PolicyShape {
        local: child.local,
        remote: child.remote,
        protocol: child.protocol,
        mode: child.mode,
        reqid: child.reqid,
        xfrm,
    };
    shape.policies(&child.local_ts, &child.remote_ts)
}

/// What the policies of a Child SA, or of a trap for one, share: the template's outer
/// addresses and kind, and the reqid that ties them to the SAs.
#[derive(Debug, Clone, Copy)]
pub struct PolicyShape {
    pub local: IpAddr,
    pub remote: IpAddr,
    pub protocol: IpsecProtocol,
    pub mode: Mode,
    pub reqid: u32,
    pub xfrm: XfrmOptions,
}

impl PolicyShape {
    /// Out for our selectors to theirs, in (and fwd in tunnel mode) for theirs to ours, for
    /// every pair of selectors.
    pub fn policies(
        &self,
        local_ts: &[TrafficSelector],
        remote_ts: &[TrafficSelector],
    ) -> Vec<PolicyParams> {
        let per_pair = if self.mode == Mode::Tunnel { 3 } else { 2 };
        let mut policies = Vec::with_capacity(per_pair * local_ts.len() * remote_ts.len());
        let policy =
            |dir, src: &TrafficSelector, dst: &TrafficSelector, tmpl_src, tmpl_dst| PolicyParams {
                dir,
                src: src.clone(),
                dst: dst.clone(),
                tmpl_src,
                tmpl_dst,
                protocol: self.protocol,
                mode: self.mode,
                reqid: self.reqid,
                mark: match dir {
                    Direction::Out => self.xfrm.mark_out,
                    Direction::In | Direction::Fwd => self.xfrm.mark_in,
                },
                if_id: match dir {
                    Direction::Out => self.xfrm.if_id_out,
                    Direction::In | Direction::Fwd => self.xfrm.if_id_in,
                },
                priority: self.xfrm.priority,
            };
        for local in local_ts {
            for remote in remote_ts {
                policies.push(policy(
                    Direction::Out,
                    local,
                    remote,
                    self.local,
                    self.remote,
                ));
                policies.push(policy(
                    Direction::In,
                    remote,
                    local,
                    self.remote,
                    self.local,
                ));
                if self.mode == Mode::Tunnel {
                    policies.push(policy(
                        Direction::Fwd,
                        remote,
                        local,
                        self.remote,
                        self.local,
                    ));
                }
            }
        }
        policies
    }
}
