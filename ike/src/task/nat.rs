//! NAT traversal (RFC 7296 2.23, RFC 3948): both sides put hashes of the addresses and ports
//! they see into IKE_SA_INIT; where a hash does not match, a NAT sits between them. Then the
//! initiator moves to port 4500 for everything after IKE_SA_INIT, both sides follow the peer's
//! address and port as its authenticated messages show them, ESP travels inside UDP, and the
//! side behind the NAT keeps its mapping open with keepalives.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::sa::{Ctx, IkeSa, Role, State};
use crate::wire::{IkeSpi, NotifyType, notify};

/// The port IKE moves to, and ESP in UDP travels on, once a NAT is found (RFC 3947 4).
pub const NAT_T_PORT: u16 = 4500;
/// How often the side behind a NAT sends a keepalive by default (strongSwan's
/// `charon.keep_alive`, 20 s; see `Settings::keep_alive`).
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(20);
/// A NAT keepalive: one byte, 0xFF (RFC 3948 2.3).
pub const KEEPALIVE: [u8; 1] = [0xff];

/// What NAT detection found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Nat {
    /// The peer sent NAT detection notifies: it speaks NAT traversal.
    pub supported: bool,
    /// Our address is translated: the peer sees another than ours.
    pub local: bool,
    /// The peer's address is translated.
    pub remote: bool,
}

impl Nat {
    pub fn detected(&self) -> bool {
        self.local || self.remote
    }
}

/// SHA-1(SPIi | SPIr | IP address | port) (RFC 7296 2.23).
fn nat_hash(spi_i: IkeSpi, spi_r: IkeSpi, addr: SocketAddr) -> Vec<u8> {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY);
    ctx.update(&spi_i.0);
    ctx.update(&spi_r.0);
    match addr.ip() {
        IpAddr::V4(a) => ctx.update(&a.octets()),
        IpAddr::V6(a) => ctx.update(&a.octets()),
    }
    ctx.update(&addr.port().to_be_bytes());
    ctx.finish().as_ref().to_vec()
}

impl IkeSa {
    /// NAT_DETECTION_SOURCE_IP and NAT_DETECTION_DESTINATION_IP as we see the addresses, for
    /// our IKE_SA_INIT message (the request has SPIr zero).
    pub(crate) fn nat_notifies(&self) -> [notify::Repr; 2] {
        let (i, r) = (self.spi_i, self.spi_r);
        // `encap = yes`: a source the peer cannot see us at (RFC 7296 2.23 allows faking it).
        let source = match self.conn.encap {
            true => SocketAddr::from(([0, 0, 0, 0], 0)),
            false => self.local,
        };
        [
            notify::Repr::new(NotifyType::NAT_DETECTION_SOURCE_IP, &nat_hash(i, r, source)),
            notify::Repr::new(
                NotifyType::NAT_DETECTION_DESTINATION_IP,
                &nat_hash(i, r, self.remote),
            ),
        ]
    }

    /// Reads the peer's NAT detection notifies in its IKE_SA_INIT message, hashed with
    /// `spi_r` (zero in a request).
    pub(crate) fn detect_nat(&mut self, notifies: &[notify::Repr], spi_r: IkeSpi) {
        let of = |ty| notifies.iter().filter(move |n| n.ty == ty);
        let sources: Vec<&notify::Repr> = of(NotifyType::NAT_DETECTION_SOURCE_IP).collect();
        let Some(destination) = of(NotifyType::NAT_DETECTION_DESTINATION_IP).next() else {
            return;
        };
        let spi_i = self.spi_i;
        // Its source is the address we received from; its destination, ours.
        let remote = nat_hash(spi_i, spi_r, self.remote);
        let local = nat_hash(spi_i, spi_r, self.local);
        self.nat = Nat {
            supported: true,
            remote: !sources.iter().any(|n| n.data == remote),
            // With `encap = yes` we act as if behind a NAT, as the peer now believes.
            local: destination.data != local || self.conn.encap,
        };
    }

    /// Initiator, after IKE_SA_INIT: with a NAT between us, IKE moves to port 4500.
    pub(crate) fn float(&mut self) {
        if self.role == Role::Initiator && self.nat.detected() {
            self.local.set_port(NAT_T_PORT);
            self.remote.set_port(NAT_T_PORT);
        }
    }

    /// An authenticated message came from `remote` to `local`: behind a NAT, the peer's
    /// mapping may have changed (or the initiator floated to port 4500); follow it.
    pub(crate) fn follow_peer(&mut self, local: SocketAddr, remote: SocketAddr) {
        if self.nat.supported && (self.local, self.remote) != (local, remote) {
            self.local = local;
            self.remote = remote;
        }
    }

    /// The UDP ports (ours, the peer's) that Child SAs are encapsulated in, behind a NAT.
    pub(crate) fn encap(&self) -> Option<(u16, u16)> {
        self.nat
            .detected()
            .then(|| (self.local.port(), self.remote.port()))
    }

    /// When the next keepalive is due: only behind a NAT of ours, and only once established.
    pub(crate) fn keepalive_deadline(&self) -> Option<std::time::Instant> {
        let interval = self.keepalive_interval;
        (self.nat.local && self.state == State::Established && !interval.is_zero())
            .then(|| self.last_keepalive + interval)
    }

    pub(crate) fn on_keepalive_timer(&mut self, ctx: &mut Ctx<'_>) {
        if self.keepalive_deadline().is_some_and(|t| t <= ctx.now) {
            self.transmit(ctx, KEEPALIVE.to_vec());
            self.last_keepalive = ctx.now;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_covers_spis_address_and_port() {
        let a: SocketAddr = "192.0.2.1:500".parse().unwrap();
        let h = nat_hash(IkeSpi([1; 8]), IkeSpi::ZERO, a);
        assert_eq!(h.len(), 20);
        assert_ne!(
            h,
            nat_hash(
                IkeSpi([1; 8]),
                IkeSpi::ZERO,
                "192.0.2.1:4500".parse().unwrap()
            )
        );
        assert_ne!(
            h,
            nat_hash(
                IkeSpi([1; 8]),
                IkeSpi::ZERO,
                "192.0.2.2:500".parse().unwrap()
            )
        );
        assert_ne!(h, nat_hash(IkeSpi([2; 8]), IkeSpi::ZERO, a));
        // SHA-1 of 01*8 | 00*8 | c0 00 02 01 | 01 f4, by Python's hashlib.
        assert_eq!(
            h,
            crate::crypto::testing::hex("2c6b22492699e7fb9906e70f1f6f3c0d2f6c17d4")
        );
    }
}
