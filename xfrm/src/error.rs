//! Errors of the XFRM client: which operation failed, the kernel's errno, and what to do.
//!
//! The caller branches on [`ErrorKind`] (an SA that already exists is not the same failure as
//! one that is missing); a person reads the `Display` text, which names the operation, the errno
//! and, where the cause is known, the remedy.

use std::fmt;
use std::io;

/// The operation that failed, as the error message names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Op {
    Open,
    AllocSpi,
    AddSa,
    UpdateSa,
    DeleteSa,
    GetSa,
    DumpSa,
    AddPolicy,
    UpdatePolicy,
    DeletePolicy,
    GetPolicy,
    DumpPolicy,
    Flush,
    SadInfo,
    SpdInfo,
    Migrate,
    LinkLookup,
    AddAddress,
    DeleteAddress,
    AddRule,
    DeleteRule,
    AddRoute,
    DeleteRoute,
    RouteLookup,
    Subscribe,
    ReceiveEvent,
}

impl Op {
    fn describe(self) -> &'static str {
        match self {
            Op::Open => "open XFRM netlink socket",
            Op::AllocSpi => "allocate SPI",
            Op::AddSa => "add SA",
            Op::UpdateSa => "update SA",
            Op::DeleteSa => "delete SA",
            Op::GetSa => "get SA",
            Op::DumpSa => "dump SAs",
            Op::AddPolicy => "add policy",
            Op::UpdatePolicy => "update policy",
            Op::DeletePolicy => "delete policy",
            Op::GetPolicy => "get policy",
            Op::DumpPolicy => "dump policies",
            Op::Flush => "flush owned SAs and policies",
            Op::SadInfo => "read SAD info",
            Op::SpdInfo => "read SPD info",
            Op::Migrate => "migrate policy and SAs",
            Op::LinkLookup => "look up interface",
            Op::AddAddress => "add address",
            Op::DeleteAddress => "delete address",
            Op::AddRule => "add routing rule",
            Op::DeleteRule => "delete routing rule",
            Op::AddRoute => "add route",
            Op::DeleteRoute => "delete route",
            Op::RouteLookup => "look up route",
            Op::Subscribe => "subscribe to kernel events",
            Op::ReceiveEvent => "receive XFRM event",
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// What kind of failure, for callers that react differently to each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The object exists already (EEXIST): use the update operation instead.
    Exists,
    /// No such SA or policy (ESRCH for SAs, ENOENT for policies).
    NotFound,
    /// ALLOCSPI found no free SPI in the range (ENOENT on ALLOCSPI).
    SpiRangeExhausted,
    /// The kernel lacks the protocol (ESP/AH) or the algorithm.
    Unsupported,
    /// The kernel rejected the parameters (EINVAL and friends).
    Invalid,
    /// The caller's own input is inconsistent; nothing was sent.
    BadInput,
    /// Missing CAP_NET_ADMIN (EPERM).
    PermissionDenied,
    /// The kernel's receive queue overflowed and events were lost (ENOBUFS).
    Overrun,
    /// The kernel's reply could not be decoded.
    Protocol,
    /// Any other errno or I/O failure.
    Other,
}

/// An XFRM operation that failed.
#[derive(Debug)]
pub struct Error {
    op: Op,
    kind: ErrorKind,
    errno: Option<i32>,
    detail: String,
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The operation that failed.
    pub fn op(&self) -> Op {
        self.op
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The kernel's errno (positive), if the kernel answered with one.
    pub fn errno(&self) -> Option<i32> {
        self.errno
    }

    /// Input rejected before anything was sent.
    pub(crate) fn bad_input(op: Op, detail: impl Into<String>) -> Self {
        Error {
            op,
            kind: ErrorKind::BadInput,
            errno: None,
            detail: detail.into(),
        }
    }

    /// A reply that does not decode.
    pub(crate) fn protocol(op: Op, detail: impl Into<String>) -> Self {
        Error {
            op,
            kind: ErrorKind::Protocol,
            errno: None,
            detail: detail.into(),
        }
    }

    /// A socket-level failure.
    pub(crate) fn io(op: Op, err: io::Error) -> Self {
        let errno = err.raw_os_error();
        let kind = match errno {
            Some(libc::EPERM) | Some(libc::EACCES) => ErrorKind::PermissionDenied,
            Some(libc::ENOBUFS) => ErrorKind::Overrun,
            _ => ErrorKind::Other,
        };
        let mut detail = err.to_string();
        if kind == ErrorKind::PermissionDenied {
            detail.push_str(": needs CAP_NET_ADMIN");
        }
        Error {
            op,
            kind,
            errno,
            detail,
        }
    }

    /// The kernel answered `op` with `-errno`. `lack` says what an SA install needs from the
    /// kernel, so that a missing module is named; `extack` is the kernel's own explanation.
    pub(crate) fn kernel(op: Op, errno: i32, lack: Option<&Lack>, extack: Option<&str>) -> Self {
        let kind = kind_of(op, errno);
        let mut detail = match (kind, lack) {
            (ErrorKind::Unsupported, Some(lack)) => {
                format!(
                    "kernel lacks {}: load {} [{}]",
                    lack.what,
                    lack.load,
                    errno_name(errno)
                )
            }
            _ => {
                let mut d = format!(
                    "{} [{}]",
                    io::Error::from_raw_os_error(errno),
                    errno_name(errno)
                );
                if let Some(hint) = hint(op, kind) {
                    d.push_str(": ");
                    d.push_str(hint);
                }
                d
            }
        };
        if let Some(msg) = extack.filter(|m| !m.is_empty()) {
            detail.push_str(&format!(" (kernel says: {msg})"));
        }
        Error {
            op,
            kind,
            errno: Some(errno),
            detail,
        }
    }
}

/// What the kernel must have for a request, and what provides it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lack {
    /// E.g. "AEAD rfc4106(gcm(aes))" or "ESP for IPv4".
    pub what: String,
    /// E.g. "esp4 and CONFIG_CRYPTO_GCM".
    pub load: String,
}

/// Classifies an errno for an operation. The same errno means different things for different
/// requests: ENOENT is "no such policy" for policies, "no free SPI" for ALLOCSPI and "no such
/// crypto algorithm" when installing an SA (crypto_alloc_* fails with -ENOENT).
fn kind_of(op: Op, errno: i32) -> ErrorKind {
    match errno {
        libc::EEXIST => ErrorKind::Exists,
        // ENODEV: no such interface (rtnetlink lookups by name).
        libc::ESRCH | libc::ENODEV | libc::EADDRNOTAVAIL => ErrorKind::NotFound,
        libc::ENOENT => match op {
            Op::AllocSpi => ErrorKind::SpiRangeExhausted,
            Op::AddSa | Op::UpdateSa => ErrorKind::Unsupported,
            _ => ErrorKind::NotFound,
        },
        // net/xfrm/xfrm_user.c: an algorithm the crypto API cannot provide (module missing or
        // not built: "Requested AEAD algorithm not found") is -ENOSYS; a protocol without a
        // registered xfrm_type (esp4 not loaded) is -EPROTONOSUPPORT.
        libc::ENOSYS | libc::EPROTONOSUPPORT | libc::EAFNOSUPPORT | libc::EOPNOTSUPP => {
            ErrorKind::Unsupported
        }
        libc::EINVAL | libc::ERANGE | libc::EMSGSIZE => ErrorKind::Invalid,
        libc::EPERM | libc::EACCES => ErrorKind::PermissionDenied,
        libc::ENOBUFS => ErrorKind::Overrun,
        _ => ErrorKind::Other,
    }
}

fn hint(op: Op, kind: ErrorKind) -> Option<&'static str> {
    Some(match (kind, op) {
        (ErrorKind::Exists, Op::AddSa) => {
            "an SA with this destination, SPI and protocol exists; use update"
        }
        (ErrorKind::Exists, Op::AddPolicy) => {
            "a policy with this selector, direction and mark exists; use update"
        }
        (ErrorKind::NotFound, _) => "no such object (already deleted or expired?)",
        (ErrorKind::SpiRangeExhausted, _) => "no free SPI in the range; widen it",
        (ErrorKind::Unsupported, _) => "load esp4/esp6/ah4 and the crypto modules",
        (ErrorKind::Invalid, _) => {
            "the kernel rejected the parameters (key length, selector family, replay window)"
        }
        (ErrorKind::PermissionDenied, _) => "needs CAP_NET_ADMIN",
        (ErrorKind::Overrun, _) => "the socket's receive buffer overflowed; raise SO_RCVBUF",
        _ => return None,
    })
}

