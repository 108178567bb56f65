//! Multi-head self-attention between its projections, in two ops:
//! `AttentionScores(qkv)`, the probabilities `softmax(q k^T / sqrt(dh))`
//! of each head (`[heads, t, t]` a sample, causal or not), and
//! `AttentionMix(p, qkv)`, each head's probabilities times its values, the
//! heads side by side (`[t, d]`). `qkv` is `[t, 3d]`: the in-projection's
//! output, `q`, `k` and `v` side by side as PyTorch orders them.
//!
//! Local derivatives: the mix is bilinear, so its adjoints are
//! `AttentionMixBackProbs(qkv, g)` (`g . v` per pair of steps) and
//! `AttentionMixBackValues(p, g)` (`p^T g`, the `v` part of `dqkv`); the
//! scores' adjoint `AttentionScoresBack(qkv, p, dp)` is the softmax's
//! followed by the dot products' (the `q` and `k` parts). The graph sums
//! the two contributions to `dqkv`.

use super::{Derivative, Rules, always};
use crate::codegen::{Ctx, rt};
use crate::ir::{Graph, NodeId, Op, Shape};
use chainrule_spec::Heads;
use proc_macro2::TokenStream;
use quote::quote;

const fn rules(name: &'static str, forward: &'static str, derivative: Derivative) -> Rules {
    Rules {
        name,
        forward,
        derivative,
        emit,
        without_std: always,
        #[cfg(test)]
        eval,
    }
}

pub const SCORES: Rules = rules(
    "attention_scores",
    "`softmax_j(q_i . k_j / sqrt(dh))` per head, `j <= i` when causal",
    Derivative::Vjp {
        formula: "`attention_scores_back(qkv, p, g)`: the softmax's adjoint, then `q` and `k`'s",
        build: scores_vjp,
    },
);
pub const SCORES_BACK: Rules = rules(
    "attention_scores_back",
    "`dq_i = sum_j ds_ij k_j`, `dk_j = sum_i ds_ij q_i` with `ds = p (g - sum(p g)) / sqrt(dh)`",
    Derivative::BackwardOnly,
);
pub const MIX: Rules = rules(
    "attention_mix",
    "`sum_j p_ij v_j` per head, heads side by side",
    Derivative::Vjp {
        formula: "p: `attention_mix_back_probs(qkv, g)`; qkv: `attention_mix_back_values(p, g)`",
        build: mix_vjp,
    },
);
pub const MIX_BACK_PROBS: Rules =
    rules("attention_mix_back_probs", "`g_i . v_j` per head", Derivative::BackwardOnly);
pub const MIX_BACK_VALUES: Rules =
    rules("attention_mix_back_values", "`dv_j = sum_i p_ij g_i` per head", Derivative::BackwardOnly);

/// The attention of `qkv` (`[t, 3d]` a sample): its probabilities and the
/// mix they give, `[t, d]`.
pub fn attention(g: &mut Graph, qkv: NodeId, heads: usize, causal: bool) -> NodeId {
    let [t, three_d] = g.shape(qkv).dims[..] else { unreachable!("attention reads [t, 3d]") };
    let sizes = Heads { t, d: three_d / 3, heads, causal };
    let p = g.push(Op::AttentionScores(sizes), vec![qkv], Shape::batched(&[heads, t, t]));
    g.push(Op::AttentionMix(sizes), vec![p, qkv], Shape::batched(&[t, sizes.d]))
}

fn sizes(g: &Graph, id: NodeId) -> Heads {
    match g.node(id).op {
        Op::AttentionScores(h)
        | Op::AttentionScoresBack(h)
        | Op::AttentionMix(h)
        | Op::AttentionMixBackProbs(h)
        | Op::AttentionMixBackValues(h) => h,
        _ => unreachable!("an attention op"),
    }
}

fn scores_vjp(g: &mut Graph, id: NodeId, upstream: NodeId, _: &[bool]) -> Vec<Option<NodeId>> {
    let qkv = g.node(id).inputs[0];
    let shape = g.shape(qkv).clone();
    vec![Some(g.push(Op::AttentionScoresBack(sizes(g, id)), vec![qkv, id, upstream], shape))]
}

fn mix_vjp(g: &mut Graph, id: NodeId, upstream: NodeId, wants: &[bool]) -> Vec<Option<NodeId>> {
    let (p, qkv) = (g.node(id).inputs[0], g.node(id).inputs[1]);
    let h = sizes(g, id);
    let probs = wants[0].then(|| {
        let shape = g.shape(p).clone();
        g.push(Op::AttentionMixBackProbs(h), vec![qkv, upstream], shape)
    });
    let values = wants[1].then(|| {
        let shape = g.shape(qkv).clone();
        g.push(Op::AttentionMixBackValues(h), vec![p, upstream], shape)
    });
    vec![probs, values]
}

