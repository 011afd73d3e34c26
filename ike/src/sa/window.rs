//! Message IDs and retransmission (RFC 7296 2.1, 2.2): a window of one request in flight, the
//! cached response to the peer's last request, and the retransmission schedule.

use std::time::{Duration, Instant};

use crate::wire::{ExchangeType, MessageId};

/// When to send a request again and when to give up. The defaults are strongSwan's
/// (`charon.retransmit_timeout = 4.0`, `retransmit_base = 1.8`, `retransmit_tries = 5`,
/// `retransmit_jitter = 0`, `retransmit_limit = 0`): retransmits after 4, 7.2, 13, 23.3 and
/// 42 s, and the peer is declared dead 75.6 s after the last one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retransmit {
    pub timeout: Duration,
    pub base: f64,
    pub tries: u32,
    /// Each wait is shortened by a random part of up to this many percent (at most
    /// [`MAX_JITTER`]); 0 keeps the schedule exact.
    pub jitter: u32,
    /// No wait is longer than this.
    pub limit: Option<Duration>,
}

/// strongSwan's cap on `retransmit_jitter` (`RETRANSMIT_JITTER_MAX`, 20 %).
pub const MAX_JITTER: u32 = 20;
/// The longest wait, however the schedule grows: strongSwan's, 2^32 - 1 ms (49.7 days).
const MAX_DELAY_SECS: f64 = u32::MAX as f64 / 1000.0;

impl Default for Retransmit {
    fn default() -> Self {
        Retransmit {
            timeout: Duration::from_secs(4),
            base: 1.8,
            tries: 5,
            jitter: 0,
            limit: None,
        }
    }
}

impl Retransmit {
    /// How long to wait after the `attempt`th sending (0 = the original) of a request.
    pub fn delay(&self, attempt: u32) -> Duration {
        self.randomized_delay(attempt, 0.0)
    }

    /// [`Retransmit::delay`] shortened by `fraction` (0 to 1) of the jitter (strongSwan's
    /// `retransmission_timeout`): timeout x base^attempt, capped at the limit, less a random
    /// part. Settings however odd give a wait between zero and 49.7 days, never a panic.
    pub fn randomized_delay(&self, attempt: u32, fraction: f64) -> Duration {
        let power = i32::try_from(attempt).unwrap_or(i32::MAX);
        let mut secs = self.timeout.as_secs_f64() * self.base.powi(power);
        if !secs.is_finite() || secs > MAX_DELAY_SECS {
            secs = MAX_DELAY_SECS;
        }
        if let Some(limit) = self.limit {
            secs = secs.min(limit.as_secs_f64());
        }
        let jitter = f64::from(self.jitter.min(MAX_JITTER)) / 100.0;
        secs -= secs * jitter * fraction.clamp(0.0, 1.0);
        Duration::try_from_secs_f64(secs.max(0.0)).unwrap_or(Duration::ZERO)
    }
}

/// A request we sent and have no response to yet.
#[derive(Debug, Clone)]
pub struct Outstanding {
    pub message_id: MessageId,
    pub exchange: ExchangeType,
    pub bytes: Vec<u8>,
    /// How many times it has been sent again.
    pub retransmits: u32,
    /// When to send it again, or give up.
    pub deadline: Instant,
}

/// Our side of the exchanges we start.
#[derive(Debug, Clone, Default)]
pub struct Requests {
    /// The Message ID of our next request.
    pub next_id: u32,
    pub outstanding: Option<Outstanding>,
}

/// What a retransmission timer asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resend {
    /// Send these bytes again.
    Bytes(Vec<u8>),
    /// No answer after the last try: the peer is gone.
    GiveUp,
}

impl Requests {
    /// Records a request sent now; its Message ID is the one `next_id` held.
    pub fn sent(
        &mut self,
        now: Instant,
        exchange: ExchangeType,
        bytes: Vec<u8>,
        schedule: &Retransmit,
        fraction: f64,
    ) {
        self.outstanding = Some(Outstanding {
            message_id: MessageId(self.next_id),
            exchange,
            bytes,
            retransmits: 0,
            deadline: now + schedule.randomized_delay(0, fraction),
        });
        self.next_id = self.next_id.wrapping_add(1);
    }

    /// Whether `id` answers the request in flight.
    pub fn is_awaited(&self, id: MessageId) -> bool {
        self.outstanding
            .as_ref()
            .is_some_and(|o| o.message_id == id)
    }

    /// The response arrived: nothing is in flight any more.
    pub fn answered(&mut self) -> Option<Outstanding> {
        self.outstanding.take()
    }

    /// Whether a request may be sent now (window size 1, RFC 7296 2.3).
    pub fn is_idle(&self) -> bool {
        self.outstanding.is_none()
    }

    pub fn deadline(&self) -> Option<Instant> {
        self.outstanding.as_ref().map(|o| o.deadline)
    }

