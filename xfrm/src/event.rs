//! Kernel events: ACQUIRE (a packet met a policy whose SA is missing: negotiate one), EXPIRE
//! (an SA reached a soft limit: rekey; or a hard one: it is gone), POLEXPIRE (a policy's
//! lifetime ran out) and MAPPING (the NAT in front of a UDP-encapsulated peer changed its
//! port; RFC 3948, the kernel's encap mapping notification).

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};

use netlink_packet_xfrm::{
    UserAcquire, UserExpire, UserMapping, UserPolicyExpire, XfrmAttrs, XfrmMessage,
};

use crate::error::{Error, Op, Result};
use crate::netns::NetNs;
use crate::policy::{Direction, PolicyId, PolicyInfo};
use crate::sa::{SaId, id_from_wire};
use crate::socket::{Body, XfrmSocket, wipe_message};
use crate::types::{Mark, Proto, Selector, Spi};
use crate::wire;

/// XFRMNLGRP_ACQUIRE, _EXPIRE and _MAPPING of linux/xfrm.h. POLEXPIRE goes to the EXPIRE
/// group.
const XFRMNLGRP_ACQUIRE: u32 = 1;
const XFRMNLGRP_EXPIRE: u32 = 2;
const XFRMNLGRP_MAPPING: u32 = 8;
/// A socket joins multicast group `g` by binding with bit `1 << (g - 1)` set.
const GROUPS: u32 =
    group_bit(XFRMNLGRP_ACQUIRE) | group_bit(XFRMNLGRP_EXPIRE) | group_bit(XFRMNLGRP_MAPPING);

const fn group_bit(group: u32) -> u32 {
    1 << (group - 1)
}

/// An ACQUIRE: outbound traffic met a policy with a template but no SA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acquire {
    /// The SA the kernel wants: its source and destination, protocol and reqid (from the
    /// policy's first template).
    pub src: IpAddr,
    pub dst: IpAddr,
    pub proto: Option<Proto>,
    pub reqid: u32,
    /// The packet's own addresses, protocol and ports (host selector).
    pub packet: Option<Selector>,
    /// The policy that triggered it.
    pub policy_selector: Option<Selector>,
    pub policy_dir: Option<Direction>,
    pub policy_index: u32,
    /// Pass this to ALLOCSPI ([`crate::SpiRequest::acquire_seq`]).
    pub seq: u32,
}

/// An SA's lifetime ran out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expire {
    pub id: SaId,
    pub src: IpAddr,
    pub reqid: u32,
    /// Hard: the SA is deleted. Soft: time to rekey.
    pub hard: bool,
}

/// A policy's lifetime ran out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyExpire {
    pub policy: PolicyInfo,
    pub hard: bool,
}

/// A UDP-encapsulated SA's peer moved to a new address or port behind its NAT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub dst: IpAddr,
    pub spi: Spi,
    pub reqid: u32,
    pub old: SocketAddr,
    pub new: SocketAddr,
}

/// One kernel event.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    Acquire(Acquire),
    Expire(Expire),
    PolicyExpire(PolicyExpire),
    Mapping(Mapping),
}

/// A subscription to the kernel's ACQUIRE, EXPIRE, POLEXPIRE and MAPPING events.
#[derive(Debug)]
pub struct Events {
    socket: XfrmSocket,
    queue: VecDeque<Event>,
}

impl Events {
    /// Events of the caller's network namespace. Must be called inside a tokio runtime.
    pub fn subscribe() -> Result<Self> {
        Self::subscribe_with(None)
    }

    /// Events of the namespace `ns`.
    pub fn subscribe_in(ns: &NetNs) -> Result<Self> {
        Self::subscribe_with(Some(ns))
    }

    fn subscribe_with(ns: Option<&NetNs>) -> Result<Self> {
        let socket = XfrmSocket::open(ns, GROUPS).map_err(|e| Error::io(Op::Subscribe, e))?;
        Ok(Events {
            socket,
            queue: VecDeque::new(),
        })
    }

