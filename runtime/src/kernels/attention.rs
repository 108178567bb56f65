//! Multi-head scaled dot-product self-attention, as PyTorch's
//! `nn.MultiheadAttention` computes it between its in- and out-projections,
//! in steps that each have a simple adjoint: the logits, a softmax over
//! each row (the softmax kernels), and the mix.
//!
//! Each sample is `t` steps of `qkv = [q | k | v]`, `3 d` values a step
//! (the in-projection's output, in PyTorch's order); head `h` reads
//! columns `h dh .. (h + 1) dh` of each of `q`, `k`, `v`, with `dh = d /
//! heads`. Probabilities and logits are `[heads, t, t]` a sample.
//!
//! - [`attention_logits`]: `q_i . k_j / sqrt(dh)`, or `-inf` for `j > i`
//!   when causal, so that the softmax gives those pairs probability 0;
//! - [`attention_mix`]: `out[i, h] = sum_j p[h, i, j] v_j`, the heads side
//!   by side, `d` values a step.
//!
//! Their adjoints (training, `std` only): [`attention_logits_back`] (the
//! `q` and `k` parts of `dqkv`), [`attention_mix_back_probs`] and
//! [`attention_mix_back_values`] (the `v` part). Each backward kernel
//! writes all of `dqkv`, zeros in the parts it does not reach; the graph
//! sums the contributions.
//!
//! With `std` every product is a call of the packed GEMM on one head of
//! one sample, reading `q`, `k` and `v` in place through strides; without
//! it (batch-1 inference on embedded targets) the forward kernels are
//! plain loops, which a test holds to the GEMM path.

use crate::Scalar;
pub use chainrule_spec::Heads;

/// The lengths the kernels rely on; generated code derives them from the
/// same sizes, so a failure is a bug in the compiler.
fn check<S>(heads: Heads, m: usize, qkv: &[S], p: &[S]) {
    assert!(heads.heads > 0 && heads.d.is_multiple_of(heads.heads), "whole heads");
    assert!(qkv.len() >= m * heads.t * 3 * heads.d && p.len() >= m * heads.heads * heads.t * heads.t);
}

/// `1 / sqrt(dh)`.
fn scale<S: Scalar>(heads: Heads) -> S {
    S::ONE / S::of_f64(heads.head_len() as f64).sqrt()
}

/// The attention logits of `m` samples, `-inf` where the mask hides a pair.
///
/// # Example
/// ```
/// use chainrule::kernels::{Heads, attention_logits};
/// // One head of width 1, two steps: q = k = (1, 2), causal.
/// let heads = Heads { t: 2, d: 1, heads: 1, causal: true };
/// let qkv = [1.0f64, 1.0, 0.0, 2.0, 2.0, 0.0];
/// let mut logits = [0.0; 4];
/// attention_logits(1, heads, &qkv, &mut logits);
/// assert_eq!(logits, [1.0, f64::NEG_INFINITY, 2.0, 4.0]);
/// ```
pub fn attention_logits<S: Scalar>(m: usize, heads: Heads, qkv: &[S], logits: &mut [S]) {
    check(heads, m, qkv, logits);
    #[cfg(feature = "std")]
    products::logits(m, heads, qkv, logits);
    #[cfg(not(feature = "std"))]
    loops::logits(m, heads, qkv, logits);
    if heads.causal {
        let t = heads.t;
        for row in logits[..m * heads.heads * t * t].chunks_exact_mut(t).enumerate() {
            let (i, row) = (row.0 % t, row.1);
            row[heads.visible(i)..].fill(S::of_f64(f64::NEG_INFINITY));
        }
    }
}

/// The heads' mixes of the values, side by side: `out` is `[t, d]` a
/// sample. Probabilities of masked pairs are 0, as the softmax leaves them.
pub fn attention_mix<S: Scalar>(m: usize, heads: Heads, p: &[S], qkv: &[S], out: &mut [S]) {
    check(heads, m, qkv, p);
    #[cfg(feature = "std")]
    products::mix(m, heads, p, qkv, out);
    #[cfg(not(feature = "std"))]
    loops::mix(m, heads, p, qkv, out);
}

