//! `Linear(x, W) = x W^T` for `x` of `[batch, k]` and `W` of `[n, k]`.
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

pub fn linear(g: &mut Graph, x: NodeId, w: NodeId) -> NodeId {
    let n = g.shape(w).dims[0];
    g.push(Op::Linear, vec![x, w], Shape::batched(&[n]))
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
    let rows = ctx.rows();
    match node.op {
        Op::Linear => {
            let (k, n) = (g.shape(a).len(), node.shape.len());
            let (x, w) = (ctx.read(a), ctx.read(b));
            match ctx.mode {
                Mode::Single => {
                    let (x, y, s) = (ctx.array(a), ctx.array_mut(id), ctx.scalar);
                    quote!(#rt::kernels::linear_1::<#s, #k, #n>(#x, #w, #y);)
                }
                Mode::Batched => {
                    let y = ctx.write(id);
                    quote!(#rt::kernels::linear(#rows, #k, #n, #x, #w, #y);)
                }
            }
        }
        Op::LinearBackData => {
            let (k, n) = (node.shape.len(), g.shape(a).len());
            let (up, w, dx) = (ctx.read(a), ctx.read(b), ctx.write(id));
            quote!(#rt::kernels::linear_back_data(#rows, #k, #n, #up, #w, #dx);)
        }
        _ => {
            let (k, n) = (g.shape(b).len(), g.shape(a).len());
            let (up, x, dw) = (ctx.read(a), ctx.read(b), ctx.write(id));
            quote!(#rt::kernels::linear_back_weight(#rows, #k, #n, #up, #x, #dw);)
        }
    }
}
