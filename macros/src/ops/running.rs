//! `UpdateRunning(state, stat)`: `state = (1 - momentum) state + momentum
//! stat`, the running statistics of batch norm. A side effect: the node is
//! a root of the training function and has no value or derivative. With
//! `unbiased`, a batch variance is first scaled by `batch / (batch - 1)`.

use super::Op;
use crate::emit::body::{Ctx, rt};
use crate::ir::{Graph, NodeId, Shape};
use proc_macro2::TokenStream;
use quote::quote;

pub fn update(g: &mut Graph, state: NodeId, stat: NodeId, momentum: f64, unbiased: bool) -> NodeId {
    let id = g.push(Op::UpdateRunning { momentum, unbiased }, vec![state, stat], Shape::scalar());
    g.effects.push(id);
    id
}

pub fn emit(ctx: &Ctx, g: &Graph, id: NodeId) -> TokenStream {
    let node = g.node(id);
    let Op::UpdateRunning { momentum, unbiased } = node.op else { return TokenStream::new() };
    let rt = rt();
    let (state, stat, rows) = (ctx.write(node.inputs[0]), ctx.read(node.inputs[1]), ctx.rows());
    quote!(#rt::kernels::update_running(#state, #stat, #momentum, #unbiased, #rows);)
}
