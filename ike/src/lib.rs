//! The IKEv2 protocol core of ikerd (RFC 7296), sans-IO.
//!
//! This crate owns everything that is protocol: the wire codec, the crypto suite, proposal
//! selection, traffic-selector narrowing, authentication and the IKE/CHILD SA state machines.
//! It performs no IO of its own: no sockets, no netlink, no clock reads and no OS randomness.
//! Time, randomness and input are handed in; datagrams to send, kernel operations and events
//! come out (see the workspace's `DESIGN.md` for the contract).
//!
//! Everything a hostile network sends arrives here first, so the crate forbids `unsafe`.

#![forbid(unsafe_code)]

/// RFC 7296 2: IKE listens on UDP port 500 (and 4500 after NAT detection, RFC 3948).
pub const IKE_PORT: u16 = 500;

pub mod auth;
pub mod config;
pub mod cookie;
pub mod crypto;
pub mod endpoint;
pub mod kernel;
pub mod proposal;
pub mod sa;
pub mod task;
pub mod testing;
pub mod ts;
pub mod wire;
