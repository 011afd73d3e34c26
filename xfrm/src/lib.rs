//! The Linux kernel interface of ikerd: XFRM (SAs, policies, ALLOCSPI, events) and rtnetlink
//! (virtual IPs, routes, address monitoring) over netlink, each usable inside a given network
//! namespace.
//!
//! [`Xfrm`] installs, reads and removes SAs ([`SaSpec`]) and policies ([`PolicySpec`]),
//! reserves SPIs ([`SpiRequest`]), applies batches pipelined ([`Xfrm::apply`]) and flushes only
//! what ikerd owns ([`Owner`]). [`Events`] delivers ACQUIRE, EXPIRE, POLEXPIRE and MAPPING.
//! Errors ([`Error`]) name the operation and the errno and say what to do; their
//! [`ErrorKind`] tells EEXIST from ESRCH. Key bytes live in [`Key`]s, wiped on drop, and every
//! buffer that carried them to or from the kernel is wiped too. [`Xfrm::migrate`] moves SAs
//! and policies to new endpoints (MOBIKE); [`Xfrm::sad_info`] and [`Xfrm::spd_info`] count.
//!
//! [`Rtnetlink`] adds virtual IPs, puts routes to tunnelled networks in table 220 behind a
//! rule (strongSwan's convention) and finds the source address for a destination;
//! [`NetEvents`] reports address and link changes.

mod algorithm;
mod client;
mod error;
mod event;
mod info;
mod migrate;
pub mod netns;
mod policy;
mod rtnl;
mod sa;
mod socket;
mod types;
mod wire;

pub use algorithm::{Aead, Crypto, Integrity, Key};
pub use client::{Change, Flushed, Owner, SpiRequest, Xfrm};
pub use error::{Error, ErrorKind, Op, Result};
pub use event::{Acquire, Event, Events, Expire, Mapping, PolicyExpire};
pub use info::{SadInfo, SpdInfo};
pub use migrate::Migration;
pub use netns::NetNs;
pub use policy::{
    Action, Direction, PolicyClass, PolicyId, PolicyInfo, PolicySpec, Priority, Template,
    auto_priority,
};
pub use rtnl::{NetEvent, NetEvents, RouteTable, Rtnetlink, TunnelRoute};
pub use sa::{Encap, MAX_REPLAY_WINDOW, SaId, SaInfo, SaSpec};
pub use types::{Counters, Lifetime, Limits, Mark, Mode, PortMatch, Prefix, Proto, Selector, Spi};
