//! The int8 2-D convolution of one sample. The input's patches are laid
//! out so that one register holds one group of four patch codes at
//! consecutive output positions (`[group][position][4]`, positions padded
//! to whole blocks); each output channel's group of four weights is
//! broadcast, and `vpdpbusd` adds the products at 16 (or 8) positions at
//! once. The sums of a channel come out position after position, which is
//! the channel-major layout of the output. Padding reads the input's zero
//! point, the code of 0.

use super::Level;
use chainrule_spec::Conv2d;
use chainrule_spec::quant::{BLOCK, GROUP, Multiplier, conv_positions, conv_row, requantize};

/// Positions whose sums one pass keeps in registers (and on the stack).
const CHUNK: usize = 128;

/// The length of the patch buffer [`conv2d`] takes for `g`.
pub fn patches_len(g: &Conv2d) -> usize {
    chainrule_spec::quant::conv_scratch(g)
}

/// One convolution: `x` the input codes (`[channels, height, width]`),
/// `patches` scratch of [`patches_len`], `packed` the kernel packed by
/// [`chainrule_spec::quant::pack_conv`], `bias` each output channel's
/// folded bias, `multipliers` its scale `s_x s_w / s_y`, and the output's
/// zero point and floor (its zero point after a fused ReLU, else 0).
/// Writes `out[..g.output_len()]`, channel after channel.
///
/// # Panics
/// If a slice is shorter than the geometry says: generated code passes
/// sizes fixed at compile time, so that is a bug in the compiler.
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn conv2d(
    level: Level,
    g: &Conv2d,
    x: &[u8],
    input_zero_point: u8,
    patches: &mut [u8],
    packed: &[i8],
    bias: &[i32],
    multipliers: &[Multiplier],
    zero_point_floor: (i32, i32),
    out: &mut [u8],
) {
    let (row, positions) = (conv_row(g), conv_positions(g));
    assert!(x.len() >= g.input_len() && patches.len() >= 2 * row * positions && out.len() >= g.output_len());
    assert!(packed.len() >= g.out_channels * row && bias.len() >= g.out_channels);
    assert!(multipliers.len() >= g.out_channels);
    lay_out_patches(g, x, input_zero_point, &mut patches[..2 * row * positions]);
    let patches = &patches[row * positions..2 * row * positions];
    let layer = Layer { g, patches, packed, bias, multipliers, zero_point_floor };
    match level {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the level runs here (`Level::runs_here`); sizes asserted above.
        Level::Avx512Vnni => unsafe { x86::conv_vnni512(&layer, out) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above.
        Level::AvxVnni => unsafe { x86::conv_vnni256(&layer, out) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above.
        Level::Avx2 => unsafe { x86::conv_avx2(&layer, out) },
        _ => run(&layer, out, portable),
    }
}

/// The patch code of every (patch element `k`, output position `p`) at
/// `((k / 4) * positions + p) * 4 + k % 4`; padding and the positions past
/// the last take the zero point. In two passes over `patches` (both
/// halves of it): each element's codes at every position as one row (runs
/// of the input copied whole), then four rows at a time interleaved,
/// sixteen positions a round.
fn lay_out_patches(g: &Conv2d, x: &[u8], zero_point: u8, patches: &mut [u8]) {
    let (positions, row) = (conv_positions(g), conv_row(g));
    let (rows, interleaved) = patches.split_at_mut(row * positions);
    rows.fill(zero_point);
    let (kh, kw, hw) = (g.kernel_h, g.kernel_w, g.height * g.width);
    for c in 0..g.channels {
        let plane = &x[c * hw..][..hw];
        for i in 0..kh {
            let row_offset = (i * g.dilation_h) as isize - g.pad_top as isize;
            let (rows_from, rows_to) = g.valid_rows(row_offset);
            for j in 0..kw {
                let column_offset = (j * g.dilation_w) as isize - g.pad_left as isize;
                let (from, to) = g.valid_columns(column_offset);
                if from >= to {
                    continue;
                }
                let k = (c * kh + i) * kw + j;
                let codes = &mut rows[k * positions..][..positions];
                for r in rows_from..rows_to {
                    let source = ((r * g.stride_h) as isize + row_offset) as usize * g.width;
                    let first = ((from * g.stride_w) as isize + column_offset) as usize;
                    let run = &mut codes[r * g.out_w + from..r * g.out_w + to];
                    if g.stride_w == 1 {
                        run.copy_from_slice(&plane[source + first..][..to - from]);
                    } else {
                        for (t, slot) in run.iter_mut().enumerate() {
                            *slot = plane[source + first + t * g.stride_w];
                        }
                    }
                }
            }
        }
    }
    for (group, slots) in interleaved[..row * positions].chunks_exact_mut(positions * GROUP).enumerate() {
        let four: [&[u8]; GROUP] =
            core::array::from_fn(|t| &rows[(group * GROUP + t) * positions..][..positions]);
        interleave(&four, slots);
    }
}

/// Four rows of codes into `slots`, each position's four side by side:
/// byte then word unpacking in SSE2 (part of x86-64), sixteen positions
/// a round (rows are whole blocks long); plain loops elsewhere.
#[inline]
fn interleave(rows: &[&[u8]; GROUP], slots: &mut [u8]) {
    let n = rows[0].len();
    debug_assert!(n.is_multiple_of(16) && slots.len() >= n * GROUP && rows.iter().all(|r| r.len() == n));
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::*;
        assert!(slots.len() >= n * GROUP && rows.iter().all(|r| r.len() >= n));
        let out = slots.as_mut_ptr() as *mut __m128i;
        for start in (0..n - n % 16).step_by(16) {
            // SAFETY: SSE2 is part of x86-64; `start + 16 <= n` bytes of every
            // row and `(start + 16) * 4` bytes of slots (asserted above).
            unsafe {
                let load = |r: &[u8]| _mm_loadu_si128(r.as_ptr().add(start) as *const __m128i);
                let [a, b, c, d] = [load(rows[0]), load(rows[1]), load(rows[2]), load(rows[3])];
                let (ab_lo, ab_hi) = (_mm_unpacklo_epi8(a, b), _mm_unpackhi_epi8(a, b));
                let (cd_lo, cd_hi) = (_mm_unpacklo_epi8(c, d), _mm_unpackhi_epi8(c, d));
                let at = out.add(start / 4);
                _mm_storeu_si128(at, _mm_unpacklo_epi16(ab_lo, cd_lo));
                _mm_storeu_si128(at.add(1), _mm_unpackhi_epi16(ab_lo, cd_lo));
                _mm_storeu_si128(at.add(2), _mm_unpacklo_epi16(ab_hi, cd_hi));
                _mm_storeu_si128(at.add(3), _mm_unpackhi_epi16(ab_hi, cd_hi));
            }
        }
        interleave_plainly(rows, slots, n - n % 16, n);
    }
    #[cfg(not(target_arch = "x86_64"))]
    interleave_plainly(rows, slots, 0, n);
}

/// Positions `from..to` of [`interleave`], one at a time.
fn interleave_plainly(rows: &[&[u8]; GROUP], slots: &mut [u8], from: usize, to: usize) {
    for p in from..to {
        for (t, r) in rows.iter().enumerate() {
            slots[p * GROUP + t] = r[p];
        }
    }
}

/// A convolution's operands, checked against each other.
struct Layer<'a> {
    g: &'a Conv2d,
    patches: &'a [u8],
    packed: &'a [i8],
    bias: &'a [i32],
    multipliers: &'a [Multiplier],
    zero_point_floor: (i32, i32),
}

