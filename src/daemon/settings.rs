//! strongswan.conf's charon settings in the running daemon: applied at start, read again on
//! SIGHUP and on VICI's `reload-settings`.

use std::path::PathBuf;

use tracing::{info, warn};

use super::Daemon;
use crate::config::strongswan::{self, Charon};
use crate::kernel::KernelBackend;

impl<K: KernelBackend> Daemon<K> {
    /// Makes [`Daemon::reload_settings`] read strongswan.conf from `path`.
    pub fn settings_from(&mut self, path: PathBuf) {
        self.settings_path = Some(path);
    }

    /// Hands strongswan.conf's settings to the core, from now on: requests in flight keep
    /// their schedule, IKE SAs their keepalive interval. Where routes go is the kernel
    /// backend's, fixed at start.
    pub fn apply_settings(&mut self, charon: Charon) {
        for warning in &charon.warnings {
            warn!("{warning}");
        }
        let settings = charon.apply(self.endpoint.settings());
        self.endpoint.set_settings(settings);
        self.charon = charon;
    }

    /// Reads strongswan.conf again and applies it. A file with errors changes nothing; the
    /// errors come back, one per line.
    pub fn reload_settings(&mut self) -> Result<(), String> {
        let Some(path) = self.settings_path.clone() else {
            return Err("no strongswan.conf to read".into());
        };
        let charon = match strongswan::load(&path) {
            Ok(charon) => charon,
            Err(errors) => {
                for line in errors.to_string().lines() {
                    warn!("reload settings: {line}");
                }
                warn!(
                    "reload settings: {} has errors; the running settings stay",
                    path.display()
                );
                return Err(errors.to_string());
            }
        };
        if charon.routes() != self.charon.routes() {
            warn!(
                "reload settings: install_routes and routing_table take effect at the next start"
            );
        }
        if charon.vici_socket != self.charon.vici_socket {
            warn!("reload settings: plugins.vici.socket takes effect at the next start");
        }
        let r = &charon.retransmit;
        info!(
            "reloaded settings from {}: retransmit timeout {:?}, base {}, tries {}, jitter {} %, limit {:?}",
            path.display(),
            r.timeout,
            r.base,
            r.tries,
            r.jitter,
            r.limit
        );
        self.apply_settings(charon);
        Ok(())
    }
}
