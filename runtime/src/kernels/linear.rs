//! Products of a dense layer, `y = x W^T`, with `W` stored `[out, in]`
//! row-major as PyTorch's `Linear.weight` is.
//!
//! Batched forms run on a real GEMM, except where packing operands for a
//! GEMM costs more than it saves: for a handful of samples they are dot
//! products, scaled row additions and outer products over contiguous rows,
//! and up to 64 samples the forward product is an AVX2 tile of dot
//! products along the rows of both operands (f32). The batch-1 inference
//! form, on sizes fixed at compile time, is `linear_1` in `matvec.rs`.

use crate::kernels::gemm;
use crate::{Scalar, isa};

/// `y[m x n] = x[m x k] * w[n x k]^T`.
///
/// # Example
/// ```
/// // One sample [1, 2] through W = [[1, 0], [1, 1], [0, 2]].
/// let w = [1.0f32, 0.0, 1.0, 1.0, 0.0, 2.0];
/// let mut y = [0.0f32; 3];
/// chainrule::kernels::linear(1, 2, 3, &[1.0, 2.0], &w, &mut y);
/// assert_eq!(y, [1.0, 3.0, 4.0]);
/// ```
pub fn linear<S: Scalar>(m: usize, k: usize, n: usize, x: &[S], w: &[S], y: &mut [S]) {
    if m == 1 && S::matvec(k, n, x, w, y) {
        return;
    }
    // Up to a few dozen samples, dot products along contiguous rows beat
    // packing the whole weight matrix for a GEMM.
    if m <= 64 && S::dot_rows(m, k, n, x, w, y) {
        return;
    }
    if m > FEW {
        return gemm(m, k, n, S::ONE, (x, k, 1), (w, 1, k), S::ZERO, (y, n, 1));
    }
    isa::with_fast_path(
        #[inline(always)]
        || {
            for (xr, yr) in x[..m * k].chunks_exact(k).zip(y[..m * n].chunks_exact_mut(n)) {
                for (yj, wj) in yr.iter_mut().zip(w[..n * k].chunks_exact(k)) {
                    *yj = dot(xr, wj);
                }
            }
        },
    )
}

/// Up to this many samples, products skip the GEMM.
const FEW: usize = 3;

/// A dot product with eight independent partial sums, which the compiler
/// can keep in vector lanes (one running sum would serialize the adds).
#[inline(always)]
fn dot<S: Scalar>(a: &[S], b: &[S]) -> S {
    let mut partial = [S::ZERO; 8];
    let (ac, bc) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail = ac.remainder().iter().zip(bc.remainder()).fold(S::ZERO, |s, (&x, &y)| s + x * y);
    for (x, y) in ac.zip(bc) {
        for i in 0..8 {
            partial[i] += x[i] * y[i];
        }
    }
    partial.iter().fold(tail, |s, &p| s + p)
}

/// Gradient of [`linear`] with respect to its input: `dx[m x k] = g[m x n] * w[n x k]`.
pub fn linear_back_data<S: Scalar>(m: usize, k: usize, n: usize, g: &[S], w: &[S], dx: &mut [S]) {
    if m > FEW {
        return gemm(m, n, k, S::ONE, (g, n, 1), (w, k, 1), S::ZERO, (dx, k, 1));
    }
    isa::with_fast_path(
        #[inline(always)]
        || {
            for (gr, dr) in g[..m * n].chunks_exact(n).zip(dx[..m * k].chunks_exact_mut(k)) {
                dr.fill(S::ZERO);
                for (&gj, wj) in gr.iter().zip(w[..n * k].chunks_exact(k)) {
                    dr.iter_mut().zip(wj).for_each(|(d, &wv)| *d += gj * wv);
                }
            }
        },
    )
}

/// Gradient of [`linear`] with respect to the weight: `dw[n x k] = g[m x n]^T * x[m x k]`,
/// summed over the batch.
pub fn linear_back_weight<S: Scalar>(m: usize, k: usize, n: usize, g: &[S], x: &[S], dw: &mut [S]) {
    if m > FEW {
        return gemm(n, m, k, S::ONE, (g, 1, n), (x, k, 1), S::ZERO, (dw, k, 1));
    }
    // A sum of m outer products: row j of dw is a combination of the rows
    // of x, written in one pass (a GEMM with a shared dimension this short
    // would spend its time packing).
    let (g, x) = (&g[..m * n], &x[..m * k]);
    isa::with_fast_path(
        #[inline(always)]
        || {
            for (j, dr) in dw[..n * k].chunks_exact_mut(k).enumerate() {
                // The first product is written, not added: no pass to zero.
                let (g0, x0) = (g[j], &x[..k]);
                dr.iter_mut().zip(x0).for_each(|(d, &xv)| *d = g0 * xv);
                for (gr, xr) in g.chunks_exact(n).zip(x.chunks_exact(k)).skip(1) {
                    let gj = gr[j];
                    dr.iter_mut().zip(xr).for_each(|(d, &xv)| *d += gj * xv);
                }
            }
        },
    )
}

