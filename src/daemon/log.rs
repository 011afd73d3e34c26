//! The daemon's own log lines for the core's events. Every line about an SA starts with its
//! connection and unique id, `moon[3]` (strongSwan writes `<moon|3>`), the ids `swanctl
//! --list-sas` shows; Child SAs carry theirs in braces, `net{5}`. A failed negotiation says
//! why: the notify the peer sent (and, for NO_PROPOSAL_CHOSEN, what we offered), the
//! authentication check that failed, or, when we refuse, what each side proposed. No secret
//! reaches these lines: keys live in `Secret`s, whose Debug output is their length.

use ike::sa::{DownReason, Event};
use ike::wire::sa::Proposal;
use ike::wire::{IkeSpi, NotifyType};
use tracing::{info, warn};

use super::Daemon;
use crate::cli::decode::proposal;
use crate::kernel::KernelBackend;

impl<K: KernelBackend> Daemon<K> {
    /// `conn[id]` for the IKE SA with these SPIs, giving it its unique id now if it has none.
    fn ike_tag(&mut self, connection: &str, spi_i: IkeSpi, spi_r: IkeSpi) -> String {
        let ours = self
            .endpoint
            .ike_sas()
            .find(|sa| sa.spi_i == spi_i && (sa.spi_r == spi_r || spi_r.is_zero()))
            .map(|sa| sa.local_spi());
        let spi = match ours {
            Some(spi) => spi,
            None if self.ids.knows(spi_r) => spi_r,
            None => spi_i,
        };
        format!("{connection}[{}]", self.ids.ike(spi))
    }

    /// `conn[id]` for the IKE SA our SPI `ike` names, and `child{id}` for its Child SA that we
    /// receive on `spi_in`.
    fn child_tags(
        &mut self,
        connection: &str,
        ike: IkeSpi,
        child: &str,
        spi_in: u32,
    ) -> (String, String) {
        let ike_id = self.ids.ike(ike);
        let child_id = self.ids.child(ike, spi_in);
        (
            format!("{connection}[{ike_id}]"),
            format!("{child}{{{child_id}}}"),
        )
    }

    /// `conn[id]` when the connection has one live IKE SA (the one a failed Child SA was
    /// negotiated on), else the connection's name alone.
    fn connection_tag(&mut self, connection: &str) -> String {
        let mut live = self
            .endpoint
            .ike_sas()
            .filter(|sa| sa.conn.name == connection && sa.state != ike::sa::State::Dead)
            .map(|sa| sa.local_spi());
        match (live.next(), live.next()) {
            (Some(spi), None) => format!("{connection}[{}]", self.ids.ike(spi)),
            _ => connection.to_string(),
        }
    }

    /// The IKE proposals of the connection `name`, as strongSwan writes them.
    fn our_ike_proposals(&self, name: &str) -> String {
        self.endpoint
            .connections()
            .find(|c| c.name == name)
            .map_or_else(String::new, |c| proposals(&c.proposals))
    }

    /// The proposals of the child `child` of the connection `name`, as strongSwan writes them.
    fn our_child_proposals(&self, name: &str, child: &str) -> String {
        self.endpoint
            .connections()
            .find(|c| c.name == name)
            .and_then(|c| c.children.iter().find(|ch| ch.name == child))
            .map_or_else(String::new, |ch| proposals(&ch.proposals))
    }

