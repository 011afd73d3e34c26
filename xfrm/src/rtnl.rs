//! rtnetlink helpers for what an IKE daemon changes outside XFRM: virtual IP addresses,
//! routes to the remote networks of installed tunnels (strongSwan's convention: routing table
//! 220, reached through a rule of priority 220, so the main table stays untouched), the source
//! address the kernel would pick for a destination, and a stream of address and link changes
//! (what MOBIKE watches).
//!
//! Built on rtnetlink 0.24, which has no per-namespace API: the connection's socket is made on
//! a thread inside the namespace ([`NetNs::run`]) with the caller's tokio runtime entered, so
//! it registers with that runtime and stays in the namespace.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use netlink_packet_core::{NetlinkMessage, NetlinkPayload};
use rtnetlink::packet_route::RouteNetlinkMessage;
use rtnetlink::packet_route::address::{AddressAttribute, AddressMessage};
use rtnetlink::packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use rtnetlink::packet_route::route::{RouteAddress, RouteAttribute, RouteProtocol};
use rtnetlink::packet_route::rule::{RuleAction, RuleAttribute, RuleMessage};
use rtnetlink::sys::SocketAddr;
use rtnetlink::{AddressMessageBuilder, IpVersion, MulticastGroup, RouteMessageBuilder};

use crate::error::{Error, Op, Result};
use crate::netns::NetNs;
use crate::types::Prefix;

/// Where tunnel routes go: strongSwan's defaults (charon.routing_table and
/// charon.routing_table_prio, both 220).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteTable {
    pub table: u32,
    pub rule_priority: u32,
}

impl Default for RouteTable {
    fn default() -> Self {
        RouteTable {
            table: 220,
            rule_priority: 220,
        }
    }
}

/// A route to a tunnel's remote network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TunnelRoute {
    /// The remote traffic selector's network.
    pub dst: Prefix,
    /// The source to use for it: the local virtual IP, or an address inside the local
    /// traffic selector, so that locally generated packets match the policy.
    pub src: Option<IpAddr>,
    /// Next hop towards the peer, when it is not directly connected.
    pub gateway: Option<IpAddr>,
    /// The interface towards the peer.
    pub ifindex: u32,
}

/// A client for addresses, routes and rules of one network namespace.
#[derive(Debug)]
pub struct Rtnetlink {
    handle: rtnetlink::Handle,
    table: RouteTable,
}

impl Rtnetlink {
    /// A client of the caller's namespace. Must be called inside a tokio runtime, which runs
    /// the connection as a task.
    pub fn open() -> Result<Self> {
        let (conn, handle, _) = rtnetlink::new_connection().map_err(|e| Error::io(Op::Open, e))?;
        tokio::spawn(conn);
        Ok(Rtnetlink {
            handle,
            table: RouteTable::default(),
        })
    }

    /// A client of the namespace `ns`.
    pub fn open_in(ns: &NetNs) -> Result<Self> {
        let runtime = tokio::runtime::Handle::current();
        let (conn, handle, _) = ns
            .run(move || {
                let _entered = runtime.enter();
                rtnetlink::new_connection()
            })
            .and_then(|made| made)
            .map_err(|e| Error::io(Op::Open, e))?;
        tokio::spawn(conn);
        Ok(Rtnetlink {
            handle,
            table: RouteTable::default(),
        })
    }

    /// Puts tunnel routes in `table` instead of 220.
    pub fn with_table(mut self, table: RouteTable) -> Self {
        self.table = table;
        self
    }

    /// The index of the interface `name`.
    pub async fn link_index(&self, name: &str) -> Result<u32> {
        let mut links = self
            .handle
            .link()
            .get()
            .match_name(name.to_owned())
            .execute();
        match links.try_next().await {
            Ok(Some(link)) => Ok(link.header.index),
            Ok(None) => Err(Error::bad_input(
                Op::LinkLookup,
                format!("no interface {name}"),
            )),
            Err(e) => Err(rtnl_error(Op::LinkLookup, e)),
        }
    }

