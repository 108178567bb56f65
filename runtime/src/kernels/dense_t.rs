//! One sample through a dense layer from its planned weights: input-major
//! rows padded to whole vectors (`chainrule_spec::plan::Derivation::Dense`).
//! Each input is broadcast over a vector of outputs and multiplied in, so
//! there is no horizontal reduction; every size is a constant, so the loops
//! unroll into register-resident accumulators. The activation is applied
//! to the accumulators before they are stored: no second pass. Needs
//! neither `std` nor `alloc`.

use crate::Scalar;
use crate::isa::Isa;
use crate::math::mul_add;

/// `y = act(W x + b)` for one sample; `plan` holds `W` as `K` rows of
/// `NP` values (outputs padded to a whole number of vectors) and then the
/// bias row. Call it with the level [`crate::isa::with_isa`] passes.
///
/// # Example
/// ```
/// use chainrule::isa::Isa;
/// // W = [[1, 2], [3, 4], [5, 6]], b = [7, 8, 9], laid out input-major.
/// let plan = [1.0f32, 3.0, 5.0, 0.0, 0.0, 0.0, 0.0, 0.0,
///             2.0, 4.0, 6.0, 0.0, 0.0, 0.0, 0.0, 0.0,
///             7.0, 8.0, 9.0, 0.0, 0.0, 0.0, 0.0, 0.0];
/// let mut y = [0.0f32; 3];
/// chainrule::kernels::dense_t::<f32, 2, 3, 8>(Isa::Portable, &[1.0, -1.0], &plan, &mut y, |v| v);
/// assert_eq!(y, [7.0 - 1.0, 8.0 - 1.0, 9.0 - 1.0]);
/// ```
#[inline(always)]
pub fn dense_t<S: Scalar, const K: usize, const N: usize, const NP: usize>(
    isa: Isa,
    x: &[S; K],
    plan: &[S],
    y: &mut [S; N],
    act: impl Fn(S) -> S,
) {
    let acc = product::<S, K, NP>(isa, x, plan);
    for (out, &v) in y.iter_mut().zip(&acc) {
        *out = act(v);
    }
}

/// `b + W x` over all `NP` padded outputs, from `K` input-major rows and
/// the bias row of `plan`.
#[inline(always)]
pub fn product<S: Scalar, const K: usize, const NP: usize>(isa: Isa, x: &[S; K], plan: &[S]) -> [S; NP] {
    let (rows, bias) = plan[..(K + 1) * NP].split_at(K * NP);
    let bias = bias.first_chunk::<NP>().expect("the plan holds the bias row");
    S::accumulate::<K, NP>(isa, bias, x, rows)
}

/// `start + x^T rows` for `K` input-major rows of `NP` values, in plain
/// Rust that the compiler vectorizes for the level's frame; the `f64`
/// kernel and the portable `f32` one.
#[inline(always)]
pub fn accumulate<S: Scalar, const K: usize, const NP: usize>(
    isa: Isa,
    start: &[S; NP],
    x: &[S; K],
    rows: &[S],
) -> [S; NP] {
    let (rows, _) = rows[..K * NP].as_chunks::<NP>();
    // Two accumulator sets, even and odd inputs, halve the chain of
    // dependent multiply-adds each accumulator waits on.
    let (mut even, mut odd) = (*start, [S::ZERO; NP]);
    let mut pairs = rows.chunks_exact(2).zip(x.chunks_exact(2));
    for (row, xs) in pairs.by_ref() {
        for j in 0..NP {
            even[j] = mul_add(isa, xs[0], row[0][j], even[j]);
            odd[j] = mul_add(isa, xs[1], row[1][j], odd[j]);
        }
    }
    if K % 2 == 1 {
        let (row, xi) = (&rows[K - 1], x[K - 1]);
        for j in 0..NP {
            even[j] = mul_add(isa, xi, row[j], even[j]);
        }
    }
    for j in 0..NP {
        even[j] += odd[j];
    }
    even
}

/// [`accumulate`] for `f64`, whose networks are for precision.
#[inline(always)]
pub fn accumulate_f64<const K: usize, const NP: usize>(
    isa: Isa,
    start: &[f64; NP],
    x: &[f64; K],
    rows: &[f64],
) -> [f64; NP] {
    accumulate::<f64, K, NP>(isa, start, x, rows)
}