/// Kernel of a level: the sums of one output channel at the positions
/// `first..first + sums.len()` (whole blocks), added to `sums`, from the
/// channel's packed weights.
type Sums =
    fn(groups: usize, patches: &[u8], positions: usize, first: usize, weights: &[i8], sums: &mut [i32]);

/// Channel after channel, chunk after chunk of positions: the sums start
/// at the channel's bias, the kernel adds the products, and they are
/// requantized into the channel's outputs. Inlined into each level's frame.
#[inline(always)]
fn run(layer: &Layer, out: &mut [u8], sums: Sums) {
    let g = layer.g;
    let (zero_point, floor) = layer.zero_point_floor;
    let (row, positions, real) = (conv_row(g), conv_positions(g), g.out_h * g.out_w);
    let mut chunk = [0i32; CHUNK];
    for o in 0..g.out_channels {
        let weights = &layer.packed[o * row..][..row];
        for first in (0..real).step_by(CHUNK) {
            let n = (real - first).min(CHUNK);
            let chunk = &mut chunk[..n.next_multiple_of(BLOCK)];
            chunk.fill(layer.bias[o]);
            sums(row / GROUP, layer.patches, positions, first, weights, chunk);
            let m = layer.multipliers[o];
            for (y, &s) in out[o * real + first..][..n].iter_mut().zip(chunk.iter()) {
                *y = requantize(s, m, zero_point, floor);
            }
        }
    }
}

