//! Security policies: [`PolicySpec`] to install, [`PolicyInfo`] as the kernel reports them,
//! priorities, and their translation to `struct xfrm_userpolicy_info` plus templates.

use std::net::IpAddr;

use netlink_packet_xfrm::{Mark as NlMark, UserPolicyId, UserPolicyInfo, UserTemplate, XfrmAttrs};

use crate::error::{Error, Op, Result};
use crate::sa::lifetime_to_wire;
use crate::types::{Lifetime, Mark, Mode, Proto, Selector, Spi};
use crate::wire;

/// The direction a policy applies to (XFRM_POLICY_IN/OUT/FWD of linux/xfrm.h).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    In,
    Out,
    Fwd,
}

impl Direction {
    pub(crate) fn number(self) -> u8 {
        match self {
            Direction::In => 0,
            Direction::Out => 1,
            Direction::Fwd => 2,
        }
    }

    pub(crate) fn from_number(n: u8) -> Option<Self> {
        match n {
            0 => Some(Direction::In),
            1 => Some(Direction::Out),
            2 => Some(Direction::Fwd),
            _ => None,
        }
    }
}

/// What a policy does with matching packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Let them through, applying the templates (none: plaintext passes).
    Allow,
    /// Drop them.
    Block,
}

/// How a policy ranks against others with the same selector size, in strongSwan's bands (its
/// kernel-netlink plugin, `get_priority`): bypass policies beat IPsec policies, which beat
/// trap policies for the same traffic, which beat fallback (drop) policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyClass {
    /// A bypass (pass) shunt.
    Pass,
    /// An installed IPsec policy.
    Ipsec,
    /// A trap policy, waiting for an ACQUIRE.
    Trap,
    /// A fallback drop policy.
    Fallback,
}

/// A policy's priority: computed from its selector and class, or fixed by configuration
/// (`children.<child>.priority` in swanctl.conf). Lower numbers win.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    Auto(PolicyClass),
    Fixed(u32),
}

/// One band's width; also the base of the highest band.
const PRIORITY_BAND: u32 = 200_000;

/// The priority strongSwan (5.5 and later) gives a policy, so that ikerd's policies interleave
/// with strongSwan's the same way. From the band's base, subtract:
/// 512 per prefix bit of source and destination (bits 9-17: up to 2 x 128),
/// 256 when a protocol is set (bit 8),
/// 4 per port-mask bit of source and destination port (bits 2-7: up to 2 x 16),
/// 2 when the selector names an interface (bit 1),
/// 1 unless it is a trap policy, so that an installed policy beats a trap for the same
/// selector (bit 0).
/// The most specific selector gets the lowest number, and the kernel picks the lowest.
pub fn auto_priority(selector: &Selector, class: PolicyClass) -> u32 {
    let base = match class {
        PolicyClass::Pass => PRIORITY_BAND,
        PolicyClass::Ipsec | PolicyClass::Trap => 2 * PRIORITY_BAND,
        PolicyClass::Fallback => 3 * PRIORITY_BAND,
    };
    let prefix_bits = u32::from(selector.src.prefix_len()) + u32::from(selector.dst.prefix_len());
    let port_bits = selector.sport.mask_bits() + selector.dport.mask_bits();
    base - prefix_bits * 512
        - if selector.proto != 0 { 256 } else { 0 }
        - port_bits * 4
        - if selector.ifindex != 0 { 2 } else { 0 }
        - if class == PolicyClass::Trap { 0 } else { 1 }
}

/// What a policy requires of a packet: an SA of this protocol and mode between these
/// addresses (struct xfrm_user_tmpl).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Template {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub proto: Proto,
    pub mode: Mode,
    pub reqid: u32,
    /// Only the SA with this SPI; `None` for any SA with the reqid.
    pub spi: Option<Spi>,
    /// The SA may be missing (an inbound policy that also accepts plaintext).
    pub optional: bool,
}

/// What identifies a policy: selector, direction, mark and interface id. The kernel keeps one
/// policy per id whatever its priority: adding a second one (a trap's IPsec successor, say)
/// fails with [`crate::ErrorKind::Exists`]; update it instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PolicyId {
    pub selector: Selector,
    pub dir: Direction,
    pub mark: Option<Mark>,
    pub if_id: Option<u32>,
}

/// A policy to install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicySpec {
    pub id: PolicyId,
    pub action: Action,
    pub templates: Vec<Template>,
    pub priority: Priority,
    pub lifetime: Lifetime,
}

/// A policy as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyInfo {
    pub id: PolicyId,
    pub action: Action,
    pub templates: Vec<Template>,
    pub priority: u32,
    /// The kernel's index for this policy.
    pub index: u32,
}

impl PolicySpec {
    /// The priority the kernel will be given.
    pub fn effective_priority(&self) -> u32 {
        match self.priority {
            Priority::Auto(class) => auto_priority(&self.id.selector, class),
            Priority::Fixed(p) => p,
        }
    }

