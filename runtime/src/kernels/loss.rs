//! Cross-entropy with class-index targets, alone and fused with softmax.
//!
//! All losses are means over the batch, as PyTorch's default reduction.
//! Class indices are validated by the generated code before any kernel runs,
//! so indexing here cannot go out of range.
//!
//! The fused pair is what the simplifier substitutes for softmax followed by
//! cross-entropy: the loss becomes `mean(logsumexp(z) - z[t])`, finite for
//! any logits, and its gradient collapses to `(p - onehot(t)) / m`.

use crate::Scalar;

/// `-(1/m) * sum_r ln p[r, t_r]` for probabilities `p` (`m x n`).
///
/// # Example
/// ```
/// let p = [0.25f64, 0.75];
/// let loss = chainrule::kernels::cross_entropy(1, 2, &p, &[1]);
/// assert!((loss - -(0.75f64.ln())).abs() < 1e-15);
/// ```
pub fn cross_entropy<S: Scalar>(m: usize, n: usize, p: &[S], t: &[usize]) -> S {
    let total = p[..m * n].chunks_exact(n).zip(t).fold(S::ZERO, |acc, (row, &c)| acc - row[c].ln());
    total / S::of_f64(m as f64)
}

/// Gradient of [`cross_entropy`] with respect to `p`, scaled by the upstream `g`.
pub fn cross_entropy_back<S: Scalar>(m: usize, n: usize, p: &[S], t: &[usize], g: S, dp: &mut [S]) {
    let scale = g / S::of_f64(m as f64);
    for ((row, d), &c) in p[..m * n].chunks_exact(n).zip(dp[..m * n].chunks_exact_mut(n)).zip(t) {
        d.fill(S::ZERO);
        d[c] = -scale / row[c];
    }
}

/// Softmax followed by cross-entropy, from logits `z` (`m x n`):
/// `(1/m) * sum_r (logsumexp(z_r) - z[r, t_r])`.
///
/// # Example
/// ```
/// // Huge logits stay finite.
/// let loss = chainrule::kernels::softmax_cross_entropy(1, 2, &[1000.0f32, 0.0], &[1]);
/// assert_eq!(loss, 1000.0);
/// ```
pub fn softmax_cross_entropy<S: Scalar>(m: usize, n: usize, z: &[S], t: &[usize]) -> S {
    let total = z[..m * n].chunks_exact(n).zip(t).fold(S::ZERO, |acc, (row, &c)| {
        let max = row.iter().skip(1).fold(row[0], |a, &b| a.max(b));
        let sum = row.iter().fold(S::ZERO, |a, &v| a + (v - max).exp());
        acc + (max + sum.ln() - row[c])
    });
    total / S::of_f64(m as f64)
}

/// Gradient of [`softmax_cross_entropy`] given the softmax `p` of the logits:
/// `dz = g * (p - onehot(t)) / m`.
pub fn softmax_cross_entropy_back<S: Scalar>(m: usize, n: usize, p: &[S], t: &[usize], g: S, dz: &mut [S]) {
    let scale = g / S::of_f64(m as f64);
    for ((row, d), &c) in p[..m * n].chunks_exact(n).zip(dz[..m * n].chunks_exact_mut(n)).zip(t) {
        for (di, &pi) in d.iter_mut().zip(row) {
            *di = scale * pi;
        }
        d[c] -= scale;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::{softmax, softmax_back};

    const LOGITS: [f64; 8] = [0.3, -1.2, 2.0, 0.1, -0.5, 0.7, 1.5, -2.0];
    const TARGETS: [usize; 2] = [2, 0];

    /// The unfused chain, softmax then cross-entropy, as a function of logits.
    fn unfused_loss(z: &[f64]) -> f64 {
        let mut p = [0.0; 8];
        softmax(2, 4, z, &mut p);
        cross_entropy(2, 4, &p, &TARGETS)
    }

    fn finite_difference(f: impl Fn(&[f64]) -> f64, at: &[f64]) -> Vec<f64> {
        (0..at.len())
            .map(|i| {
                let (mut up, mut down) = (at.to_vec(), at.to_vec());
                up[i] += 1e-6;
                down[i] -= 1e-6;
                (f(&up) - f(&down)) / 2e-6
            })
            .collect()
    }

    fn assert_close(a: &[f64], b: &[f64]) {
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() <= 1e-7 + 1e-5 * y.abs(), "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn softmax_and_cross_entropy_backward_match_finite_differences() {
        let mut p = [0.0; 8];
        softmax(2, 4, &LOGITS, &mut p);
        let (mut dp, mut dz) = ([0.0; 8], [0.0; 8]);
        cross_entropy_back(2, 4, &p, &TARGETS, 1.0, &mut dp);
        softmax_back(2, 4, &p, &dp, &mut dz);
        assert_close(&dz, &finite_difference(unfused_loss, &LOGITS));
    }

    #[test]
    fn fused_and_unfused_agree() {
        let fused = softmax_cross_entropy(2, 4, &LOGITS, &TARGETS);
        assert!((fused - unfused_loss(&LOGITS)).abs() < 1e-12);
        let mut p = [0.0; 8];
        softmax(2, 4, &LOGITS, &mut p);
        let mut dz = [0.0; 8];
        softmax_cross_entropy_back(2, 4, &p, &TARGETS, 1.0, &mut dz);
        let numeric = finite_difference(|z| softmax_cross_entropy(2, 4, z, &TARGETS), &LOGITS);
        assert_close(&dz, &numeric);
    }

    #[test]
    fn fused_loss_is_finite_where_the_unfused_one_is_not() {
        // exp(-800) underflows f64, so the unfused loss takes ln(0).
        let z = [800.0, -800.0, 0.0, 1.0];
        assert!(unfused_loss(&[z, z].concat()).is_infinite());
        let fused = softmax_cross_entropy(1, 4, &z, &[1]);
        assert!((fused - 1600.0).abs() < 1e-9, "{fused}");
    }
}