/// [`accumulate`] for `f32`: AVX-512 and AVX2 kernels where the level has
/// them, the plain one elsewhere.
#[inline(always)]
pub fn accumulate_f32<const K: usize, const NP: usize>(
    isa: Isa,
    start: &[f32; NP],
    x: &[f32; K],
    rows: &[f32],
) -> [f32; NP] {
    assert!(rows.len() >= K * NP && NP.is_multiple_of(8), "accumulate: {K} rows of {NP} values");
    #[cfg(target_arch = "x86_64")]
    match isa {
        // SAFETY: the level never exceeds what the CPU runs, and the rows
        // were checked to hold K * NP values.
        Isa::Avx512 => return unsafe { x86::accumulate_avx512::<K, NP>(start, x, rows.as_ptr()) },
        // SAFETY: as above.
        Isa::Avx2 => return unsafe { x86::accumulate_avx2::<K, NP>(start, x, rows.as_ptr()) },
        Isa::Portable => {}
    }
    accumulate::<f32, K, NP>(isa, start, x, rows)
}

/// The `f32` kernels in intrinsics: outputs in groups of a few vectors,
/// each group's accumulators in registers over all `K` inputs, with
/// several independent sets of them (over interleaved inputs) so that the
/// multiply-adds do not wait on one another, summed by a tree at the end.
/// Every group but the last has the full width, and the last one's width
/// is a constant too, so each group's loops unroll and its accumulators
/// stay in registers.
#[cfg(target_arch = "x86_64")]
mod x86 {
    use crate::kernels::simd::{Lanes, Ymm, Zmm};

    /// At most this many accumulator sets: with a chain of four
    /// multiply-adds each, 32 inputs wait on one another no longer than
    /// the latency of four and a tree of three additions.
    const MAX_SETS: usize = 8;
    /// Vectors per group, at most.
    const MAX_VECTORS: usize = 8;

    /// `out[col..col + width] = start + x^T rows` over those columns, in
    /// vectors of `V`.
    ///
    /// # Safety
    /// `col + width <= NP`, `width` a multiple of `V::LANES` and at most
    /// `MAX_VECTORS` of them, `rows` holds `K * NP` values, and the CPU
    /// runs `V`'s instructions.
    #[inline(always)]
    unsafe fn group<V: Lanes, const K: usize, const NP: usize>(
        col: usize,
        width: usize,
        start: &[f32; NP],
        x: &[f32; K],
        rows: *const f32,
        out: &mut [f32; NP],
    ) {
        let vectors = width / V::LANES;
        if vectors == 0 {
            return;
        }
        let sets = (V::ACCUMULATORS / vectors).clamp(1, MAX_SETS).min(K.max(1));
        // SAFETY (every load and store): within `col..col + width` of
        // `start`, `out` and each of the `K` rows, by the caller's promise.
        unsafe {
            let row = |i: usize, v: usize| V::load(rows.add(i * NP + col + V::LANES * v));
            let mut acc = [[V::splat(0.0); MAX_VECTORS]; MAX_SETS];
            for (v, a) in acc[0].iter_mut().enumerate().take(vectors) {
                *a = V::load(start.as_ptr().add(col + V::LANES * v));
            }
            // Input `i` goes to set `i % sets`, the set an index known at
            // compile time in each unrolled inner loop (an index computed at
            // run time would put the accumulators on the stack). The first
            // input of each set but the first starts it.
            for s in 0..sets {
                let xi = V::splat(x[s]);
                for (v, a) in acc[s].iter_mut().enumerate().take(vectors) {
                    *a = if s == 0 { xi.mul_add(row(s, v), *a) } else { xi.mul(row(s, v)) };
                }
            }
            let mut i = sets;
            while i + sets <= K {
                for (s, set) in acc.iter_mut().enumerate().take(sets) {
                    let xi = V::splat(x[i + s]);
                    for (v, a) in set.iter_mut().enumerate().take(vectors) {
                        *a = xi.mul_add(row(i + s, v), *a);
                    }
                }
                i += sets;
            }
            for (s, set) in acc.iter_mut().enumerate().take(K - i) {
                let xi = V::splat(x[i + s]);
                for (v, a) in set.iter_mut().enumerate().take(vectors) {
                    *a = xi.mul_add(row(i + s, v), *a);
                }
            }
            // Pairwise: the sum waits on log2(sets) additions.
            let mut step = 1;
            while step < sets {
                for s in (0..sets).step_by(2 * step).filter(|s| s + step < sets) {
                    let next = acc[s + step];
                    for (a, b) in acc[s].iter_mut().zip(&next).take(vectors) {
                        *a = a.add(*b);
                    }
                }
                step *= 2;
            }
            for (v, a) in acc[0].iter().enumerate().take(vectors) {
                a.store(out.as_mut_ptr().add(col + V::LANES * v));
            }
        }
    }

