//! Softmax over each sample's features, and its vector-Jacobian product.
//!
//! Forward: `p_i = exp(x_i - max x) / sum_j exp(x_j - max x)`; subtracting
//! the maximum keeps `exp` finite for any input. Backward uses only the
//! output: `dx_i = p_i * (g_i - sum_j g_j p_j)`.

use crate::Scalar;

/// Row-wise softmax of `x` (`m x n`) into `p`.
///
/// # Example
/// ```
/// let mut p = [0.0f64; 2];
/// chainrule::kernels::softmax(1, 2, &[1000.0, 1000.0], &mut p);
/// assert_eq!(p, [0.5, 0.5]);
/// ```
pub fn softmax<S: Scalar>(m: usize, n: usize, x: &[S], p: &mut [S]) {
    for (xr, pr) in x[..m * n].chunks_exact(n).zip(p[..m * n].chunks_exact_mut(n)) {
        let max = xr.iter().skip(1).fold(xr[0], |a, &b| a.max(b));
        let mut sum = S::ZERO;
        for (pi, &xi) in pr.iter_mut().zip(xr) {
            *pi = (xi - max).exp();
            sum += *pi;
        }
        let inv = S::ONE / sum;
        for pi in pr.iter_mut() {
            *pi *= inv;
        }
    }
}

/// Gradient of [`softmax`]: `dx = p * (g - sum(g * p))` per row.
pub fn softmax_back<S: Scalar>(m: usize, n: usize, p: &[S], g: &[S], dx: &mut [S]) {
    let rows = p[..m * n].chunks_exact(n).zip(g[..m * n].chunks_exact(n));
    for ((pr, gr), dr) in rows.zip(dx[..m * n].chunks_exact_mut(n)) {
        let dot = pr.iter().zip(gr).fold(S::ZERO, |a, (&p, &g)| a + p * g);
        for ((d, &p), &g) in dr.iter_mut().zip(pr).zip(gr) {
            *d = p * (g - dot);
        }
    }
}