    pub(crate) fn validate(&self, op: Op) -> Result<()> {
        for t in &self.templates {
            if t.src.is_ipv4() != t.dst.is_ipv4() {
                return Err(Error::bad_input(
                    op,
                    format!("template mixes address families: {} -> {}", t.src, t.dst),
                ));
            }
            // A transport-mode template applies to the packet's own addresses; its family is
            // the selector's.
            if t.mode == Mode::Transport && t.src.is_ipv4() != self.id.selector.is_ipv4() {
                return Err(Error::bad_input(
                    op,
                    "transport-mode template of another family than the selector",
                ));
            }
        }
        Ok(())
    }

    pub(crate) fn to_wire(&self) -> (UserPolicyInfo, Vec<XfrmAttrs>) {
        let info = UserPolicyInfo {
            selector: wire::selector_to_wire(&self.id.selector),
            lifetime_cfg: lifetime_to_wire(&self.lifetime),
            lifetime_cur: Default::default(),
            priority: self.effective_priority(),
            index: 0,
            direction: self.id.dir.number(),
            action: match self.action {
                Action::Allow => 0,
                Action::Block => 1,
            },
            flags: 0,
            share: 0,
        };
        let mut attrs = Vec::new();
        if !self.templates.is_empty() {
            attrs.push(XfrmAttrs::Template(
                self.templates.iter().map(template_to_wire).collect(),
            ));
        }
        push_id_attrs(&mut attrs, &self.id);
        (info, attrs)
    }
}

impl PolicyInfo {
    pub(crate) fn from_wire(info: &UserPolicyInfo, attrs: &[XfrmAttrs]) -> Result<Self> {
        let bad = |what: &str| Error::protocol(Op::GetPolicy, what.to_string());
        let selector = wire::policy_selector_from_wire(&info.selector)
            .ok_or_else(|| bad("policy selector of unknown family"))?;
        let dir = Direction::from_number(info.direction)
            .ok_or_else(|| bad("policy of unknown direction"))?;
        let mut id = PolicyId {
            selector,
            dir,
            mark: None,
            if_id: None,
        };
        let mut templates = Vec::new();
        for attr in attrs {
            match attr {
                XfrmAttrs::Template(ts) => {
                    for t in ts {
                        templates.push(template_from_wire(t).ok_or_else(|| bad("bad template"))?);
                    }
                }
                XfrmAttrs::Mark(m) => {
                    id.mark = Some(Mark {
                        value: m.value,
                        mask: m.mask,
                    })
                }
                XfrmAttrs::IfId(i) => id.if_id = Some(*i),
                _ => {}
            }
        }
        Ok(PolicyInfo {
            id,
            action: if info.action == 1 {
                Action::Block
            } else {
                Action::Allow
            },
            templates,
            priority: info.priority,
            index: info.index,
        })
    }
}

/// The body of GETPOLICY / DELPOLICY.
pub(crate) fn id_to_wire(id: &PolicyId) -> (UserPolicyId, Vec<XfrmAttrs>) {
    let pid = UserPolicyId {
        selector: wire::selector_to_wire(&id.selector),
        index: 0,
        direction: id.dir.number(),
    };
    let mut attrs = Vec::new();
    push_id_attrs(&mut attrs, id);
    (pid, attrs)
}

fn push_id_attrs(attrs: &mut Vec<XfrmAttrs>, id: &PolicyId) {
    if let Some(m) = id.mark {
        attrs.push(XfrmAttrs::Mark(NlMark {
            value: m.value,
            mask: m.mask,
        }));
    }
    if let Some(if_id) = id.if_id {
        attrs.push(XfrmAttrs::IfId(if_id));
    }
}

fn template_to_wire(t: &Template) -> UserTemplate {
    let mut tmpl = UserTemplate::default();
    tmpl.source(&t.src);
    tmpl.destination(&t.dst);
    tmpl.protocol(t.proto.number());
    tmpl.mode(t.mode.number());
    tmpl.reqid(t.reqid);
    tmpl.spi(t.spi.map_or(0, |s| s.0));
    tmpl.optional(t.optional);
    // Any algorithm: the SA decides (iproute2 and strongSwan send all ones too).
    tmpl.aalgos = !0;
    tmpl.ealgos = !0;
    tmpl.calgos = !0;
    tmpl
}

fn template_from_wire(t: &UserTemplate) -> Option<Template> {
    let v4 = t.family == wire::AF_INET;
    Some(Template {
        src: wire::addr_from_wire(&t.saddr, v4),
        dst: wire::addr_from_wire(&t.id.daddr, v4),
        proto: Proto::from_number(t.id.proto)?,
        mode: Mode::from_number(t.mode)?,
        reqid: t.reqid,
        spi: (t.id.spi != 0).then_some(Spi(t.id.spi)),
        optional: t.optional != 0,
    })
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
