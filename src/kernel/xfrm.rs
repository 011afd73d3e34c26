//! The real kernel: the core's operations as XFRM netlink requests.
//!
//! The only translation with substance is the traffic selector: IKE speaks address and port
//! ranges (RFC 7296 3.13.1), XFRM speaks prefixes and port masks, so a range becomes the
//! prefixes that cover it exactly, and one IKE policy may become several XFRM policies.

use std::net::IpAddr;

use ike::crypto::encr::Encr;
use ike::crypto::integ::Integ;
use ike::kernel::{self as core, KernelOp, KernelReply, PolicyParams, SaParams};
use ike::sa::ChildInfo;
use ike::wire::ts::TrafficSelector;
use xfrm::{
    Action, Aead, Crypto, Direction, Integrity, Key, Limits, Mark, Mode, PolicyClass, PolicyId,
    PolicySpec, PortMatch, Prefix, Priority, Proto, SaId, SaSpec, Selector, Spi, SpiRequest,
    Template, Xfrm,
};

use super::KernelBackend;

/// More XFRM policies than this for one IKE policy means a selector no one writes by hand.
const MAX_SELECTORS: usize = 64;

/// XFRM, owned by this daemon through its reqid range (see `xfrm::Owner`), and the routes of
/// its tunnels.
#[derive(Debug)]
pub struct XfrmBackend {
    pub xfrm: Xfrm,
    /// Opened with the first route.
    rtnl: Option<xfrm::Rtnetlink>,
    /// The routes installed for each reqid.
    routes: std::collections::HashMap<u32, Vec<xfrm::TunnelRoute>>,
    /// Where routes go; None installs none (strongswan.conf's `charon.install_routes`,
    /// `routing_table`, `routing_table_prio`).
    route_table: Option<xfrm::RouteTable>,
    /// The marks of the marked SAs installed (`mark_in_sa`, `mark_out`): the kernel finds a
    /// marked SA only with its mark, and the core names SAs without one.
    marks: std::collections::HashMap<core::SaRef, Mark>,
}

impl XfrmBackend {
    /// The kernel's name of an SA: the core's, with the mark it was installed with.
    fn sa_id(&self, sa: &core::SaRef) -> SaId {
        SaId {
            mark: self.marks.get(sa).copied(),
            ..sa_id(sa)
        }
    }

    fn remember_mark(&mut self, params: &SaParams) {
        if let Some(mark) = mark(params.mark) {
            self.marks.insert(params.sa, mark);
        }
    }

    pub fn new(xfrm: Xfrm) -> XfrmBackend {
        XfrmBackend {
            xfrm,
            rtnl: None,
            routes: Default::default(),
            route_table: Some(xfrm::RouteTable::default()),
            marks: Default::default(),
        }
    }

    /// Routes to tunnels' remote networks go to `table` (and its rule); None installs none.
    /// Set before the first tunnel: routes already in place are removed from the table they
    /// were put in.
    pub fn with_route_table(mut self, table: Option<xfrm::RouteTable>) -> XfrmBackend {
        self.route_table = table;
        self
    }

    /// The routes that carry a tunnel's traffic towards its peer: one per prefix of the
    /// remote selectors, leaving out any that would take the peer's own address into the
    /// tunnel, with an address of ours inside the local selectors as the source.
    async fn tunnel_routes(
        rtnl: &xfrm::Rtnetlink,
        info: &ChildInfo,
    ) -> Result<Vec<xfrm::TunnelRoute>, xfrm::Error> {
        let peer = info.remote.ip();
        let Some((ifindex, gateway, _)) = rtnl.route_to(peer).await? else {
            return Ok(Vec::new());
        };
        // A peer on the link is its own next hop, as strongSwan writes the route.
        let gateway = gateway.or(Some(peer));
        let ours = rtnl.addresses(None).await?;
        let src = ours
            .iter()
            .map(|(_, addr, _)| *addr)
            .find(|addr| info.local_ts.iter().any(|ts| covers(ts, *addr)));
        let mut routes = Vec::new();
        for ts in &info.remote_ts {
            let Some((prefixes, _, _)) = ranges(ts) else {
                continue;
            };
            for dst in prefixes.into_iter().filter(|p| !contains(p, peer)) {
                routes.push(xfrm::TunnelRoute {
                    dst,
                    src: src.filter(|s| s.is_ipv4() == dst.addr().is_ipv4()),
                    gateway: gateway.filter(|g| g.is_ipv4() == dst.addr().is_ipv4()),
                    ifindex,
                });
            }
        }
        Ok(routes)
    }
}

