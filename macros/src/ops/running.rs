//! `UpdateRunning(state, stat)`: `state = (1 - momentum) state + momentum
//! stat`, the running statistics of batch norm. A side effect: the node is
//! a root of the training function and has no value or derivative. With
//! `unbiased`, a batch variance over `n = batch * per_sample` values is
//! first scaled by `n / (n - 1)`.

use super::{Derivative, Rules, always};
use crate::codegen::{Ctx, rt};
use crate::ir::{Graph, NodeId, Op, Shape};
use proc_macro2::TokenStream;
use quote::quote;

pub const UPDATE_RUNNING: Rules = Rules {
    name: "update_running",
    forward: "`state = (1 - momentum) state + momentum stat`, in place",
    derivative: Derivative::Effect,
    emit,
    without_std: always,
    #[cfg(test)]
    eval: super::eval::no_value,
};

pub fn update(
    g: &mut Graph,
    state: NodeId,
    stat: NodeId,
    momentum: f64,
    unbiased: bool,
    per_sample: usize,
) -> NodeId {
    let op = Op::UpdateRunning { momentum, unbiased, per_sample };
    let id = g.push(op, vec![state, stat], Shape::scalar());
    g.effects.push(id);
    id
}

fn emit(ctx: &Ctx, g: &Graph, id: NodeId) -> TokenStream {
    let node = g.node(id);
    let Op::UpdateRunning { momentum, unbiased, per_sample } = node.op else { unreachable!("an update") };
    let rt = rt();
    let (state, stat, rows) = (ctx.write(node.inputs[0]), ctx.read(node.inputs[1]), ctx.rows());
    quote!(#rt::kernels::update_running(#state, #stat, #momentum, #unbiased, #rows * #per_sample);)
}
