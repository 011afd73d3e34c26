//! IKE event counters, as strongSwan's `counters` plugin keeps them for VICI's `get-counters`
//! and `reset-counters` (and `swanctl --counters`): IKE messages in and out by exchange and
//! direction, rekeyings, and messages that were malformed or for no known IKE SA. Global
//! counters count everything; a connection's count what its IKE SAs saw once it is known
//! (an IKE_SA_INIT request counts globally only, as strongSwan counts it).
//!
//! They are counted on the datagrams the daemon receives and sends, so retransmissions count
//! as messages too.

use std::collections::HashMap;

use ike::wire::{ExchangeType, Header, IkeSpi};

/// The counters' names, in strongSwan's order.
pub const NAMES: [&str; 21] = [
    "ike-rekey-init",
    "ike-rekey-resp",
    "child-rekey",
    "invalid",
    "invalid-spi",
    "ike-init-in-req",
    "ike-init-in-resp",
    "ike-init-out-req",
    "ike-init-out-resp",
    "ike-auth-in-req",
    "ike-auth-in-resp",
    "ike-auth-out-req",
    "ike-auth-out-resp",
    "create-child-in-req",
    "create-child-in-resp",
    "create-child-out-req",
    "create-child-out-resp",
    "info-in-req",
    "info-in-resp",
    "info-out-req",
    "info-out-resp",
];

/// One set of counters, in the order of [`NAMES`].
pub type Set = [u64; NAMES.len()];

pub const IKE_REKEY_INIT: usize = 0;
pub const IKE_REKEY_RESP: usize = 1;
pub const CHILD_REKEY: usize = 2;
const INVALID: usize = 3;
const INVALID_SPI: usize = 4;

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    In,
    Out,
}

/// The global counters and those of each connection that counted something.
#[derive(Debug, Default)]
pub struct Counters {
    global: Set,
    connections: HashMap<String, Set>,
}

/// What the daemon needs to know of a message to count it: the IKE SA it belongs to (our SPI).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub ours: IkeSpi,
    /// An IKE_SA_INIT request from a peer, which names no SA of ours yet.
    pub new: bool,
}

impl Counters {
    /// Counts an event for the global counters and, when known, the connection's.
    pub fn count(&mut self, index: usize, connection: Option<&str>) {
        self.global[index] += 1;
        if let Some(name) = connection {
            match self.connections.get_mut(name) {
                Some(set) => set[index] += 1,
                None => {
                    let mut set = Set::default();
                    set[index] = 1;
                    self.connections.insert(name.to_owned(), set);
                }
            }
        }
    }

    /// Reads a datagram's IKE header: our SPI of the IKE SA it belongs to, or None after
    /// counting it as invalid. A NAT keepalive is no IKE message and counts as nothing.
    pub fn header(&mut self, direction: Direction, bytes: &[u8]) -> Option<(Seen, Header)> {
        if bytes == [0xff] {
            return None;
        }
        let Ok(header) = Header::parse(bytes) else {
            self.count(INVALID, None);
            return None;
        };
        // The original initiator's SPI is the first; the flag says who sent the message.
        let sender_initiated = header.flags.is_initiator();
        let ours_first = match direction {
            Direction::In => !sender_initiated,
            Direction::Out => sender_initiated,
        };
        let ours = if ours_first {
            header.spi_i
        } else {
            header.spi_r
        };
        let new = direction == Direction::In
            && header.exchange == ExchangeType::IKE_SA_INIT
            && !header.flags.is_response();
        Some((Seen { ours, new }, header))
    }

    /// Counts a message whose header was read, for `connection` (None: global only); a
    /// received message for no known SA counts as `invalid-spi`.
    pub fn message(
        &mut self,
        direction: Direction,
        header: &Header,
        connection: Option<&str>,
        known: bool,
    ) {
        if !known {
            self.count(INVALID_SPI, None);
            return;
        }
        let exchange = match header.exchange {
            ExchangeType::IKE_SA_INIT => 0,
            ExchangeType::IKE_AUTH => 1,
            ExchangeType::CREATE_CHILD_SA => 2,
            ExchangeType::INFORMATIONAL => 3,
            _ => return,
        };
        let dir = match direction {
            Direction::In => 0,
            Direction::Out => 1,
        };
        let response = usize::from(header.flags.is_response());
        self.count(5 + exchange * 4 + dir * 2 + response, connection);
    }

