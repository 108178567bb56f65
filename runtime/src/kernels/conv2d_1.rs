//! 2-D convolution of one sample, directly: no column matrix, no packing,
//! so it needs neither `std` nor `alloc`.
//!
//! On x86-64 with AVX2 or AVX-512 (`f32`, unit stride along rows), a tile
//! of output rows of several output channels sits in vector registers:
//! for each tap of the kernel, one load of the input row under the tile
//! (its lanes over the padding masked off) is multiplied into every
//! channel's accumulators by that channel's weight. Elsewhere, the same
//! sum tap by tap over rows of scalars, which the compiler vectorizes as
//! it can.

use crate::Scalar;
use crate::isa::Isa;
use crate::math::mul_add;
use chainrule_spec::Conv2d;

/// Rows of output accumulated at a time, per output channel, by the
/// portable code.
const TILE: usize = 64;

/// `y = x * w` (cross-correlation, no bias) for one sample `x` of
/// `[channels, height, width]`, weights `[out_channels, channels, kh, kw]`.
/// Call it with the level [`crate::isa::with_isa`] passes.
///
/// # Example
/// ```
/// use chainrule::isa::Isa;
/// use chainrule::kernels::{Conv2d, conv2d_1};
/// let c = Conv2d { channels: 1, height: 1, width: 4, out_channels: 1, kernel_h: 1, kernel_w: 2,
///                  stride_h: 1, stride_w: 1, pad_top: 0, pad_left: 0, dilation_h: 1, dilation_w: 1,
///                  out_h: 1, out_w: 3 };
/// let mut y = [0.0f32; 3];
/// conv2d_1(Isa::Portable, &c, &[1.0, 2.0, 3.0, 4.0], &[1.0, 10.0], &mut y);
/// assert_eq!(y, [21.0, 32.0, 43.0]);
/// ```
#[inline(always)]
pub fn conv2d_1<S: Scalar>(isa: Isa, c: &Conv2d, x: &[S], w: &[S], y: &mut [S]) {
    assert!(
        x.len() >= c.input_len() && w.len() >= c.out_channels * c.patch_len() && y.len() >= c.output_len(),
        "conv2d_1: operand too short for {c:?}"
    );
    if !S::conv2d_1(isa, c, x, w, y) {
        portable(isa, c, x, w, y);
    }
}