    /// The next event. An error of kind [`crate::ErrorKind::Overrun`] says events were lost
    /// (the receive queue overflowed); the subscription goes on after it.
    pub async fn next(&mut self) -> Result<Event> {
        loop {
            if let Some(event) = self.queue.pop_front() {
                return Ok(event);
            }
            let messages = self
                .socket
                .receive()
                .await
                .map_err(|e| Error::io(Op::ReceiveEvent, e))?;
            for parsed in messages {
                if let Body::Message(mut msg) = parsed.body {
                    if let Some(event) = event_of(&msg) {
                        self.queue.push_back(event);
                    }
                    wipe_message(&mut msg);
                }
            }
        }
    }
}

/// The event a kernel message announces; `None` for messages that are not events, or events
/// about protocols this crate does not handle.
pub(crate) fn event_of(msg: &XfrmMessage) -> Option<Event> {
    match msg {
        XfrmMessage::Acquire(m) => Some(Event::Acquire(acquire(&m.acquire, &m.nlas))),
        XfrmMessage::Expire(m) => expire(&m.expire).map(Event::Expire),
        XfrmMessage::PolicyExpire(m) => policy_expire(&m.expire, &m.nlas).map(Event::PolicyExpire),
        XfrmMessage::Mapping(m) => mapping(&m.map).map(Event::Mapping),
        _ => None,
    }
}

fn acquire(a: &UserAcquire, attrs: &[XfrmAttrs]) -> Acquire {
    let template = attrs.iter().find_map(|attr| match attr {
        XfrmAttrs::Template(ts) => ts.first().copied(),
        _ => None,
    });
    // struct xfrm_user_acquire has no family of its own. The SA's endpoints are the
    // template's, which may differ from the traffic's (IPv4 in an IPv6 tunnel).
    let v4 = match template.map(|t| t.family) {
        Some(wire::AF_INET) => true,
        Some(wire::AF_INET6) => false,
        _ => a.policy.selector.family == wire::AF_INET || a.selector.family == wire::AF_INET,
    };
    Acquire {
        src: wire::addr_from_wire(&a.saddr, v4),
        dst: wire::addr_from_wire(&a.id.daddr, v4),
        proto: Proto::from_number(a.id.proto),
        reqid: template.map_or(0, |t| t.reqid),
        packet: wire::selector_from_wire(&a.selector),
        policy_selector: wire::policy_selector_from_wire(&a.policy.selector),
        policy_dir: Direction::from_number(a.policy.direction),
        policy_index: a.policy.index,
        seq: a.seq,
    }
}

fn expire(e: &UserExpire) -> Option<Expire> {
    let (dst, spi, proto) = id_from_wire(&e.state.id, e.state.family)?;
    Some(Expire {
        id: SaId {
            dst,
            spi,
            proto,
            mark: None,
        },
        src: wire::addr_from_wire(&e.state.saddr, e.state.family == wire::AF_INET),
        reqid: e.state.reqid,
        hard: e.hard != 0,
    })
}

fn policy_expire(e: &UserPolicyExpire, attrs: &[XfrmAttrs]) -> Option<PolicyExpire> {
    let mut policy = PolicyInfo::from_wire(&e.pol, attrs).ok()?;
    if policy.id.mark.is_none() {
        policy.id.mark = attrs.iter().find_map(|a| match a {
            XfrmAttrs::Mark(m) => Some(Mark {
                value: m.value,
                mask: m.mask,
            }),
            _ => None,
        });
    }
    Some(PolicyExpire {
        policy,
        hard: e.hard != 0,
    })
}

fn mapping(m: &UserMapping) -> Option<Mapping> {
    let v4 = match m.id.family {
        wire::AF_INET => true,
        wire::AF_INET6 => false,
        _ => return None,
    };
    Some(Mapping {
        dst: wire::addr_from_wire(&m.id.daddr, v4),
        spi: Spi(m.id.spi),
        reqid: m.reqid,
        old: SocketAddr::new(wire::addr_from_wire(&m.old_saddr, v4), m.old_sport),
        new: SocketAddr::new(wire::addr_from_wire(&m.new_saddr, v4), m.new_sport),
    })
}

