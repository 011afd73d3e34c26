//! The Linux kernel interface of ikerd: XFRM (SAs, policies, ALLOCSPI, events) and rtnetlink
//! (virtual IPs, routes, address monitoring) over netlink, each usable inside a given network
//! namespace.

pub mod netns;

pub use netns::NetNs;