#[cfg(feature = "std")]
pub use products::{attention_logits_back, attention_mix_back_probs, attention_mix_back_values};

/// The products of each head of each sample, by the packed GEMM.
#[cfg(feature = "std")]
mod products {
    use super::{Heads, check, scale};
    use crate::Scalar;
    use crate::kernels::gemm;

    /// The offsets of sample `r`'s `qkv` and head `h`'s `q`, `k`, `v`
    /// columns, its `[t, t]` block of logits or probabilities, and its
    /// columns of a `[t, d]` value.
    struct At {
        q: usize,
        k: usize,
        v: usize,
        block: usize,
        out: usize,
    }

    fn each_head(m: usize, heads: Heads, mut f: impl FnMut(At)) {
        let (t, d, dh) = (heads.t, heads.d, heads.head_len());
        for r in 0..m {
            for h in 0..heads.heads {
                let base = r * t * 3 * d + h * dh;
                let block = (r * heads.heads + h) * t * t;
                f(At { q: base, k: base + d, v: base + 2 * d, block, out: r * t * d + h * dh });
            }
        }
    }

    pub(super) fn logits<S: Scalar>(m: usize, heads: Heads, qkv: &[S], logits: &mut [S]) {
        let (t, d3, dh) = (heads.t, 3 * heads.d, heads.head_len());
        each_head(m, heads, |at| {
            // q k^T: k read transposed in place (rows along its columns).
            let (q, k) = ((&qkv[at.q..], d3, 1), (&qkv[at.k..], 1, d3));
            gemm(t, dh, t, scale(heads), q, k, S::ZERO, (&mut logits[at.block..], t, 1));
        });
    }

    pub(super) fn mix<S: Scalar>(m: usize, heads: Heads, p: &[S], qkv: &[S], out: &mut [S]) {
        let (t, d, dh) = (heads.t, heads.d, heads.head_len());
        each_head(m, heads, |at| {
            let (p, v) = ((&p[at.block..], t, 1), (&qkv[at.v..], 3 * d, 1));
            gemm(t, t, dh, S::ONE, p, v, S::ZERO, (&mut out[at.out..], d, 1));
        });
    }

    /// Gradient of [`super::attention_logits`] with respect to `qkv` from
    /// the logits' upstream gradient `g`: `dq_i = sum_j g_ij k_j /
    /// sqrt(dh)`, `dk_j = sum_i g_ij q_i / sqrt(dh)`; the `v` part is zero.
    /// Masked pairs must have `g = 0` (as the softmax's adjoint gives them,
    /// their probability being 0).
    pub fn attention_logits_back<S: Scalar>(m: usize, heads: Heads, qkv: &[S], g: &[S], dqkv: &mut [S]) {
        check(heads, m, qkv, g);
        let (t, d3, dh) = (heads.t, 3 * heads.d, heads.head_len());
        dqkv[..m * t * d3].fill(S::ZERO);
        each_head(m, heads, |at| {
            let (g_rows, g_cols) = ((&g[at.block..], t, 1), (&g[at.block..], 1, t));
            let (q, k) = ((&qkv[at.q..], d3, 1), (&qkv[at.k..], d3, 1));
            gemm(t, t, dh, scale(heads), g_rows, k, S::ZERO, (&mut dqkv[at.q..], d3, 1));
            gemm(t, t, dh, scale(heads), g_cols, q, S::ZERO, (&mut dqkv[at.k..], d3, 1));
        });
    }

    /// Gradient of [`super::attention_mix`] with respect to the
    /// probabilities: `dp[h, i, j] = g_i . v_j` over head `h`'s columns, 0
    /// where the mask hides the pair.
    pub fn attention_mix_back_probs<S: Scalar>(m: usize, heads: Heads, qkv: &[S], g: &[S], dp: &mut [S]) {
        check(heads, m, qkv, dp);
        let (t, d, dh) = (heads.t, heads.d, heads.head_len());
        each_head(m, heads, |at| {
            let (g, v) = ((&g[at.out..], d, 1), (&qkv[at.v..], 1, 3 * d));
            gemm(t, dh, t, S::ONE, g, v, S::ZERO, (&mut dp[at.block..], t, 1));
            if heads.causal {
                for (i, row) in dp[at.block..][..t * t].chunks_exact_mut(t).enumerate() {
                    row[heads.visible(i)..].fill(S::ZERO);
                }
            }
        });
    }

