//! SAD and SPD statistics (XFRM_MSG_GETSADINFO, XFRM_MSG_GETSPDINFO): how many SAs and
//! policies the kernel holds and how its hash tables are sized.

use netlink_packet_xfrm::{
    XfrmMessage,
    policy::{GetSpdInfoMessage, SpdInfoAttrs},
    state::{GetSadInfoMessage, SadInfoAttrs},
};

use crate::client::Xfrm;
use crate::error::{Error, Op, Result};

/// The SA database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SadInfo {
    pub sas: u32,
    pub hash_buckets: u32,
    pub hash_max: u32,
}

/// The policy database, per direction; `socket_*` count per-socket policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SpdInfo {
    pub inbound: u32,
    pub outbound: u32,
    pub forward: u32,
    pub socket_in: u32,
    pub socket_out: u32,
    pub socket_fwd: u32,
    pub hash_buckets: u32,
    pub hash_max: u32,
}

impl Xfrm {
    /// Counts of the SA database.
    pub async fn sad_info(&self) -> Result<SadInfo> {
        let msg = XfrmMessage::GetSadInfo(GetSadInfoMessage { flags: 0 });
        let replies = self.one(Op::SadInfo, msg).await?;
        let attrs = replies
            .iter()
            .find_map(|m| match m {
                XfrmMessage::NewSadInfo(m) => Some(&m.nlas),
                _ => None,
            })
            .ok_or_else(|| Error::protocol(Op::SadInfo, "the kernel's reply has no SAD info"))?;
        let mut info = SadInfo::default();
        for attr in attrs {
            match attr {
                SadInfoAttrs::SadCount(n) => info.sas = *n,
                SadInfoAttrs::SadHInfo(h) => {
                    (info.hash_buckets, info.hash_max) = (h.sadhcnt, h.sadhmcnt)
                }
                _ => {}
            }
        }
        Ok(info)
    }

    /// Counts of the policy database.
    pub async fn spd_info(&self) -> Result<SpdInfo> {
        let msg = XfrmMessage::GetSpdInfo(GetSpdInfoMessage { flags: 0 });
        let replies = self.one(Op::SpdInfo, msg).await?;
        let attrs = replies
            .iter()
            .find_map(|m| match m {
                XfrmMessage::NewSpdInfo(m) => Some(&m.nlas),
                _ => None,
            })
            .ok_or_else(|| Error::protocol(Op::SpdInfo, "the kernel's reply has no SPD info"))?;
        let mut info = SpdInfo::default();
        for attr in attrs {
            match attr {
                SpdInfoAttrs::SpdInfo(c) => {
                    info.inbound = c.incnt;
                    info.outbound = c.outcnt;
                    info.forward = c.fwdcnt;
                    info.socket_in = c.inscnt;
                    info.socket_out = c.outscnt;
                    info.socket_fwd = c.fwdscnt;
                }
                SpdInfoAttrs::SpdHInfo(h) => {
                    (info.hash_buckets, info.hash_max) = (h.spdhcnt, h.spdhmcnt)
                }
                _ => {}
            }
        }
        Ok(info)
    }
}