/// The vector kernels for `f32` where the level has them: true if one ran.
#[inline(always)]
pub(crate) fn conv2d_1_f32(isa: Isa, c: &Conv2d, x: &[f32], w: &[f32], y: &mut [f32]) -> bool {
    #[cfg(target_arch = "x86_64")]
    if c.stride_w == 1 {
        use crate::kernels::simd::{Ymm, Zmm};
        match isa {
            // SAFETY: the level never exceeds what the CPU runs, and
            // `conv2d_1` checked the operands' lengths.
            Isa::Avx512 => unsafe { x86::rows::<Zmm>(c, x, w, y) },
            // SAFETY: as above.
            Isa::Avx2 => unsafe { x86::rows::<Ymm>(c, x, w, y) },
            Isa::Portable => return false,
        }
        return true;
    }
    let _ = (isa, c, x, w, y);
    false
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use crate::kernels::simd::Lanes;
    use chainrule_spec::Conv2d;

    /// Tiles of at most this many accumulators: with the loaded input
    /// vectors and a broadcast weight they fit AVX2's 16 registers.
    const ACCUMULATORS: usize = 8;

    /// The whole convolution in tiles: output rows in pieces of one vector
    /// (rows no longer than one) or two, and output channels eight or four
    /// at a time, the rest one at a time.
    ///
    /// # Safety
    /// The CPU runs `V`; `stride_w` is 1; `x`, `w` and `y` hold a sample,
    /// the weights and an output of `c`.
    #[inline(always)]
    pub unsafe fn rows<V: Lanes>(c: &Conv2d, x: &[f32], w: &[f32], y: &mut [f32]) {
        // SAFETY: the caller's promise, passed on.
        unsafe {
            if c.out_w <= V::LANES {
                channels::<V, ACCUMULATORS, 1>(c, x, w, y);
            } else {
                channels::<V, { ACCUMULATORS / 2 }, 2>(c, x, w, y);
            }
        }
    }

    /// # Safety
    /// As [`rows`].
    #[inline(always)]
    unsafe fn channels<V: Lanes, const OB: usize, const CH: usize>(
        c: &Conv2d,
        x: &[f32],
        w: &[f32],
        y: &mut [f32],
    ) {
        let piece = CH * V::LANES;
        for oy in 0..c.out_h {
            for first in (0..c.out_w).step_by(piece) {
                let mut oc = 0;
                // SAFETY: each tile lies within the output, by the caller's promise.
                unsafe {
                    while oc + OB <= c.out_channels {
                        tile::<V, OB, CH>(c, x, w, y, oc, oy, first);
                        oc += OB;
                    }
                    while oc < c.out_channels {
                        tile::<V, 1, CH>(c, x, w, y, oc, oy, first);
                        oc += 1;
                    }
                }
            }
        }
    }

    /// Output channels `oc..oc + OB`, row `oy`, columns from `first` on
    /// (`CH` vectors' worth, clipped to the row), summed over every tap.
    ///
    /// # Safety
    /// As [`rows`], with `oc + OB <= out_channels`, `oy < out_h` and
    /// `first < out_w`.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn tile<V: Lanes, const OB: usize, const CH: usize>(
        c: &Conv2d,
        x: &[f32],
        w: &[f32],
        y: &mut [f32],
        oc: usize,
        oy: usize,
        first: usize,
    ) {
        let (plane, patch, lanes) = (c.height * c.width, c.patch_len(), V::LANES);
        // SAFETY (every load and store): rows and columns are clipped to
        // the input by `valid_rows` and `valid_columns`, lanes outside them
        // are masked, and the caller promised the lengths.
        unsafe {
            let mut acc = [[V::splat(0.0); CH]; OB];
            for ch in 0..c.channels {
                for ki in 0..c.kernel_h {
                    let dy = (ki * c.dilation_h) as isize - c.pad_top as isize;
                    let (y_lo, y_hi) = c.valid_rows(dy);
                    if oy < y_lo || oy >= y_hi {
                        continue;
                    }
                    let iy = ((oy * c.stride_h) as isize + dy) as usize;
                    let row = x.as_ptr().add(ch * plane + iy * c.width);
                    for kj in 0..c.kernel_w {
                        let dx = (kj * c.dilation_w) as isize - c.pad_left as isize;
                        let (x_lo, x_hi) = c.valid_columns(dx);
                        let mut inputs = [V::splat(0.0); CH];
                        for (k, input) in inputs.iter_mut().enumerate() {
                            let start = first + k * lanes;
                            let (lo, hi) = (x_lo.max(start), x_hi.min(start + lanes));
                            if lo >= hi {
                                continue;
                            }
                            let at = row.wrapping_offset(start as isize + dx);
                            *input = if hi - lo == lanes {
                                V::load(at)
                            } else {
                                V::load_range(at, lo - start, hi - start)
                            };
                        }
                        let tap = (ch * c.kernel_h + ki) * c.kernel_w + kj;
                        for (b, channel) in acc.iter_mut().enumerate() {
                            let weight = V::splat(*w.get_unchecked((oc + b) * patch + tap));
                            for (a, input) in channel.iter_mut().zip(&inputs) {
                                *a = weight.mul_add(*input, *a);
                            }
                        }
                    }
                }
            }
            for (b, channel) in acc.iter().enumerate() {
                let out = y.as_mut_ptr().add(((oc + b) * c.out_h + oy) * c.out_w);
                for (k, a) in channel.iter().enumerate() {
                    let start = first + k * lanes;
                    if start >= c.out_w {
                        break;
                    }
                    let n = lanes.min(c.out_w - start);
                    if n == lanes { a.store(out.add(start)) } else { a.store_first(out.add(start), n) }
                }
            }
        }
    }
}

