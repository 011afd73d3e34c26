//! The in-memory kernel: the core's test kernel behind the daemon's interface.

use std::sync::{Arc, Mutex};

use ike::kernel::{KernelOp, KernelReply};
use ike::testing::MemKernel;

use super::KernelBackend;

/// SAs and policies kept in tables.
#[derive(Debug)]
pub struct MemBackend {
    pub kernel: MemKernel,
    /// Every operation carried out, for whoever holds the other end (tests, load tests).
    pub history: Arc<Mutex<Vec<KernelOp>>>,
    /// Kernel events for the daemon, sent by whoever holds [`MemBackend::notify`].
    events: Option<tokio::sync::mpsc::Receiver<ike::kernel::KernelEvent>>,
    pub notify: tokio::sync::mpsc::Sender<ike::kernel::KernelEvent>,
}

impl MemBackend {
    pub fn new() -> MemBackend {
        let (notify, events) = tokio::sync::mpsc::channel(64);
        MemBackend {
            kernel: MemKernel::new(0xc000_0000),
            history: Arc::default(),
            events: Some(events),
            notify,
        }
    }
}

impl Default for MemBackend {
    fn default() -> Self {
        MemBackend::new()
    }
}

impl KernelBackend for MemBackend {
    /// The in-memory kernel carries no packets: its SAs count nothing.
    async fn traffic(&mut self, sa: &ike::kernel::SaRef) -> Option<super::Traffic> {
        self.kernel
            .sas
            .contains_key(sa)
            .then(super::Traffic::default)
    }

    /// Routes are not kept: the in-memory kernel carries no packets.
    async fn routes(&mut self, _info: &ike::sa::ChildInfo, _up: bool) {}

    fn events(&mut self) -> Option<tokio::sync::mpsc::Receiver<ike::kernel::KernelEvent>> {
        self.events.take()
    }

    async fn execute(&mut self, op: &KernelOp) -> KernelReply {
        if let Ok(mut history) = self.history.lock() {
            history.push(op.clone());
        }
        self.kernel.apply(op)
    }

    async fn flush(&mut self) -> Result<String, String> {
        let (sas, policies) = (self.kernel.sas.len(), self.kernel.policies.len());
        self.kernel.sas.clear();
        self.kernel.reserved.clear();
        self.kernel.policies.clear();
        Ok(format!("{sas} SAs and {policies} policies"))
    }
}
