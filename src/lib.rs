//! The library half of ikerd: what its binaries are built from.

pub mod cli;
pub mod config;
pub mod daemon;
pub mod kernel;
pub mod logging;
pub mod vici;