fn errno_name(errno: i32) -> &'static str {
    match errno {
        libc::EEXIST => "EEXIST",
        libc::ESRCH => "ESRCH",
        libc::ENODEV => "ENODEV",
        libc::EADDRNOTAVAIL => "EADDRNOTAVAIL",
        libc::ENETUNREACH => "ENETUNREACH",
        libc::ENOENT => "ENOENT",
        libc::ENOSYS => "ENOSYS",
        libc::EPROTONOSUPPORT => "EPROTONOSUPPORT",
        libc::EAFNOSUPPORT => "EAFNOSUPPORT",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::EINVAL => "EINVAL",
        libc::ERANGE => "ERANGE",
        libc::EMSGSIZE => "EMSGSIZE",
        libc::EPERM => "EPERM",
        libc::EACCES => "EACCES",
        libc::ENOBUFS => "ENOBUFS",
        _ => "errno",
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.op, self.detail)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    fn gcm_lack() -> Lack {
        Lack {
            what: "AEAD rfc4106(gcm(aes))".into(),
            load: "esp4 and CONFIG_CRYPTO_GCM".into(),
        }
    }

    #[test]
    fn exists_and_not_found_are_distinct_kinds() {
        let exists = Error::kernel(Op::AddSa, libc::EEXIST, Some(&gcm_lack()), None);
        let missing = Error::kernel(Op::DeleteSa, libc::ESRCH, None, None);
        let no_policy = Error::kernel(Op::DeletePolicy, libc::ENOENT, None, None);
        assert_eq!(exists.kind(), ErrorKind::Exists);
        assert_eq!(missing.kind(), ErrorKind::NotFound);
        assert_eq!(no_policy.kind(), ErrorKind::NotFound);
        assert_eq!(exists.errno(), Some(libc::EEXIST));
        assert!(exists.to_string().starts_with("add SA: "), "{exists}");
        assert!(exists.to_string().contains("use update"), "{exists}");
    }

    #[test]
    fn missing_aead_names_the_algorithm_and_the_remedy() {
        for errno in [libc::ENOSYS, libc::ENOENT] {
            let e = Error::kernel(Op::AddSa, errno, Some(&gcm_lack()), None);
            assert_eq!(e.kind(), ErrorKind::Unsupported);
            let text = e.to_string();
            assert!(
                text.starts_with(
                    "add SA: kernel lacks AEAD rfc4106(gcm(aes)): load esp4 and CONFIG_CRYPTO_GCM"
                ),
                "{text}"
            );
        }
    }

    #[test]
    fn missing_esp_says_which_module() {
        let lack = Lack {
            what: "ESP for IPv4".into(),
            load: "esp4 (CONFIG_INET_ESP)".into(),
        };
        let e = Error::kernel(Op::AddSa, libc::EPROTONOSUPPORT, Some(&lack), None);
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        assert!(e.to_string().contains("load esp4 (CONFIG_INET_ESP)"), "{e}");
    }

    #[test]
    fn enoent_depends_on_the_operation() {
        assert_eq!(
            kind_of(Op::AllocSpi, libc::ENOENT),
            ErrorKind::SpiRangeExhausted
        );
        assert_eq!(kind_of(Op::GetPolicy, libc::ENOENT), ErrorKind::NotFound);
        assert_eq!(kind_of(Op::UpdateSa, libc::ENOENT), ErrorKind::Unsupported);
    }

    #[test]
    fn extack_text_is_kept() {
        let e = Error::kernel(Op::AddPolicy, libc::EINVAL, None, Some("Invalid selector"));
        assert_eq!(e.kind(), ErrorKind::Invalid);
        assert!(
            e.to_string().contains("kernel says: Invalid selector"),
            "{e}"
        );
    }

    #[test]
    fn eperm_asks_for_the_capability() {
        let e = Error::io(Op::Open, io::Error::from_raw_os_error(libc::EPERM));
        assert_eq!(e.kind(), ErrorKind::PermissionDenied);
        assert!(e.to_string().contains("CAP_NET_ADMIN"), "{e}");
    }
}
