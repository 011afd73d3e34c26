//! `ikerctl status`: every configured connection, up or down, with its SAs and the last
//! failure the daemon recorded for it: `list-conns`, `list-sas` and ikerd's own
//! `ikerd-failures` merged into one view. A daemon without `ikerd-failures` (strongSwan's
//! charon) gives the view without failures.

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use super::human::{ago, commas, number, sections, size, span};
use super::json::{self, Json};
use super::{Listing, Output, connect, fail, print};
use crate::vici::client::{Client, ClientError};
use crate::vici::wire::Message;

/// Show every configured connection, up or down, with its last failure.
///
/// One block per connection, in the order of the configuration: up (an IKE SA established),
/// connecting, or down. Under an up connection its IKE SAs with their age and ends, and each
/// child, installed (with its traffic) or down. For every connection that had one, the last
/// failure and when: the peer rejected our proposals (and what we offered), no response after
/// the retransmits, an authentication or identity check that failed, a Child SA refused.
/// SAs of connections no longer configured are shown too.
///
/// With --json: an array with an object per connection: name, state, ike-sas (the daemon's
/// IKE SA sections), children (name to up or down), last-failure (kind, reason, time in
/// seconds since the Unix epoch, child).
#[derive(Debug, clap::Args)]
#[command(long_about)]
#[command(after_long_help = "Examples:
  ikerctl status
  ikerctl status --json | jq -r '.[] | select(.state == \"down\") | .name'")]
pub struct Args {
    #[command(flatten)]
    pub output: Output,
}

/// What the daemon said, for [`text`] and [`json`].
#[derive(Debug, Default)]
pub struct Reports {
    /// `list-conn` events.
    pub conns: Vec<Message>,
    /// `list-sa` events.
    pub sas: Vec<Message>,
    /// The `ikerd-failures` answer; None from a daemon that lacks it.
    pub failures: Option<Message>,
}

fn ask(client: &mut Client) -> Result<Reports, ClientError> {
    let listing = |command, event| Listing {
        command,
        event,
        request: Message::new(),
        text: |_| String::new(),
    };
    let conns = listing("list-conns", "list-conn").fetch(client)?;
    let sas = listing("list-sas", "list-sa").fetch(client)?;
    let failures = match client.command("ikerd-failures", &Message::new()) {
        Ok(failures) => Some(failures),
        Err(ClientError::UnknownCommand(_)) => None,
        Err(e) => return Err(e),
    };
    Ok(Reports {
        conns,
        sas,
        failures,
    })
}

pub fn run(uri: &str, args: &Args) -> ExitCode {
    let reports = match connect(uri).and_then(|mut c| ask(&mut c)) {
        Ok(reports) => reports,
        Err(e) => return fail("status", e),
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    if args.output.json {
        print(&json(&reports).pretty());
    } else {
        print(&text(&reports, now));
    }
    ExitCode::SUCCESS
}

/// One connection's share of the reports.
struct Conn<'a> {
    name: &'a str,
    config: Option<&'a Message>,
    sas: Vec<&'a Message>,
    failure: Option<&'a Message>,
}

impl Conn<'_> {
    fn state(&self) -> &'static str {
        let any = |state| self.sas.iter().any(|s| s.str("state") == Some(state));
        if any("ESTABLISHED") {
            "up"
        } else if any("CONNECTING") {
            "connecting"
        } else {
            "down"
        }
    }

    /// The configured children, then those of the SAs that are not configured.
    fn children(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .config
            .and_then(|c| c.section("children"))
            .map(|c| sections(c).map(|(n, _)| n).collect())
            .unwrap_or_default();
        for child in self.child_sas() {
            if let Some(name) = child.str("name")
                && !names.contains(&name)
            {
                names.push(name);
            }
        }
        names
    }

    fn child_sas(&self) -> impl Iterator<Item = &Message> {
        self.sas
            .iter()
            .filter_map(|sa| sa.section("child-sas"))
            .flat_map(|c| sections(c).map(|(_, m)| m))
    }

    fn child_up(&self, name: &str) -> bool {
        self.child_sas()
            .any(|c| c.str("name") == Some(name) && c.str("state") == Some("INSTALLED"))
    }
}

/// The connections in the configuration's order, then those only SAs name.
fn merge(reports: &Reports) -> Vec<Conn<'_>> {
    let mut conns: Vec<Conn<'_>> = reports
        .conns
        .iter()
        .flat_map(sections)
        .map(|(name, config)| Conn {
            name,
            config: Some(config),
            sas: Vec::new(),
            failure: None,
        })
        .collect();
    for (name, sa) in reports.sas.iter().flat_map(sections) {
        match conns.iter_mut().find(|c| c.name == name) {
            Some(conn) => conn.sas.push(sa),
            None => conns.push(Conn {
                name,
                config: None,
                sas: vec![sa],
                failure: None,
            }),
        }
    }
    for (name, failure) in reports.failures.iter().flat_map(sections) {
        if let Some(conn) = conns.iter_mut().find(|c| c.name == name) {
            conn.failure = Some(failure);
        }
    }
    conns
}

