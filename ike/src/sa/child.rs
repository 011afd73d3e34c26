//! Child SAs: what a negotiated one holds, what one under negotiation holds, and the kernel
//! operations that install and remove one.

use std::net::IpAddr;

use crate::config::ChildConfig;
use crate::crypto::encr::Encr;
use crate::crypto::integ::Integ;
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
    pub policies: Vec<PolicyParams>,
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
        ops.push(KernelOp::DelSa(self.sa_out()));
        ops.push(KernelOp::DelSa(self.sa_in()));
        ops
    }
}

/// A Child SA being negotiated.
#[derive(Debug, Clone)]
pub struct PendingChild {
    pub config: ChildConfig,
    pub reqid: u32,
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
}

/// The algorithms of a chosen ESP/AH proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChildAlgorithms {
    pub encr: Encr,
    pub integ: Option<Integ>,
    pub esn: bool,
}

impl ChildAlgorithms {
    /// Reads the chosen proposal; None when it names something we cannot install.
    pub fn of(proposal: &Proposal) -> Option<ChildAlgorithms> {
        let (encr, integ) = crate::task::encr_integ(proposal)?;
        let esn = proposal
            .transforms
            .iter()
            .any(|t| t.ty == TransformType::ESN && t.id == EsnId::ESN.0);
        Some(ChildAlgorithms { encr, integ, esn })
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

/// The operations that install `child` with `algorithms` and `keys`: inbound SA (completing
/// the reserved SPI), outbound SA, then the policies (DESIGN: install order).
pub fn install_ops(
    child: &ChildSa,
    config: &ChildConfig,
    algorithms: &ChildAlgorithms,
    keys: &Directions<'_>,
) -> Vec<KernelOp> {
    let sa = |sa: SaRef,
              src: IpAddr,
              encr_key: &crate::crypto::Secret,
              integ_key: &crate::crypto::Secret| SaParams {
        sa,
        src,
        mode: child.mode,
        reqid: child.reqid,
        encr: algorithms.encr,
        encr_key: encr_key.clone(),
        integ: algorithms.integ.map(|i| (i, integ_key.clone())),
        encap: None,
        replay_window: config.replay_window,
        esn: algorithms.esn,
        lifetime: config.lifetime,
        selector: None,
        mark: None,
        if_id: None,
    };
    let mut ops = vec![
        KernelOp::UpdateSa(Box::new(sa(
            child.sa_in(),
            child.remote,
            keys.encr_in,
            keys.integ_in,
        ))),
        KernelOp::AddSa(Box::new(sa(
            child.sa_out(),
            child.local,
            keys.encr_out,
            keys.integ_out,
        ))),
    ];
    ops.extend(child.policies.iter().cloned().map(KernelOp::AddPolicy));
    ops
}

/// The policies of a Child SA: out for our selectors to theirs, in (and fwd in tunnel mode)
/// for theirs to ours, for every pair of selectors.
pub fn policies(child: &ChildSa) -> Vec<PolicyParams> {
    let mut policies = Vec::new();
    for local in &child.local_ts {
        for remote in &child.remote_ts {
            let policy = |dir, src: &TrafficSelector, dst: &TrafficSelector, tmpl_src, tmpl_dst| {
                PolicyParams {
                    dir,
                    src: src.clone(),
                    dst: dst.clone(),
                    tmpl_src,
                    tmpl_dst,
                    protocol: child.protocol,
                    mode: child.mode,
                    reqid: child.reqid,
                    mark: None,
                    if_id: None,
                }
            };
            policies.push(policy(
                Direction::Out,
                local,
                remote,
                child.local,
                child.remote,
            ));
            policies.push(policy(
                Direction::In,
                remote,
                local,
                child.remote,
                child.local,
            ));
            if child.mode == Mode::Tunnel {
                policies.push(policy(
                    Direction::Fwd,
                    remote,
                    local,
                    child.remote,
                    child.local,
                ));
            }
        }
    }
    policies
}