/// The sums in plain loops: the definition the other levels must match.
/// The group's four weights are hoisted so the loop over positions
/// vectorizes.
fn portable(groups: usize, patches: &[u8], positions: usize, first: usize, weights: &[i8], sums: &mut [i32]) {
    for (gi, w) in weights.chunks_exact(GROUP).take(groups).enumerate() {
        let [p, q, r, t] = [w[0], w[1], w[2], w[3]].map(i32::from);
        let codes = &patches[(gi * positions + first) * GROUP..][..sums.len() * GROUP];
        for (s, c) in sums.iter_mut().zip(codes.chunks_exact(GROUP)) {
            let [a, b, cc, d] = [c[0], c[1], c[2], c[3]].map(i32::from);
            *s += a * p + b * q + cc * r + d * t;
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::super::dense::x86::{Dot, weights_of};
    use super::{GROUP, Layer, run};
    use core::arch::x86_64::*;

    /// `B` registers of positions, one pass over the groups: each group's
    /// four weights broadcast once, then one `vpdpbusd` per register.
    ///
    /// # Safety
    /// The register's instructions; `B` registers of sums, `groups` groups
    /// of the channel's weights and of `positions` positions of patches
    /// from `first`.
    #[inline(always)]
    unsafe fn pass<R: Dot, const B: usize>(
        groups: usize,
        patches: &[u8],
        positions: usize,
        first: usize,
        weights: &[i8],
        sums: &mut [i32],
    ) {
        let (pp, wp, sp) = (patches.as_ptr(), weights.as_ptr(), sums.as_mut_ptr());
        // SAFETY: the caller's promise.
        unsafe {
            let mut acc: [R; B] = core::array::from_fn(|b| R::load(sp.add(R::OUTPUTS * b)));
            for g in 0..groups {
                let w = R::broadcast(weights_of(wp.add(g * GROUP)));
                let codes = pp.add((g * positions + first) * GROUP);
                for (b, a) in acc.iter_mut().enumerate() {
                    *a = a.dot_codes(codes.add(R::OUTPUTS * GROUP * b), w);
                }
            }
            for (b, a) in acc.iter().enumerate() {
                a.store(sp.add(R::OUTPUTS * b));
            }
        }
    }

    /// The chunk's positions `R` registers at a time, up to 8 a pass.
    ///
    /// # Safety
    /// As [`pass`], for `sums.len()` positions, a whole number of registers.
    #[inline(always)]
    unsafe fn passes<R: Dot>(
        groups: usize,
        patches: &[u8],
        positions: usize,
        first: usize,
        weights: &[i8],
        sums: &mut [i32],
    ) {
        for (k, part) in sums.chunks_mut(R::OUTPUTS * 8).enumerate() {
            let first = first + k * R::OUTPUTS * 8;
            // SAFETY: the caller's promise, for this part's positions.
            unsafe {
                match part.len() / R::OUTPUTS {
                    1 => pass::<R, 1>(groups, patches, positions, first, weights, part),
                    2 => pass::<R, 2>(groups, patches, positions, first, weights, part),
                    3 => pass::<R, 3>(groups, patches, positions, first, weights, part),
                    4 => pass::<R, 4>(groups, patches, positions, first, weights, part),
                    5 => pass::<R, 5>(groups, patches, positions, first, weights, part),
                    6 => pass::<R, 6>(groups, patches, positions, first, weights, part),
                    7 => pass::<R, 7>(groups, patches, positions, first, weights, part),
                    _ => pass::<R, 8>(groups, patches, positions, first, weights, part),
                }
            }
        }
    }

    /// [`super::conv2d`] on AVX-512 VNNI.
    ///
    /// # Safety
    /// AVX-512 F, BW, DQ and VNNI; `layer`'s sizes checked.
    #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vnni")]
    pub(super) unsafe fn conv_vnni512(layer: &Layer, out: &mut [u8]) {
        // SAFETY: the caller's promise; `run` passes whole blocks inside the patches.
        run(layer, out, |g, p, n, f, w, s| unsafe { passes::<__m512i>(g, p, n, f, w, s) })
    }

    /// [`super::conv2d`] on AVX-VNNI.
    ///
    /// # Safety
    /// AVX2 and AVX-VNNI; `layer`'s sizes checked.
    #[target_feature(enable = "avx2,avxvnni")]
    pub(super) unsafe fn conv_vnni256(layer: &Layer, out: &mut [u8]) {
        // SAFETY: as above.
        run(layer, out, |g, p, n, f, w, s| unsafe { passes::<__m256i>(g, p, n, f, w, s) })
    }

    /// [`super::conv2d`] on AVX2: 8 positions a register, the 32 bytes of
    /// a group's codes widened to two registers of `i16` (positions 0-3 and
    /// 4-7), multiplied by the group's weights as `i16` and added in pairs
    /// (`vpmaddwd`), the pairs added at the end.
    ///
    /// # Safety
    /// AVX2; `layer`'s sizes checked.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn conv_avx2(layer: &Layer, out: &mut [u8]) {
        // SAFETY: as above.
        run(layer, out, |g, p, n, f, w, s| unsafe { avx2(g, p, n, f, w, s) })
    }

    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn avx2(
        groups: usize,
        patches: &[u8],
        positions: usize,
        first: usize,
        weights: &[i8],
        sums: &mut [i32],
    ) {
        let (pp, wp) = (patches.as_ptr(), weights.as_ptr());
        // Pairs added: lanes hold positions 0 1 4 5 | 2 3 6 7; put them in order.
        // SAFETY: the caller's promise: `sums` whole blocks of 8 inside the patches.
        unsafe {
            let order = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7);
            for (k, block) in sums.chunks_exact_mut(8).enumerate() {
                let (mut low, mut high) = (_mm256_setzero_si256(), _mm256_setzero_si256());
                for g in 0..groups {
                    let w = weights_of(wp.add(g * GROUP)) as u32;
                    // The four weights as i16, twice per 128-bit lane.
                    let wide = (0..4).fold(0u64, |v, j| {
                        v | u64::from((w >> (8 * j)) as u8 as i8 as i16 as u16) << (16 * j)
                    });
                    let w = _mm256_set1_epi64x(wide as i64);
                    let bytes =
                        _mm256_loadu_si256(pp.add((g * positions + first + 8 * k) * GROUP) as *const _);
                    let lo = _mm256_cvtepu8_epi16(_mm256_castsi256_si128(bytes));
                    let hi = _mm256_cvtepu8_epi16(_mm256_extracti128_si256::<1>(bytes));
                    low = _mm256_add_epi32(low, _mm256_madd_epi16(lo, w));
                    high = _mm256_add_epi32(high, _mm256_madd_epi16(hi, w));
                }
                let pairs = _mm256_permutevar8x32_epi32(_mm256_hadd_epi32(low, high), order);
                let p = block.as_mut_ptr() as *mut __m256i;
                _mm256_storeu_si256(p, _mm256_add_epi32(_mm256_loadu_si256(p), pairs));
            }
        }
    }
}
