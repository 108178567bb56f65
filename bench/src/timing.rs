//! Repeated timing: warm up, then time batches of calls and report the
//! median and the spread (minimum and maximum) of the per-unit cost.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// Per-unit costs of one measured workload.
pub struct Sample {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

/// Runs `f` (which performs `units` units of work per call) until
/// `warmup` has passed, then `rounds` timed rounds of about `round` each;
/// returns seconds per unit.
pub fn measure(units: f64, mut f: impl FnMut()) -> Sample {
    let (warmup, round, rounds) = (Duration::from_millis(300), Duration::from_millis(60), 21);
    let start = Instant::now();
    let mut calls = 0u64;
    while start.elapsed() < warmup {
        f();
        calls += 1;
    }
    let per_call = warmup.as_secs_f64() / calls.max(1) as f64;
    let reps = ((round.as_secs_f64() / per_call) as u64).max(1);
    let mut costs: Vec<f64> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..reps {
                f();
            }
            black_box(());
            t.elapsed().as_secs_f64() / (reps as f64 * units)
        })
        .collect();
    costs.sort_by(f64::total_cmp);
    Sample { median: costs[costs.len() / 2], min: costs[0], max: costs[costs.len() - 1] }
}

/// One report line: `<workload> <implementation> <metric> <median> <min> <max>`,
/// where min and max bound the spread of the same metric.
pub fn report(
    workload: &str,
    implementation: &str,
    metric: &str,
    sample: &Sample,
    scale: impl Fn(f64) -> f64,
) {
    let (a, b) = (scale(sample.min), scale(sample.max));
    let (low, high) = if a <= b { (a, b) } else { (b, a) };
    println!("{workload} {implementation} {metric} {:.4} {low:.4} {high:.4}", scale(sample.median));
}
