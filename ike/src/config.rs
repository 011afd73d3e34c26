//! What the core needs to know about the tunnels it may build: plain data that the daemon
//! makes from swanctl.conf, and tests make by hand.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::PrivateKey;

use crate::crypto::Secret;
use crate::kernel::{IpsecProtocol, Lifetime, Mode};
use crate::proposal::Preference;
use crate::wire::id;
use crate::wire::sa::Proposal;
use crate::wire::ts::TrafficSelector;

/// How one side proves who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// A pre-shared key (RFC 7296 2.15).
    Psk(Secret),
    /// A signature with a certified key (RFC 7296 2.15, RFC 7427; swanctl's `auth = pubkey`).
    Pubkey(Pubkey),
}

/// Public-key authentication of one side. For our side, `certs` and `key` are what we send
/// and sign with; for the peer's, `cacerts` are the authorities its certificate must chain to
/// (its identity is the connection's `remote_id`). Certificates are DER.
#[derive(Debug, Clone, Default)]
pub struct Pubkey {
    /// Our end-entity certificate first, then the intermediates to send with it (swanctl's
    /// `certs`, and what the CAs of `x509ca/` add between it and the root).
    pub certs: Vec<Vec<u8>>,
    /// The private key of `certs[0]`.
    pub key: Option<Arc<PrivateKey>>,
    /// Trusted CA certificates for the peer's chain (swanctl's `cacerts`).
    pub cacerts: Vec<Vec<u8>>,
}

impl Pubkey {
    /// Our side: these certificates (end entity first) and the key of the first.
    pub fn local(certs: Vec<Vec<u8>>, key: PrivateKey) -> Pubkey {
        Pubkey {
            certs,
            key: Some(Arc::new(key)),
            cacerts: Vec::new(),
        }
    }

    /// The peer's side: a certificate issued under one of these CAs.
    pub fn remote(cacerts: Vec<Vec<u8>>) -> Pubkey {
        Pubkey {
            cacerts,
            ..Pubkey::default()
        }
    }
}

/// Keys compare by their public halves: the private key is never looked into.
impl PartialEq for Pubkey {
    fn eq(&self, other: &Pubkey) -> bool {
        self.certs == other.certs
            && self.cacerts == other.cacerts
            && self.key.as_ref().map(|k| k.public_key())
                == other.key.as_ref().map(|k| k.public_key())
    }
}

impl Eq for Pubkey {}

impl Connection {
    /// Whether either side authenticates with a certificate, so IKE_SA_INIT announces the
    /// signature hashes (RFC 7427 4).
    pub fn uses_signatures(&self) -> bool {
        matches!(self.local_auth, Auth::Pubkey(_)) || matches!(self.remote_auth, Auth::Pubkey(_))
    }
}

/// A connection: the peers, the IKE SA's algorithms and authentication, and its Child SAs
/// (swanctl.conf's `connections.<name>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub name: String,
    /// Where we send from and listen on; the unspecified address accepts any.
    pub local_addr: IpAddr,
    /// Where the peer is; the unspecified address means "any", for responders only.
    pub remote_addr: IpAddr,
    /// IKE proposals, most preferred first (protocol IKE, no SPI).
    pub proposals: Vec<Proposal>,
    pub preference: Preference,
    pub local_id: id::Repr,
    /// The identity the peer must prove; None accepts any identity the credentials match.
    pub remote_id: Option<id::Repr>,
    pub local_auth: Auth,
    pub remote_auth: Auth,
    pub children: Vec<ChildConfig>,
    /// Liveness checks after this long without traffic (RFC 7296 2.4); zero disables.
    pub dpd_delay: Duration,
    /// IKE SA rekeying interval; zero: none.
    pub rekey_time: Duration,
    /// Reauthentication interval (a new IKE SA, authenticated afresh, after the old one is
    /// deleted, as strongSwan 5.9 does by default); zero: none.
    pub reauth_time: Duration,
    /// How long after the first rekey or reauthentication is due the IKE SA is deleted if it
    /// did not happen (swanctl's `over_time`).
    pub over_time: Duration,
    /// Up to this much is taken off each rekey and reauthentication interval at random
    /// (swanctl's `rand_time`).
    pub rand_time: Duration,
    /// How many times an initiation that got no answer is started again (swanctl's
    /// `keyingtries`); zero: for ever.
    pub keyingtries: u32,
    /// What to do with other IKE SAs of the same identities (swanctl's `unique`).
    pub unique: Unique,
    /// Encapsulate ESP in UDP even without a NAT (swanctl's `encap`): our NAT detection
    /// hash of our own address is made not to match, so both sides behave as behind a NAT.
    pub encap: bool,
    /// When our certificates go in IKE_AUTH (swanctl's `send_cert`).
    pub send_cert: SendCert,
    /// Whether we ask for the peer's certificate with CERTREQ (swanctl's `send_certreq`).
    pub send_certreq: bool,
}

