//! Multi-head scaled dot-product self-attention, as PyTorch's
//! `nn.MultiheadAttention` computes it between its in- and out-projections,
//! split in two steps so each has a simple adjoint.
//!
//! Each sample is `t` steps of `qkv = [q | k | v]`, `3 d` values a step
//! (the in-projection's output, in PyTorch's order); head `h` reads
//! columns `h dh .. (h + 1) dh` of each of `q`, `k`, `v`, with `dh = d /
//! heads`.
//!
//! - [`attention_scores`]: `p[h, i, :] = softmax_j(q_i . k_j / sqrt(dh))`,
//!   over `j <= i` only when causal (later steps get probability 0).
//! - [`attention_mix`]: `out[i, h] = sum_j p[h, i, j] v_j`, the heads side
//!   by side, `d` values a step.
//!
//! The adjoints: [`attention_mix_back_probs`] and
//! [`attention_mix_back_values`] (the two operands of the mix),
//! [`attention_scores_back`] (the softmax's, then the dot products'). Each
//! backward kernel writes all of `dqkv`, zeros in the parts it does not
//! reach; the graph sums the two contributions.

use crate::Scalar;

pub use chainrule_spec::Heads;

/// The lengths the kernels rely on; generated code derives them from the
/// same sizes, so a failure is a bug in the compiler.
fn check<S>(heads: Heads, m: usize, qkv: &[S], p: &[S]) {
    assert!(heads.heads > 0 && heads.d.is_multiple_of(heads.heads), "whole heads");
    assert!(qkv.len() >= m * heads.t * 3 * heads.d && p.len() >= m * heads.heads * heads.t * heads.t);
}

/// The attention probabilities of `m` samples: `p` is `[heads, t, t]` a sample.
///
/// # Example
/// ```
/// use chainrule::kernels::{Heads, attention_scores};
/// // One head of width 1, two steps: q = k = (1, 2), causal.
/// let heads = Heads { t: 2, d: 1, heads: 1, causal: true };
/// let qkv = [1.0f64, 1.0, 0.0, 2.0, 2.0, 0.0];
/// let mut p = [0.0; 4];
/// attention_scores(1, heads, &qkv, &mut p);
/// let second = 1.0 / (1.0 + (2.0f64).exp()); // softmax of (2, 4) at 2
/// assert_eq!(p[..2], [1.0, 0.0]);
/// assert!((p[2] - second).abs() < 1e-15 && (p[3] - (1.0 - second)).abs() < 1e-15);
/// ```
pub fn attention_scores<S: Scalar>(m: usize, heads: Heads, qkv: &[S], p: &mut [S]) {
    check(heads, m, qkv, p);
    let (t, d, dh) = (heads.t, heads.d, heads.head_len());
    let scale = S::ONE / S::of_f64(dh as f64).sqrt();
    for r in 0..m {
        let x = &qkv[r * t * 3 * d..][..t * 3 * d];
        for h in 0..heads.heads {
            for i in 0..t {
                let row = &mut p[((r * heads.heads + h) * t + i) * t..][..t];
                let q = &x[i * 3 * d + h * dh..][..dh];
                let seen = heads.visible(i);
                for (j, s) in row[..seen].iter_mut().enumerate() {
                    let k = &x[j * 3 * d + d + h * dh..][..dh];
                    *s = scale * q.iter().zip(k).fold(S::ZERO, |a, (&q, &k)| a + q * k);
                }
                let max = row[..seen].iter().fold(row[0], |a, &b| a.max(b));
                let mut sum = S::ZERO;
                for s in &mut row[..seen] {
                    *s = (*s - max).exp();
                    sum += *s;
                }
                let inv = S::ONE / sum;
                row[..seen].iter_mut().for_each(|s| *s *= inv);
                row[seen..].fill(S::ZERO);
            }
        }
    }
}

