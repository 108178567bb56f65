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

/// One value per sample, or per step of a `[t, c]` value (a class a step).
pub fn pick(g: &mut Graph, y: NodeId, t: NodeId) -> NodeId {
    let dims = &g.shape(y).dims;
    let leading = dims[..dims.len() - 1].to_vec();
    g.push(Op::Pick, vec![y, t], Shape::batched(&leading))
}

fn vjp(g: &mut Graph, id: NodeId, upstream: NodeId, _: &[bool]) -> Vec<Option<NodeId>> {
    let (y, t) = (g.node(id).inputs[0], g.node(id).inputs[1]);
    let shape = g.shape(y).clone();
    vec![Some(g.push(Op::Scatter, vec![upstream, t], shape)), None]
}

fn emit(ctx: &Ctx, g: &Graph, id: NodeId) -> TokenStream {
    let node = g.node(id);
    let rt = rt();
    let (t, dst) = (ctx.read(node.inputs[1]), ctx.write(id));
    let src = ctx.read(node.inputs[0]);
    match node.op {
        Op::Pick => {
            let (rows, n) = super::last_axis_rows(ctx, g.shape(node.inputs[0]));
            quote!(#rt::kernels::pick(#rows, #n, #src, #t, #dst);)
        }
        _ => {
            let (rows, n) = super::last_axis_rows(ctx, &node.shape);
            quote!(#rt::kernels::scatter(#rows, #n, #src, #t, #dst);)
        }
    }
}

#[cfg(test)]
fn eval(v: &super::eval::Values, g: &Graph, id: NodeId) -> Vec<f64> {
    let node = g.node(id);
    let (a, t) = (v.of(node.inputs[0]), v.of(node.inputs[1]));
    // A row of the last axis per class target: a sample's, or a step's.
    let classes = |shape: &Shape| {
        let n = *shape.dims.last().expect("classes along an axis");
        (v.batch * shape.len() / n, n)
    };
    match node.op {
        Op::Pick => {
            let (rows, n) = classes(g.shape(node.inputs[0]));
            (0..rows).map(|r| a[r * n + t[r] as usize]).collect()
        }
        _ => {
            let (rows, n) = classes(&node.shape);
            (0..rows * n).map(|e| if e % n == t[e / n] as usize { a[e / n] } else { 0.0 }).collect()
        }
    }
}