/// Whether the selector holds `addr`.
fn covers(ts: &TrafficSelector, addr: IpAddr) -> bool {
    match (ts, addr) {
        (TrafficSelector::V4 { start, end, .. }, IpAddr::V4(a)) => *start <= a && a <= *end,
        (TrafficSelector::V6 { start, end, .. }, IpAddr::V6(a)) => *start <= a && a <= *end,
        _ => false,
    }
}

/// Whether `prefix` holds `addr`.
fn contains(prefix: &Prefix, addr: IpAddr) -> bool {
    let len = u32::from(prefix.prefix_len());
    match (prefix.addr(), addr) {
        (IpAddr::V4(p), IpAddr::V4(a)) => {
            len == 0 || (u32::from(p) ^ u32::from(a)) >> (32 - len) == 0
        }
        (IpAddr::V6(p), IpAddr::V6(a)) => {
            len == 0 || (u128::from(p) ^ u128::from(a)) >> (128 - len) == 0
        }
        _ => false,
    }
}

impl KernelBackend for XfrmBackend {
    async fn traffic(&mut self, sa: &core::SaRef) -> Option<super::Traffic> {
        let id = self.sa_id(sa);
        let counters = self.xfrm.sa_counters(&id).await.ok()?;
        Some(super::Traffic {
            bytes: counters.bytes,
            packets: counters.packets,
            last_used: counters
                .last_used
                .filter(|&t| t != 0)
                .map(|t| std::time::UNIX_EPOCH + std::time::Duration::from_secs(t)),
        })
    }

    async fn routes(&mut self, info: &ChildInfo, up: bool) {
        if info.mode != core::Mode::Tunnel || info.xfrm_interface {
            return;
        }
        if !up {
            let Some(routes) = self.routes.remove(&info.reqid) else {
                return;
            };
            if let Some(rtnl) = &self.rtnl {
                for route in &routes {
                    if let Err(e) = rtnl.delete_tunnel_route(route).await {
                        tracing::warn!("route to {:?}: {e}", route.dst);
                    }
                }
            }
            return;
        }
        let Some(table) = self.route_table else {
            return;
        };
        if self.rtnl.is_none() {
            match xfrm::Rtnetlink::open() {
                Ok(rtnl) => self.rtnl = Some(rtnl.with_table(table)),
                Err(e) => return tracing::warn!("no routes for tunnels: {e}"),
            }
        }
        let Some(rtnl) = &self.rtnl else {
            return;
        };
        let routes = match XfrmBackend::tunnel_routes(rtnl, info).await {
            Ok(routes) => routes,
            Err(e) => return tracing::warn!("routes for reqid {}: {e}", info.reqid),
        };
        let mut added = Vec::new();
        for route in routes {
            if let Err(e) = rtnl.install_rule(route.dst.addr()).await {
                tracing::warn!("routing rule for table {}: {e}", table.table);
            }
            match rtnl.add_tunnel_route(&route).await {
                Ok(()) => added.push(route),
                Err(e) => tracing::warn!("route to {:?}: {e}", route.dst),
            }
        }
        self.routes.entry(info.reqid).or_default().extend(added);
    }