/// Gradient of [`attention_scores`] with respect to `qkv`, from the
/// probabilities `p` and their upstream gradient `dp`: the `q` and `k`
/// parts of `dqkv`; its `v` part is zero.
pub fn attention_scores_back<S: Scalar>(
    m: usize,
    heads: Heads,
    qkv: &[S],
    p: &[S],
    dp: &[S],
    dqkv: &mut [S],
) {
    check(heads, m, qkv, p);
    let (t, d, dh) = (heads.t, heads.d, heads.head_len());
    let scale = S::ONE / S::of_f64(dh as f64).sqrt();
    dqkv[..m * t * 3 * d].fill(S::ZERO);
    for r in 0..m {
        let x = &qkv[r * t * 3 * d..][..t * 3 * d];
        let dx = &mut dqkv[r * t * 3 * d..][..t * 3 * d];
        for h in 0..heads.heads {
            for i in 0..t {
                let at = ((r * heads.heads + h) * t + i) * t;
                let (pr, gr) = (&p[at..][..t], &dp[at..][..t]);
                let seen = heads.visible(i);
                // The softmax's adjoint, then the scale of the dot products.
                let dot = pr[..seen].iter().zip(&gr[..seen]).fold(S::ZERO, |a, (&p, &g)| a + p * g);
                for j in 0..seen {
                    let s = scale * pr[j] * (gr[j] - dot);
                    for c in 0..dh {
                        let (qi, kj) = (i * 3 * d + h * dh + c, j * 3 * d + d + h * dh + c);
                        dx[qi] += s * x[kj];
                        dx[kj] += s * x[qi];
                    }
                }
            }
        }
    }
}

/// The heads' mixes of the values, side by side: `out` is `[t, d]` a sample.
pub fn attention_mix<S: Scalar>(m: usize, heads: Heads, p: &[S], qkv: &[S], out: &mut [S]) {
    check(heads, m, qkv, p);
    let (t, d, dh) = (heads.t, heads.d, heads.head_len());
    for r in 0..m {
        let x = &qkv[r * t * 3 * d..][..t * 3 * d];
        let y = &mut out[r * t * d..][..t * d];
        y.fill(S::ZERO);
        for h in 0..heads.heads {
            for i in 0..t {
                let pr = &p[((r * heads.heads + h) * t + i) * t..][..t];
                let yi = &mut y[i * d + h * dh..][..dh];
                for (j, &pij) in pr[..heads.visible(i)].iter().enumerate() {
                    let v = &x[j * 3 * d + 2 * d + h * dh..][..dh];
                    yi.iter_mut().zip(v).for_each(|(y, &v)| *y += pij * v);
                }
            }
        }
    }
}

/// Gradient of [`attention_mix`] with respect to the probabilities:
/// `dp[h, i, j] = g_i . v_j` over head `h`'s columns (0 where masked).
pub fn attention_mix_back_probs<S: Scalar>(m: usize, heads: Heads, qkv: &[S], g: &[S], dp: &mut [S]) {
    check(heads, m, qkv, dp);
    let (t, d, dh) = (heads.t, heads.d, heads.head_len());
    for r in 0..m {
        let x = &qkv[r * t * 3 * d..][..t * 3 * d];
        let gr = &g[r * t * d..][..t * d];
        for h in 0..heads.heads {
            for i in 0..t {
                let row = &mut dp[((r * heads.heads + h) * t + i) * t..][..t];
                let gi = &gr[i * d + h * dh..][..dh];
                let seen = heads.visible(i);
                for (j, slot) in row[..seen].iter_mut().enumerate() {
                    let v = &x[j * 3 * d + 2 * d + h * dh..][..dh];
                    *slot = gi.iter().zip(v).fold(S::ZERO, |a, (&g, &v)| a + g * v);
                }
                row[seen..].fill(S::ZERO);
            }
        }
    }
}

/// Gradient of [`attention_mix`] with respect to `qkv`: the `v` part,
/// `dv_j = sum_i p[h, i, j] g_i` per head; the `q` and `k` parts are zero.
pub fn attention_mix_back_values<S: Scalar>(m: usize, heads: Heads, p: &[S], g: &[S], dqkv: &mut [S]) {
    check(heads, m, dqkv, p);
    let (t, d, dh) = (heads.t, heads.d, heads.head_len());
    dqkv[..m * t * 3 * d].fill(S::ZERO);
    for r in 0..m {
        let gr = &g[r * t * d..][..t * d];
        let dx = &mut dqkv[r * t * 3 * d..][..t * 3 * d];
        for h in 0..heads.heads {
            for i in 0..t {
                let pr = &p[((r * heads.heads + h) * t + i) * t..][..t];
                let gi = &gr[i * d + h * dh..][..dh];
                for (j, &pij) in pr[..heads.visible(i)].iter().enumerate() {
                    let dv = &mut dx[j * 3 * d + 2 * d + h * dh..][..dh];
                    dv.iter_mut().zip(gi).for_each(|(dv, &g)| *dv += pij * g);
                }
            }
        }
    }
}