    /// Adds an address (a virtual IP) to an interface.
    pub async fn add_address(&self, ifindex: u32, addr: IpAddr, prefix_len: u8) -> Result<()> {
        self.handle
            .address()
            .add(ifindex, addr, prefix_len)
            .execute()
            .await
            .map_err(|e| rtnl_error(Op::AddAddress, e))
    }

    /// Removes an address from an interface.
    pub async fn delete_address(&self, ifindex: u32, addr: IpAddr, prefix_len: u8) -> Result<()> {
        let msg = address_message(ifindex, addr, prefix_len);
        self.handle
            .address()
            .del(msg)
            .execute()
            .await
            .map_err(|e| rtnl_error(Op::DeleteAddress, e))
    }

    /// The addresses of an interface (or of all), with their prefix lengths.
    pub async fn addresses(&self, ifindex: Option<u32>) -> Result<Vec<(u32, IpAddr, u8)>> {
        let mut req = self.handle.address().get();
        if let Some(index) = ifindex {
            req = req.set_link_index_filter(index);
        }
        let msgs: Vec<AddressMessage> = req
            .execute()
            .try_collect()
            .await
            .map_err(|e| rtnl_error(Op::LinkLookup, e))?;
        Ok(msgs
            .iter()
            .filter_map(|m| Some((m.header.index, address_of(m)?, m.header.prefix_len)))
            .collect())
    }

    /// Makes sure the rule sending lookups to the tunnel table exists for the family of
    /// `family_of`; an existing rule is fine.
    pub async fn install_rule(&self, family_of: IpAddr) -> Result<()> {
        let add = self.handle.rule().add();
        let RouteTable {
            table,
            rule_priority,
        } = self.table;
        // Without an action the rule is RuleAction::Unspec, and every lookup through it fails
        // with EINVAL.
        let result = if family_of.is_ipv4() {
            let req = add.v4().table_id(table).priority(rule_priority);
            req.action(RuleAction::ToTable).execute().await
        } else {
            let req = add.v6().table_id(table).priority(rule_priority);
            req.action(RuleAction::ToTable).execute().await
        };
        match result.map_err(|e| rtnl_error(Op::AddRule, e)) {
            Err(e) if e.kind() == crate::ErrorKind::Exists => Ok(()),
            other => other,
        }
    }

    /// Removes the rule [`Rtnetlink::install_rule`] added for the family of `family_of`, if
    /// it is there (at shutdown, as strongSwan does).
    pub async fn remove_rule(&self, family_of: IpAddr) -> Result<()> {
        let version = if family_of.is_ipv4() {
            IpVersion::V4
        } else {
            IpVersion::V6
        };
        let rules: Vec<RuleMessage> = self
            .handle
            .rule()
            .get(version)
            .execute()
            .try_collect()
            .await
            .map_err(|e| rtnl_error(Op::DeleteRule, e))?;
        let RouteTable {
            table,
            rule_priority,
        } = self.table;
        for rule in rules
            .into_iter()
            .filter(|r| rule_is(r, table, rule_priority))
        {
            self.handle
                .rule()
                .del(rule)
                .execute()
                .await
                .map_err(|e| rtnl_error(Op::DeleteRule, e))?;
        }
        Ok(())
    }

    /// Adds a route to a tunnel's remote network in the tunnel table.
    pub async fn add_tunnel_route(&self, route: &TunnelRoute) -> Result<()> {
        let msg = self.route_message(route, Op::AddRoute)?;
        self.handle
            .route()
            .add(msg)
            .execute()
            .await
            .map_err(|e| rtnl_error(Op::AddRoute, e))
    }

    /// Removes a route added by [`Rtnetlink::add_tunnel_route`].
    pub async fn delete_tunnel_route(&self, route: &TunnelRoute) -> Result<()> {
        let msg = self.route_message(route, Op::DeleteRoute)?;
        self.handle
            .route()
            .del(msg)
            .execute()
            .await
            .map_err(|e| rtnl_error(Op::DeleteRoute, e))
    }