    /// Every column, in full groups of `Wide` vectors, then what is left in
    /// whole `Wide` vectors, then in `Narrow` ones.
    ///
    /// # Safety
    /// `rows` holds `K * NP` values, `NP` is a multiple of `Narrow::LANES`,
    /// and the CPU runs both vector types' instructions.
    #[inline(always)]
    unsafe fn columns<Wide: Lanes, Narrow: Lanes, const K: usize, const NP: usize>(
        start: &[f32; NP],
        x: &[f32; K],
        rows: *const f32,
    ) -> [f32; NP] {
        // Full groups of eight vectors: on AVX2 a single set of eight
        // accumulators, eight independent chains, as many as two
        // multiply-adds a cycle at a latency of four need.
        let full = Wide::LANES * MAX_VECTORS;
        let mut out = [0.0f32; NP];
        // SAFETY: every group lies within `NP`, by the caller's promise.
        unsafe {
            for g in 0..NP / full {
                group::<Wide, K, NP>(g * full, full, start, x, rows, &mut out);
            }
            let (done, rest) = (NP / full * full, NP % full);
            let wide = rest / Wide::LANES * Wide::LANES;
            group::<Wide, K, NP>(done, wide, start, x, rows, &mut out);
            group::<Narrow, K, NP>(done + wide, rest - wide, start, x, rows, &mut out);
        }
        out
    }

    /// # Safety
    /// As [`columns`], on a CPU with AVX-512 F and VL. Inlined into the
    /// caller's frame (`isa::with_isa`), whose target features compile the
    /// intrinsics in place; a `#[target_feature]` function of its own
    /// would be a call that returns the accumulators through memory.
    #[inline(always)]
    pub unsafe fn accumulate_avx512<const K: usize, const NP: usize>(
        start: &[f32; NP],
        x: &[f32; K],
        rows: *const f32,
    ) -> [f32; NP] {
        // SAFETY: the caller's promise.
        unsafe { columns::<Zmm, Ymm, K, NP>(start, x, rows) }
    }

    /// # Safety
    /// As [`columns`], on a CPU with AVX2 and FMA; inlined as above.
    #[inline(always)]
    pub unsafe fn accumulate_avx2<const K: usize, const NP: usize>(
        start: &[f32; NP],
        x: &[f32; K],
        rows: *const f32,
    ) -> [f32; NP] {
        // SAFETY: the caller's promise.
        unsafe { columns::<Ymm, Ymm, K, NP>(start, x, rows) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_f32<const K: usize, const NP: usize>() {
        let rows: Vec<f32> = (0..K * NP).map(|i| ((i * 7 % 13) as f32 - 6.0) / 5.0).collect();
        let start: [f32; NP] = core::array::from_fn(|j| j as f32 / 8.0);
        let x: [f32; K] = core::array::from_fn(|i| ((i * 5 % 9) as f32 - 4.0) / 3.0);
        for isa in Isa::ALL.into_iter().filter(|&isa| isa <= crate::isa::detected()) {
            let got = accumulate_f32::<K, NP>(isa, &start, &x, &rows);
            for j in 0..NP {
                let exact = f64::from(start[j])
                    + (0..K).map(|i| f64::from(x[i]) * f64::from(rows[i * NP + j])).sum::<f64>();
                assert!(
                    (f64::from(got[j]) - exact).abs() < 1e-4,
                    "{K}x{NP} {isa:?} output {j}: {} vs {exact}",
                    got[j]
                );
            }
        }
    }

    /// Every group shape of the vector kernels: part of a vector's worth,
    /// whole groups, groups and a half, and row counts that leave remainders.
    #[test]
    fn the_f32_kernels_agree_on_every_level() {
        check_f32::<1, 8>();
        check_f32::<3, 16>();
        check_f32::<7, 24>();
        check_f32::<16, 32>();
        check_f32::<9, 40>();
        check_f32::<5, 72>();
        check_f32::<33, 136>();
    }

    /// Against `W x + b` written out, on every level this CPU runs.
    #[test]
    fn matches_the_definition() {
        const K: usize = 5;
        const N: usize = 11;
        const NP: usize = 16;
        let w: Vec<f64> = (0..N * K).map(|i| ((i * 7 % 13) as f64 - 6.0) / 5.0).collect();
        let b: Vec<f64> = (0..N).map(|i| i as f64 / 10.0).collect();
        let mut plan = vec![0.0f64; (K + 1) * NP];
        for o in 0..N {
            for i in 0..K {
                plan[i * NP + o] = w[o * K + i];
            }
            plan[K * NP + o] = b[o];
        }
        let x = [0.3, -1.2, 2.0, 0.5, -0.7];
        for isa in Isa::ALL.into_iter().filter(|&isa| isa <= crate::isa::detected()) {
            let mut y = [0.0; N];
            dense_t::<f64, K, N, NP>(isa, &x, &plan, &mut y, |v| v.max(0.0));
            for o in 0..N {
                let exact = (b[o] + (0..K).map(|i| w[o * K + i] * x[i]).sum::<f64>()).max(0.0);
                assert!((y[o] - exact).abs() < 1e-12, "{isa:?} output {o}: {} vs {exact}", y[o]);
            }
        }
    }
}
