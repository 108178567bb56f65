//! Products of a dense layer, `y = x W^T`, with `W` stored `[out, in]`
//! row-major as PyTorch's `Linear.weight` is.
//!
//! Batched forms run on a real GEMM; [`linear_1`] is the fixed-size batch-1
//! form on nalgebra's static views, which beats a GEMM call at that size.

use crate::Scalar;
use crate::kernels::gemm;
use nalgebra::{SMatrixView, SVectorView, SVectorViewMut};

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
    gemm(m, k, n, S::ONE, (x, k, 1), (w, 1, k), S::ZERO, (y, n, 1));
}

/// Gradient of [`linear`] with respect to its input: `dx[m x k] = g[m x n] * w[n x k]`.
pub fn linear_back_data<S: Scalar>(m: usize, k: usize, n: usize, g: &[S], w: &[S], dx: &mut [S]) {
    gemm(m, n, k, S::ONE, (g, n, 1), (w, k, 1), S::ZERO, (dx, k, 1));
}

/// Gradient of [`linear`] with respect to the weight: `dw[n x k] = g[m x n]^T * x[m x k]`,
/// summed over the batch.
pub fn linear_back_weight<S: Scalar>(m: usize, k: usize, n: usize, g: &[S], x: &[S], dw: &mut [S]) {
    gemm(n, m, k, S::ONE, (g, 1, n), (x, k, 1), S::ZERO, (dw, k, 1));
}

/// Batch-1 [`linear`] with sizes fixed at compile time: `y = W x`.
///
/// # Example
/// ```
/// let w = [1.0f32, 0.0, 1.0, 1.0, 0.0, 2.0];
/// let mut y = [0.0f32; 3];
/// chainrule::kernels::linear_1::<f32, 2, 3>(&[1.0, 2.0], &w, &mut y);
/// assert_eq!(y, [1.0, 3.0, 4.0]);
/// ```
pub fn linear_1<S: Scalar, const K: usize, const N: usize>(x: &[S; K], w: &[S], y: &mut [S; N]) {
    // Column j of this column-major K x N view is row j of the row-major
    // [N, K] weight, so `W x` is the transposed product over contiguous rows.
    let w = SMatrixView::<S, K, N>::from_slice(&w[..K * N]);
    let x = SVectorView::<S, K>::from_slice(x);
    let mut y = SVectorViewMut::<S, N>::from_slice(y);
    y.gemv_tr(S::ONE, &w, &x, S::ZERO);
}