    /// The retransmission timer at `now`; `fraction` (0 to 1) of the schedule's jitter comes
    /// off the next wait.
    pub fn on_timeout(
        &mut self,
        now: Instant,
        schedule: &Retransmit,
        fraction: f64,
    ) -> Option<Resend> {
        let outstanding = self.outstanding.as_mut()?;
        if now < outstanding.deadline {
            return None;
        }
        if outstanding.retransmits >= schedule.tries {
            self.outstanding = None;
            return Some(Resend::GiveUp);
        }
        outstanding.retransmits += 1;
        outstanding.deadline = now + schedule.randomized_delay(outstanding.retransmits, fraction);
        Some(Resend::Bytes(outstanding.bytes.clone()))
    }
}

/// The peer's side: which request comes next, and our answer to the last one, kept to answer
/// its retransmissions (RFC 7296 2.1).
#[derive(Debug, Clone, Default)]
pub struct Responses {
    pub expected: u32,
    pub cached: Option<(MessageId, Vec<u8>)>,
}

/// What to do with an incoming request, by its Message ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestCheck {
    /// The next request: process it.
    New,
    /// A retransmission of the last one: send the cached response again.
    Retransmit(Vec<u8>),
    /// Old, or from the future: drop it (RFC 7296 2.3).
    Drop,
}

impl Responses {
    pub fn check(&self, id: MessageId) -> RequestCheck {
        if id.0 == self.expected {
            return RequestCheck::New;
        }
        match &self.cached {
            Some((cached, bytes)) if *cached == id => RequestCheck::Retransmit(bytes.clone()),
            _ => RequestCheck::Drop,
        }
    }

    /// Our response to request `id` went out.
    pub fn responded(&mut self, id: MessageId, bytes: Vec<u8>) {
        self.cached = Some((id, bytes));
        self.expected = id.0.wrapping_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strongswan_schedule() {
        let s = Retransmit::default();
        let delays: Vec<u64> = (0..6).map(|i| s.delay(i).as_millis() as u64).collect();
        assert_eq!(delays, [4000, 7200, 12960, 23328, 41990, 75582]);
    }

    #[test]
    fn retransmits_then_gives_up() {
        let s = Retransmit::default();
        let t0 = Instant::now();
        let mut r = Requests::default();
        r.sent(t0, ExchangeType::INFORMATIONAL, vec![1], &s, 0.0);
        assert_eq!(r.next_id, 1);
        assert_eq!(r.on_timeout(t0 + Duration::from_secs(3), &s, 0.0), None);
        let mut now = t0;
        for attempt in 0..5 {
            now += s.delay(attempt);
            assert_eq!(
                r.on_timeout(now, &s, 0.0),
                Some(Resend::Bytes(vec![1])),
                "{attempt}"
            );
        }
        now += s.delay(5);
        assert_eq!(r.on_timeout(now, &s, 0.0), Some(Resend::GiveUp));
        assert!(r.is_idle());
    }

    #[test]
    fn limit_and_jitter_as_strongswan_applies_them() {
        let s = Retransmit {
            limit: Some(Duration::from_secs(10)),
            jitter: 50,
            ..Retransmit::default()
        };
        let ms = |d: Duration| d.as_millis() as u64;
        let delays: Vec<u64> = (0..4).map(|i| ms(s.delay(i))).collect();
        assert_eq!(delays, [4000, 7200, 10000, 10000], "capped at the limit");
        // The jitter is capped at 20 %: a fraction of 1 takes a fifth off.
        assert_eq!(ms(s.randomized_delay(0, 1.0)), 3200);
        assert_eq!(ms(s.randomized_delay(3, 0.5)), 9000);
        // Odd settings give a bounded wait, never a panic.
        for (timeout, base) in [(1e9, 1e9), (4.0, f64::NAN), (4.0, -3.0), (4.0, 0.0)] {
            let s = Retransmit {
                timeout: Duration::from_secs_f64(timeout),
                base,
                ..Retransmit::default()
            };
            for attempt in [0, 1, 7, 1000, u32::MAX] {
                assert!(s.randomized_delay(attempt, 0.3) <= Duration::from_secs(4_294_968));
            }
        }
    }

    #[test]
    fn responses_replay_the_last_and_drop_others() {
        let mut r = Responses::default();
        assert_eq!(r.check(MessageId(0)), RequestCheck::New);
        assert_eq!(r.check(MessageId(1)), RequestCheck::Drop);
        r.responded(MessageId(0), vec![7]);
        assert_eq!(r.check(MessageId(0)), RequestCheck::Retransmit(vec![7]));
        assert_eq!(r.check(MessageId(1)), RequestCheck::New);
        assert_eq!(r.check(MessageId(5)), RequestCheck::Drop);
    }
}
