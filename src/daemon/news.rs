//! The core's events in the control plane's words: the log lines strongSwan writes for them
//! and the news VICI listeners get, with the snapshots they need.

use std::time::Instant;

use ike::endpoint::Endpoint;
use ike::sa::{DownReason, Event, IkeSa};
use ike::wire::IkeSpi;

use super::Daemon;
use super::control::News;
use super::view::{self, ChildView, Ids, IkeView};
use super::watch::{Happened, between, down_reason, ike_name, line};
use crate::cli::decode::proposal;
use crate::kernel::KernelBackend;

impl<K: KernelBackend> Daemon<K> {
    /// What the event means: ids given or forgotten always; snapshots, log lines and news
    /// only while someone watches.
    pub(super) fn happened(&mut self, event: &Event) -> Option<Happened> {
        let now = Instant::now();
        let watched = self.watched();
        match event {
            Event::IkeUp {
                connection,
                spi_i,
                spi_r,
            } => {
                if !watched {
                    return None;
                }
                let sa = find_ike(&self.endpoint, *spi_i, *spi_r)?;
                let v = view::ike_view(&mut self.ids, sa, now);
                let text = format!(
                    "IKE_SA {} established between {}",
                    ike_name(&v),
                    between(&v)
                );
                Some(Happened {
                    connection: connection.clone(),
                    spis: vec![*spi_i, *spi_r],
                    lines: vec![line("IKE", Some(&v), text)],
                    news: vec![News::IkeUpDown { up: true, ike: v }],
                })
            }
            Event::IkeDown {
                connection,
                spi_i,
                spi_r,
                reason,
            } => {
                let forgotten = self
                    .ids
                    .forget_ike(*spi_i)
                    .or_else(|| self.ids.forget_ike(*spi_r));
                if !watched {
                    return None;
                }
                let conn = self.endpoint.connections().find(|c| c.name == *connection);
                let mut v = view::gone_ike_view(conn, connection, (*spi_i, *spi_r));
                if let Some((id, last)) = forgotten {
                    v = last.unwrap_or(v);
                    v.uniqueid = id;
                }
                let alert = ike_alert(
                    reason,
                    v.state == "ESTABLISHED" || v.established.is_some(),
                    v.initiator,
                )
                .map(|kind| News::Alert {
                    kind,
                    ike: Some(without_children(&v)),
                });
                v.state = match v.state {
                    "ESTABLISHED" => "DELETING",
                    other => other,
                };
                let text = match reason {
                    DownReason::Terminated
                    | DownReason::DeletedByPeer
                    | DownReason::Reauthenticating
                    | DownReason::Duplicate => {
                        format!("IKE_SA {} {}", ike_name(&v), down_reason(reason))
                    }
                    _ => format!(
                        "establishing or keeping IKE_SA {} failed: {}",
                        ike_name(&v),
                        down_reason(reason)
                    ),
                };
                Some(Happened {
                    connection: connection.clone(),
                    spis: vec![*spi_i, *spi_r],
                    lines: vec![line("IKE", Some(&v), text)],
                    news: std::iter::once(News::IkeUpDown { up: false, ike: v })
                        .chain(alert)
                        .collect(),
                })
            }
            Event::ChildUp {
                connection, spi_in, ..
            } => {
                if !watched {
                    return None;
                }
                let sa = ike_of_child(&self.endpoint, &self.ids, connection, *spi_in)?;
                let spis = vec![sa.spi_i, sa.spi_r];
                let v = view::ike_view(&mut self.ids, sa, now);
                let c = v.children.iter().find(|c| c.spi_in == *spi_in)?.clone();
                let text = format!(
                    "CHILD_SA {}{{{}}} established with SPIs {} and TS {} === {}",
                    c.name,
                    c.uniqueid,
                    child_spis(&c),
                    selectors(&c.local_ts),
                    selectors(&c.remote_ts)
                );
                Some(Happened {
                    connection: connection.clone(),
                    spis,
                    lines: vec![line("IKE", Some(&v), text)],
                    news: vec![News::ChildUpDown {
                        up: true,
                        ike: without_children(&v),
                        child: c,
                    }],
                })
            }
            Event::ChildFailed {
                connection,
                child,
                reason,
            } => {
                if !watched {
                    return None;
                }
                let text = format!("establishing CHILD_SA {child} failed: {reason}");
                let alert = child_alert(reason).map(|kind| News::Alert { kind, ike: None });
                Some(Happened {
                    connection: connection.clone(),
                    spis: Vec::new(),
                    lines: vec![line("IKE", None, text)],
                    news: alert.into_iter().collect(),
                })
            }
            Event::ChildRekeyed {
                connection,
                child: _,
                old_spi_in,
                spi_in,
                spi_out: _,
            } => {
                if !watched {
                    return None;
                }
                let sa = ike_of_child(&self.endpoint, &self.ids, connection, *spi_in)?;
                let spis = vec![sa.spi_i, sa.spi_r];
                let v = view::ike_view(&mut self.ids, sa, now);
                let new = v.children.iter().find(|c| c.spi_in == *spi_in)?.clone();
                let old = v.children.iter().find(|c| c.spi_in == *old_spi_in).cloned();
                let text = format!(
                    "CHILD_SA {}{{{}}} established with SPIs {} and TS {} === {}",
                    new.name,
                    new.uniqueid,
                    child_spis(&new),
                    selectors(&new.local_ts),
                    selectors(&new.remote_ts)
                );
                let news = old.map(|old| News::ChildRekey {
                    ike: without_children(&v),
                    old: Box::new(old),
                    new: Box::new(new),
                });
                Some(Happened {
                    connection: connection.clone(),
                    spis,
                    lines: vec![line("IKE", Some(&v), text)],
                    news: news.into_iter().collect(),
                })
            }
            Event::ChildDown {
                connection,
                child,
                spi_in,
                spi_out,
                ..
            } => {
                let ike_spi = self.ids.ike_of_child(*spi_in);
                let forgotten = self.ids.forget_child(*spi_in);
                if !watched {
                    return None;
                }
                let sa = ike_spi.and_then(|s| self.endpoint.ike_sa(s));
                let v = sa.map(|sa| view::ike_view(&mut self.ids, sa, now));
                let (id, last) = forgotten.unwrap_or((0, None));
                let mut c = last.unwrap_or_else(|| ChildView {
                    name: child.clone(),
                    uniqueid: id,
                    reqid: 0,
                    state: "DELETED",
                    mode: Default::default(),
                    protocol: ike::kernel::IpsecProtocol::Esp,
                    encap: false,
                    spi_in: *spi_in,
                    spi_out: *spi_out,
                    proposal: ike::wire::sa::Proposal {
                        number: 0,
                        protocol: ike::wire::ProtocolId::ESP,
                        spi: Vec::new(),
                        transforms: Vec::new(),
                    },
                    rekey_in: None,
                    expires_in: None,
                    installed: Default::default(),
                    local_ts: Vec::new(),
                    remote_ts: Vec::new(),
                    traffic_in: None,
                    traffic_out: None,
                });
                c.state = "DELETED";
                c.rekey_in = None;
                let text = format!(
                    "closing CHILD_SA {}{{{}}} with SPIs {}",
                    c.name,
                    c.uniqueid,
                    child_spis(&c)
                );
                let spis = v.as_ref().map_or_else(Vec::new, |v| vec![v.spi_i, v.spi_r]);
                let news = v.as_ref().map(|v| News::ChildUpDown {
                    up: false,
                    ike: without_children(v),
                    child: c,
                });
                Some(Happened {
                    connection: connection.clone(),
                    spis,
                    lines: vec![line("CHD", v.as_ref(), text)],
                    news: news.into_iter().collect(),
                })
            }
            Event::IkeRekeyed {
                connection,
                old: (old_i, old_r),
                new: (new_i, new_r),
            } => {
                let old_ours = if self.ids.knows(*old_i) {
                    *old_i
                } else {
                    *old_r
                };
                let new_ours = find_ike(&self.endpoint, *new_i, *new_r)
                    .map(IkeSa::local_spi)
                    .unwrap_or(*new_i);
                self.ids.hand_over(old_ours, new_ours);
                let happened = watched.then(|| {
                    let old = find_ike(&self.endpoint, *old_i, *old_r)?;
                    let old = view::ike_view(&mut self.ids, old, now);
                    let new = find_ike(&self.endpoint, *new_i, *new_r)?;
                    let new = view::ike_view(&mut self.ids, new, now);
                    let text = format!(
                        "IKE_SA {} rekeyed to {} between {}",
                        ike_name(&old),
                        ike_name(&new),
                        between(&new)
                    );
                    Some(Happened {
                        connection: connection.clone(),
                        spis: vec![*old_i, *old_r, *new_i, *new_r],
                        lines: vec![line("IKE", Some(&new), text)],
                        news: vec![News::IkeRekey {
                            old: without_children(&old),
                            new: without_children(&new),
                        }],
                    })
                });
                self.ids.forget_ike(old_ours);
                happened.flatten()
            }
            Event::NoProposalChosen {
                connection,
                exchange,
                theirs,
                ..
            } => watched.then(|| {
                let offered: Vec<String> = theirs.iter().map(proposal::text).collect();
                let text = format!(
                    "received proposals {} in {exchange}: no proposal chosen",
                    offered.join(", ")
                );
                let kind = match *exchange {
                    ike::wire::ExchangeType::IKE_SA_INIT => "proposal-mismatch-ike",
                    _ => "proposal-mismatch-child",
                };
                Happened {
                    connection: connection.clone(),
                    spis: Vec::new(),
                    lines: vec![line("CFG", None, text)],
                    news: vec![News::Alert { kind, ike: None }],
                }
            }),
            Event::TsUnacceptable {
                connection,
                ts_i,
                ts_r,
                ..
            } => watched.then(|| Happened {
                connection: connection.clone(),
                spis: Vec::new(),
                lines: vec![line(
                    "CFG",
                    None,
                    format!(
                        "traffic selectors {} === {} unacceptable",
                        selectors(ts_r),
                        selectors(ts_i)
                    ),
                )],
                news: vec![News::Alert {
                    kind: "ts-mismatch",
                    ike: None,
                }],
            }),
        }
    }
}