    /// How the kernel reaches `dst` (RTM_GETROUTE): the interface, the next hop if `dst` is not
    /// directly connected, and the source address; None without a route.
    pub async fn route_to(
        &self,
        dst: IpAddr,
    ) -> Result<Option<(u32, Option<IpAddr>, Option<IpAddr>)>> {
        let full = if dst.is_ipv4() { 32 } else { 128 };
        let msg = RouteMessageBuilder::<IpAddr>::new()
            .destination_prefix(dst, full)
            .map_err(|e| Error::bad_input(Op::RouteLookup, e.to_string()))?
            .build();
        let mut routes = self.handle.route().get(msg).execute();
        match routes.try_next().await {
            Ok(Some(route)) => {
                let attrs = &route.attributes;
                let ifindex = attrs.iter().find_map(|a| match a {
                    RouteAttribute::Oif(i) => Some(*i),
                    _ => None,
                });
                let gateway = attrs.iter().find_map(|a| match a {
                    RouteAttribute::Gateway(addr) => route_ip(addr),
                    _ => None,
                });
                let source = attrs.iter().find_map(|a| match a {
                    RouteAttribute::PrefSource(addr) => route_ip(addr),
                    _ => None,
                });
                Ok(ifindex.map(|i| (i, gateway, source)))
            }
            Ok(None) => Ok(None),
            Err(e) => match rtnl_error(Op::RouteLookup, e) {
                e if matches!(e.errno(), Some(libc::ENETUNREACH | libc::EHOSTUNREACH)) => Ok(None),
                e => Err(e),
            },
        }
    }

    /// The source address the kernel picks for packets to `dst` (RTM_GETROUTE), if it has a
    /// route there.
    pub async fn source_for(&self, dst: IpAddr) -> Result<Option<IpAddr>> {
        Ok(self.route_to(dst).await?.and_then(|(_, _, source)| source))
    }

    fn route_message(
        &self,
        route: &TunnelRoute,
        op: Op,
    ) -> Result<rtnetlink::packet_route::route::RouteMessage> {
        let mut b = RouteMessageBuilder::<IpAddr>::new()
            .destination_prefix(route.dst.addr(), route.dst.prefix_len())
            .map_err(|e| Error::bad_input(op, e.to_string()))?;
        if let Some(src) = route.src {
            b = b
                .pref_source(src)
                .map_err(|e| Error::bad_input(op, e.to_string()))?;
        }
        if let Some(gw) = route.gateway {
            b = b
                .gateway(gw)
                .map_err(|e| Error::bad_input(op, e.to_string()))?;
        }
        Ok(b.output_interface(route.ifindex)
            .table_id(self.table.table)
            .protocol(RouteProtocol::Static)
            .build())
    }
}

/// Whether `rule` sends lookups to `table` at `priority`. Tables above 255 are only in the
/// FRA_TABLE attribute; the header's u8 then says RT_TABLE_UNSPEC (0).
fn rule_is(rule: &RuleMessage, table: u32, priority: u32) -> bool {
    let attr_table = rule.attributes.iter().find_map(|a| match a {
        RuleAttribute::Table(t) => Some(*t),
        _ => None,
    });
    let rule_table = attr_table.unwrap_or(u32::from(rule.header.table));
    let rule_priority = rule.attributes.iter().find_map(|a| match a {
        RuleAttribute::Priority(p) => Some(*p),
        _ => None,
    });
    rule_table == table && rule_priority == Some(priority)
}

fn address_message(ifindex: u32, addr: IpAddr, prefix_len: u8) -> AddressMessage {
    match addr {
        IpAddr::V4(a) => AddressMessageBuilder::<Ipv4Addr>::new()
            .index(ifindex)
            .address(a, prefix_len)
            .build(),
        IpAddr::V6(a) => AddressMessageBuilder::<Ipv6Addr>::new()
            .index(ifindex)
            .address(a, prefix_len)
            .build(),
    }
}

