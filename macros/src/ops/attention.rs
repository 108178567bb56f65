//! Multi-head self-attention between its projections, in three steps:
//! `AttentionLogits(qkv)`, each head's `q k^T / sqrt(dh)` (`[heads, t, t]`
//! a sample, `-inf` at the pairs a causal mask hides), a `Softmax` over
//! each row (the softmax op), and `AttentionMix(p, qkv)`, each head's
//! probabilities times its values, the heads side by side (`[t, d]`).
//! `qkv` is `[t, 3d]`: the in-projection's output, `q`, `k` and `v` side
//! by side as PyTorch orders them.
//!
//! Local derivatives: the logits' adjoint `AttentionLogitsBack(qkv, g)`
//! gives the `q` and `k` parts of `dqkv` (`g k / sqrt(dh)`, `g^T q /
//! sqrt(dh)`; masked pairs get no gradient, as the softmax's adjoint
//! gives them none); the mix is bilinear, so its adjoints are
//! `AttentionMixBackProbs(qkv, g)` (`g . v` per pair of steps) and
//! `AttentionMixBackValues(p, g)` (`p^T g`, the `v` part). The graph sums
//! the contributions to `dqkv`.

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

pub const LOGITS: Rules = rules(
    "attention_logits",
    "`q_i . k_j / sqrt(dh)` per head, `-inf` for `j > i` when causal",
    Derivative::Vjp {
        formula: "`attention_logits_back(qkv, g)`: `g k / sqrt(dh)` to `q`, `g^T q / sqrt(dh)` to `k`",
        build: logits_vjp,
    },
);
pub const LOGITS_BACK: Rules = rules(
    "attention_logits_back",
    "`dq_i = sum_j g_ij k_j / sqrt(dh)`, `dk_j = sum_i g_ij q_i / sqrt(dh)`",
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
    let logits = g.push(Op::AttentionLogits(sizes), vec![qkv], Shape::batched(&[heads, t, t]));
    let p = super::softmax::softmax(g, logits);
    g.push(Op::AttentionMix(sizes), vec![p, qkv], Shape::batched(&[t, sizes.d]))
}

fn sizes(g: &Graph, id: NodeId) -> Heads {
    match g.node(id).op {
        Op::AttentionLogits(h)
        | Op::AttentionLogitsBack(h)
        | Op::AttentionMix(h)
        | Op::AttentionMixBackProbs(h)
        | Op::AttentionMixBackValues(h) => h,
        _ => unreachable!("an attention op"),
    }
}

fn logits_vjp(g: &mut Graph, id: NodeId, upstream: NodeId, _: &[bool]) -> Vec<Option<NodeId>> {
    let qkv = g.node(id).inputs[0];
    let shape = g.shape(qkv).clone();
    vec![Some(g.push(Op::AttentionLogitsBack(sizes(g, id)), vec![qkv, upstream], shape))]
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
        Op::AttentionLogits(_) => quote!(attention_logits),
        Op::AttentionLogitsBack(_) => quote!(attention_logits_back),
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
                    Op::AttentionLogits(_) => {
                        let x = operand(0);
                        for j in 0..t {
                            out[((r * h.heads + a) * t + i) * t + j] = if j < seen {
                                scale
                                    * (0..dh)
                                        .map(|c| qkv_at(x, 0, i, a, c) * qkv_at(x, 1, j, a, c))
                                        .sum::<f64>()
                            } else {
                                f64::NEG_INFINITY
                            };
                        }
                    }
                    Op::AttentionLogitsBack(_) => {
                        let (x, up) = (operand(0), operand(1));
                        for j in 0..seen {
                            let gij = p_at(up, a, i, j) * scale;
                            for c in 0..dh {
                                out[r * t * 3 * d + i * 3 * d + a * dh + c] += gij * qkv_at(x, 1, j, a, c);
                                out[r * t * 3 * d + j * 3 * d + d + a * dh + c] +=
                                    gij * qkv_at(x, 0, i, a, c);
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
