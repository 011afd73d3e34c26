//! Network namespaces: open, create and enter them without disturbing the caller.
//!
//! A netlink or UDP socket belongs to the network namespace it was created in, for its whole
//! life, whichever thread uses it afterwards. So the way to talk to the kernel of another
//! namespace is to create the socket on a thread that has entered it. [`NetNs::run`] does that
//! on a short-lived thread of its own: the calling thread (often a tokio worker) never changes
//! namespace, and there is no window in which it is in the wrong one.
//!
//! The same mechanism serves several ikerd instances side by side in different namespaces, and
//! the tests, which each get a throwaway namespace from [`NetNs::create`].

use std::fs::File;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use nix::sched::{CloneFlags, setns, unshare};

/// Where `ip netns add NAME` bind-mounts its namespaces.
const NAMED_NETNS_DIR: &str = "/run/netns";

/// A handle on a network namespace. The namespace stays alive at least as long as the handle.
#[derive(Debug)]
pub struct NetNs {
    file: File,
    path: PathBuf,
}

/// The identity of a network namespace: two handles on the same namespace have equal ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NetNsId {
    dev: u64,
    ino: u64,
}

impl NetNs {
    /// The network namespace of the calling thread.
    pub fn current() -> io::Result<Self> {
        Self::open("/proc/thread-self/ns/net")
    }

    /// The namespace behind a path such as `/proc/PID/ns/net` or `/run/netns/NAME`.
    pub fn open(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|e| context(e, "open network namespace", path))?;
        Ok(NetNs {
            file,
            path: path.to_owned(),
        })
    }

    /// A namespace created with `ip netns add NAME`.
    pub fn named(name: &str) -> io::Result<Self> {
        let valid = !name.is_empty() && name != "." && name != ".." && !name.contains('/');
        if !valid {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("invalid network namespace name {name:?}"),
            ));
        }
        Self::open(Path::new(NAMED_NETNS_DIR).join(name))
    }

    /// A new network namespace holding only a loopback device, which is down. It is destroyed
    /// when the last handle, socket or process in it is gone. Needs CAP_SYS_ADMIN.
    pub fn create() -> io::Result<Self> {
        std::thread::scope(|scope| {
            let thread = scope.spawn(|| {
                unshare(CloneFlags::CLONE_NEWNET).map_err(|e| {
                    context(e.into(), "create network namespace", Path::new("(new)"))
                })?;
                // The thread ends right after this, leaving the handle as the namespace's
                // only anchor.
                Self::current()
            });
            join(thread)
        })
    }

    /// Runs `f` on a new thread that has entered this namespace, and returns what it returns.
    ///
    /// Sockets that `f` opens stay in this namespace, and processes it spawns start in it. The
    /// calling thread's namespace is untouched. A panic in `f` is resumed in the caller.
    pub fn run<F, R>(&self, f: F) -> io::Result<R>
    where
        F: FnOnce() -> R + Send,
        R: Send,
    {
        std::thread::scope(|scope| {
            let thread = scope.spawn(|| {
                setns(&self.file, CloneFlags::CLONE_NEWNET)
                    .map_err(|e| context(e.into(), "enter network namespace", &self.path))?;
                Ok(f())
            });
            join(thread)
        })
    }

    /// This namespace's identity.
    pub fn id(&self) -> io::Result<NetNsId> {
        let meta = self.file.metadata()?;
        Ok(NetNsId {
            dev: meta.dev(),
            ino: meta.ino(),
        })
    }
}

fn join<R>(thread: std::thread::ScopedJoinHandle<'_, io::Result<R>>) -> io::Result<R> {
    match thread.join() {
        Ok(result) => result,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

fn context(err: io::Error, what: &str, path: &Path) -> io::Error {
    io::Error::new(err.kind(), format!("{what} {}: {err}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_namespace_has_a_stable_id() {
        let a = NetNs::current().unwrap();
        let b = NetNs::current().unwrap();
        assert_eq!(a.id().unwrap(), b.id().unwrap());
    }

    #[test]
    fn run_in_current_namespace_returns_the_value() {
        let ns = NetNs::current().unwrap();
        let inside = ns.run(|| NetNs::current().unwrap().id().unwrap());
        // Entering one's own namespace needs CAP_SYS_ADMIN too; without it the error must say
        // what failed rather than run `f` in the wrong place.
        match inside {
            Ok(id) => assert_eq!(id, ns.id().unwrap()),
            Err(e) => assert!(e.to_string().contains("enter network namespace"), "{e}"),
        }
    }

    #[test]
    fn named_rejects_paths() {
        for bad in ["", ".", "..", "a/b", "../etc"] {
            let err = NetNs::named(bad).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{bad:?}");
        }
    }

    #[test]
    fn missing_named_namespace_names_its_path() {
        let err = NetNs::named("ikerd-test-no-such-namespace").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(
            err.to_string()
                .contains("/run/netns/ikerd-test-no-such-namespace")
        );
    }
}
