use std::net::IpAddr;

use super::*;
use crate::types::{PortMatch, Prefix};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn sel(src: &str, sl: u8, dst: &str, dl: u8) -> Selector {
    Selector::new(
        Prefix::new(ip(src), sl).unwrap(),
        Prefix::new(ip(dst), dl).unwrap(),
    )
    .unwrap()
}

fn spec(selector: Selector, dir: Direction) -> PolicySpec {
    PolicySpec {
        id: PolicyId {
            selector,
            dir,
            mark: None,
            if_id: None,
        },
        action: Action::Allow,
        templates: vec![Template {
            src: ip("192.0.2.1"),
            dst: ip("192.0.2.2"),
            proto: Proto::Esp,
            mode: Mode::Tunnel,
            reqid: 0x4b00_0001,
            spi: None,
            optional: false,
        }],
        priority: Priority::Auto(PolicyClass::Ipsec),
        lifetime: Lifetime::default(),
    }
}

#[test]
fn priority_matches_strongswan_for_known_selectors() {
    // Worked out by hand from strongSwan's layout: base 400000 for IPsec and trap policies,
    // minus 512 per prefix bit, minus 1 unless a trap.
    let nets = sel("198.51.100.0", 24, "203.0.113.0", 24);
    assert_eq!(auto_priority(&nets, PolicyClass::Ipsec), 375_423);
    assert_eq!(auto_priority(&nets, PolicyClass::Trap), 375_424);
    let hosts = sel("192.0.2.1", 32, "192.0.2.2", 32);
    assert_eq!(auto_priority(&hosts, PolicyClass::Ipsec), 367_231);
    let any = sel("0.0.0.0", 0, "0.0.0.0", 0);
    assert_eq!(auto_priority(&any, PolicyClass::Pass), 199_999);
    assert_eq!(auto_priority(&any, PolicyClass::Fallback), 599_999);
}

#[test]
fn more_specific_selectors_win() {
    let wide = sel("198.51.100.0", 24, "203.0.113.0", 24);
    let narrow = sel("198.51.100.0", 25, "203.0.113.0", 24);
    let tcp = wide.with_proto(6);
    let https = tcp.with_ports(PortMatch::ANY, PortMatch::exactly(443));
    let p = |s: &Selector| auto_priority(s, PolicyClass::Ipsec);
    // Lower is preferred by the kernel.
    assert!(p(&narrow) < p(&wide));
    assert!(p(&tcp) < p(&wide));
    assert!(p(&https) < p(&tcp));
    // One prefix bit outweighs a protocol and all port bits together.
    let all_ports = tcp.with_ports(PortMatch::exactly(1), PortMatch::exactly(2));
    assert!(p(&narrow) < p(&all_ports));
    // IPv6 host-to-host, the most specific there is, still stays positive.
    let v6 = sel("2001:db8::1", 128, "2001:db8::2", 128)
        .with_proto(17)
        .with_ports(PortMatch::exactly(1), PortMatch::exactly(2));
    let mut v6 = v6;
    v6.ifindex = 3;
    assert_eq!(
        auto_priority(&v6, PolicyClass::Pass),
        200_000 - 131_072 - 256 - 128 - 2 - 1
    );
}

#[test]
fn bands_order_pass_before_ipsec_before_trap_before_fallback() {
    let s = sel("198.51.100.0", 24, "203.0.113.0", 24);
    let pass = auto_priority(&s, PolicyClass::Pass);
    let ipsec = auto_priority(&s, PolicyClass::Ipsec);
    let trap = auto_priority(&s, PolicyClass::Trap);
    let fallback = auto_priority(&s, PolicyClass::Fallback);
    assert!(pass < ipsec && ipsec < trap && trap < fallback);
}

#[test]
fn fixed_priority_is_used_as_is() {
    let mut p = spec(sel("198.51.100.0", 24, "203.0.113.0", 24), Direction::Out);
    p.priority = Priority::Fixed(1234);
    assert_eq!(p.to_wire().0.priority, 1234);
}

#[test]
fn policy_round_trips() {
    let mut p = spec(sel("198.51.100.0", 24, "203.0.113.0", 24), Direction::Fwd);
    p.id.mark = Some(Mark {
        value: 1,
        mask: 0xffff_ffff,
    });
    p.id.if_id = Some(9);
    p.templates[0].spi = Some(Spi(0xc000_0001));
    p.templates[0].optional = true;
    let (info, attrs) = p.to_wire();
    assert_eq!(info.direction, 2);
    let back = PolicyInfo::from_wire(&info, &attrs).unwrap();
    assert_eq!(back.id, p.id);
    assert_eq!(back.templates, p.templates);
    assert_eq!(back.priority, p.effective_priority());
    assert_eq!(back.action, Action::Allow);
}

#[test]
fn template_asks_for_any_algorithm() {
    let (_, attrs) = spec(sel("198.51.100.0", 24, "203.0.113.0", 24), Direction::Out).to_wire();
    let XfrmAttrs::Template(ts) = &attrs[0] else {
        panic!("{attrs:?}")
    };
    assert_eq!((ts[0].aalgos, ts[0].ealgos, ts[0].calgos), (!0, !0, !0));
    assert_eq!(ts[0].id.proto, 50);
    assert_eq!(ts[0].family, crate::wire::AF_INET);
}

#[test]
fn block_policy_without_templates() {
    let mut p = spec(sel("198.51.100.0", 24, "203.0.113.0", 24), Direction::In);
    p.action = Action::Block;
    p.templates.clear();
    let (info, attrs) = p.to_wire();
    assert_eq!(info.action, 1);
    assert!(attrs.is_empty());
    assert_eq!(
        PolicyInfo::from_wire(&info, &attrs).unwrap().action,
        Action::Block
    );
}

#[test]
fn mixed_family_templates_are_refused() {
    let mut p = spec(sel("198.51.100.0", 24, "203.0.113.0", 24), Direction::Out);
    p.templates[0].dst = ip("2001:db8::2");
    assert!(p.validate(Op::AddPolicy).is_err());
    // Tunnel mode may carry IPv4 inside IPv6, transport mode may not.
    p.templates[0].src = ip("2001:db8::1");
    assert!(p.validate(Op::AddPolicy).is_ok());
    p.templates[0].mode = Mode::Transport;
    assert!(p.validate(Op::AddPolicy).is_err());
}

#[test]
fn unknown_direction_from_the_kernel_is_an_error() {
    let (mut info, attrs) =
        spec(sel("198.51.100.0", 24, "203.0.113.0", 24), Direction::Out).to_wire();
    info.direction = 9;
    assert!(PolicyInfo::from_wire(&info, &attrs).is_err());
}
