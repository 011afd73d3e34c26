//! VICI, strongSwan's control protocol (`src/libcharon/plugins/vici/README.md` in strongSwan):
//! the wire format, the server the daemon answers strongSwan's `swanctl` and other VICI
//! clients with, and the client `ikerctl` speaks with.

pub mod client;
pub mod conns;
mod drive;
mod host;
pub mod load;
pub mod query;
pub mod sas;
pub mod server;
pub mod wire;
