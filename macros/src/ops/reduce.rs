//! Sums: `SumBatch` adds the samples of a batched value (the gradient of a
//! value broadcast to every sample, such as a bias); `SumFeatures` adds the
//! features of each sample (the gradient of a per-sample value broadcast
//! over its features); `SumChannels` adds, per channel, every sample and
//! position (the gradient of a convolution's bias or of a per-channel
//! statistic); `SumAll` adds every
//! element into a scalar (losses, regularizers). The derivative of a sum
//! copies the upstream gradient back to every summed element.

use super::Op;
use crate::emit::body::{Ctx, rt};
use crate::ir::expr::var;
use crate::ir::{Graph, NodeId, Shape};
use proc_macro2::TokenStream;
use quote::quote;

pub fn sum_batch(g: &mut Graph, x: NodeId) -> NodeId {
    let dims = g.shape(x).dims.clone();
    g.push(Op::SumBatch, vec![x], Shape::fixed(&dims))
}

pub fn sum_features(g: &mut Graph, x: NodeId) -> NodeId {
    g.push(Op::SumFeatures, vec![x], Shape::batched(&[]))
}

/// Per channel, the sum over samples and positions: `x` is `[c, ..]` per
/// sample, the result `[c]`.
pub fn sum_channels(g: &mut Graph, x: NodeId) -> NodeId {
    let channels = g.shape(x).dims[0];
    g.push(Op::SumChannels, vec![x], Shape::fixed(&[channels]))
}

/// Per last-axis feature, the sum over samples and every leading position
/// (time steps): `[.., n]` per sample to `[n]`.
pub fn sum_rows(g: &mut Graph, x: NodeId) -> NodeId {
    let n = *g.shape(x).dims.last().expect("a value with features");
    g.push(Op::SumRows, vec![x], Shape::fixed(&[n]))
}

pub fn sum_all(g: &mut Graph, x: NodeId) -> NodeId {
    g.push(Op::SumAll, vec![x], Shape::scalar())
}

pub fn vjp(g: &mut Graph, id: NodeId, upstream: NodeId) -> Vec<Option<NodeId>> {
    let x = g.node(id).inputs[0];
    let shape = g.shape(x).clone();
    vec![Some(super::map::map(g, var(0), vec![upstream], shape))]
}

pub fn emit(ctx: &Ctx, g: &Graph, id: NodeId) -> TokenStream {
    let node = g.node(id);
    let rt = rt();
    let x = node.inputs[0];
    let src = ctx.read(x);
    match node.op {
        Op::SumBatch => {
            let n = node.shape.len();
            let (rows, dst) = (ctx.rows(), ctx.write(id));
            quote!(#rt::kernels::sum_batch(#rows, #n, #src, #dst);)
        }
        Op::SumRows => {
            let (n, lead) = (node.shape.len(), g.shape(x).len() / node.shape.len());
            let (rows, dst) = (ctx.rows(), ctx.write(id));
            quote!(#rt::kernels::sum_batch(#rows * #lead, #n, #src, #dst);)
        }
        Op::SumChannels => {
            let (channels, spatial) = (node.shape.len(), g.shape(x).len() / node.shape.len());
            let (rows, dst) = (ctx.rows(), ctx.write(id));
            quote!(#rt::kernels::sum_channels(#rows, #channels, #spatial, #src, #dst);)
        }
        Op::SumFeatures => {
            let n = g.shape(x).len();
            let (rows, dst) = (ctx.rows(), ctx.write(id));
            quote!(#rt::kernels::sum_features(#rows, #n, #src, #dst);)
        }
        _ => {
            let (name, s) = (ctx.name(id), ctx.scalar);
            quote!(let #name: #s = #rt::kernels::sum_all(#src);)
        }
    }
}
