//! `Pick(y, t)`: the value of each sample's target class, `y[r, t_r]`, one
//! per sample. Its local derivative is `Scatter(g, t)`: the upstream value
//! of each sample placed at its target class, zeros elsewhere. Losses on
//! class-index targets (`nll`, `multiclass_hinge`) are built on it.

use super::{Derivative, Rules, always};
use crate::codegen::{Ctx, rt};
use crate::ir::{Graph, NodeId, Op, Shape};
use proc_macro2::TokenStream;
use quote::quote;

pub const PICK: Rules = Rules {
    name: "pick",
    forward: "`y[t]` per sample",
    derivative: Derivative::Vjp { formula: "`scatter(g, t)`: `g` at `t`, 0 elsewhere", build: vjp },
    emit,
    without_std: always,
    #[cfg(test)]
    eval,
};
pub const SCATTER: Rules = Rules {
    name: "scatter",
    forward: "each sample's `g` at its target class, 0 elsewhere",
    derivative: Derivative::BackwardOnly,
    emit,
    without_std: always,
    #[cfg(test)]
    eval,
};

pub fn pick(g: &mut Graph, y: NodeId, t: NodeId) -> NodeId {
    g.push(Op::Pick, vec![y, t], Shape::batched(&[]))
}

fn vjp(g: &mut Graph, id: NodeId, upstream: NodeId, _: &[bool]) -> Vec<Option<NodeId>> {
    let (y, t) = (g.node(id).inputs[0], g.node(id).inputs[1]);
    let shape = g.shape(y).clone();
    vec![Some(g.push(Op::Scatter, vec![upstream, t], shape)), None]
}

fn emit(ctx: &Ctx, g: &Graph, id: NodeId) -> TokenStream {
    let node = g.node(id);
    let rt = rt();
    let (rows, t, dst) = (ctx.rows(), ctx.read(node.inputs[1]), ctx.write(id));
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

#[cfg(test)]
fn eval(v: &super::eval::Values, g: &Graph, id: NodeId) -> Vec<f64> {
    let node = g.node(id);
    let (a, t) = (v.of(node.inputs[0]), v.of(node.inputs[1]));
    match node.op {
        Op::Pick => {
            let n = g.shape(node.inputs[0]).len();
            (0..v.batch).map(|r| a[r * n + t[r] as usize]).collect()
        }
        _ => {
            let n = node.shape.len();
            (0..v.batch * n).map(|e| if e % n == t[e / n] as usize { a[e / n] } else { 0.0 }).collect()
        }
    }
}
