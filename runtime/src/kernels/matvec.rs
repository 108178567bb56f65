//! One sample through a dense layer, `y = W x` with `W` row-major `[n, k]`:
//! the batch-1 inference product. Needs neither `std` nor `alloc`.
//!
//! The weights keep PyTorch's `[out, in]` layout, so weight files exchange
//! without transposition; each output is then a dot product along a row,
//! reduced with horizontal adds. Storing them input-major and broadcasting
//! each input over a vector of outputs avoids the reductions and measured
//! about 1.5x faster for 32x32 on an AMD EPYC (Zen 3): the price of the
//! shared layout.

use crate::Scalar;

/// Batch-1 dense product with sizes fixed at compile time: `y = W x`.
///
/// # Example
/// ```
/// let w = [1.0f32, 0.0, 1.0, 1.0, 0.0, 2.0];
/// let mut y = [0.0f32; 3];
/// chainrule::kernels::linear_1::<f32, 2, 3>(&[1.0, 2.0], &w, &mut y);
/// assert_eq!(y, [1.0, 3.0, 4.0]);
/// ```
#[inline]
pub fn linear_1<S: Scalar, const K: usize, const N: usize>(x: &[S; K], w: &[S], y: &mut [S; N]) {
    // Row j of the row-major [N, K] weight is output j's dot product. As
    // fixed-size rows every length is a constant, so the compiler unrolls
    // and vectorizes without bounds checks.
    if S::matvec(K, N, x, w, y) {
        return;
    }
    let (rows, _) = w[..N * K].as_chunks::<K>();
    for (yj, wj) in y.iter_mut().zip(rows) {
        *yj = dot_fixed(x, wj);
    }
}

/// A dot product on arrays: eight partial sums over a constant length.
#[inline(always)]
fn dot_fixed<S: Scalar, const K: usize>(a: &[S; K], b: &[S; K]) -> S {
    let mut partial = [S::ZERO; 8];
    for i in 0..K {
        partial[i % 8] += a[i] * b[i];
    }
    partial.iter().fold(S::ZERO, |s, &p| s + p)
}

/// `y[n] = w[n x k] x[k]` for one `f32` sample on the AVX2 + FMA kernel,
/// when the CPU has it (and `k >= 8`); false leaves `y` untouched.
#[inline(always)]
pub(crate) fn matvec_f32(k: usize, n: usize, x: &[f32], w: &[f32], y: &mut [f32]) -> bool {
    #[cfg(target_arch = "x86_64")]
    if crate::isa::fast_path_available() && n > 0 && k >= 8 {
        // SAFETY: the CPU supports AVX2 and FMA; the kernel checks lengths.
        unsafe { x86::matvec_f32_avx2(k, n, x, w, y) };
        return true;
    }
    let _ = (k, n, x, w, y);
    false
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use core::arch::x86_64::*;

    /// One sample, `y = w x`: eight rows of `w` at a time, each with one
    /// 8-lane partial sum, and the eight sums reduced together by a tree of
    /// horizontal adds that leaves output `j` in lane `j`. Reducing each row
    /// on its own costs five shuffles and adds per output; this costs under
    /// two. Rows past the last full group of eight, and columns past the
    /// last multiple of eight, are plain dot products.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    pub(super) unsafe fn matvec_f32_avx2(k: usize, n: usize, x: &[f32], w: &[f32], y: &mut [f32]) {
        assert!(x.len() >= k && w.len() >= n * k && y.len() >= n && n > 0);
        let (xp, wp, yp) = (x.as_ptr(), w.as_ptr(), y.as_mut_ptr());
        let k8 = k - k % 8;
        let full = n - n % 8;
        for j in (0..full).step_by(8) {
            // SAFETY: rows j..j + 8 and outputs j..j + 8 exist (j + 8 <= n).
            unsafe {
                let sums = rows_times_x(k8, wp.add(j * k), k, xp);
                _mm256_storeu_ps(yp.add(j), sums);
            }
        }
        for j in full..n {
            y[j] = w[j * k..][..k8].iter().zip(x).map(|(a, b)| a * b).sum();
        }
        if k8 < k {
            for (j, yj) in y[..n].iter_mut().enumerate() {
                *yj += (k8..k).map(|p| w[j * k + p] * x[p]).sum::<f32>();
            }
        }
    }

    /// The dot products of eight consecutive rows (`stride` apart, first
    /// `k8` columns, a multiple of 8) with `x`, output `b` in lane `b`.
    ///
    /// # Safety
    /// AVX2 and FMA; eight rows of `k8` floats at `w` and `k8` floats at `x`.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn rows_times_x(k8: usize, w: *const f32, stride: usize, x: *const f32) -> __m256 {
        let mut acc = [_mm256_setzero_ps(); 8];
        for p in (0..k8).step_by(8) {
            // SAFETY: p + 8 <= k8, inside every row and `x`.
            unsafe {
                let xv = _mm256_loadu_ps(x.add(p));
                for (b, a) in acc.iter_mut().enumerate() {
                    *a = _mm256_fmadd_ps(_mm256_loadu_ps(w.add(b * stride + p)), xv, *a);
                }
            }
        }
        let pairs = [
            _mm256_hadd_ps(acc[0], acc[1]),
            _mm256_hadd_ps(acc[2], acc[3]),
            _mm256_hadd_ps(acc[4], acc[5]),
            _mm256_hadd_ps(acc[6], acc[7]),
        ];
        // Lanes: rows 0-3 from the low halves, then rows 0-3 from the high
        // halves (and the same for rows 4-7).
        let low = _mm256_hadd_ps(pairs[0], pairs[1]);
        let high = _mm256_hadd_ps(pairs[2], pairs[3]);
        _mm256_add_ps(_mm256_permute2f128_ps::<0x20>(low, high), _mm256_permute2f128_ps::<0x31>(low, high))
    }
}