fn child_spis(c: &ChildView) -> String {
    format!("{:08x}_i {:08x}_o", c.spi_in, c.spi_out)
}

fn selectors(ts: &[ike::wire::ts::TrafficSelector]) -> String {
    ts.iter()
        .map(crate::cli::decode::selector::text)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The IKE SA with this pair of SPIs, looked up by ours.
fn find_ike(endpoint: &Endpoint, spi_i: IkeSpi, spi_r: IkeSpi) -> Option<&IkeSa> {
    [spi_i, spi_r]
        .into_iter()
        .filter_map(|spi| endpoint.ike_sa(spi))
        .find(|sa| sa.spi_i == spi_i && sa.spi_r == spi_r)
}

/// The IKE SA of `connection` holding the Child SA we receive on `spi_in`: the one the ids
/// know, else found by a walk over the connection's IKE SAs.
fn ike_of_child<'a>(
    endpoint: &'a Endpoint,
    ids: &Ids,
    connection: &str,
    spi_in: u32,
) -> Option<&'a IkeSa> {
    let has = |sa: &&IkeSa| sa.children.iter().any(|c| c.spi_in == spi_in);
    if let Some(sa) = ids.ike_of_child(spi_in).and_then(|s| endpoint.ike_sa(s))
        && has(&sa)
    {
        return Some(sa);
    }
    endpoint
        .ike_sas()
        .filter(|sa| sa.conn.name == connection)
        .find(has)
}