/// An address message's address: IFA_LOCAL where present (the local address of a
/// point-to-point link), else IFA_ADDRESS.
fn address_of(m: &AddressMessage) -> Option<IpAddr> {
    let local = m.attributes.iter().find_map(|a| match a {
        AddressAttribute::Local(ip) => Some(*ip),
        _ => None,
    });
    local.or_else(|| {
        m.attributes.iter().find_map(|a| match a {
            AddressAttribute::Address(ip) => Some(*ip),
            _ => None,
        })
    })
}

fn route_ip(addr: &RouteAddress) -> Option<IpAddr> {
    match addr {
        RouteAddress::Inet(a) => Some(IpAddr::V4(*a)),
        RouteAddress::Inet6(a) => Some(IpAddr::V6(*a)),
        _ => None,
    }
}

fn rtnl_error(op: Op, e: rtnetlink::Error) -> Error {
    match e {
        rtnetlink::Error::NetlinkError(msg) => match msg.code {
            Some(code) => Error::kernel(op, -code.get(), None, None),
            None => Error::protocol(op, "an error message without an error"),
        },
        other => Error::protocol(op, other.to_string()),
    }
}

/// An address or link change.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NetEvent {
    AddressAdded {
        ifindex: u32,
        addr: IpAddr,
        prefix_len: u8,
    },
    AddressRemoved {
        ifindex: u32,
        addr: IpAddr,
        prefix_len: u8,
    },
    /// A link appeared or changed; `up` is whether it is administratively up and has carrier.
    LinkChanged {
        ifindex: u32,
        name: Option<String>,
        up: bool,
    },
    LinkRemoved {
        ifindex: u32,
    },
}

/// A subscription to address and link changes.
pub struct NetEvents {
    messages: BoxStream<'static, (NetlinkMessage<RouteNetlinkMessage>, SocketAddr)>,
}

impl std::fmt::Debug for NetEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetEvents").finish_non_exhaustive()
    }
}

impl NetEvents {
    /// Address and link changes of the caller's namespace. Must be called inside a tokio
    /// runtime.
    pub fn subscribe() -> Result<Self> {
        Self::subscribe_with(None)
    }

    /// Address and link changes of `ns`.
    pub fn subscribe_in(ns: &NetNs) -> Result<Self> {
        Self::subscribe_with(Some(ns))
    }

    fn subscribe_with(ns: Option<&NetNs>) -> Result<Self> {
        let groups = [
            MulticastGroup::Link,
            MulticastGroup::Ipv4Ifaddr,
            MulticastGroup::Ipv6Ifaddr,
        ];
        let runtime = tokio::runtime::Handle::current();
        let make = move || {
            let _entered = runtime.enter();
            rtnetlink::new_multicast_connection(&groups)
        };
        let made = match ns {
            Some(ns) => ns.run(make).and_then(|m| m),
            None => make(),
        };
        let (conn, _handle, messages) = made.map_err(|e| Error::io(Op::Subscribe, e))?;
        tokio::spawn(conn);
        Ok(NetEvents {
            messages: messages.boxed(),
        })
    }

    /// The next change; `None` when the connection closed.
    pub async fn next(&mut self) -> Option<NetEvent> {
        while let Some((msg, from)) = self.messages.next().await {
            // Only the kernel's messages (port 0).
            if from.port_number() != 0 {
                continue;
            }
            if let NetlinkPayload::InnerMessage(m) = msg.payload
                && let Some(event) = net_event(m)
            {
                return Some(event);
            }
        }
        None
    }
}

