//! `Linear(x, W) = x W^T` for `x` of `[batch, .., k]` and `W` of `[n, k]`:
//! over the last axis, each leading position (a time step) a row.
//!
//! Local derivatives: `dx = g W` (`LinearBackData`) and `dW = g^T x`
//! (`LinearBackWeight`, summed over the batch). The backward pass saves `x`
//! and reads `W` from the parameters. Batched code calls a real GEMM;
//! batch-1 code over one row a fixed-size matrix-vector product.

use super::{Derivative, Rules, never};
use crate::codegen::{Ctx, Mode, rt};
use crate::ir::{Graph, NodeId, Op, Shape};
use proc_macro2::TokenStream;
use quote::quote;

pub const LINEAR: Rules = Rules {
    name: "linear",
    forward: "`x W^T` over the last axis of `x`",
    derivative: Derivative::Vjp {
        formula: "`dx = g W` (linear_back_data), `dW = g^T x` (linear_back_weight)",
        build: vjp,
    },
    emit,
    without_std: one_row,
    #[cfg(test)]
    eval,
};
pub const LINEAR_BACK_DATA: Rules = Rules {
    name: "linear_back_data",
    forward: "`g W`: the gradient of `linear` with respect to `x`",
    derivative: Derivative::BackwardOnly,
    emit,
    without_std: never,
    #[cfg(test)]
    eval,
};
pub const LINEAR_BACK_WEIGHT: Rules = Rules {
    name: "linear_back_weight",
    forward: "`g^T x` summed over rows: the gradient of `linear` with respect to `W`",
    derivative: Derivative::BackwardOnly,
    emit,
    without_std: never,
    #[cfg(test)]
    eval,
};

pub const LINEAR_UPDATE: Rules = Rules {
    name: "linear_update",
    forward: "the optimizer's step on `W` from `g^T x`, applied as it is computed (training step)",
    derivative: Derivative::Effect,
    emit,
    without_std: never,
    #[cfg(test)]
    eval: super::eval::no_value,
};

/// Replaces the gradient of parameter `k`, a `linear_back_weight` node,
/// with the optimizer's step applied as it is computed; the new node is a
/// side effect, and its value the scratch the product needs.
pub fn update(g: &mut Graph, k: usize, gradient: NodeId) -> NodeId {
    let (upstream, x) = (g.node(gradient).inputs[0], g.node(gradient).inputs[1]);
    let w = (0..g.nodes.len())
        .find(|&id| matches!(g.node(id).op, Op::Param(j) if j == k))
        .expect("every parameter has its node");
    let shape = g.shape(gradient).clone();
    g.push(Op::LinearUpdate(k), vec![upstream, x, w], shape)
}

/// `x W^T` over the last axis of `x`: a value of `[.., k]` per sample
/// becomes `[.., n]`, every leading position (a time step) a row of its own.
pub fn linear(g: &mut Graph, x: NodeId, w: NodeId) -> NodeId {
    let n = g.shape(w).dims[0];
    let mut dims = g.shape(x).dims.clone();
    *dims.last_mut().expect("a linear input has features") = n;
    g.push(Op::Linear, vec![x, w], Shape::batched(&dims))
}

/// Batch-1 code over a single row runs on the matrix-vector kernel, which
/// needs no `std`; several rows (time steps) need the GEMM.
fn one_row(g: &Graph, id: NodeId) -> bool {
    let x = g.shape(g.node(id).inputs[0]);
    x.len() == *x.dims.last().unwrap_or(&0)
}

/// Rows of the product: samples times the leading positions of `x`, whose
/// last axis has `k` features.
fn rows(ctx: &Ctx, x: &Shape) -> (TokenStream, usize) {
    let k = *x.dims.last().expect("a linear input has features");
    let (rows, lead) = (ctx.rows(), x.len() / k);
    match (ctx.mode, lead) {
        (_, 1) => (rows, k),
        (Mode::Single, _) => (quote!(#lead), k),
        (Mode::Batched, _) => (quote!(#rows * #lead), k),
    }
}

fn vjp(g: &mut Graph, id: NodeId, upstream: NodeId, wants: &[bool]) -> Vec<Option<NodeId>> {
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

fn emit(ctx: &Ctx, g: &Graph, id: NodeId) -> TokenStream {
    let node = g.node(id);
    let rt = rt();
    let (a, b) = (node.inputs[0], node.inputs[1]);
    match node.op {
        Op::Linear => {
            let (rows, k) = rows(ctx, g.shape(a));
            let n = *node.shape.dims.last().expect("features");
            let (x, w) = (ctx.read(a), ctx.read(b));
            if ctx.mode == Mode::Single && one_row(g, id) {
                let (x, y, s) = (ctx.array(a), ctx.array_mut(id), ctx.scalar);
                quote!(#rt::kernels::linear_1::<#s, #k, #n>(#x, #w, #y);)
            } else {
                let y = ctx.write(id);
                quote!(#rt::kernels::linear(#rows, #k, #n, #x, #w, #y);)
            }
        }
        Op::LinearBackData => {
            let (rows, k) = rows(ctx, &node.shape);
            let n = *g.shape(a).dims.last().expect("features");
            let (up, w, dx) = (ctx.read(a), ctx.read(b), ctx.write(id));
            quote!(#rt::kernels::linear_back_data(#rows, #k, #n, #up, #w, #dx);)
        }
        Op::LinearUpdate(param) => {
            let (rows, k) = rows(ctx, g.shape(b));
            let n = *g.shape(a).dims.last().expect("features");
            let (up, x, w, scratch) = (ctx.read(a), ctx.read(b), ctx.write(node.inputs[2]), ctx.write(id));
            let (offset, len) = (g.params[param].offset, g.params[param].len());
            quote!(#rt::kernels::linear_update(#rows, #k, #n, #up, #x, #w, #scratch, __update.part(#offset, #len));)
        }
        _ => {
            let (rows, k) = rows(ctx, g.shape(b));
            let n = *g.shape(a).dims.last().expect("features");
            let (up, x, dw) = (ctx.read(a), ctx.read(b), ctx.write(id));
            quote!(#rt::kernels::linear_back_weight(#rows, #k, #n, #up, #x, #dw);)
        }
    }
}

#[cfg(test)]
fn eval(v: &super::eval::Values, g: &Graph, id: NodeId) -> Vec<f64> {
    let node = g.node(id);
    let (a, b) = (node.inputs[0], node.inputs[1]);
    let (va, vb) = (v.of(a), v.of(b));
    match node.op {
        // y[r, j] = sum_i x[r, i] w[j, i]
        Op::Linear => {
            let k = *g.shape(a).dims.last().unwrap();
            va.chunks(k).flat_map(|x| vb.chunks(k).map(|w| dot(x, w)).collect::<Vec<_>>()).collect()
        }
        // dx[r, i] = sum_j g[r, j] w[j, i]
        Op::LinearBackData => {
            let n = *g.shape(a).dims.last().unwrap();
            let k = *node.shape.dims.last().unwrap();
            va.chunks(n)
                .flat_map(|gr| {
                    (0..k).map(|i| (0..n).map(|j| gr[j] * vb[j * k + i]).sum::<f64>()).collect::<Vec<_>>()
                })
                .collect()
        }
        // dw[j, i] = sum_r g[r, j] x[r, i]
        _ => {
            let n = *g.shape(a).dims.last().unwrap();
            let k = *g.shape(b).dims.last().unwrap();
            let rows = va.len() / n;
            (0..n * k).map(|e| (0..rows).map(|r| va[r * n + e / k] * vb[r * k + e % k]).sum()).collect()
        }
    }
}

#[cfg(test)]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
