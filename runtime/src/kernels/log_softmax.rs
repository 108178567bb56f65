//! Log-softmax over each sample's features, and its vector-Jacobian product.
//!
//! Forward: `ls_i = x_i - logsumexp(x)`, with the maximum subtracted inside
//! the sum, finite for any input. Backward from the saved output:
//! `dx_i = g_i - exp(ls_i) * sum_j g_j`.

use crate::Scalar;

/// Row-wise log-softmax of `x` (`m x n`) into `out`.
///
/// # Example
/// ```
/// let mut out = [0.0f64; 2];
/// chainrule::kernels::log_softmax(1, 2, &[1000.0, 1000.0], &mut out);
/// // Finite for huge inputs, and exact up to the rounding of 1000 + ln 2.
/// assert!(out.iter().all(|v| (v + 2f64.ln()).abs() < 1e-12));
/// ```
pub fn log_softmax<S: Scalar>(m: usize, n: usize, x: &[S], out: &mut [S]) {
    for (xr, or) in x[..m * n].chunks_exact(n).zip(out[..m * n].chunks_exact_mut(n)) {
        let max = xr.iter().skip(1).fold(xr[0], |a, &b| a.max(b));
        let lse = max + xr.iter().fold(S::ZERO, |a, &v| a + (v - max).exp()).ln();
        for (o, &v) in or.iter_mut().zip(xr) {
            *o = v - lse;
        }
    }
}

/// Gradient of [`log_softmax`]: `dx = g - exp(ls) * sum(g)` per row.
pub fn log_softmax_back<S: Scalar>(m: usize, n: usize, ls: &[S], g: &[S], dx: &mut [S]) {
    let rows = ls[..m * n].chunks_exact(n).zip(g[..m * n].chunks_exact(n));
    for ((lr, gr), dr) in rows.zip(dx[..m * n].chunks_exact_mut(n)) {
        let total = gr.iter().fold(S::ZERO, |a, &v| a + v);
        for ((d, &l), &gv) in dr.iter_mut().zip(lr).zip(gr) {
            *d = gv - l.exp() * total;
        }
    }
}
