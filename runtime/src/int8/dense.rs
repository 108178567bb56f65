//! The int8 dense layer of one sample: `sums[o] = bias[o] + sum_k x[k]
//! w[o][k]` over weights packed by [`chainrule_spec::quant::pack_dense`],
//! then each sum requantized to an output code. Each level computes the
//! sums of a chunk of outputs in registers, streaming the packed rows
//! once; they agree exactly.

use super::Level;
use chainrule_spec::quant::{BLOCK, GROUP, Multiplier, requantize};

/// Outputs whose sums one pass keeps in registers (and on the stack).
const CHUNK: usize = 128;

/// One dense layer: `x` the input codes (at least `inputs` rounded up to
/// a whole group; codes past `inputs` meet zero weights), `packed` the
/// weight, `bias` the folded bias of each output (see
/// [`chainrule_spec::quant::folded_bias`]), `multipliers` each output's
/// scale `s_x s_w / s_y`, and the output's zero point and floor (its zero
/// point after a fused ReLU, else 0). Writes `out[..outputs]`.
///
/// # Panics
/// If a slice is shorter than the sizes say: generated code passes sizes
/// fixed at compile time, so that is a bug in the compiler.
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn dense(
    level: Level,
    inputs: usize,
    outputs: usize,
    x: &[u8],
    packed: &[i8],
    bias: &[i32],
    multipliers: &[Multiplier],
    zero_point_floor: (i32, i32),
    out: &mut [u8],
) {
    let groups = inputs.div_ceil(GROUP);
    let row = outputs.next_multiple_of(BLOCK) * GROUP;
    assert!(x.len() >= groups * GROUP && packed.len() >= groups * row);
    assert!(bias.len() >= outputs && multipliers.len() >= outputs && out.len() >= outputs);
    let layer = Layer { groups, row, outputs, x, packed, bias, multipliers, zero_point_floor };
    match level {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the level runs here (`Level::runs_here`, which `active`
        // and `set_limit` respect); the sizes are asserted above.
        Level::Avx512Vnni => unsafe { x86::dense_vnni512(&layer, out) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above.
        Level::AvxVnni => unsafe { x86::dense_vnni256(&layer, out) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above.
        Level::Avx2 => unsafe { x86::dense_avx2(&layer, out) },
        _ => run(&layer, out, portable),
    }
}

/// Samples the batched kernel runs at once, each group of weights loaded
/// once for all of them.
const SAMPLES: usize = 4;

/// [`dense`] on `samples` samples: sample `s`'s codes at `x[s *
/// x_stride..]`, its outputs written to `out[s * out_stride..]`. On AVX-512
/// VNNI four samples share each load of the weights; elsewhere, and for
/// the samples past the last four, it is [`dense`] per sample. The bits are
/// the same either way.
///
/// # Panics
/// As [`dense`], for every sample.
#[allow(clippy::too_many_arguments)]
pub fn dense_batch(
    level: Level,
    (inputs, outputs, samples): (usize, usize, usize),
    (x, x_stride): (&[u8], usize),
    packed: &[i8],
    bias: &[i32],
    multipliers: &[Multiplier],
    zero_point_floor: (i32, i32),
    (out, out_stride): (&mut [u8], usize),
) {
    let (groups, row) = (inputs.div_ceil(GROUP), outputs.next_multiple_of(BLOCK) * GROUP);
    assert!(
        samples == 0 || (x.len() >= (samples - 1) * x_stride + groups * GROUP && x_stride >= groups * GROUP)
    );
    assert!(samples == 0 || (out.len() >= (samples - 1) * out_stride + outputs && out_stride >= outputs));
    assert!(packed.len() >= groups * row && bias.len() >= outputs && multipliers.len() >= outputs);
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if level == Level::Avx512Vnni {
        let layer = Layer { groups, row, outputs, x, packed, bias, multipliers, zero_point_floor };
        while done + SAMPLES <= samples {
            // SAFETY: the level runs here; the sizes are asserted above, for
            // these four samples.
            unsafe { x86::dense4_vnni512(&layer, (done, x_stride), (&mut *out, out_stride)) };
            done += SAMPLES;
        }
    }
    for s in done..samples {
        let (x, out) = (&x[s * x_stride..], &mut out[s * out_stride..]);
        dense(level, inputs, outputs, x, packed, bias, multipliers, zero_point_floor, out);
    }
}

/// A dense layer's operands, checked against each other.
struct Layer<'a> {
    groups: usize,
    row: usize,
    outputs: usize,
    x: &'a [u8],
    packed: &'a [i8],
    bias: &'a [i32],
    multipliers: &'a [Multiplier],
    zero_point_floor: (i32, i32),
}

/// The layer chunk by chunk: the sums start at the biases, `sums` adds
/// the products of each chunk's outputs, and they are requantized. Inlined
/// into each level's frame, so the loops around the kernel are compiled
/// for the level too.
#[inline(always)]
fn run(layer: &Layer, out: &mut [u8], sums: impl Fn(usize, &[u8], &[i8], usize, &mut [i32])) {
    let (zero_point, floor) = layer.zero_point_floor;
    let mut chunk = [0i32; CHUNK];
    for first in (0..layer.outputs).step_by(CHUNK) {
        let n = (layer.outputs - first).min(CHUNK);
        // Sums of whole blocks: the padding outputs' weights are zeros.
        let chunk = &mut chunk[..n.next_multiple_of(BLOCK)];
        chunk[..n].copy_from_slice(&layer.bias[first..][..n]);
        chunk[n..].fill(0);
        sums(layer.groups, layer.x, &layer.packed[first * GROUP..], layer.row, chunk);
        let (out, multipliers) = (&mut out[first..][..n], &layer.multipliers[first..][..n]);
        for ((o, &s), &m) in out.iter_mut().zip(chunk.iter()).zip(multipliers) {
            *o = requantize(s, m, zero_point, floor);
        }
    }
}

/// The sums in plain loops: the definition the other levels must match.
/// The group's four codes are hoisted so the loop over outputs vectorizes.
fn portable(groups: usize, x: &[u8], w: &[i8], row: usize, sums: &mut [i32]) {
    for g in 0..groups {
        let [a, b, c, d] = [0, 1, 2, 3].map(|j| i32::from(x[g * GROUP + j]));
        let wg = &w[g * row..][..sums.len() * GROUP];
        for (s, ws) in sums.iter_mut().zip(wg.chunks_exact(GROUP)) {
            let [p, q, r, t] = [ws[0], ws[1], ws[2], ws[3]].map(i32::from);
            *s += a * p + b * q + c * r + d * t;
        }
    }
}

#[cfg(target_arch = "x86_64")]
pub(super) mod x86 {
    use super::{GROUP, Layer, requantize, run};
    use core::arch::x86_64::*;

    /// [`super::dense`] on AVX-512 VNNI.
    ///
    /// # Safety
    /// AVX-512 F, BW, DQ and VNNI; `layer`'s sizes checked.
    #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vnni")]
    pub(super) unsafe fn dense_vnni512(layer: &Layer, out: &mut [u8]) {
        // SAFETY: the caller's promise, and `run` passes whole chunks.
        run(layer, out, |g, x, w, row, sums| unsafe { vnni512(g, x, w, row, sums) })
    }

    /// Four samples of [`super::dense_batch`] from sample `first`: for each
    /// chunk of up to 64 outputs, every group's four registers of weights
    /// are loaded once and multiplied with each sample's codes.
    ///
    /// # Safety
    /// AVX-512 F, BW, DQ and VNNI; `layer`'s sizes checked for the four
    /// samples (`layer.x` holds them `stride` apart).
    #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vnni")]
    pub(super) unsafe fn dense4_vnni512(
        layer: &Layer,
        (first, stride): (usize, usize),
        (out, out_stride): (&mut [u8], usize),
    ) {
        const B: usize = 4;
        let (zero_point, floor) = layer.zero_point_floor;
        let mut sums = [[0i32; 16 * B]; super::SAMPLES];
        for start in (0..layer.outputs).step_by(16 * B) {
            let n = (layer.outputs - start).min(16 * B);
            let blocks = n.div_ceil(16);
            for s in sums.iter_mut() {
                s[..n].copy_from_slice(&layer.bias[start..][..n]);
                s[n..].fill(0);
            }
            let w = &layer.packed[start * GROUP..];
            // SAFETY: the caller's promise; `blocks` blocks of 16 outputs lie
            // within each packed row from `start`.
            unsafe {
                let mut acc: [[__m512i; B]; super::SAMPLES] = core::array::from_fn(|s| {
                    core::array::from_fn(|b| __m512i::load(sums[s].as_ptr().add(16 * b)))
                });
                let xp = layer.x.as_ptr().add(first * stride);
                for g in 0..layer.groups {
                    let wg = w.as_ptr().add(g * layer.row);
                    let weights: [__m512i; B] = core::array::from_fn(|b| {
                        if b < blocks {
                            _mm512_loadu_si512(wg.add(64 * b) as *const _)
                        } else {
                            _mm512_setzero_si512()
                        }
                    });
                    for (s, acc) in acc.iter_mut().enumerate() {
                        let codes = _mm512_set1_epi32(group(xp.add(s * stride + g * GROUP)));
                        for (a, w) in acc.iter_mut().zip(&weights) {
                            *a = _mm512_dpbusd_epi32(*a, codes, *w);
                        }
                    }
                }
                for (s, acc) in acc.iter().enumerate() {
                    for (b, a) in acc.iter().enumerate() {
                        a.store(sums[s].as_mut_ptr().add(16 * b));
                    }
                }
            }
            for (s, sums) in sums.iter().enumerate() {
                let out = &mut out[(first + s) * out_stride + start..][..n];
                for ((o, &v), &m) in out.iter_mut().zip(sums.iter()).zip(&layer.multipliers[start..][..n]) {
                    *o = requantize(v, m, zero_point, floor);
                }
            }
        }
    }

    /// [`super::dense`] on AVX-VNNI.
    ///
    /// # Safety
    /// AVX2 and AVX-VNNI; `layer`'s sizes checked.
    #[target_feature(enable = "avx2,avxvnni")]
    pub(super) unsafe fn dense_vnni256(layer: &Layer, out: &mut [u8]) {
        // SAFETY: as above.
        run(layer, out, |g, x, w, row, sums| unsafe { vnni256(g, x, w, row, sums) })
    }

    /// [`super::dense`] on AVX2.
    ///
    /// # Safety
    /// AVX2; `layer`'s sizes checked.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn dense_avx2(layer: &Layer, out: &mut [u8]) {
        // SAFETY: as above.
        run(layer, out, |g, x, w, row, sums| unsafe { avx2(g, x, w, row, sums) })
    }

    /// The group of four input codes at `x`, as one `i32`.
    ///
    /// # Safety
    /// Four bytes at `x`.
    #[inline(always)]
    unsafe fn group(x: *const u8) -> i32 {
        // SAFETY: the caller's promise.
        unsafe { (x as *const i32).read_unaligned() }
    }

    /// A group of four weights at `w`, as one `i32`.
    ///
    /// # Safety
    /// Four bytes at `w`.
    #[inline(always)]
    pub(in crate::int8) unsafe fn weights_of(w: *const i8) -> i32 {
        // SAFETY: the caller's promise.
        unsafe { (w as *const i32).read_unaligned() }
    }

    /// A register of `i32` sums that `vpdpbusd` adds byte products into.
    pub(in crate::int8) trait Dot: Copy {
        /// Outputs a register holds.
        const OUTPUTS: usize;
        unsafe fn load(p: *const i32) -> Self;
        unsafe fn store(self, p: *mut i32);
        /// The group of four codes in every lane.
        unsafe fn broadcast(codes: i32) -> Self;
        /// `self` plus, per lane, the four products of `codes`' bytes (unsigned)
        /// with the bytes at `w` (signed).
        unsafe fn dot(self, codes: Self, w: *const i8) -> Self;
        /// `self` plus, per lane, the four products of the bytes at `codes`
        /// (unsigned) with `weights`' bytes (signed).
        unsafe fn dot_codes(self, codes: *const u8, weights: Self) -> Self;
    }

    impl Dot for __m512i {
        const OUTPUTS: usize = 16;
        #[inline(always)]
        unsafe fn load(p: *const i32) -> Self {
            // SAFETY: the caller's promise.
            unsafe { _mm512_loadu_si512(p as *const _) }
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut i32) {
            // SAFETY: the caller's promise.
            unsafe { _mm512_storeu_si512(p as *mut _, self) }
        }
        #[inline(always)]
        unsafe fn broadcast(codes: i32) -> Self {
            // SAFETY: the caller's promise.
            unsafe { _mm512_set1_epi32(codes) }
        }
        #[inline(always)]
        unsafe fn dot(self, codes: Self, w: *const i8) -> Self {
            // SAFETY: the caller's promise.
            unsafe { _mm512_dpbusd_epi32(self, codes, _mm512_loadu_si512(w as *const _)) }
        }
        #[inline(always)]
        unsafe fn dot_codes(self, codes: *const u8, weights: Self) -> Self {
            // SAFETY: the caller's promise.
            unsafe { _mm512_dpbusd_epi32(self, _mm512_loadu_si512(codes as *const _), weights) }
        }
    }

    impl Dot for __m256i {
        const OUTPUTS: usize = 8;
        #[inline(always)]
        unsafe fn load(p: *const i32) -> Self {
            // SAFETY: the caller's promise.
            unsafe { _mm256_loadu_si256(p as *const _) }
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut i32) {
            // SAFETY: the caller's promise.
            unsafe { _mm256_storeu_si256(p as *mut _, self) }
        }
        #[inline(always)]
        unsafe fn broadcast(codes: i32) -> Self {
            // SAFETY: the caller's promise.
            unsafe { _mm256_set1_epi32(codes) }
        }
        #[inline(always)]
        unsafe fn dot(self, codes: Self, w: *const i8) -> Self {
            // SAFETY: the caller's promise.
            unsafe { _mm256_dpbusd_avx_epi32(self, codes, _mm256_loadu_si256(w as *const _)) }
        }
        #[inline(always)]
        unsafe fn dot_codes(self, codes: *const u8, weights: Self) -> Self {
            // SAFETY: the caller's promise.
            unsafe { _mm256_dpbusd_avx_epi32(self, _mm256_loadu_si256(codes as *const _), weights) }
        }
    }

    /// `B` registers of sums, one pass over the groups: the group's codes
    /// broadcast once, then one `vpdpbusd` per register.
    ///
    /// # Safety
    /// The register's instructions; `B` registers of sums, `groups` rows of
    /// `row` bytes at `w` and `groups * 4` bytes of `x`.
    #[inline(always)]
    unsafe fn pass<R: Dot, const B: usize>(groups: usize, x: &[u8], w: &[i8], row: usize, sums: &mut [i32]) {
        let (xp, wp, sp) = (x.as_ptr(), w.as_ptr(), sums.as_mut_ptr());
        // SAFETY: the caller's promise.
        unsafe {
            let mut acc: [R; B] = core::array::from_fn(|b| R::load(sp.add(R::OUTPUTS * b)));
            for g in 0..groups {
                let codes = R::broadcast(group(xp.add(g * GROUP)));
                let wg = wp.add(g * row);
                for (b, a) in acc.iter_mut().enumerate() {
                    *a = a.dot(codes, wg.add(R::OUTPUTS * GROUP * b));
                }
            }
            for (b, a) in acc.iter().enumerate() {
                a.store(sp.add(R::OUTPUTS * b));
            }
        }
    }

    /// The sums `R` registers at a time, up to 8 registers a pass.
    ///
    /// # Safety
    /// As [`pass`], for `sums.len()` outputs, a whole number of registers.
    #[inline(always)]
    unsafe fn passes<R: Dot>(groups: usize, x: &[u8], w: &[i8], row: usize, sums: &mut [i32]) {
        for (k, part) in sums.chunks_mut(R::OUTPUTS * 8).enumerate() {
            let w = &w[k * R::OUTPUTS * 8 * GROUP..];
            // SAFETY: the caller's promise, for this part's outputs.
            unsafe {
                match part.len() / R::OUTPUTS {
                    1 => pass::<R, 1>(groups, x, w, row, part),
                    2 => pass::<R, 2>(groups, x, w, row, part),
                    3 => pass::<R, 3>(groups, x, w, row, part),
                    4 => pass::<R, 4>(groups, x, w, row, part),
                    5 => pass::<R, 5>(groups, x, w, row, part),
                    6 => pass::<R, 6>(groups, x, w, row, part),
                    7 => pass::<R, 7>(groups, x, w, row, part),
                    _ => pass::<R, 8>(groups, x, w, row, part),
                }
            }
        }
    }

    /// 16 outputs a register.
    ///
    /// # Safety
    /// AVX-512 F, BW, DQ and VNNI; as [`pass`] otherwise.
    #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vnni")]
    #[inline]
    unsafe fn vnni512(groups: usize, x: &[u8], w: &[i8], row: usize, sums: &mut [i32]) {
        // SAFETY: the caller's promise.
        unsafe { passes::<__m512i>(groups, x, w, row, sums) }
    }

    /// 8 outputs a register.
    ///
    /// # Safety
    /// AVX2 and AVX-VNNI; as [`pass`] otherwise.
    #[target_feature(enable = "avx2,avxvnni")]
    #[inline]
    unsafe fn vnni256(groups: usize, x: &[u8], w: &[i8], row: usize, sums: &mut [i32]) {
        // SAFETY: the caller's promise.
        unsafe { passes::<__m256i>(groups, x, w, row, sums) }
    }

    /// 8 outputs in two registers of pair sums, up to 4 such blocks a
    /// pass: the 32 bytes of a block's group row widened to two registers
    /// of `i16` (outputs 0-3 and 4-7, four weights each), multiplied by
    /// the group's four codes as `i16` and added in pairs (`vpmaddwd`,
    /// exact: `2 * 255 * 127` fits easily), the pairs added at the end.
    ///
    /// # Safety
    /// AVX2; as [`vnni512`] otherwise.
    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn avx2(groups: usize, x: &[u8], w: &[i8], row: usize, sums: &mut [i32]) {
        for (k, part) in sums.chunks_mut(8 * 4).enumerate() {
            let w = &w[k * 8 * 4 * GROUP..];
            // SAFETY: the caller's promise, for this part's outputs.
            unsafe {
                match part.len() / 8 {
                    2 => avx2_pass::<2>(groups, x, w, row, part),
                    _ => avx2_pass::<4>(groups, x, w, row, part),
                }
            }
        }
    }

    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn avx2_pass<const B: usize>(groups: usize, x: &[u8], w: &[i8], row: usize, sums: &mut [i32]) {
        let (xp, wp, sp) = (x.as_ptr(), w.as_ptr(), sums.as_mut_ptr());
        // SAFETY: the caller's promise: B blocks of 8 sums, `groups` rows.
        unsafe {
            let mut low = [_mm256_setzero_si256(); B];
            let mut high = [_mm256_setzero_si256(); B];
            for g in 0..groups {
                let codes = group(xp.add(g * GROUP)) as u32;
                // The four codes as i16, twice per 128-bit lane.
                let wide = (0..4).fold(0u64, |v, j| v | u64::from((codes >> (8 * j)) & 0xff) << (16 * j));
                let xg = _mm256_set1_epi64x(wide as i64);
                let wg = wp.add(g * row);
                for b in 0..B {
                    let bytes = _mm256_loadu_si256(wg.add(32 * b) as *const _);
                    let first = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(bytes));
                    let second = _mm256_cvtepi8_epi16(_mm256_extracti128_si256::<1>(bytes));
                    low[b] = _mm256_add_epi32(low[b], _mm256_madd_epi16(first, xg));
                    high[b] = _mm256_add_epi32(high[b], _mm256_madd_epi16(second, xg));
                }
            }
            // Pairs added: lanes hold outputs 0 1 4 5 | 2 3 6 7; put them in order.
            let order = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7);
            for b in 0..B {
                let pairs = _mm256_permutevar8x32_epi32(_mm256_hadd_epi32(low[b], high[b]), order);
                let p = sp.add(8 * b) as *mut __m256i;
                _mm256_storeu_si256(p, _mm256_add_epi32(_mm256_loadu_si256(p), pairs));
            }
        }
    }
}