    async fn execute(&mut self, op: &KernelOp) -> KernelReply {
        match self.run(op).await {
            Ok(Some(spi)) => KernelReply::Spi(spi),
            Ok(None) => KernelReply::Done,
            Err(Failure::Kernel(e)) => KernelReply::Failed {
                errno: e.errno().unwrap_or(0),
                message: e.to_string(),
            },
            Err(Failure::Inexpressible(message)) => KernelReply::Failed {
                errno: libc_einval(),
                message,
            },
        }
    }

    fn events(&mut self) -> Option<tokio::sync::mpsc::Receiver<core::KernelEvent>> {
        let mut events = match xfrm::Events::subscribe() {
            Ok(events) => events,
            Err(e) => {
                tracing::warn!("no kernel events (expiries, acquires): {e}");
                return None;
            }
        };
        let owned = self.xfrm.owner().reqids.clone();
        let (tx, rx) = tokio::sync::mpsc::channel(256);
        tokio::spawn(async move {
            loop {
                let event = match events.next().await {
                    Ok(event) => event,
                    Err(e) => {
                        tracing::warn!("kernel events: {e}");
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let Some(event) = core_event(event).filter(|(reqid, _)| owned.contains(reqid))
                else {
                    continue;
                };
                if tx.send(event.1).await.is_err() {
                    return;
                }
            }
        });
        Some(rx)
    }

    async fn flush(&mut self) -> Result<String, String> {
        if let Some(rtnl) = &self.rtnl {
            for route in self.routes.drain().flat_map(|(_, routes)| routes) {
                let _ = rtnl.delete_tunnel_route(&route).await;
            }
            for family in [IpAddr::from([0, 0, 0, 0]), IpAddr::from([0u16; 8])] {
                let _ = rtnl.remove_rule(family).await;
            }
        }
        self.xfrm
            .flush_owned()
            .await
            .map(|f| format!("{f:?}"))
            .map_err(|e| e.to_string())
    }
}

/// An XFRM event as the core takes it, with the reqid it concerns.
fn core_event(event: xfrm::Event) -> Option<(u32, core::KernelEvent)> {
    let sa = |id: &SaId| core::SaRef {
        dst: id.dst,
        protocol: match id.proto {
            Proto::Esp => core::IpsecProtocol::Esp,
            Proto::Ah => core::IpsecProtocol::Ah,
        },
        spi: id.spi.0,
    };
    Some(match event {
        xfrm::Event::Expire(e) => (
            e.reqid,
            core::KernelEvent::Expire {
                sa: sa(&e.id),
                hard: e.hard,
            },
        ),
        xfrm::Event::Acquire(a) => (
            a.reqid,
            core::KernelEvent::Acquire {
                reqid: a.reqid,
                src: ike::config::host_selector(a.src),
                dst: ike::config::host_selector(a.dst),
            },
        ),
        xfrm::Event::Mapping(m) => (
            m.reqid,
            core::KernelEvent::Mapping {
                sa: core::SaRef {
                    dst: m.dst,
                    protocol: core::IpsecProtocol::Esp,
                    spi: m.spi.0,
                },
                new_peer: m.new,
            },
        ),
        _ => return None,
    })
}

/// Why an operation failed: the kernel said no, or the request could not be expressed to it.
enum Failure {
    Kernel(xfrm::Error),
    Inexpressible(String),
}

impl From<xfrm::Error> for Failure {
    fn from(e: xfrm::Error) -> Failure {
        Failure::Kernel(e)
    }
}

/// EINVAL, as the kernel would answer a selector it cannot take.
fn libc_einval() -> i32 {
    22
}

impl XfrmBackend {
    async fn run(&mut self, op: &KernelOp) -> Result<Option<u32>, Failure> {
        match op {
            KernelOp::AllocSpi {
                src,
                dst,
                protocol,
                reqid,
            } => {
                let request = SpiRequest {
                    src: *src,
                    dst: *dst,
                    proto: proto(*protocol),
                    mode: Mode::Tunnel,
                    reqid: *reqid,
                    // RFC 4303 2.1 reserves 1-255; strongSwan draws from 0xc0000000 up.
                    range: 0xc000_0000..=0xcfff_ffff,
                    acquire_seq: 0,
                };
                Ok(Some(self.xfrm.alloc_spi(&request).await?.0))
            }
            KernelOp::UpdateSa(params) => {
                self.xfrm.update_sa(&sa_spec(params)?).await?;
                self.remember_mark(params);
                Ok(None)
            }
            KernelOp::AddSa(params) => {
                self.xfrm.add_sa(&sa_spec(params)?).await?;
                self.remember_mark(params);
                Ok(None)
            }
            KernelOp::DelSa(sa) => {
                let id = self.sa_id(sa);
                self.xfrm.delete_sa(&id).await?;
                self.marks.remove(sa);
                Ok(None)
            }
            KernelOp::AddPolicy(p) => {
                for spec in policy_specs(p)? {
                    self.xfrm.add_policy(&spec).await?;
                }
                Ok(None)
            }
            KernelOp::DelPolicy(p) => {
                for spec in policy_specs(p)? {
                    self.xfrm.delete_policy(&spec.id).await?;
                }
                Ok(None)
            }
        }
    }
}

fn proto(protocol: core::IpsecProtocol) -> Proto {
    match protocol {
        core::IpsecProtocol::Esp => Proto::Esp,
        core::IpsecProtocol::Ah => Proto::Ah,
    }
}

fn mode(mode: core::Mode) -> Mode {
    match mode {
        core::Mode::Tunnel => Mode::Tunnel,
        core::Mode::Transport => Mode::Transport,
    }
}

fn sa_id(sa: &core::SaRef) -> SaId {
    SaId {
        dst: sa.dst,
        spi: Spi(sa.spi),
        proto: proto(sa.protocol),
        mark: None,
    }
}

/// A (value, mask) firewall mark as XFRM takes it.
fn mark(mark: Option<(u32, u32)>) -> Option<Mark> {
    mark.map(|(value, mask)| Mark { value, mask })
}

fn integrity(integ: Integ) -> Integrity {
    match integ {
        Integ::HmacSha1_96 => Integrity::HmacSha1_96,
        Integ::HmacSha256_128 => Integrity::HmacSha256_128,
        Integ::HmacSha384_192 => Integrity::HmacSha384_192,
        Integ::HmacSha512_256 => Integrity::HmacSha512_256,
    }
}

fn crypto(params: &SaParams) -> Result<Crypto, Failure> {
    let key = Key::from_slice(params.encr_key.as_bytes());
    Ok(match (params.encr, &params.integ) {
        (None, Some((integ, integ_key))) if params.sa.protocol == core::IpsecProtocol::Ah => {
            Crypto::Auth {
                integrity: integrity(*integ),
                key: Key::from_slice(integ_key.as_bytes()),
            }
        }
        (None, _) => {
            return Err(Failure::Inexpressible(
                "an SA without an encryption algorithm that is not AH with integrity".into(),
            ));
        }
        (Some(Encr::AesGcm16 { .. }), _) => Crypto::Aead {
            alg: Aead::AesGcm16,
            key,
        },
        (Some(Encr::ChaCha20Poly1305), _) => Crypto::Aead {
            alg: Aead::ChaCha20Poly1305,
            key,
        },
        (Some(Encr::AesCbc { .. }), Some((integ, integ_key))) => Crypto::AesCbc {
            key,
            integrity: integrity(*integ),
            integrity_key: Key::from_slice(integ_key.as_bytes()),
        },
        (Some(Encr::AesCbc { .. }), None) => {
            return Err(Failure::Inexpressible(
                "AES-CBC without an integrity algorithm".into(),
            ));
        }
    })
}

fn limits(bytes: u64, packets: u64, seconds: u64) -> Limits {
    let some = |v: u64| (v != 0).then_some(v);
    Limits {
        bytes: some(bytes),
        packets: some(packets),
        add_seconds: some(seconds),
        use_seconds: None,
    }
}

fn sa_spec(params: &SaParams) -> Result<SaSpec, Failure> {
    let l = &params.lifetime;
    Ok(SaSpec {
        id: SaId {
            mark: mark(params.mark),
            ..sa_id(&params.sa)
        },
        src: params.src,
        mode: mode(params.mode),
        reqid: params.reqid,
        crypto: crypto(params)?,
        selector: None,
        encap: params
            .encap
            .map(|(sport, dport)| xfrm::Encap { sport, dport }),
        replay_window: params.replay_window,
        esn: params.esn,
        lifetime: xfrm::Lifetime {
            soft: limits(l.soft_bytes, l.soft_packets, l.soft_seconds),
            hard: limits(l.hard_bytes, l.hard_packets, l.hard_seconds),
        },
        if_id: params.if_id,
        set_mark: None,
    })
}

/// The XFRM policies of one IKE policy: one per combination of covering prefixes and port
/// masks of its two selectors.
fn policy_specs(p: &PolicyParams) -> Result<Vec<PolicySpec>, Failure> {
    let (src, dst) = (ranges(&p.src), ranges(&p.dst));
    let (Some((src_prefixes, sports, proto_src)), Some((dst_prefixes, dports, _))) = (src, dst)
    else {
        return Err(Failure::Inexpressible(
            "traffic selector of a type XFRM cannot express".into(),
        ));
    };
    let count = src_prefixes.len() * dst_prefixes.len() * sports.len() * dports.len();
    if count > MAX_SELECTORS {
        return Err(Failure::Inexpressible(format!(
            "traffic selectors need {count} XFRM policies; at most {MAX_SELECTORS}"
        )));
    }
    let mut specs = Vec::with_capacity(count);
    for s in &src_prefixes {
        for d in &dst_prefixes {
            for sport in &sports {
                for dport in &dports {
                    let mut selector = Selector::new(*s, *d)?;
                    selector.proto = proto_src;
                    selector.sport = *sport;
                    selector.dport = *dport;
                    specs.push(PolicySpec {
                        id: PolicyId {
                            selector,
                            dir: direction(p.dir),
                            mark: mark(p.mark),
                            if_id: p.if_id,
                        },
                        action: Action::Allow,
                        templates: vec![Template {
                            src: p.tmpl_src,
                            dst: p.tmpl_dst,
                            proto: proto(p.protocol),
                            mode: mode(p.mode),
                            reqid: p.reqid,
                            spi: None,
                            optional: false,
                        }],
                        priority: p
                            .priority
                            .map_or(Priority::Auto(PolicyClass::Ipsec), Priority::Fixed),
                        lifetime: xfrm::Lifetime::default(),
                    });
                }
            }
        }
    }
    Ok(specs)
}

fn direction(dir: core::Direction) -> Direction {
    match dir {
        core::Direction::In => Direction::In,
        core::Direction::Out => Direction::Out,
        core::Direction::Fwd => Direction::Fwd,
    }
}

/// A selector's address range as prefixes, its port range as masks, and its protocol.
fn ranges(ts: &TrafficSelector) -> Option<(Vec<Prefix>, Vec<PortMatch>, u8)> {
    let r = ts.range()?;
    Some((
        prefixes(r.start, r.end),
        port_masks(r.start_port, r.end_port),
        r.protocol,
    ))
}

/// The fewest prefixes that cover exactly `start..=end`.
pub fn prefixes(start: IpAddr, end: IpAddr) -> Vec<Prefix> {
    let bits: u32 = if start.is_ipv4() { 32 } else { 128 };
    let as_int = |a: IpAddr| match a {
        IpAddr::V4(v) => u128::from(u32::from(v)),
        IpAddr::V6(v) => u128::from(v),
    };
    let to_addr = |n: u128| match start {
        IpAddr::V4(_) => IpAddr::from((n as u32).to_be_bytes()),
        IpAddr::V6(_) => IpAddr::from(n.to_be_bytes()),
    };
    let (mut lo, hi) = (as_int(start), as_int(end));
    let mut out = Vec::new();
    if lo > hi {
        return out;
    }
    // The last address of the block of 2^size addresses starting at `lo`; `lo` is aligned to
    // the block, so this cannot overflow.
    let last_of = |lo: u128, size: u32| {
        if size >= 128 {
            u128::MAX
        } else {
            lo | ((1u128 << size) - 1)
        }
    };
    loop {
        // The largest block aligned at `lo` that does not pass `hi`.
        let mut size = if lo == 0 {
            bits
        } else {
            lo.trailing_zeros().min(bits)
        };
        while last_of(lo, size) > hi {
            size -= 1;
        }
        let prefix = Prefix::new(to_addr(lo), (bits - size) as u8)
            .unwrap_or_else(|_| Prefix::host(to_addr(lo)));
        out.push(prefix);
        let last = last_of(lo, size);
        if last >= hi {
            return out;
        }
        lo = last + 1;
    }
}

/// Port masks covering exactly `start..=end`; OPAQUE (65535-0) and the full range are "any".
pub fn port_masks(start: u16, end: u16) -> Vec<PortMatch> {
    if (start == 0 && end == u16::MAX) || (start == u16::MAX && end == 0) {
        return vec![PortMatch::ANY];
    }
    let (mut lo, hi) = (u32::from(start), u32::from(end));
    let mut out = Vec::new();
    while lo <= hi {
        let mut size = if lo == 0 {
            16
        } else {
            lo.trailing_zeros().min(16)
        };
        while size > 0 && lo + (1 << size) - 1 > hi {
            size -= 1;
        }
        out.push(PortMatch {
            port: lo as u16,
            mask: (0xffffu32 << size) as u16,
        });
        lo += 1 << size;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> String {
        s.to_owned()
    }

    fn show(prefixes: &[Prefix]) -> Vec<String> {
        prefixes
            .iter()
            .map(|p| format!("{}/{}", p.addr(), p.prefix_len()))
            .collect()
    }

    #[test]
    fn ranges_become_exact_prefixes() {
        let v4 = |a: &str| a.parse::<IpAddr>().unwrap();
        assert_eq!(
            show(&prefixes(v4("198.51.100.0"), v4("198.51.100.255"))),
            [p("198.51.100.0/24")]
        );
        assert_eq!(
            show(&prefixes(v4("192.0.2.1"), v4("192.0.2.1"))),
            [p("192.0.2.1/32")]
        );
        assert_eq!(
            show(&prefixes(v4("0.0.0.0"), v4("255.255.255.255"))),
            [p("0.0.0.0/0")]
        );
        assert_eq!(
            show(&prefixes(v4("192.0.2.1"), v4("192.0.2.6"))),
            [
                p("192.0.2.1/32"),
                p("192.0.2.2/31"),
                p("192.0.2.4/31"),
                p("192.0.2.6/32")
            ]
        );
        let v6 = |a: &str| a.parse::<IpAddr>().unwrap();
        assert_eq!(
            show(&prefixes(v6("2001:db8::"), v6("2001:db8::ffff"))),
            [p("2001:db8::/112")]
        );
        assert_eq!(
            show(&prefixes(
                v6("::"),
                v6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")
            )),
            [p("::/0")]
        );
    }

    #[test]
    fn port_ranges_become_masks() {
        assert_eq!(port_masks(0, 65535), [PortMatch::ANY]);
        assert_eq!(port_masks(65535, 0), [PortMatch::ANY]);
        assert_eq!(port_masks(443, 443), [PortMatch::exactly(443)]);
        let masks = port_masks(1024, 2047);
        assert_eq!(
            masks,
            [PortMatch {
                port: 1024,
                mask: 0xfc00
            }]
        );
        assert_eq!(port_masks(5, 7).len(), 2);
    }
}