/// The text of the view; `now` in seconds since the Unix epoch dates the failures.
pub fn text(reports: &Reports, now: u64) -> String {
    let mut out = String::new();
    for conn in merge(reports) {
        let count = match conn.sas.len() {
            0 => None,
            1 => Some("1 IKE SA".to_owned()),
            n => Some(format!("{n} IKE SAs")),
        };
        let unconfigured = conn.config.is_none().then(|| "not configured".to_owned());
        out.push_str(&format!(
            "{}: {}\n",
            conn.name,
            commas([Some(conn.state().to_owned()), count, unconfigured])
        ));
        for sa in &conn.sas {
            ike_sa(&mut out, sa);
        }
        for child in conn.children() {
            if !conn.child_up(child) {
                out.push_str(&format!("  {child}: down\n"));
            }
        }
        if let Some(failure) = conn.failure {
            out.push_str(&format!("  {}\n", failure_line(failure, now)));
        }
    }
    if out.is_empty() {
        out.push_str("no connections\n");
    }
    out
}

/// `#1 ESTABLISHED 3m12s ago, moon @ 192.0.2.1 ... sun @ 192.0.2.2`, then its Child SAs.
fn ike_sa(out: &mut String, sa: &Message) {
    let id = sa
        .str("uniqueid")
        .map_or_else(String::new, |i| format!("#{i} "));
    let state = sa.str("state").unwrap_or("?");
    let end = |side: &str| {
        let host = sa.str(&format!("{side}-host"))?;
        Some(match sa.str(&format!("{side}-id")) {
            Some(id) => format!("{id} @ {host}"),
            None => host.to_owned(),
        })
    };
    let ends = match (end("local"), end("remote")) {
        (Some(l), Some(r)) => Some(format!("{l} ... {r}")),
        _ => None,
    };
    out.push_str(&format!(
        "  {id}{}\n",
        commas([
            Some(match ago(sa, "established") {
                Some(age) => format!("{state} {age}"),
                None => state.to_owned(),
            }),
            ends,
        ])
    ));
    for (key, child) in sa.section("child-sas").iter().flat_map(|c| sections(c)) {
        let name = child.str("name").unwrap_or(key);
        let id = child
            .str("uniqueid")
            .map_or_else(String::new, |i| format!(" #{i}"));
        let traffic = |dir: &str| {
            number(child, &format!("bytes-{dir}")).map(|b| format!("{dir} {}", size(b)))
        };
        out.push_str(&format!(
            "    {name}{id}: {}\n",
            commas([
                child.str("state").map(str::to_owned),
                traffic("in"),
                traffic("out"),
                number(child, "rekey-time").map(|s| format!("rekey in {}", span(s))),
            ])
        ));
    }
}

/// `last failure 12s ago (child net): reason`.
fn failure_line(failure: &Message, now: u64) -> String {
    let when = match number(failure, "time") {
        Some(at) if at <= now => format!(" {} ago", span(now - at)),
        Some(_) => " just now".to_owned(),
        None => String::new(),
    };
    let child = failure
        .str("child")
        .map_or_else(String::new, |c| format!(" (child {c})"));
    let reason = failure.str("reason").unwrap_or("no reason given");
    format!("last failure{when}{child}: {reason}")
}

/// The view as JSON: an object per connection.
pub fn json(reports: &Reports) -> Json {
    Json::Array(
        merge(reports)
            .iter()
            .map(|conn| {
                let mut fields = vec![
                    ("name".to_owned(), Json::str(conn.name)),
                    ("state".to_owned(), Json::str(conn.state())),
                    (
                        "configured".to_owned(),
                        Json::str(if conn.config.is_some() { "yes" } else { "no" }),
                    ),
                    (
                        "ike-sas".to_owned(),
                        Json::Array(conn.sas.iter().map(|s| json::message(s)).collect()),
                    ),
                    (
                        "children".to_owned(),
                        Json::Object(
                            conn.children()
                                .into_iter()
                                .map(|c| {
                                    let state = if conn.child_up(c) { "up" } else { "down" };
                                    (c.to_owned(), Json::str(state))
                                })
                                .collect(),
                        ),
                    ),
                ];
                if let Some(failure) = conn.failure {
                    fields.push(("last-failure".to_owned(), json::message(failure)));
                }
                Json::Object(fields)
            })
            .collect(),
    )
}
