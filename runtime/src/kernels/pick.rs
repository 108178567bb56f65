//! Selecting the target class's value of each sample, and the reverse.
//!
//! `pick` gathers `y[r, t_r]` into one value per sample; its gradient,
//! `scatter`, puts each sample's upstream value back at its target class
//! and zeros elsewhere. Class indices are validated before any kernel runs.

use crate::Scalar;

/// `out[r] = y[r, t[r]]` for `y` of `m x n`.
///
/// # Example
/// ```
/// let mut out = [0.0f32; 2];
/// chainrule::kernels::pick(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 0], &mut out);
/// assert_eq!(out, [3.0, 4.0]);
/// ```
pub fn pick<S: Scalar>(m: usize, n: usize, y: &[S], t: &[usize], out: &mut [S]) {
    for ((row, &c), o) in y[..m * n].chunks_exact(n).zip(t).zip(&mut out[..m]) {
        *o = row[c];
    }
}

/// Gradient of [`pick`]: `dy[r, j] = g[r]` where `j = t[r]`, else 0.
///
/// # Example
/// ```
/// let mut dy = [9.0f32; 4];
/// chainrule::kernels::scatter(2, 2, &[1.5, -1.0], &[1, 0], &mut dy);
/// assert_eq!(dy, [0.0, 1.5, -1.0, 0.0]);
/// ```
pub fn scatter<S: Scalar>(m: usize, n: usize, g: &[S], t: &[usize], dy: &mut [S]) {
    for ((row, &c), &v) in dy[..m * n].chunks_exact_mut(n).zip(t).zip(&g[..m]) {
        row.fill(S::ZERO);
        row[c] = v;
    }
}
