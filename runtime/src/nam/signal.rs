//! The fixed test signal of the NAM reference measurements.

use std::vec::Vec;

/// The first `n` samples of the reference test signal at 48 kHz: sines at
/// 110, 440 and 1,760 Hz with amplitudes 0.5, 0.3 and 0.1 and phases 0,
/// 0.5 and 1, plus 0.1 of uniform noise in `[-1, 1)` from xorshift32
/// seeded `0x12345678` (the top 24 bits of each state), all halved, in
/// `f64`, then rounded to `f32`. NAM Core's reference outputs in
/// `shared/data/nam/ref` are for this input, so a model can be checked
/// against them, and timed on it, without reading any file.
pub fn test_signal(n: usize) -> Vec<f32> {
    let mut state: u32 = 0x1234_5678;
    let tau = 2.0 * core::f64::consts::PI;
    (0..n)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let noise = f64::from(state >> 8) / 8_388_608.0 - 1.0;
            let t = i as f64;
            let tone = 0.5 * (tau * 110.0 * t / 48_000.0).sin()
                + 0.3 * (tau * 440.0 * t / 48_000.0 + 0.5).sin()
                + 0.1 * (tau * 1760.0 * t / 48_000.0 + 1.0).sin()
                + 0.1 * noise;
            (0.5 * tone) as f32
        })
        .collect()
}