impl Acquire {
    /// The id of the policy that triggered the ACQUIRE, to look it up (marks and interface
    /// ids are not part of the message).
    pub fn policy_id(&self) -> Option<PolicyId> {
        Some(PolicyId {
            selector: self.policy_selector?,
            dir: self.policy_dir?,
            mark: None,
            if_id: None,
        })
    }
}

#[cfg(test)]
#[allow(clippy::field_reassign_with_default)]
mod tests {
    use netlink_packet_xfrm::{
        Address, UserTemplate,
        monitor::{AcquireMessage, ExpireMessage, MappingMessage},
    };

    use super::*;

    #[test]
    fn groups_are_acquire_expire_and_mapping() {
        assert_eq!(GROUPS, 0b1000_0011);
    }

    #[test]
    fn acquire_takes_reqid_from_the_template_and_keeps_the_seq() {
        let mut a = UserAcquire::default();
        a.saddr = Address::from_ip(&"192.0.2.1".parse().unwrap());
        a.id.daddr = Address::from_ip(&"192.0.2.2".parse().unwrap());
        a.id.proto = 50;
        a.seq = 77;
        a.policy.selector.family = wire::AF_INET;
        a.policy.direction = 1;
        let mut t = UserTemplate::default();
        t.reqid(0x4b00_0001);
        let msg = XfrmMessage::Acquire(AcquireMessage {
            acquire: a,
            nlas: vec![XfrmAttrs::Template(vec![t])],
        });
        let Some(Event::Acquire(acq)) = event_of(&msg) else {
            panic!("not an acquire")
        };
        assert_eq!(acq.reqid, 0x4b00_0001);
        assert_eq!(acq.seq, 77);
        assert_eq!(acq.proto, Some(Proto::Esp));
        assert_eq!(acq.dst, "192.0.2.2".parse::<IpAddr>().unwrap());
        assert_eq!(acq.policy_dir, Some(Direction::Out));
    }

    #[test]
    fn acquire_endpoints_take_the_template_family() {
        let outer = "2001:db8::2".parse::<IpAddr>().unwrap();
        let mut a = UserAcquire::default();
        a.id.daddr = Address::from_ip(&outer);
        a.policy.selector.family = wire::AF_INET;
        a.selector.family = wire::AF_INET;
        let mut t = UserTemplate::default();
        t.destination(&outer);
        let msg = XfrmMessage::Acquire(AcquireMessage {
            acquire: a,
            nlas: vec![XfrmAttrs::Template(vec![t])],
        });
        let Some(Event::Acquire(acq)) = event_of(&msg) else {
            panic!("not an acquire")
        };
        assert_eq!(acq.dst, outer);
    }

    #[test]
    fn expire_of_unknown_protocol_is_not_an_event() {
        let mut e = UserExpire::default();
        e.state.id.proto = 108; // IPComp
        e.state.family = wire::AF_INET;
        assert_eq!(
            event_of(&XfrmMessage::Expire(ExpireMessage { expire: e })),
            None
        );
        e.state.id.proto = 51;
        e.hard = 1;
        let Some(Event::Expire(x)) = event_of(&XfrmMessage::Expire(ExpireMessage { expire: e }))
        else {
            panic!("not an expire")
        };
        assert!(x.hard);
        assert_eq!(x.id.proto, Proto::Ah);
    }

    #[test]
    fn mapping_reports_old_and_new_ports() {
        let mut m = UserMapping::default();
        m.id.family = wire::AF_INET;
        m.id.spi = 0xc000_0001;
        m.old_saddr = Address::from_ip(&"203.0.113.5".parse().unwrap());
        m.new_saddr = Address::from_ip(&"203.0.113.5".parse().unwrap());
        m.old_sport = 4500;
        m.new_sport = 31000;
        let Some(Event::Mapping(x)) = event_of(&XfrmMessage::Mapping(MappingMessage { map: m }))
        else {
            panic!("not a mapping")
        };
        assert_eq!(x.old.port(), 4500);
        assert_eq!(x.new.port(), 31000);
        assert_eq!(x.spi, Spi(0xc000_0001));
        m.id.family = 0;
        assert_eq!(
            event_of(&XfrmMessage::Mapping(MappingMessage { map: m })),
            None
        );
    }
}
