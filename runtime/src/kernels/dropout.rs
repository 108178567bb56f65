//! Dropout masks: each element kept with probability `1 - p` and then
//! scaled by `1 / (1 - p)` (inverted dropout), so the expected activation is
//! unchanged and inference needs no rescaling.
//!
//! The random stream is SplitMix64 over a 64-bit state that the network
//! owns: portable, seedable, one state word to checkpoint, and fast enough
//! that masks cost little next to the matrix products.

use crate::Scalar;

/// The next 64 random bits of the stream at `state`.
#[inline(always)]
pub fn next_u64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Fills `mask` with `0` (probability `p`) or `1 / (1 - p)`, advancing `state`.
///
/// # Example
/// ```
/// let mut state = 7;
/// let mut mask = [0.0f32; 1000];
/// chainrule::kernels::dropout_mask(&mut state, 0.25, &mut mask);
/// let kept = mask.iter().filter(|&&m| m != 0.0).count();
/// assert!((700..800).contains(&kept));
/// assert!(mask.iter().all(|&m| m == 0.0 || m == 1.0 / 0.75));
/// ```
pub fn dropout_mask<S: Scalar>(state: &mut u64, p: f64, mask: &mut [S]) {
    let keep = S::of_f64(1.0 / (1.0 - p));
    // Compare 53-bit uniforms in [0, 1) with p without floating point.
    let threshold = (p * (1u64 << 53) as f64) as u64;
    for m in mask {
        *m = if next_u64(state) >> 11 >= threshold { keep } else { S::ZERO };
    }
}
