//! One sample through a dense layer from its planned weights: input-major
//! rows padded to whole vectors (`chainrule_spec::plan::Derivation::Dense`).
//! Each input is broadcast over a vector of outputs and multiplied in, so
//! there is no horizontal reduction; every size is a constant, so the loops
//! unroll into register-resident accumulators. The activation is applied
//! to the accumulators before they are stored: no second pass. Needs
//! neither `std` nor `alloc`.

use crate::Scalar;
use crate::isa::Isa;

/// `a * b + c`, fused where the instruction set has it (one rounding)
/// and as two operations elsewhere, where a fused one would be a slow
/// software routine.
#[inline(always)]
pub fn mul_add<S: Scalar>(isa: Isa, a: S, b: S, c: S) -> S {
    if cfg!(feature = "std") && isa.has_fma() { a.fused_mul_add(b, c) } else { a * b + c }
}

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
/// multiply-adds do not wait on one another. Every group but the last has
/// the full width, and the last one's width is a constant too, so each
/// group's loops unroll and its accumulators stay in registers.
#[cfg(target_arch = "x86_64")]
mod x86 {
    use core::arch::x86_64::*;

    /// One group of `$width` outputs from column `$col`: `$vec` lanes per
    /// vector, accumulators `[[$zero; 8]; 4]`, loaded, multiplied and stored
    /// by the given intrinsics.
    macro_rules! group {
        ($col:expr, $width:expr, $lanes:expr, $max_acc:expr, $zero:expr, $set1:ident, $load:ident, $fmadd:ident, $add:ident, $store:ident,
         $start:ident, $x:ident, $rows:ident, $out:ident, $K:ident, $NP:ident) => {{
            let (col, width): (usize, usize) = ($col, $width);
            let vectors = width / $lanes;
            // As many sets as fit, up to four.
            let sets = if vectors == 0 { 1 } else { ($max_acc / vectors).clamp(1, 4) };
            let mut acc = [[$zero; 8]; 4];
            // SAFETY (all loads and stores): `col + width <= NP`, and the
            // caller checked that `rows` holds `K * NP` values.
            for v in 0..vectors {
                acc[0][v] = unsafe { $load($start.as_ptr().add(col + $lanes * v)) };
            }
            let mut i = 0;
            while i + sets <= $K {
                for s in 0..sets {
                    let xi = $set1($x[i + s]);
                    let row = unsafe { $rows.add((i + s) * $NP + col) };
                    for v in 0..vectors {
                        acc[s][v] = $fmadd(xi, unsafe { $load(row.add($lanes * v)) }, acc[s][v]);
                    }
                }
                i += sets;
            }
            while i < $K {
                let xi = $set1($x[i]);
                let row = unsafe { $rows.add(i * $NP + col) };
                for v in 0..vectors {
                    acc[0][v] = $fmadd(xi, unsafe { $load(row.add($lanes * v)) }, acc[0][v]);
                }
                i += 1;
            }
            for v in 0..vectors {
                let mut sum = acc[0][v];
                for set in acc.iter().take(sets).skip(1) {
                    sum = $add(sum, set[v]);
                }
                unsafe { $store($out.as_mut_ptr().add(col + $lanes * v), sum) };
            }
        }};
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
    pub unsafe fn accumulate_avx512<const K: usize, const NP: usize>(
        start: &[f32; NP],
        x: &[f32; K],
        rows: *const f32,
    ) -> [f32; NP] {
        // Groups of eight vectors of 16 (two sets: 16 of the 32
        // registers); a last group of whole vectors of 16, then one of 8.
        const GROUP: usize = 128;
        let mut out = [0.0f32; NP];
        for g in 0..NP / GROUP {
            group!(
                g * GROUP,
                GROUP,
                16,
                16,
                _mm512_setzero_ps(),
                _mm512_set1_ps,
                _mm512_loadu_ps,
                _mm512_fmadd_ps,
                _mm512_add_ps,
                _mm512_storeu_ps,
                start,
                x,
                rows,
                out,
                K,
                NP
            );
        }
        let (full, rest) = (NP / GROUP * GROUP, NP % GROUP);
        group!(
            full,
            rest / 16 * 16,
            16,
            16,
            _mm512_setzero_ps(),
            _mm512_set1_ps,
            _mm512_loadu_ps,
            _mm512_fmadd_ps,
            _mm512_add_ps,
            _mm512_storeu_ps,
            start,
            x,
            rows,
            out,
            K,
            NP
        );
        group!(
            full + rest / 16 * 16,
            rest % 16,
            8,
            4,
            _mm256_setzero_ps(),
            _mm256_set1_ps,
            _mm256_loadu_ps,
            _mm256_fmadd_ps,
            _mm256_add_ps,
            _mm256_storeu_ps,
            start,
            x,
            rows,
            out,
            K,
            NP
        );
        out
    }

    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn accumulate_avx2<const K: usize, const NP: usize>(
        start: &[f32; NP],
        x: &[f32; K],
        rows: *const f32,
    ) -> [f32; NP] {
        // Sixteen registers: groups of eight vectors of 8, one set, or
        // fewer vectors and more sets.
        const GROUP: usize = 64;
        let mut out = [0.0f32; NP];
        for g in 0..NP / GROUP {
            group!(
                g * GROUP,
                GROUP,
                8,
                8,
                _mm256_setzero_ps(),
                _mm256_set1_ps,
                _mm256_loadu_ps,
                _mm256_fmadd_ps,
                _mm256_add_ps,
                _mm256_storeu_ps,
                start,
                x,
                rows,
                out,
                K,
                NP
            );
        }
        let full = NP / GROUP * GROUP;
        group!(
            full,
            NP % GROUP,
            8,
            8,
            _mm256_setzero_ps(),
            _mm256_set1_ps,
            _mm256_loadu_ps,
            _mm256_fmadd_ps,
            _mm256_add_ps,
            _mm256_storeu_ps,
            start,
            x,
            rows,
            out,
            K,
            NP
        );
        out
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