fn net_event(msg: RouteNetlinkMessage) -> Option<NetEvent> {
    let addr = |m: &AddressMessage| Some((m.header.index, address_of(m)?, m.header.prefix_len));
    Some(match msg {
        RouteNetlinkMessage::NewAddress(m) => {
            let (ifindex, addr, prefix_len) = addr(&m)?;
            NetEvent::AddressAdded {
                ifindex,
                addr,
                prefix_len,
            }
        }
        RouteNetlinkMessage::DelAddress(m) => {
            let (ifindex, addr, prefix_len) = addr(&m)?;
            NetEvent::AddressRemoved {
                ifindex,
                addr,
                prefix_len,
            }
        }
        RouteNetlinkMessage::NewLink(m) => link_changed(&m),
        RouteNetlinkMessage::DelLink(m) => NetEvent::LinkRemoved {
            ifindex: m.header.index,
        },
        _ => return None,
    })
}

fn link_changed(m: &LinkMessage) -> NetEvent {
    let name = m.attributes.iter().find_map(|a| match a {
        LinkAttribute::IfName(n) => Some(n.clone()),
        _ => None,
    });
    let flags = m.header.flags;
    NetEvent::LinkChanged {
        ifindex: m.header.index,
        name,
        up: flags.contains(LinkFlags::Up) && flags.contains(LinkFlags::LowerUp),
    }
}

#[cfg(test)]
mod tests {
    use rtnetlink::packet_route::address::AddressHeader;
    use rtnetlink::packet_route::link::LinkHeader;

    use super::*;

    fn address(attrs: Vec<AddressAttribute>) -> AddressMessage {
        let mut m = AddressMessage::default();
        m.header = AddressHeader {
            index: 4,
            prefix_len: 24,
            ..m.header
        };
        m.attributes = attrs;
        m
    }

    #[test]
    fn local_address_wins_over_peer_address() {
        let local: IpAddr = "192.0.2.1".parse().unwrap();
        let peer: IpAddr = "192.0.2.9".parse().unwrap();
        let m = address(vec![
            AddressAttribute::Address(peer),
            AddressAttribute::Local(local),
        ]);
        assert_eq!(
            net_event(RouteNetlinkMessage::NewAddress(m)),
            Some(NetEvent::AddressAdded {
                ifindex: 4,
                addr: local,
                prefix_len: 24
            })
        );
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        let m = address(vec![AddressAttribute::Address(v6)]);
        let Some(NetEvent::AddressRemoved { addr, .. }) =
            net_event(RouteNetlinkMessage::DelAddress(m))
        else {
            panic!("not a removal")
        };
        assert_eq!(addr, v6);
        assert_eq!(
            net_event(RouteNetlinkMessage::NewAddress(address(vec![]))),
            None
        );
    }

    #[test]
    fn rule_is_matched_by_table_and_priority() {
        let mut rule = RuleMessage::default();
        rule.header.table = 220;
        rule.attributes = vec![RuleAttribute::Priority(220)];
        assert!(rule_is(&rule, 220, 220));
        assert!(!rule_is(&rule, 220, 221));
        assert!(!rule_is(&rule, 254, 220));
        // A table above 255 is only in the attribute.
        rule.header.table = 0;
        rule.attributes.push(RuleAttribute::Table(1000));
        assert!(rule_is(&rule, 1000, 220));
        rule.attributes
            .retain(|a| !matches!(a, RuleAttribute::Priority(_)));
        assert!(
            !rule_is(&rule, 1000, 220),
            "a rule without priority is not ours"
        );
    }

    #[test]
    fn link_is_up_only_with_carrier() {
        let mut m = LinkMessage::default();
        m.header = LinkHeader {
            index: 3,
            flags: LinkFlags::Up,
            ..m.header
        };
        m.attributes = vec![LinkAttribute::IfName("ext".into())];
        let up = |m: &LinkMessage| match net_event(RouteNetlinkMessage::NewLink(m.clone())) {
            Some(NetEvent::LinkChanged { up, name, .. }) => {
                assert_eq!(name.as_deref(), Some("ext"));
                up
            }
            other => panic!("{other:?}"),
        };
        assert!(!up(&m));
        m.header.flags |= LinkFlags::LowerUp;
        assert!(up(&m));
        assert_eq!(
            net_event(RouteNetlinkMessage::DelLink(m)),
            Some(NetEvent::LinkRemoved { ifindex: 3 })
        );
    }
}
