//! Configuration: strongSwan's `swanctl.conf` (swanctl.conf(5)) read into the core's
//! [`Connection`]s.
//!
//! Three layers (and the credentials beside the file, [`credentials`]): [`settings`] parses strongSwan's settings syntax (sections, includes,
//! references) into a tree of located key/values; [`tree::resolve`] expands section
//! references; [`swanctl`] gives the tree swanctl.conf's meaning. Every problem found on the
//! way is collected, so one run shows them all (`file:line: key: message`, one per line).

mod children;
pub mod credentials;
mod glob;
pub mod identity;
pub mod proposals;
pub mod secrets;
pub mod settings;
pub mod store;
pub mod strongswan;
pub mod swanctl;
pub mod tree;
mod values;

use core::fmt;
use std::path::Path;

use ike::config::Connection;

pub use secrets::{Secrets, SharedKey};
pub use store::Store;
pub use swanctl::Loaded;
pub use tree::{Location, Problem};

/// strongSwan's place for it, and ours.
pub const DEFAULT_PATH: &str = "/etc/swanctl/swanctl.conf";

/// Everything wrong with a configuration, in the order found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

impl From<Vec<Problem>> for ConfigError {
    fn from(problems: Vec<Problem>) -> Self {
        ConfigError { problems }
    }
}

/// Reads the swanctl.conf at `path` (and what it includes) into connections.
pub fn load(path: &Path) -> Result<Vec<Connection>, ConfigError> {
    load_swanctl(path).map(|loaded| loaded.connections)
}

/// Reads the swanctl.conf at `path` into everything the daemon acts on: connections, the
/// children to start, and the secrets.
pub fn load_swanctl(path: &Path) -> Result<Loaded, ConfigError> {
    let raw = settings::parse_file(path).map_err(|p| ConfigError::from(vec![p]))?;
    interpret(path, &raw)
}

/// Interprets swanctl.conf text as if read from `path` (which anchors relative includes).
pub fn load_str(path: &Path, text: &str) -> Result<Loaded, ConfigError> {
    let raw = settings::parse_str(path, text).map_err(|p| ConfigError::from(vec![p]))?;
    interpret(path, &raw)
}

/// Gives the tree its meaning, with the credentials of the folders beside `path`.
fn interpret(path: &Path, raw: &tree::Section) -> Result<Loaded, ConfigError> {
    let resolved = tree::resolve(raw)?;
    let mut problems = Vec::new();
    let dir = path.parent().unwrap_or(Path::new("."));
    let creds = credentials::Credentials::load(dir, &mut problems);
    let loaded = swanctl::interpret(&resolved, &creds, &mut problems);
    match problems.is_empty() {
        true => Ok(loaded),
        false => Err(ConfigError { problems }),
    }
}

#[cfg(test)]
mod conn_keys_tests;
#[cfg(test)]
mod credentials_tests;
#[cfg(test)]
mod settings_tests;
#[cfg(test)]
mod strongswan_tests;
#[cfg(test)]
mod swanctl_tests;
#[cfg(test)]
mod value_tests;
