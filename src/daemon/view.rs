//! Snapshots of the core's IKE and Child SAs for the control plane, taken in the daemon's loop
//! and handed to other tasks, and the unique ids strongSwan's clients know SAs by (`#1`,
//! `{2}`), which the core has no use for.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ike::config::Connection;
use ike::crypto::keys::IkeSuite;
use ike::kernel::{IpsecProtocol, Mode};
use ike::sa::child::ChildSa;
use ike::sa::{IkeSa, Role, State};
use ike::task::nat::Nat;
use ike::wire::sa::Proposal;
use ike::wire::ts::TrafficSelector;

pub use crate::kernel::Traffic;
use ike::wire::{IkeSpi, KeId};

/// An IKE SA as `list-sas` and the SA events show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IkeView {
    /// Its connection's name.
    pub name: String,
    pub uniqueid: u32,
    /// strongSwan's name of its state (`CONNECTING`, `ESTABLISHED`, ...).
    pub state: &'static str,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub local_id: String,
    /// The identity the connection asks of the peer (`%any` when it takes any).
    pub remote_id: String,
    pub initiator: bool,
    pub spi_i: IkeSpi,
    pub spi_r: IkeSpi,
    pub nat: Nat,
    /// The algorithms of its keys and the key exchange they came from, once derived.
    pub algorithms: Option<(IkeSuite, KeId)>,
    /// How long ago it was established, when it is.
    pub established: Option<Duration>,
    /// How long until it is rekeyed, when it is established and its connection rekeys.
    pub rekey_in: Option<Duration>,
    pub children: Vec<ChildView>,
}

/// A Child SA as `list-sas` and the SA events show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildView {
    pub name: String,
    pub uniqueid: u32,
    pub reqid: u32,
    /// strongSwan's name of its state (`INSTALLED`, `REKEYED`, `DELETED`).
    pub state: &'static str,
    pub mode: Mode,
    pub protocol: IpsecProtocol,
    /// ESP in UDP (a NAT was found).
    pub encap: bool,
    pub spi_in: u32,
    pub spi_out: u32,
    /// The chosen proposal, for the algorithms' names.
    pub proposal: Proposal,
    pub rekey_in: Option<Duration>,
    /// How long until its hard lifetime ends it.
    pub expires_in: Option<Duration>,
    /// How long ago it was installed.
    pub installed: Duration,
    pub local_ts: Vec<TrafficSelector>,
    pub remote_ts: Vec<TrafficSelector>,
    /// The kernel's counters of its inbound and outbound SAs, when they were read.
    pub traffic_in: Option<Traffic>,
    pub traffic_out: Option<Traffic>,
}

/// strongSwan's name of an IKE SA's state (`ike_sa_state_names`).
pub fn ike_state(state: State) -> &'static str {
    match state {
        State::InitSent
        | State::AllocatingSpi
        | State::AuthSent
        | State::InitDone
        | State::AuthInstalling => "CONNECTING",
        State::Established => "ESTABLISHED",
        State::Deleting => "DELETING",
        State::Rekeyed => "REKEYED",
        State::Dead => "DESTROYING",
    }
}

/// The unique ids of the IKE and Child SAs, given in order as clients first see them, and
/// the last snapshot of each, to describe an SA in the event that reports it gone.
#[derive(Debug, Default)]
pub struct Ids {
    last_ike: u32,
    last_child: u32,
    /// By our SPI.
    sas: HashMap<IkeSpi, SaIds>,
    /// By the SPI we receive on.
    children: HashMap<u32, ChildIds>,
}

#[derive(Debug)]
struct SaIds {
    id: u32,
    /// Our inbound SPIs of its Child SAs that have an id.
    children: Vec<u32>,
    last: Option<IkeView>,
}

#[derive(Debug)]
struct ChildIds {
    id: u32,
    /// Our SPI of its IKE SA.
    ike: IkeSpi,
    last: Option<ChildView>,
}

impl Ids {
    /// The IKE SA's id, given now if it has none.
    pub fn ike(&mut self, spi: IkeSpi) -> u32 {
        let last = &mut self.last_ike;
        self.sas
            .entry(spi)
            .or_insert_with(|| {
                *last = last.wrapping_add(1).max(1);
                SaIds {
                    id: *last,
                    children: Vec::new(),
                    last: None,
                }
            })
            .id
    }