/// The uniqueness policy (swanctl.conf(5) `unique`): what a new IKE SA does to the others
/// between the same identities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unique {
    /// Nothing, even when the peer says it starts afresh (INITIAL_CONTACT).
    Never,
    /// Only when the peer says it starts afresh: the others go (strongSwan's default).
    #[default]
    No,
    /// The new one replaces the others of the connection.
    Replace,
    /// The first one stays: a new one from another address is deleted.
    Keep,
}

/// When we send our certificates (swanctl.conf(5) `send_cert`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SendCert {
    Always,
    /// Only to a peer that sent a CERTREQ, of any CA (strongSwan's default).
    #[default]
    IfAsked,
    Never,
}

/// What to do with a Child SA at start-up, when the peer closes it, or when the peer stops
/// answering (swanctl.conf's `start_action`, `close_action`, `dpd_action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Action {
    /// Nothing (`none`, `clear`).
    #[default]
    None,
    /// Install trap policies: the first packet they catch starts the negotiation.
    Trap,
    /// Negotiate at once (`start`, `restart`).
    Start,
}

/// A Child SA template (swanctl.conf's `children.<name>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildConfig {
    pub name: String,
    /// Our side's traffic; empty means "our address" (swanctl's `dynamic`).
    pub local_ts: Vec<TrafficSelector>,
    /// The peer's traffic; empty means "the peer's address".
    pub remote_ts: Vec<TrafficSelector>,
    /// ESP (or AH) proposals; a KE transform in them asks for PFS on rekeys.
    pub proposals: Vec<Proposal>,
    pub protocol: IpsecProtocol,
    pub mode: Mode,
    /// Soft limits (rekey) and hard limits (delete) of its SAs; zero means none.
    pub lifetime: Lifetime,
    /// How far each SA's soft limits may fall before the configured ones.
    pub jitter: Jitter,
    pub replay_window: u32,
    pub start_action: Action,
    pub close_action: Action,
    pub dpd_action: Action,
    /// A command the daemon runs (with `/bin/sh -c`) when the Child SA comes up and goes down,
    /// with strongSwan's `PLUTO_*` environment (swanctl.conf's `updown`).
    pub updown: Option<String>,
    /// XFRM interface ids and policy priority of its SAs and policies.
    pub xfrm: XfrmOptions,
}

/// Kernel settings of a Child SA's SAs and policies (swanctl's `if_id_in`, `if_id_out`,
/// `priority`, `mark_in`, `mark_in_sa`, `mark_out` and `reqid`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct XfrmOptions {
    /// The XFRM interface id of the inbound SA and the in and fwd policies.
    pub if_id_in: Option<u32>,
    /// The XFRM interface id of the outbound SA and the out policies.
    pub if_id_out: Option<u32>,
    /// A fixed priority for the policies instead of strongSwan's computed one.
    pub priority: Option<u32>,
    /// The firewall mark (value, mask) of the in and fwd policies, and of the inbound SA with
    /// `mark_in_sa`.
    pub mark_in: Option<(u32, u32)>,
    pub mark_in_sa: bool,
    /// The firewall mark of the out policies and the outbound SA.
    pub mark_out: Option<(u32, u32)>,
    /// A fixed reqid for its SAs and policies instead of one the endpoint picks.
    pub reqid: Option<u32>,
}

/// The most each Child SA's soft limits are brought forward, by an amount chosen at random for
/// every SA so that the two ends rarely rekey at once (swanctl.conf's `rand_time`,
/// `rand_bytes` and `rand_packets`; strongSwan's `apply_jitter`). Zero keeps the limit exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Jitter {
    pub seconds: u64,
    pub bytes: u64,
    pub packets: u64,
}

/// A traffic selector covering exactly `addr`, all protocols and ports.
pub fn host_selector(addr: IpAddr) -> TrafficSelector {
    match addr {
        IpAddr::V4(a) => TrafficSelector::V4 {
            protocol: 0,
            start_port: 0,
            end_port: u16::MAX,
            start: a,
            end: a,
        },
        IpAddr::V6(a) => TrafficSelector::V6 {
            protocol: 0,
            start_port: 0,
            end_port: u16::MAX,
            start: a,
            end: a,
        },
    }
}

impl ChildConfig {
    /// Our selectors, with `dynamic` resolved to `addr`.
    pub fn local_selectors(&self, addr: IpAddr) -> Vec<TrafficSelector> {
        resolve(&self.local_ts, addr)
    }

    /// The peer's selectors, with `dynamic` resolved to `addr`.
    pub fn remote_selectors(&self, addr: IpAddr) -> Vec<TrafficSelector> {
        resolve(&self.remote_ts, addr)
    }
}

fn resolve(ts: &[TrafficSelector], addr: IpAddr) -> Vec<TrafficSelector> {
    if ts.is_empty() {
        vec![host_selector(addr)]
    } else {
        ts.to_vec()
    }
}