    /// The counters of `connection`, or the global ones; None for a connection that counted
    /// nothing.
    pub fn get(&self, connection: Option<&str>) -> Option<Set> {
        match connection {
            None => Some(self.global),
            Some(name) => self.connections.get(name).copied(),
        }
    }

    /// The connections that counted something, sorted.
    pub fn connections(&self) -> Vec<String> {
        let mut names: Vec<String> = self.connections.keys().cloned().collect();
        names.sort();
        names
    }

    /// Zeroes the counters of `connection`, or the global ones.
    pub fn reset(&mut self, connection: Option<&str>) {
        match connection {
            None => self.global = Set::default(),
            Some(name) => {
                self.connections.remove(name);
            }
        }
    }

    /// Zeroes every counter.
    pub fn reset_all(&mut self) {
        *self = Counters::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ike::wire::{Flags, MessageId, PayloadType};

    fn message(exchange: ExchangeType, flags: Flags, spi_r: [u8; 8]) -> Vec<u8> {
        let header = Header {
            spi_i: IkeSpi([1; 8]),
            spi_r: IkeSpi(spi_r),
            next_payload: PayloadType::NONE,
            major_version: 2,
            minor_version: 0,
            exchange,
            flags,
            message_id: MessageId(0),
            length: 28,
        };
        let mut bytes = vec![0; 28];
        header.emit(&mut bytes);
        bytes
    }

    #[test]
    fn messages_count_by_exchange_direction_and_kind() {
        let mut c = Counters::default();
        let init = message(ExchangeType::IKE_SA_INIT, Flags::INITIATOR, [0; 8]);
        let (seen, header) = c.header(Direction::In, &init).unwrap();
        assert!(seen.new);
        assert_eq!(seen.ours, IkeSpi([0; 8]));
        c.message(Direction::In, &header, None, true);
        // Our answer: we are the responder, our SPI is the second.
        let answer = message(ExchangeType::IKE_SA_INIT, Flags::RESPONSE, [2; 8]);
        let (seen, header) = c.header(Direction::Out, &answer).unwrap();
        assert_eq!(seen.ours, IkeSpi([2; 8]));
        c.message(Direction::Out, &header, Some("gw"), true);
        let info = message(ExchangeType::INFORMATIONAL, Flags::INITIATOR, [2; 8]);
        let (seen, header) = c.header(Direction::In, &info).unwrap();
        assert!(!seen.new);
        c.message(Direction::In, &header, Some("gw"), true);
        c.message(Direction::In, &header, None, false);
        assert!(c.header(Direction::In, &[1, 2, 3]).is_none());
        assert!(c.header(Direction::In, &[0xff]).is_none());
        c.count(CHILD_REKEY, Some("gw"));

        let named = |set: Set| -> Vec<(&str, u64)> {
            NAMES
                .iter()
                .zip(set)
                .filter(|(_, n)| *n > 0)
                .map(|(name, n)| (*name, n))
                .collect()
        };
        assert_eq!(
            named(c.get(None).unwrap()),
            [
                ("child-rekey", 1),
                ("invalid", 1),
                ("invalid-spi", 1),
                ("ike-init-in-req", 1),
                ("ike-init-out-resp", 1),
                ("info-in-req", 1),
            ]
        );
        assert_eq!(
            named(c.get(Some("gw")).unwrap()),
            [
                ("child-rekey", 1),
                ("ike-init-out-resp", 1),
                ("info-in-req", 1)
            ]
        );
        assert_eq!(c.connections(), ["gw"]);
        assert!(c.get(Some("other")).is_none());
        c.reset(Some("gw"));
        assert!(c.get(Some("gw")).is_none());
        assert_eq!(c.get(None).unwrap().iter().sum::<u64>(), 6);
        c.reset_all();
        assert_eq!(c.get(None), Some(Set::default()));
    }
}