    /// Logs what the event means, tagged with its SA.
    pub(super) fn log_event(&mut self, event: &Event) {
        match event {
            Event::IkeUp {
                connection,
                spi_i,
                spi_r,
            } => {
                let tag = self.ike_tag(connection, *spi_i, *spi_r);
                info!("{tag}: IKE SA established, SPIs {spi_i}_i {spi_r}_r");
            }
            Event::IkeDown {
                connection,
                spi_i,
                spi_r,
                reason,
            } => {
                let tag = self.ike_tag(connection, *spi_i, *spi_r);
                let down = format!("{tag}: IKE SA {spi_i}_i {spi_r}_r down: {reason:?}");
                match reason {
                    DownReason::Terminated | DownReason::DeletedByPeer | DownReason::Rekeyed => {
                        info!("{down}")
                    }
                    DownReason::Refused(NotifyType::NO_PROPOSAL_CHOSEN) => warn!(
                        "{down}: the peer accepted none of our IKE proposals: {}",
                        self.our_ike_proposals(connection)
                    ),
                    _ => warn!("{down}"),
                }
            }
            Event::ChildUp {
                connection,
                child,
                spi_in,
                spi_out,
                info,
            } => {
                let (tag, child) = self.child_tags(connection, info.ike_spi, child, *spi_in);
                info!("{tag}: CHILD_SA {child} established, SPIs {spi_in:08x}_i {spi_out:08x}_o");
            }
            Event::ChildFailed {
                connection,
                child,
                reason,
            } => {
                let tag = self.connection_tag(connection);
                let offered = match reason.contains("NO_PROPOSAL_CHOSEN") {
                    true => format!(
                        "; we offered {}",
                        self.our_child_proposals(connection, child)
                    ),
                    false => String::new(),
                };
                warn!("{tag}: CHILD_SA {child} failed: {reason}{offered}");
            }
            Event::ChildRekeyed {
                connection,
                child,
                old_spi_in,
                spi_in,
                spi_out,
            } => {
                let tag = match self.ids.ike_of_child(*old_spi_in) {
                    Some(ike) => self.child_tags(connection, ike, child, *spi_in),
                    None => (connection.clone(), child.clone()),
                };
                info!(
                    "{}: CHILD_SA {} {old_spi_in:08x}_i rekeyed, SPIs {spi_in:08x}_i {spi_out:08x}_o",
                    tag.0, tag.1
                );
            }
            Event::ChildDown {
                connection,
                child,
                spi_in,
                spi_out,
                info,
            } => {
                let (tag, child) = self.child_tags(connection, info.ike_spi, child, *spi_in);
                info!("{tag}: CHILD_SA {child} {spi_in:08x}_i {spi_out:08x}_o deleted");
            }
            Event::IkeRekeyed {
                connection,
                old: (old_i, old_r),
                new: (new_i, new_r),
            } => {
                let old = self.ike_tag(connection, *old_i, *old_r);
                let new = self.ike_tag(connection, *new_i, *new_r);
                info!("{old}: IKE SA {old_i}_i {old_r}_r rekeyed to {new} {new_i}_i {new_r}_r");
            }
            Event::TsUnacceptable {
                connection,
                ts_i,
                ts_r,
                ours,
            } => {
                let ours: Vec<String> = ours
                    .iter()
                    .map(|(local, remote)| {
                        format!("{} === {}", selectors(local), selectors(remote))
                    })
                    .collect();
                warn!(
                    "{connection}: traffic selectors unacceptable: the peer asked for {} === {}; we have {}",
                    selectors(ts_r),
                    selectors(ts_i),
                    ours.join(", ")
                );
            }
            Event::NoProposalChosen {
                connection,
                exchange,
                theirs,
                ours,
            } => warn!(
                "{connection}: no proposal chosen in {exchange}: the peer offered {}; we have {}",
                proposals(theirs),
                proposals(ours)
            ),
        }
    }
}

/// Traffic selectors as strongSwan writes them, space-separated.
fn selectors(list: &[ike::wire::ts::TrafficSelector]) -> String {
    let text: Vec<String> = list
        .iter()
        .map(crate::cli::decode::selector::text)
        .collect();
    text.join(" ")
}

/// Proposals as strongSwan writes them, `, ` between them.
fn proposals(list: &[Proposal]) -> String {
    if list.is_empty() {
        return "none".into();
    }
    list.iter()
        .map(proposal::text)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use ike::wire::sa::Transform;
    use ike::wire::{EncrId, ExchangeType, KeId, PrfId, ProtocolId};

    use super::*;
    use crate::kernel::mem::MemBackend;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn ike(encr: u16, ke: KeId) -> Proposal {
        Proposal {
            number: 1,
            protocol: ProtocolId::IKE,
            spi: Vec::new(),
            transforms: vec![
                Transform::encr(EncrId(encr), Some(256)),
                Transform::prf(PrfId::PRF_HMAC_SHA2_384),
                Transform::ke(ke),
            ],
        }
    }

    /// The lines a daemon without connections logs for `events`.
    fn logged(events: &[Event]) -> String {
        let out = Captured::default();
        let writer = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .without_time()
            .with_target(false)
            .finish();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut daemon = Daemon::new(Vec::new(), MemBackend::new(), 1).unwrap();
            tracing::subscriber::with_default(subscriber, || {
                for event in events {
                    daemon.log_event(event);
                }
            });
        });
        String::from_utf8(out.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn refusals_say_what_each_side_proposed_and_sa_lines_carry_their_ids() {
        let spi = |b| IkeSpi([b; 8]);
        let text = logged(&[
            Event::NoProposalChosen {
                connection: "gw".into(),
                exchange: ExchangeType::IKE_SA_INIT,
                theirs: vec![ike(20, KeId::CURVE25519)],
                ours: vec![ike(12, KeId::MODP_2048)],
            },
            Event::IkeDown {
                connection: "gw".into(),
                spi_i: spi(1),
                spi_r: spi(2),
                reason: DownReason::AuthenticationFailed("identity mismatch".into()),
            },
            Event::IkeDown {
                connection: "gw".into(),
                spi_i: spi(3),
                spi_r: spi(4),
                reason: DownReason::Terminated,
            },
        ]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            " WARN gw: no proposal chosen in IKE_SA_INIT: the peer offered \
             IKE:AES_GCM_16_256/PRF_HMAC_SHA2_384/CURVE_25519; we have \
             IKE:AES_CBC_256/PRF_HMAC_SHA2_384/MODP_2048",
            "{text}"
        );
        assert!(lines[1].starts_with(" WARN gw[1]: IKE SA "), "{text}");
        assert!(
            lines[1].ends_with("AuthenticationFailed(\"identity mismatch\")"),
            "{text}"
        );
        assert!(lines[2].starts_with(" INFO gw[2]: IKE SA "), "{text}");
    }
}
