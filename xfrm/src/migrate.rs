//! MIGRATE (XFRM_MSG_MIGRATE): moves a policy's template, and the SAs that match it, to new
//! tunnel endpoints in place, keeping SPIs, keys and counters. MOBIKE (RFC 4555) uses it when
//! the path between the peers changes.

use std::net::IpAddr;

use netlink_packet_xfrm::{
    Address, UserKmAddress, UserMigrate, XfrmAttrs, XfrmMessage, monitor::MigrateMessage,
};

use crate::client::Xfrm;
use crate::error::{Error, Op, Result};
use crate::policy::{self, PolicyId};
use crate::types::{Mode, Proto};
use crate::wire::family_of;

/// One template of one policy moving to new endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    /// The policy whose template moves.
    pub policy: PolicyId,
    /// The template (and SAs) to move: protocol, mode and reqid select them.
    pub proto: Proto,
    pub mode: Mode,
    pub reqid: u32,
    /// Current endpoints: (source, destination) of the template.
    pub old: (IpAddr, IpAddr),
    /// New endpoints.
    pub new: (IpAddr, IpAddr),
    /// The IKE SA's own (local, remote) addresses after the move, for the kernel's MIGRATE
    /// notification to other key managers (XFRMA_KMADDRESS, RFC 5386's PF_KEY counterpart).
    pub ike: Option<(IpAddr, IpAddr)>,
}

impl Migration {
    fn validate(&self) -> Result<()> {
        let same = |(a, b): (IpAddr, IpAddr)| a.is_ipv4() == b.is_ipv4();
        let ike_ok = self.ike.is_none_or(same);
        if !same(self.old) || !same(self.new) || !ike_ok {
            return Err(Error::bad_input(
                Op::Migrate,
                format!(
                    "migration mixes address families: {:?} -> {:?}",
                    self.old, self.new
                ),
            ));
        }
        Ok(())
    }

    pub(crate) fn message(&self) -> MigrateMessage {
        let (user_policy_id, mut nlas) = policy::id_to_wire(&self.policy);
        nlas.push(XfrmAttrs::Migrate(UserMigrate {
            old_saddr: Address::from_ip(&self.old.0),
            old_daddr: Address::from_ip(&self.old.1),
            new_saddr: Address::from_ip(&self.new.0),
            new_daddr: Address::from_ip(&self.new.1),
            proto: self.proto.number(),
            mode: self.mode.number(),
            reserved: 0,
            reqid: self.reqid,
            old_family: family_of(&self.old.0),
            new_family: family_of(&self.new.0),
        }));
        if let Some((local, remote)) = self.ike {
            nlas.push(XfrmAttrs::KmAddress(UserKmAddress {
                local: Address::from_ip(&local),
                remote: Address::from_ip(&remote),
                reserved: 0,
                family: family_of(&local),
            }));
        }
        MigrateMessage {
            user_policy_id,
            nlas,
        }
    }
}

impl Xfrm {
    /// Moves a policy's template and its SAs to new endpoints (needs CONFIG_XFRM_MIGRATE).
    pub async fn migrate(&self, migration: &Migration) -> Result<()> {
        migration.validate()?;
        let msg = XfrmMessage::Migrate(migration.message());
        self.one(Op::Migrate, msg).await.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Direction;
    use crate::types::Selector;

    fn migration() -> Migration {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        Migration {
            policy: PolicyId {
                selector: Selector::hosts(ip("198.51.100.1"), ip("203.0.113.1")).unwrap(),
                dir: Direction::Out,
                mark: None,
                if_id: Some(4),
            },
            proto: Proto::Esp,
            mode: Mode::Tunnel,
            reqid: 9,
            old: (ip("192.0.2.1"), ip("192.0.2.2")),
            new: (ip("192.0.2.3"), ip("192.0.2.2")),
            ike: Some((ip("192.0.2.3"), ip("192.0.2.2"))),
        }
    }

    #[test]
    fn carries_old_and_new_endpoints_and_the_policy_id() {
        let msg = migration().message();
        assert_eq!(msg.user_policy_id.direction, 1);
        let m = msg
            .nlas
            .iter()
            .find_map(|a| match a {
                XfrmAttrs::Migrate(m) => Some(m),
                _ => None,
            })
            .unwrap();
        assert_eq!(m.new_saddr, Address::from_ip(&"192.0.2.3".parse().unwrap()));
        assert_eq!((m.proto, m.mode, m.reqid), (50, 1, 9));
        assert!(msg.nlas.iter().any(|a| matches!(a, XfrmAttrs::IfId(4))));
        assert!(
            msg.nlas
                .iter()
                .any(|a| matches!(a, XfrmAttrs::KmAddress(_)))
        );
    }

    #[test]
    fn mixed_families_are_refused() {
        let mut m = migration();
        m.new.1 = "2001:db8::2".parse().unwrap();
        assert!(m.validate().is_err());
        // A whole move from IPv4 to IPv6 is fine.
        m.new.0 = "2001:db8::1".parse().unwrap();
        m.ike = None;
        assert!(m.validate().is_ok());
    }
}
