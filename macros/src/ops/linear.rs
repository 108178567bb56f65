//! `Linear(x, W) = x W^T` for `x` of `[batch, .., k]` and `W` of `[n, k]`:
//! over the last axis, each leading position (a time step) a row.
//!
//! Local derivatives: `dx = g W` (`LinearBackData`) and `dW = g^T x`
//! (`LinearBackWeight`, summed over the batch). The backward pass saves `x`
//! and reads `W` from the parameters. Batched code calls a real GEMM;
//! batch-1 code a fixed-size matrix-vector product.

use super::Op;
use crate::emit::body::{Ctx, Mode, rt};
use crate::ir::{Graph, NodeId, Shape};
use proc_macro2::TokenStream;
use quote::quote;

/// `x W^T` over the last axis of `x`: a value of `[.., k]` per sample
/// becomes `[.., n]`, every leading position (a time step) a row of its own.
pub fn linear(g: &mut Graph, x: NodeId, w: NodeId) -> NodeId {
    let n = g.shape(w).dims[0];
    let mut dims = g.shape(x).dims.clone();
    *dims.last_mut().expect("a linear input has features") = n;
    g.push(Op::Linear, vec![x, w], Shape::batched(&dims))
}

/// Rows of the product: samples times the leading positions of `x`, whose
/// last axis has `k` features.
fn rows(ctx: &Ctx, x: &Shape) -> (TokenStream, usize) {
    let k = *x.dims.last().expect("a linear input has features");
    let (rows, lead) = (ctx.rows(), x.len() / k);
    if lead == 1 { (rows, k) } else { (quote!(#rows * #lead), k) }
}

pub fn vjp(g: &mut Graph, id: NodeId, upstream: NodeId, wants: &[bool]) -> Vec<Option<NodeId>> {
    let (x, w) = (g.node(id).inputs[0], g.node(id).inputs[1]);
    let dx = wants[0].then(|| {
        let shape = g.shape(x).clone();
        g.push(Op::LinearBackData, vec![upstream, w], shape)
    });
    let dw = wants[1].then(|| {
        let shape = g.shape(w).clone();
        g.push(Op::LinearBackWeight, vec![upstream, x], shape)
    });
    vec![dx, dw]
}

pub fn emit(ctx: &Ctx, g: &Graph, id: NodeId) -> TokenStream {
    let node = g.node(id);
    let rt = rt();
    let (a, b) = (node.inputs[0], node.inputs[1]);
    match node.op {
        Op::Linear => {
            let (rows, k) = rows(ctx, g.shape(a));
            let n = *node.shape.dims.last().expect("features");
            let (x, w) = (ctx.read(a), ctx.read(b));
            let one_row = g.shape(a).len() == k;
            match ctx.mode {
                Mode::Single if one_row => {
                    let (x, y, s) = (ctx.array(a), ctx.array_mut(id), ctx.scalar);
                    quote!(#rt::kernels::linear_1::<#s, #k, #n>(#x, #w, #y);)
                }
                _ => {
                    let y = ctx.write(id);
                    quote!(#rt::kernels::linear(#rows, #k, #n, #x, #w, #y);)
                }
            }
        }
        Op::LinearBackData => {
            let (rows, k) = rows(ctx, &node.shape);
            let n = *g.shape(a).dims.last().expect("features");
            let (up, w, dx) = (ctx.read(a), ctx.read(b), ctx.write(id));
            quote!(#rt::kernels::linear_back_data(#rows, #k, #n, #up, #w, #dx);)
        }
        _ => {
            let (rows, k) = rows(ctx, g.shape(b));
            let n = *g.shape(a).dims.last().expect("features");
            let (up, x, dw) = (ctx.read(a), ctx.read(b), ctx.write(id));
            quote!(#rt::kernels::linear_back_weight(#rows, #k, #n, #up, #x, #dw);)
        }
    }
}