    /// The Child SA's id, given now if it has none.
    pub fn child(&mut self, ike: IkeSpi, spi_in: u32) -> u32 {
        if let Some(child) = self.children.get_mut(&spi_in) {
            child.ike = ike;
            return child.id;
        }
        self.last_child = self.last_child.wrapping_add(1).max(1);
        let id = self.last_child;
        self.children.insert(
            spi_in,
            ChildIds {
                id,
                ike,
                last: None,
            },
        );
        if let Some(sa) = self.sas.get_mut(&ike) {
            sa.children.push(spi_in);
        }
        id
    }

    /// Our SPI of the IKE SA a Child SA with an id belongs to.
    pub fn ike_of_child(&self, spi_in: u32) -> Option<IkeSpi> {
        self.children.get(&spi_in).map(|c| c.ike)
    }

    /// Whether the IKE SA has an id.
    pub fn knows(&self, spi: IkeSpi) -> bool {
        self.sas.contains_key(&spi)
    }

    fn remember(&mut self, view: &IkeView, spi: IkeSpi) {
        for child in &view.children {
            if let Some(ids) = self.children.get_mut(&child.spi_in) {
                ids.last = Some(child.clone());
            }
        }
        if let Some(sa) = self.sas.get_mut(&spi) {
            let mut last = view.clone();
            last.children = Vec::new();
            sa.last = Some(last);
        }
    }

    /// Forgets a gone IKE SA and its Child SAs; returns its id and last snapshot.
    pub fn forget_ike(&mut self, spi: IkeSpi) -> Option<(u32, Option<IkeView>)> {
        let sa = self.sas.remove(&spi)?;
        for child in &sa.children {
            self.children.remove(child);
        }
        Some((sa.id, sa.last))
    }

    /// Forgets a gone Child SA; returns its id and last snapshot.
    pub fn forget_child(&mut self, spi_in: u32) -> Option<(u32, Option<ChildView>)> {
        let child = self.children.remove(&spi_in)?;
        if let Some(sa) = self.sas.get_mut(&child.ike) {
            sa.children.retain(|&c| c != spi_in);
        }
        Some((child.id, child.last))
    }

    /// An IKE SA was rekeyed: its Child SAs, with their ids, now belong to the new one.
    pub fn hand_over(&mut self, old: IkeSpi, new: IkeSpi) {
        let Some(children) = self
            .sas
            .get_mut(&old)
            .map(|sa| std::mem::take(&mut sa.children))
        else {
            return;
        };
        self.ike(new);
        for spi_in in &children {
            if let Some(child) = self.children.get_mut(spi_in) {
                child.ike = new;
            }
        }
        if let Some(sa) = self.sas.get_mut(&new) {
            sa.children.extend(children);
        }
    }

    /// How many IKE SAs and Child SAs have ids.
    pub fn len(&self) -> (usize, usize) {
        (self.sas.len(), self.children.len())
    }
}

/// A snapshot of `sa` at `now`, giving ids to it and its Child SAs as needed.
pub fn ike_view(ids: &mut Ids, sa: &IkeSa, now: Instant) -> IkeView {
    let spi = sa.local_spi();
    let uniqueid = ids.ike(spi);
    let children = sa
        .children
        .iter()
        .map(|child| {
            let id = ids.child(spi, child.spi_in);
            child_view(sa, child, id, now)
        })
        .collect();
    let view = IkeView {
        name: sa.conn.name.clone(),
        uniqueid,
        state: ike_state(sa.state),
        local: sa.local,
        remote: sa.remote,
        local_id: sa.conn.local_id.to_string(),
        // The identity the peer proved, once it has; the configured one until then.
        remote_id: sa
            .peer_id
            .as_ref()
            .or(sa.conn.remote_id.as_ref())
            .map_or_else(|| "%any".to_owned(), ToString::to_string),
        initiator: sa.role == Role::Initiator,
        spi_i: sa.spi_i,
        spi_r: sa.spi_r,
        nat: sa.nat,
        algorithms: sa.algorithms(),
        established: sa
            .established_at()
            .map(|t| now.saturating_duration_since(t)),
        rekey_in: sa.rekey_time().map(|t| t.saturating_duration_since(now)),
        children,
    };
    ids.remember(&view, spi);
    view
}