fn emit(ctx: &Ctx, g: &Graph, id: NodeId) -> TokenStream {
    let node = g.node(id);
    let rt = rt();
    let Heads { t, d, heads, causal } = sizes(g, id);
    let sizes = quote!(#rt::kernels::Heads { t: #t, d: #d, heads: #heads, causal: #causal });
    let rows = ctx.rows();
    let args: Vec<TokenStream> = node.inputs.iter().map(|&i| ctx.read(i)).collect();
    let dst = ctx.write(id);
    let kernel = match node.op {
        Op::AttentionScores(_) => quote!(attention_scores),
        Op::AttentionScoresBack(_) => quote!(attention_scores_back),
        Op::AttentionMix(_) => quote!(attention_mix),
        Op::AttentionMixBackProbs(_) => quote!(attention_mix_back_probs),
        _ => quote!(attention_mix_back_values),
    };
    quote!(#rt::kernels::#kernel(#rows, #sizes, #(#args,)* #dst);)
}

/// The reference semantics in `f64`, written from the definitions (one
/// head, one pair of steps at a time) rather than from the kernels.
#[cfg(test)]
fn eval(v: &super::eval::Values, g: &Graph, id: NodeId) -> Vec<f64> {
    let node = g.node(id);
    let h = sizes(g, id);
    let (t, d, dh) = (h.t, h.d, h.head_len());
    let scale = 1.0 / (dh as f64).sqrt();
    let mut out = vec![0.0; v.batch * node.shape.len()];
    let operand = |k: usize| v.of(node.inputs[k]);
    for r in 0..v.batch {
        // Column `c` of head `a`'s `q` (part 0), `k` (1) or `v` (2) at step `i`.
        let qkv_at = |x: &[f64], part: usize, i: usize, a: usize, c: usize| {
            x[r * t * 3 * d + i * 3 * d + part * d + a * dh + c]
        };
        let p_at = |p: &[f64], a: usize, i: usize, j: usize| p[((r * h.heads + a) * t + i) * t + j];
        for a in 0..h.heads {
            for i in 0..t {
                let seen = h.visible(i);
                match node.op {
                    Op::AttentionScores(_) => {
                        let x = operand(0);
                        let s: Vec<f64> = (0..seen)
                            .map(|j| {
                                scale
                                    * (0..dh)
                                        .map(|c| qkv_at(x, 0, i, a, c) * qkv_at(x, 1, j, a, c))
                                        .sum::<f64>()
                            })
                            .collect();
                        let total: f64 = s.iter().map(|s| s.exp()).sum();
                        for (j, s) in s.iter().enumerate() {
                            out[((r * h.heads + a) * t + i) * t + j] = s.exp() / total;
                        }
                    }
                    Op::AttentionScoresBack(_) => {
                        let (x, p, dp) = (operand(0), operand(1), operand(2));
                        let dot: f64 = (0..seen).map(|j| p_at(p, a, i, j) * p_at(dp, a, i, j)).sum();
                        for j in 0..seen {
                            let ds = scale * p_at(p, a, i, j) * (p_at(dp, a, i, j) - dot);
                            for c in 0..dh {
                                out[r * t * 3 * d + i * 3 * d + a * dh + c] += ds * qkv_at(x, 1, j, a, c);
                                out[r * t * 3 * d + j * 3 * d + d + a * dh + c] += ds * qkv_at(x, 0, i, a, c);
                            }
                        }
                    }
                    Op::AttentionMix(_) => {
                        let (p, x) = (operand(0), operand(1));
                        for c in 0..dh {
                            out[r * t * d + i * d + a * dh + c] =
                                (0..seen).map(|j| p_at(p, a, i, j) * qkv_at(x, 2, j, a, c)).sum();
                        }
                    }
                    Op::AttentionMixBackProbs(_) => {
                        let (x, up) = (operand(0), operand(1));
                        for j in 0..seen {
                            out[((r * h.heads + a) * t + i) * t + j] = (0..dh)
                                .map(|c| up[r * t * d + i * d + a * dh + c] * qkv_at(x, 2, j, a, c))
                                .sum();
                        }
                    }
                    _ => {
                        let (p, up) = (operand(0), operand(1));
                        for j in 0..seen {
                            for c in 0..dh {
                                out[r * t * 3 * d + j * 3 * d + 2 * d + a * dh + c] +=
                                    p_at(p, a, i, j) * up[r * t * d + i * d + a * dh + c];
                            }
                        }
                    }
                }
            }
        }
    }
    out
}
