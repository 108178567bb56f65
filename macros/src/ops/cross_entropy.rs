//! Cross-entropy against class-index targets, plain and fused with softmax.
//!
//! `CrossEntropy(p, t) = -mean ln p[t]` on probabilities; its derivative is
//! `-g / (batch p[t])` at the target class (`CrossEntropyBack`). The
//! simplifier replaces softmax followed by cross-entropy with the fused
//! `SoftmaxCrossEntropy(z, t) = mean(logsumexp z - z[t])`, finite for any
//! logits, whose derivative is `g (p - onehot t) / batch`
//! (`SoftmaxCrossEntropyBack`, reading the saved softmax `p`).

use super::Op;
use crate::emit::body::{Ctx, rt};
use crate::ir::{Graph, NodeId, Shape};
use proc_macro2::TokenStream;
use quote::quote;

pub fn cross_entropy(g: &mut Graph, p: NodeId, t: NodeId) -> NodeId {
    g.push(Op::CrossEntropy, vec![p, t], Shape::scalar())
}

pub fn vjp(g: &mut Graph, id: NodeId, upstream: NodeId) -> Vec<Option<NodeId>> {
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

pub fn emit(ctx: &Ctx, g: &Graph, id: NodeId) -> TokenStream {
    let node = g.node(id);
    let rt = rt();
    let rows = ctx.rows();
    let a = node.inputs[0];
    let (src, n, t) = (ctx.read(a), g.shape(a).len(), ctx.targets());
    match node.op {
        Op::CrossEntropy | Op::SoftmaxCrossEntropy => {
            let kernel = match node.op {
                Op::CrossEntropy => quote!(cross_entropy),
                _ => quote!(softmax_cross_entropy),
            };
            let (name, s) = (ctx.name(id), ctx.scalar);
            quote!(let #name: #s = #rt::kernels::#kernel(#rows, #n, #src, #t);)
        }
        _ => {
            let kernel = match node.op {
                Op::CrossEntropyBack => quote!(cross_entropy_back),
                _ => quote!(softmax_cross_entropy_back),
            };
            let (up, dst) = (ctx.read(node.inputs[2]), ctx.write(id));
            quote!(#rt::kernels::#kernel(#rows, #n, #src, #t, #up, #dst);)
        }
    }
}