fn child_view(sa: &IkeSa, child: &ChildSa, uniqueid: u32, now: Instant) -> ChildView {
    let replaced = sa.children.iter().any(|c| c.replaces == Some(child.spi_in));
    let state = match (child.rekeyed, replaced) {
        (false, _) => "INSTALLED",
        (true, false) => "REKEYING",
        (true, true) => "REKEYED",
    };
    let hard = sa
        .conn
        .children
        .iter()
        .find(|c| c.name == child.name)
        .map(|c| c.lifetime.hard_seconds)
        .filter(|&s| s != 0);
    ChildView {
        name: child.name.clone(),
        uniqueid,
        reqid: child.reqid,
        state,
        mode: child.mode,
        protocol: child.protocol,
        encap: sa.nat.detected() && child.protocol == IpsecProtocol::Esp,
        spi_in: child.spi_in,
        spi_out: child.spi_out,
        proposal: child.proposal.clone(),
        rekey_in: child
            .rekey_at
            .filter(|_| !child.rekeyed)
            .map(|t| t.saturating_duration_since(now)),
        expires_in: hard.map(|secs| {
            (child.installed_at + Duration::from_secs(secs)).saturating_duration_since(now)
        }),
        installed: now.saturating_duration_since(child.installed_at),
        local_ts: child.local_ts.clone(),
        remote_ts: child.remote_ts.clone(),
        traffic_in: None,
        traffic_out: None,
    }
}

/// What can be said of a gone IKE SA no snapshot was taken of: its connection's side of it.
pub fn gone_ike_view(conn: Option<&Connection>, name: &str, spis: (IkeSpi, IkeSpi)) -> IkeView {
    let addr = |a: Option<std::net::IpAddr>| {
        SocketAddr::new(
            a.unwrap_or(std::net::Ipv4Addr::UNSPECIFIED.into()),
            ike::IKE_PORT,
        )
    };
    IkeView {
        name: name.to_owned(),
        uniqueid: 0,
        state: "DESTROYING",
        local: addr(conn.map(|c| c.local_addr)),
        remote: addr(conn.map(|c| c.remote_addr)),
        local_id: conn.map_or_else(String::new, |c| c.local_id.to_string()),
        remote_id: conn
            .and_then(|c| c.remote_id.as_ref())
            .map_or_else(|| "%any".to_owned(), ToString::to_string),
        initiator: false,
        spi_i: spis.0,
        spi_r: spis.1,
        nat: Nat::default(),
        algorithms: None,
        established: None,
        rekey_in: None,
        children: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_rekeys_and_are_forgotten_with_their_sas() {
        let (a, b) = (IkeSpi([1; 8]), IkeSpi([2; 8]));
        let mut ids = Ids::default();
        assert_eq!(ids.ike(a), 1);
        assert_eq!(ids.ike(a), 1);
        assert_eq!(ids.child(a, 0xc1), 1);
        assert_eq!(ids.child(a, 0xc2), 2);
        assert_eq!(ids.forget_child(0xc2).map(|(id, _)| id), Some(2));
        // The IKE SA is rekeyed: a new id for it, its Child SAs keep theirs.
        ids.hand_over(a, b);
        assert_eq!(ids.forget_ike(a).map(|(id, _)| id), Some(1));
        assert_eq!(ids.ike(b), 2);
        assert_eq!(ids.ike_of_child(0xc1), Some(b));
        assert_eq!(ids.child(b, 0xc1), 1);
        assert_eq!(ids.forget_ike(b).map(|(id, _)| id), Some(2));
        assert_eq!(ids.len(), (0, 0));
    }
}

/// An installed trap, as VICI's `list-policies` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrapView {
    pub connection: String,
    pub child: String,
    pub mode: ike::kernel::Mode,
    pub local_ts: Vec<TrafficSelector>,
    pub remote_ts: Vec<TrafficSelector>,
}
