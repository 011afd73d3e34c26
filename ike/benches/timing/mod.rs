//! Timing shared by the benchmarks: medians of 21 samples, each a batch of about 20 ms.

use std::time::{Duration, Instant};

use ike::crypto::Random;

pub const SAMPLES: usize = 21;
pub const SAMPLE_TIME: Duration = Duration::from_millis(20);

/// A cheap, fixed generator: the benchmarks time the protocol, not the operating system's
/// random source.
pub struct Counter(pub u64);

impl Random for Counter {
    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            *b = (self.0 >> 56) as u8;
        }
    }
}

/// Times `op`, printing the median per operation, and returns that median in seconds.
pub fn bench(name: &str, mut op: impl FnMut()) -> f64 {
    // Size a batch to roughly SAMPLE_TIME.
    let mut batch = 1u32;
    loop {
        let start = Instant::now();
        (0..batch).for_each(|_| op());
        if start.elapsed() >= SAMPLE_TIME / 4 || batch >= 1 << 24 {
            break;
        }
        batch *= 2;
    }
    let mut per_op: Vec<f64> = (0..SAMPLES)
        .map(|_| {
            let start = Instant::now();
            (0..batch).for_each(|_| op());
            start.elapsed().as_secs_f64() / f64::from(batch)
        })
        .collect();
    per_op.sort_by(f64::total_cmp);
    let show = |s: f64| {
        if s >= 1e-3 {
            format!("{:.2} ms", s * 1e3)
        } else {
            format!("{:.2} µs", s * 1e6)
        }
    };
    println!(
        "{name:<44} median {:>10}   [{} .. {}]",
        show(per_op[SAMPLES / 2]),
        show(per_op[0]),
        show(per_op[SAMPLES - 1])
    );
    per_op[SAMPLES / 2]
}
