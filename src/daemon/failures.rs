//! The last failure of each connection, for `ikerctl status` (the VICI command
//! `ikerd-failures`): an IKE SA that could not be set up or was lost (no answer, refused by the
//! peer, authentication or protocol failure) or a Child SA that could not be set up, with when
//! it happened and, for a refused proposal, what we offered.
//!
//! The core reports a refusal the peer sent us (we initiated); when we refuse the peer's
//! proposals as responder, the core answers the peer and reports nothing, so that side of a
//! proposal mismatch is not recorded.

use std::time::SystemTime;

use ike::config::Connection;
use ike::sa::{DownReason, Event};
use ike::wire::NotifyType;

use crate::config::proposals::keywords;

/// One connection's last failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub connection: String,
    /// The child, when a Child SA failed.
    pub child: Option<String>,
    /// What failed, in one word: `timeout`, `refused`, `authentication`, `protocol`, `child`.
    pub kind: &'static str,
    pub reason: String,
    pub at: SystemTime,
}

/// The last failure of each connection, in the order connections first failed.
#[derive(Debug, Default)]
pub(super) struct Failures(Vec<Failure>);

impl Failures {
    /// Keeps the failure `event` reports, if it reports one.
    pub(super) fn record(&mut self, event: &Event, conn: Option<&Connection>, at: SystemTime) {
        let Some(failure) = failure(event, conn, at) else {
            return;
        };
        match self
            .0
            .iter_mut()
            .find(|f| f.connection == failure.connection)
        {
            Some(last) => *last = failure,
            None => self.0.push(failure),
        }
    }

    pub(super) fn list(&self) -> Vec<Failure> {
        self.0.clone()
    }
}

/// The failure an event reports: an IKE SA gone for another reason than a close, a rekey or
/// the peer's delete; a Child SA that did not come up.
pub(super) fn failure(event: &Event, conn: Option<&Connection>, at: SystemTime) -> Option<Failure> {
    let (connection, child, kind, reason) = match event {
        Event::IkeDown {
            connection, reason, ..
        } => {
            let (kind, reason) = match reason {
                DownReason::Terminated
                | DownReason::DeletedByPeer
                | DownReason::Rekeyed
                | DownReason::Reauthenticating
                | DownReason::Duplicate => {
                    return None;
                }
                DownReason::Expired => (
                    "expired",
                    "not rekeyed or reauthenticated before over_time ran out".to_owned(),
                ),
                // RFC 7296 2.4 as strongSwan schedules it: 5 retransmits, then give up.
                DownReason::Timeout => ("timeout", "no response after 5 retransmits".to_owned()),
                DownReason::Refused(notify) => ("refused", refused(*notify, conn)),
                DownReason::AuthenticationFailed(why) => {
                    ("authentication", format!("authentication failed: {why}"))
                }
                DownReason::ProtocolError(why) => ("protocol", format!("protocol error: {why}")),
            };
            (connection, None, kind, reason)
        }
        Event::ChildFailed {
            connection,
            child,
            reason,
        } => {
            let mut reason = reason.clone();
            let config = conn.and_then(|c| c.children.iter().find(|ch| ch.name == *child));
            if reason.contains("NO_PROPOSAL_CHOSEN")
                && let Some(config) = config
            {
                reason = format!("{reason}; we offered {}", offered(&config.proposals));
            }
            (connection, Some(child.clone()), "child", reason)
        }
        _ => return None,
    };
    Some(Failure {
        connection: connection.clone(),
        child,
        kind,
        reason,
        at,
    })
}

fn offered(proposals: &[ike::wire::sa::Proposal]) -> String {
    proposals
        .iter()
        .map(keywords)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A refusal in words; for refused proposals, with the ones we offered.
fn refused(notify: NotifyType, conn: Option<&Connection>) -> String {
    match notify {
        NotifyType::NO_PROPOSAL_CHOSEN => {
            let mut text = "peer rejected our proposals (NO_PROPOSAL_CHOSEN)".to_owned();
            if let Some(conn) = conn {
                text = format!("{text}; we offered {}", offered(&conn.proposals));
            }
            text
        }
        NotifyType::AUTHENTICATION_FAILED => {
            "peer rejected our authentication (AUTHENTICATION_FAILED)".to_owned()
        }
        NotifyType::TS_UNACCEPTABLE => {
            "peer rejected our traffic selectors (TS_UNACCEPTABLE)".to_owned()
        }
        other => format!("refused by the peer: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ike::wire::IkeSpi;

    fn connection() -> Connection {
        let text = "connections {\n gw {\n  remote_addrs = 192.0.2.2\n  \
                    proposals = aes256gcm16-prfsha384-x25519, aes128-sha256-modp3072\n  \
                    local { auth = psk\n id = moon.example }\n  remote { auth = psk }\n  \
                    children { net { esp_proposals = aes128gcm16 } }\n }\n}\n\
                    secrets { ike { secret = 0x00112233445566778899 } }\n";
        let path = std::path::Path::new("/nonexistent/swanctl.conf");
        let mut loaded = crate::config::load_str(path, text).expect("valid config");
        loaded.connections.remove(0)
    }

    fn down(reason: DownReason) -> Event {
        Event::IkeDown {
            connection: "gw".into(),
            spi_i: IkeSpi([1; 8]),
            spi_r: IkeSpi::ZERO,
            reason,
        }
    }

    #[test]
    fn a_refused_proposal_says_what_we_offered() {
        let conn = connection();
        let event = down(DownReason::Refused(NotifyType::NO_PROPOSAL_CHOSEN));
        let f = failure(&event, Some(&conn), SystemTime::UNIX_EPOCH).unwrap();
        assert_eq!(f.kind, "refused");
        assert_eq!(
            f.reason,
            "peer rejected our proposals (NO_PROPOSAL_CHOSEN); we offered \
             aes256gcm16-prfsha384-x25519, aes128-sha256-prfsha256-modp3072"
        );
    }

    #[test]
    fn closes_and_rekeys_are_not_failures_and_the_last_failure_stays() {
        let conn = connection();
        let mut failures = Failures::default();
        let at = |s| SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(s);
        failures.record(&down(DownReason::Timeout), Some(&conn), at(1));
        for reason in [
            DownReason::Terminated,
            DownReason::DeletedByPeer,
            DownReason::Rekeyed,
        ] {
            failures.record(&down(reason), Some(&conn), at(2));
        }
        let child = Event::ChildFailed {
            connection: "gw".into(),
            child: "net".into(),
            reason: "peer refused the Child SA: NO_PROPOSAL_CHOSEN".into(),
        };
        assert_eq!(failures.list()[0].reason, "no response after 5 retransmits");
        failures.record(&child, Some(&conn), at(3));
        let list = failures.list();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].child.as_deref(), Some("net"));
        assert_eq!(list[0].at, at(3));
        assert_eq!(
            list[0].reason,
            "peer refused the Child SA: NO_PROPOSAL_CHOSEN; we offered aes128gcm16-noesn"
        );
    }
}