/// [`linear_back_weight`] with the optimizer's step applied to `w` as the
/// gradient is computed (see [`crate::optim::Update`]): the gradient is not
/// kept. `dw` is scratch the size of `w` (the product keeps partial sums
/// there when the batch is long). `w` ends as the optimizer would leave it
/// from `linear_back_weight`'s result, bit for bit.
#[allow(clippy::too_many_arguments)]
pub fn linear_update<S: Scalar>(
    m: usize,
    k: usize,
    n: usize,
    g: &[S],
    x: &[S],
    w: &mut [S],
    dw: &mut [S],
    mut part: crate::optim::Part<'_, S>,
) {
    if m > FEW {
        return gemm::gemm_update(n, m, k, (g, 1, n), (x, k, 1), dw, w, part);
    }
    // Each row of the gradient in pieces that stay in registers or the
    // first-level cache, computed as `linear_back_weight` does and applied
    // at once: the weight is read and written once, the gradient never
    // leaves the core.
    const PIECE: usize = 256;
    let (g, x) = (&g[..m * n], &x[..m * k]);
    isa::with_fast_path(
        #[inline(always)]
        || {
            if m == 1 {
                // One sample: each gradient is `g_j x_i`, made as it is used.
                for (j, wr) in w[..n * k].chunks_exact_mut(k).enumerate() {
                    let gj = g[j];
                    part.apply_mapped_at(j * k, wr, x, |xv| gj * xv);
                }
                return;
            }
            let mut piece = [S::ZERO; PIECE];
            for (j, wr) in w[..n * k].chunks_exact_mut(k).enumerate() {
                for (start, wp) in (0..k).step_by(PIECE).zip(wr.chunks_mut(PIECE)) {
                    let d = &mut piece[..wp.len()];
                    let x0 = &x[start..start + wp.len()];
                    d.iter_mut().zip(x0).for_each(|(d, &xv)| *d = g[j] * xv);
                    for (gr, xr) in g.chunks_exact(n).zip(x.chunks_exact(k)).skip(1) {
                        let gj = gr[j];
                        d.iter_mut().zip(&xr[start..]).for_each(|(d, &xv)| *d += gj * xv);
                    }
                    part.apply_mapped_at(j * k + start, wp, d, |d| d);
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The packing-free forward (dot products along rows, f32 with AVX2)
    /// agrees with the GEMM at sizes that leave partial tiles everywhere.
    #[test]
    fn row_dot_products_agree_with_the_gemm() {
        for &(m, k, n) in &[(4usize, 8usize, 1usize), (5, 13, 5), (7, 784, 10), (33, 100, 128), (64, 9, 7)] {
            let x: Vec<f32> = (0..m * k).map(|i| ((i * 7 % 19) as f32 - 9.0) / 7.0).collect();
            let w: Vec<f32> = (0..n * k).map(|i| ((i * 5 % 17) as f32 - 8.0) / 6.0).collect();
            let (mut y, mut reference) = (vec![f32::NAN; m * n], vec![0.0f32; m * n]);
            linear(m, k, n, &x, &w, &mut y);
            gemm(m, k, n, 1.0, (&x, k, 1), (&w, 1, k), 0.0, (&mut reference, n, 1));
            for (a, b) in y.iter().zip(&reference) {
                assert!((a - b).abs() <= 1e-4 * b.abs().max(1.0), "{m}x{k}x{n}: {a} vs {b}");
            }
        }
    }

    /// The small-batch paths and the GEMM paths agree, for every product.
    #[test]
    fn small_batches_agree_with_the_gemm() {
        let (k, n) = (37, 11);
        let w: Vec<f64> = (0..n * k).map(|i| ((i * 7 % 13) as f64 - 6.0) / 5.0).collect();
        let x: Vec<f64> = (0..8 * k).map(|i| ((i * 5 % 11) as f64 - 5.0) / 4.0).collect();
        let g: Vec<f64> = (0..8 * n).map(|i| ((i * 3 % 7) as f64 - 3.0) / 2.0).collect();
        for m in 1..=FEW {
            // Reference: the same rows inside a batch large enough for the GEMM.
            let big = FEW + 1;
            let (xb, gb) =
                ([&x[..m * k], &x[..(big - m) * k]].concat(), [&g[..m * n], &g[..(big - m) * n]].concat());
            let (mut y, mut yb) = (vec![0.0; m * n], vec![0.0; big * n]);
            linear(m, k, n, &x[..m * k], &w, &mut y);
            linear(big, k, n, &xb, &w, &mut yb);
            assert!(y.iter().zip(&yb).all(|(a, b)| (a - b).abs() < 1e-12));
            let (mut dx, mut dxb) = (vec![0.0; m * k], vec![0.0; big * k]);
            linear_back_data(m, k, n, &g[..m * n], &w, &mut dx);
            linear_back_data(big, k, n, &gb, &w, &mut dxb);
            assert!(dx.iter().zip(&dxb).all(|(a, b)| (a - b).abs() < 1e-12));
            let (mut dw, mut dw_ref) = (vec![0.0; n * k], vec![0.0; n * k]);
            linear_back_weight(m, k, n, &g[..m * n], &x[..m * k], &mut dw);
            gemm(n, m, k, 1.0, (&g[..m * n], 1, n), (&x[..m * k], k, 1), 0.0, (&mut dw_ref, k, 1));
            assert!(dw.iter().zip(&dw_ref).all(|(a, b)| (a - b).abs() < 1e-12));
        }
    }
}
