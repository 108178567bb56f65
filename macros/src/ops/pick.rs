//! `Pick(y, t)`: the value of each sample's target class, `y[r, t_r]`, one
//! per sample. Its local derivative is `Scatter(g, t)`: the upstream value
//! of each sample placed at its target class, zeros elsewhere. Losses on
//! class-index targets (`nll`, `multiclass_hinge`) are built on it.

use super::Op;
use crate::emit::body::{Ctx, rt};
use crate::ir::{Graph, NodeId, Shape};
use proc_macro2::TokenStream;
use quote::quote;

pub fn pick(g: &mut Graph, y: NodeId, t: NodeId) -> NodeId {
    g.push(Op::Pick, vec![y, t], Shape::batched(&[]))
}

pub fn vjp(g: &mut Graph, id: NodeId, upstream: NodeId) -> Vec<Option<NodeId>> {
    let (y, t) = (g.node(id).inputs[0], g.node(id).inputs[1]);
    let shape = g.shape(y).clone();
    vec![Some(g.push(Op::Scatter, vec![upstream, t], shape)), None]
}

pub fn emit(ctx: &Ctx, g: &Graph, id: NodeId) -> TokenStream {
    let node = g.node(id);
    let rt = rt();
    let (rows, t, dst) = (ctx.rows(), ctx.targets(), ctx.write(id));
    let src = ctx.read(node.inputs[0]);
    match node.op {
        Op::Pick => {
            let n = g.shape(node.inputs[0]).len();
            quote!(#rt::kernels::pick(#rows, #n, #src, #t, #dst);)
        }
        _ => {
            let n = node.shape.len();
            quote!(#rt::kernels::scatter(#rows, #n, #src, #t, #dst);)
        }
    }
}
