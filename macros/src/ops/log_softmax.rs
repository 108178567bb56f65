//! `LogSoftmax(x) = x - logsumexp(x)` over each sample's features, finite
//! for any input. Its local derivative uses only the saved output `ls`:
//! `dx = g - exp(ls) * sum(g)` (`LogSoftmaxBack`).

use super::Op;
use crate::emit::body::{Ctx, rt};
use crate::ir::{Graph, NodeId};
use proc_macro2::TokenStream;
use quote::quote;

pub fn log_softmax(g: &mut Graph, x: NodeId) -> NodeId {
    let shape = g.shape(x).clone();
    g.push(Op::LogSoftmax, vec![x], shape)
}

pub fn vjp(g: &mut Graph, id: NodeId, upstream: NodeId) -> Vec<Option<NodeId>> {
    let shape = g.shape(id).clone();
    vec![Some(g.push(Op::LogSoftmaxBack, vec![id, upstream], shape))]
}

pub fn emit(ctx: &Ctx, g: &Graph, id: NodeId) -> TokenStream {
    let node = g.node(id);
    let rt = rt();
    let (rows, n, dst) = (ctx.rows(), node.shape.len(), ctx.write(id));
    let a = ctx.read(node.inputs[0]);
    match node.op {
        Op::LogSoftmax => quote!(#rt::kernels::log_softmax(#rows, #n, #a, #dst);),
        _ => {
            let up = ctx.read(node.inputs[1]);
            quote!(#rt::kernels::log_softmax_back(#rows, #n, #a, #up, #dst);)
        }
    }
}