/// The sum tap by tap, in bands of output held in a local array; any
/// stride, any scalar.
#[inline(always)]
fn portable<S: Scalar>(isa: Isa, c: &Conv2d, x: &[S], w: &[S], y: &mut [S]) {
    let (plane, out_plane) = (c.height * c.width, c.positions());
    // Bands of whole rows when rows are short, pieces of one row otherwise,
    // each accumulated in a local array.
    let (band_rows, band_cols) = if c.out_w <= TILE { (TILE / c.out_w, c.out_w) } else { (1, TILE) };
    for (oc, out) in y[..c.output_len()].chunks_exact_mut(out_plane).enumerate() {
        let kernels = &w[oc * c.patch_len()..][..c.patch_len()];
        for band in (0..c.out_h).step_by(band_rows) {
            let rows = band_rows.min(c.out_h - band);
            for first in (0..c.out_w).step_by(band_cols) {
                let cols = band_cols.min(c.out_w - first);
                let mut acc = [S::ZERO; TILE];
                for (ch, taps) in kernels.chunks_exact(c.kernel_h * c.kernel_w).enumerate() {
                    let input = &x[ch * plane..][..plane];
                    for ki in 0..c.kernel_h {
                        let dy = (ki * c.dilation_h) as isize - c.pad_top as isize;
                        let (y_lo, y_hi) = c.valid_rows(dy);
                        for kj in 0..c.kernel_w {
                            let weight = taps[ki * c.kernel_w + kj];
                            let dx = (kj * c.dilation_w) as isize - c.pad_left as isize;
                            let (x_lo, x_hi) = c.valid_columns(dx);
                            let (x_lo, x_hi) = (x_lo.max(first), x_hi.min(first + cols));
                            for oy in y_lo.max(band)..y_hi.min(band + rows) {
                                let iy = ((oy * c.stride_h) as isize + dy) as usize;
                                let row = &input[iy * c.width..][..c.width];
                                let acc_row = &mut acc[(oy - band) * cols..][..cols];
                                if c.stride_w == 1 && x_lo < x_hi {
                                    let start = (x_lo as isize + dx) as usize;
                                    let span = x_hi - x_lo;
                                    let inputs = &row[start..][..span];
                                    for (a, &v) in acc_row[x_lo - first..][..span].iter_mut().zip(inputs) {
                                        *a = mul_add(isa, weight, v, *a);
                                    }
                                } else {
                                    for ox in x_lo..x_hi {
                                        let ix = ((ox * c.stride_w) as isize + dx) as usize;
                                        let a = &mut acc_row[ox - first];
                                        *a = mul_add(isa, weight, row[ix], *a);
                                    }
                                }
                            }
                        }
                    }
                }
                for r in 0..rows {
                    out[(band + r) * c.out_w + first..][..cols].copy_from_slice(&acc[r * cols..][..cols]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::conv_cases::{geometries, naive, values};

    /// `f64` on the portable code, on every level this CPU runs.
    #[test]
    fn matches_the_definition() {
        for c in geometries() {
            let (x, w) = (values(c.input_len(), 1), values(c.out_channels * c.patch_len(), 2));
            let exact = naive(&c, &x, &w);
            for isa in Isa::ALL.into_iter().filter(|&isa| isa <= crate::isa::detected()) {
                let mut y = vec![f64::NAN; c.output_len()];
                conv2d_1(isa, &c, &x, &w, &mut y);
                for (a, b) in y.iter().zip(&exact) {
                    assert!((a - b).abs() < 1e-12, "{c:?} {isa:?}: {a} vs {b}");
                }
            }
        }
    }

    /// `f32` on the vector kernels of every level this CPU runs, inside the
    /// level's frame as generated code calls them; nothing written past
    /// the output.
    #[test]
    fn the_f32_kernels_match_the_definition() {
        for c in geometries() {
            let (x, w) = (values(c.input_len(), 3), values(c.out_channels * c.patch_len(), 4));
            let exact = naive(&c, &x, &w);
            let (x32, w32): (Vec<f32>, Vec<f32>) =
                (x.iter().map(|&v| v as f32).collect(), w.iter().map(|&v| v as f32).collect());
            for level in Isa::ALL.into_iter().filter(|&isa| isa <= crate::isa::detected()) {
                let mut y = vec![f32::NAN; c.output_len() + 17];
                crate::isa::with_level(level, |isa| conv2d_1(isa, &c, &x32, &w32, &mut y));
                for (a, b) in y.iter().zip(&exact) {
                    assert!((f64::from(*a) - b).abs() < 1e-5, "{c:?} {level:?}: {a} vs {b}");
                }
                assert!(
                    y[c.output_len()..].iter().all(|v| v.is_nan()),
                    "{c:?} {level:?}: wrote past the output"
                );
            }
        }
    }
}
