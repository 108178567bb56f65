//! Cross-entropy against class-index targets, plain and fused with softmax.
//!
//! `CrossEntropy(p, t) = -mean ln p[t]` on probabilities; its derivative is
//! `-g / (batch p[t])` at the target class (`CrossEntropyBack`). The
//! simplifier replaces softmax followed by cross-entropy with the fused
//! `SoftmaxCrossEntropy(z, t) = mean(logsumexp z - z[t])`, finite for any
//! logits, whose derivative is `g (p - onehot t) / batch`
//! (`SoftmaxCrossEntropyBack`, reading the saved softmax `p`).

use super::{Derivative, Rules, always};
use crate::codegen::{Ctx, rt};
use crate::ir::{Graph, NodeId, Op, Shape};
use proc_macro2::TokenStream;
use quote::quote;

pub const CROSS_ENTROPY: Rules = Rules {
    name: "cross_entropy",
    forward: "`-mean ln p[t]` on probabilities",
    derivative: Derivative::Vjp {
        formula: "`cross_entropy_back`: `-g / (batch p[t])` at `t`, else 0",
        build: vjp,
    },
    emit,
    without_std: always,
    #[cfg(test)]
    eval,
};
pub const CROSS_ENTROPY_BACK: Rules = Rules {
    name: "cross_entropy_back",
    forward: "`-g / (batch p[t])` at `t`, else 0",
    derivative: Derivative::BackwardOnly,
    emit,
    without_std: always,
    #[cfg(test)]
    eval,
};
pub const SOFTMAX_CROSS_ENTROPY: Rules = Rules {
    name: "softmax_cross_entropy",
    forward: "`mean(logsumexp z - z[t])`: softmax and cross-entropy fused, stable",
    derivative: Derivative::Vjp {
        formula: "`softmax_cross_entropy_back(softmax z, t, g) = g (p - onehot t) / batch`",
        build: vjp,
    },
    emit,
    without_std: always,
    #[cfg(test)]
    eval,
};
pub const SOFTMAX_CROSS_ENTROPY_BACK: Rules = Rules {
    name: "softmax_cross_entropy_back",
    forward: "`g (p - onehot t) / batch`",
    derivative: Derivative::BackwardOnly,
    emit,
    without_std: always,
    #[cfg(test)]
    eval,
};

pub fn cross_entropy(g: &mut Graph, p: NodeId, t: NodeId) -> NodeId {
    g.push(Op::CrossEntropy, vec![p, t], Shape::scalar())
}

fn vjp(g: &mut Graph, id: NodeId, upstream: NodeId, _: &[bool]) -> Vec<Option<NodeId>> {
    let (a, t) = (g.node(id).inputs[0], g.node(id).inputs[1]);
    let shape = g.shape(a).clone();
    let grad = match g.node(id).op {
        Op::CrossEntropy => g.push(Op::CrossEntropyBack, vec![a, t, upstream], shape),
        _ => {
            let p = super::softmax::softmax(g, a);
            g.push(Op::SoftmaxCrossEntropyBack, vec![p, t, upstream], shape)
        }
    };
    vec![Some(grad), None]
}

fn emit(ctx: &Ctx, g: &Graph, id: NodeId) -> TokenStream {
    let node = g.node(id);
    let rt = rt();
    let a = node.inputs[0];
    // A `[t, c]` value has a class per step: each row is one prediction.
    let (rows, n) = super::last_axis_rows(ctx, g.shape(a));
    let (src, t) = (ctx.read(a), ctx.read(node.inputs[1]));
    let kernel = match node.op {
        Op::CrossEntropy => quote!(cross_entropy),
        Op::SoftmaxCrossEntropy => quote!(softmax_cross_entropy),
        Op::CrossEntropyBack => quote!(cross_entropy_back),
        _ => quote!(softmax_cross_entropy_back),
    };
    if node.shape.is_scalar() {
        let (name, s) = (ctx.name(id), ctx.scalar);
        quote!(let #name: #s = #rt::kernels::#kernel(#rows, #n, #src, #t);)
    } else {
        let (up, dst) = (ctx.read(node.inputs[2]), ctx.write(id));
        quote!(#rt::kernels::#kernel(#rows, #n, #src, #t, #up, #dst);)
    }
}

#[cfg(test)]
fn eval(v: &super::eval::Values, g: &Graph, id: NodeId) -> Vec<f64> {
    let node = g.node(id);
    let shape = g.shape(node.inputs[0]);
    // One prediction per row of the last axis: per sample, or per step.
    let n = *shape.dims.last().expect("classes along an axis");
    let rows = v.batch * shape.len() / n;
    let (a, t) = (v.of(node.inputs[0]), v.of(node.inputs[1]));
    let count = rows as f64;
    let class = |r: usize| t[r] as usize;
    match node.op {
        Op::CrossEntropy => vec![-(0..rows).map(|r| a[r * n + class(r)].ln()).sum::<f64>() / count],
        Op::SoftmaxCrossEntropy => {
            let ln_p = |r: usize| super::softmax::probabilities(&a[r * n..][..n])[class(r)].ln();
            vec![-(0..rows).map(ln_p).sum::<f64>() / count]
        }
        Op::CrossEntropyBack => {
            let up = v.of(node.inputs[2])[0];
            (0..rows * n).map(|e| if e % n == class(e / n) { -up / (count * a[e]) } else { 0.0 }).collect()
        }
        _ => {
            let up = v.of(node.inputs[2])[0];
            (0..rows * n).map(|e| up * (a[e] - f64::from(u8::from(e % n == class(e / n)))) / count).collect()
        }
    }
}
