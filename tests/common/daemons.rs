//! Daemons for the root tests that drive ikerd over VICI: ikerd's daemon loops with in-memory
//! kernels, each serving VICI on its own socket, running in a thread inside a throwaway network
//! namespace and speaking IKE over its loopback (root: CAP_SYS_ADMIN and CAP_NET_ADMIN).

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use ike::testing::MemKernel;
use ikerd::daemon::Daemon;
use ikerd::kernel::mem::MemBackend;
use ikerd::vici::server::Server;
use xfrm::NetNs;

/// What each daemon left when stopped: SAs in its kernel and ids it held.
pub type Left = (usize, (usize, usize));

/// Daemons running until [`Daemons::stop`].
pub struct Daemons {
    pub dir: PathBuf,
    pub sockets: Vec<PathBuf>,
    stop: tokio::sync::watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<Vec<Left>>>,
}

impl Daemons {
    /// One daemon per configuration text (a swanctl.conf), the n-th (from 1) with the SPIs of
    /// its kernel starting at 0xc0000000 + n << 24, so each side's SPIs tell which kernel made
    /// them, and its socket at `DIR/n.vici`.
    pub fn start(test: &str, configs: &[String]) -> Daemons {
        let dir = std::env::temp_dir().join(format!("ikerd-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let sockets: Vec<PathBuf> = (1..=configs.len())
            .map(|n| dir.join(format!("{n}.vici")))
            .collect();
        let connections: Vec<Vec<ike::config::Connection>> = configs
            .iter()
            .enumerate()
            .map(|(n, text)| {
                let path = dir.join(format!("{}.conf", n + 1));
                ikerd::config::load_str(&path, text)
                    .expect("valid config")
                    .connections
            })
            .collect();
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let ns = NetNs::create().unwrap();
        let thread = ns
            .run(|| {
                let up = Command::new("ip")
                    .args(["link", "set", "lo", "up"])
                    .status()
                    .unwrap();
                assert!(up.success());
                let sockets = sockets.clone();
                // A thread started here stays in the namespace, and keeps the daemons running
                // while the test drives them.
                std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    runtime.block_on(async move {
                        let mut daemons = Vec::new();
                        for (n, (conns, socket)) in
                            connections.into_iter().zip(&sockets).enumerate()
                        {
                            let mut kernel = MemBackend::new();
                            kernel.kernel = MemKernel::new(0xc000_0000 + ((n as u32 + 1) << 24));
                            let daemon = Daemon::new(conns, kernel, 1).unwrap();
                            let server = Server::bind(socket, daemon.control()).unwrap();
                            tokio::spawn(server.run());
                            daemons.push(daemon);
                        }
                        let serving = daemons.iter_mut().map(|d| {
                            let mut stopped = stopped.clone();
                            d.serve_until(async move {
                                let _ = stopped.wait_for(|s| *s).await;
                            })
                        });
                        for result in futures_join_all(serving).await {
                            result.unwrap();
                        }
                        daemons
                            .iter()
                            .map(|d| (d.kernel().kernel.sas.len(), d.ids_held()))
                            .collect()
                    })
                })
            })
            .unwrap();
        let end = Instant::now() + Duration::from_secs(20);
        while !sockets.iter().all(|s| s.exists()) {
            assert!(Instant::now() < end, "no VICI sockets");
            std::thread::sleep(Duration::from_millis(20));
        }
        Daemons {
            dir,
            sockets,
            stop,
            thread: Some(thread),
        }
    }

    /// `unix://` and the n-th daemon's socket (from 1).
    pub fn uri(&self, n: usize) -> String {
        format!("unix://{}", self.sockets[n - 1].display())
    }

    /// Stops the daemons; what each left behind.
    pub fn stop(mut self) -> Vec<Left> {
        self.stop.send(true).unwrap();
        let left = self.thread.take().unwrap().join().unwrap();
        let _ = std::fs::remove_dir_all(&self.dir);
        left
    }
}

impl Drop for Daemons {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Awaits every future, on the one thread of the runtime.
async fn futures_join_all<F: std::future::Future>(
    futures: impl IntoIterator<Item = F>,
) -> Vec<F::Output> {
    let mut handles: Vec<std::pin::Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = handles.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (handle, output) in handles.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match handle.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *output = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().map(|o| o.expect("ready")).collect()
}

/// Polls until `f` holds, for at most 10 s.
pub fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < end, "not in time: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