    /// Gradient of [`super::attention_mix`] with respect to `qkv`: the `v`
    /// part, `dv_j = sum_i p[h, i, j] g_i` per head; `q` and `k` parts zero.
    pub fn attention_mix_back_values<S: Scalar>(m: usize, heads: Heads, p: &[S], g: &[S], dqkv: &mut [S]) {
        check(heads, m, dqkv, p);
        let (t, d, dh) = (heads.t, heads.d, heads.head_len());
        dqkv[..m * t * 3 * d].fill(S::ZERO);
        each_head(m, heads, |at| {
            // p^T g: p read transposed in place.
            let (p, g) = ((&p[at.block..], 1, t), (&g[at.out..], d, 1));
            gemm(t, t, dh, S::ONE, p, g, S::ZERO, (&mut dqkv[at.v..], 3 * d, 1));
        });
    }
}

/// The forward kernels as plain loops, for builds without `std`.
#[cfg_attr(feature = "std", allow(dead_code))]
mod loops {
    use super::{Heads, scale};
    use crate::Scalar;

    pub(super) fn logits<S: Scalar>(m: usize, heads: Heads, qkv: &[S], logits: &mut [S]) {
        let (t, d, dh) = (heads.t, heads.d, heads.head_len());
        let scale: S = scale(heads);
        for r in 0..m {
            let x = &qkv[r * t * 3 * d..][..t * 3 * d];
            for h in 0..heads.heads {
                for i in 0..t {
                    let row = &mut logits[((r * heads.heads + h) * t + i) * t..][..t];
                    let q = &x[i * 3 * d + h * dh..][..dh];
                    for (j, s) in row.iter_mut().enumerate() {
                        let k = &x[j * 3 * d + d + h * dh..][..dh];
                        *s = scale * q.iter().zip(k).fold(S::ZERO, |a, (&q, &k)| a + q * k);
                    }
                }
            }
        }
    }

    pub(super) fn mix<S: Scalar>(m: usize, heads: Heads, p: &[S], qkv: &[S], out: &mut [S]) {
        let (t, d, dh) = (heads.t, heads.d, heads.head_len());
        for r in 0..m {
            let x = &qkv[r * t * 3 * d..][..t * 3 * d];
            let y = &mut out[r * t * d..][..t * d];
            y.fill(S::ZERO);
            for h in 0..heads.heads {
                for i in 0..t {
                    let pr = &p[((r * heads.heads + h) * t + i) * t..][..t];
                    let yi = &mut y[i * d + h * dh..][..dh];
                    for (j, &pij) in pr.iter().enumerate() {
                        let v = &x[j * 3 * d + 2 * d + h * dh..][..dh];
                        yi.iter_mut().zip(v).for_each(|(y, &v)| *y += pij * v);
                    }
                }
            }
        }
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    /// The loops of builds without `std` and the GEMM path agree.
    #[test]
    fn the_loops_compute_what_the_products_do() {
        let heads = Heads { t: 5, d: 6, heads: 3, causal: false };
        let values = |n: usize, seed: f64| -> Vec<f64> { (0..n).map(|i| (i as f64 * seed).sin()).collect() };
        let (qkv, p) = (values(2 * 5 * 18, 0.7), values(2 * 3 * 25, 1.3));
        let (mut a, mut b) = (vec![0.0; 2 * 3 * 25], vec![0.0; 2 * 3 * 25]);
        products::logits(2, heads, &qkv, &mut a);
        loops::logits(2, heads, &qkv, &mut b);
        assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-12));
        let (mut a, mut b) = (vec![0.0; 2 * 5 * 6], vec![0.0; 2 * 5 * 6]);
        products::mix(2, heads, &p, &qkv, &mut a);
        loops::mix(2, heads, &p, &qkv, &mut b);
        assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-12));
    }
}