fn without_children(v: &IkeView) -> IkeView {
    IkeView {
        children: Vec::new(),
        ..v.clone()
    }
}

/// The `alert` strongSwan raises when an IKE SA goes down for `reason`, if any; `established`
/// says whether it ever was, `initiator` whether we started it.
fn ike_alert(reason: &DownReason, established: bool, initiator: bool) -> Option<&'static str> {
    use ike::wire::NotifyType;
    Some(match reason {
        DownReason::Timeout if established => "retransmit-send-timeout",
        DownReason::Timeout if initiator => "peer-init-unreachable",
        DownReason::Timeout => "half-open-timeout",
        DownReason::AuthenticationFailed(_) => "peer-auth-failed",
        DownReason::Refused(NotifyType::AUTHENTICATION_FAILED) => "local-auth-failed",
        DownReason::Refused(NotifyType::NO_PROPOSAL_CHOSEN) => "proposal-mismatch-ike",
        DownReason::Refused(NotifyType::TS_UNACCEPTABLE) => "ts-mismatch",
        DownReason::ProtocolError(_) => "parse-error-body",
        DownReason::Expired => "ike-sa-expired",
        _ => return None,
    })
}

/// The `alert` for a Child SA that failed, by what the core says went wrong.
fn child_alert(reason: &str) -> Option<&'static str> {
    if reason.contains("NO_PROPOSAL_CHOSEN") || reason.contains("not what we proposed") {
        Some("proposal-mismatch-child")
    } else if reason.contains("TS_UNACCEPTABLE") {
        Some("ts-mismatch")
    } else if reason.contains("kernel") || reason.contains("install") {
        Some("install-child-sa-failed")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ike::wire::NotifyType;

    #[test]
    fn failures_raise_strongswans_alerts() {
        let timeout = DownReason::Timeout;
        assert_eq!(
            ike_alert(&timeout, false, true),
            Some("peer-init-unreachable")
        );
        assert_eq!(ike_alert(&timeout, false, false), Some("half-open-timeout"));
        assert_eq!(
            ike_alert(&timeout, true, true),
            Some("retransmit-send-timeout")
        );
        let refused = DownReason::Refused(NotifyType::NO_PROPOSAL_CHOSEN);
        assert_eq!(
            ike_alert(&refused, false, true),
            Some("proposal-mismatch-ike")
        );
        let auth = DownReason::Refused(NotifyType::AUTHENTICATION_FAILED);
        assert_eq!(ike_alert(&auth, false, true), Some("local-auth-failed"));
        let theirs = DownReason::AuthenticationFailed("remote ID mismatch".into());
        assert_eq!(ike_alert(&theirs, false, true), Some("peer-auth-failed"));
        assert_eq!(ike_alert(&DownReason::Terminated, true, true), None);
        assert_eq!(ike_alert(&DownReason::DeletedByPeer, true, true), None);
        assert_eq!(
            child_alert("peer refused the Child SA: NO_PROPOSAL_CHOSEN"),
            Some("proposal-mismatch-child")
        );
        assert_eq!(
            child_alert("peer refused the Child SA: TS_UNACCEPTABLE"),
            Some("ts-mismatch")
        );
        assert_eq!(child_alert("something else"), None);
    }
}
