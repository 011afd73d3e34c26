//! VICI, strongSwan's control protocol (`src/libcharon/plugins/vici/README.md` in strongSwan):
//! the wire format, and the server the daemon answers strongSwan's `swanctl` and other VICI
//! clients with.

pub mod client;
pub mod conns;
mod drive;
mod host;
pub mod query;
pub mod sas;
pub mod server;
pub mod wire;
