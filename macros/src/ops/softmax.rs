//! `Softmax(x)` over each sample's features. Its local derivative uses only
//! the saved output: `dx = p * (g - sum(g p))` (`SoftmaxBack`).

use super::{Derivative, Rules, always};
use crate::codegen::{Ctx, rt};
use crate::ir::{Graph, NodeId, Op};
use proc_macro2::TokenStream;
use quote::quote;

pub const SOFTMAX: Rules = Rules {
    name: "softmax",
    forward: "`p = softmax(x)` over each sample's features",
    derivative: Derivative::Vjp { formula: "`softmax_back(p, g) = p * (g - sum(g p))`", build: vjp },
    emit,
    without_std: always,
    #[cfg(test)]
    eval,
};
pub const SOFTMAX_BACK: Rules = Rules {
    name: "softmax_back",
    forward: "`p * (g - sum(g p))`",
    derivative: Derivative::BackwardOnly,
    emit,
    without_std: always,
    #[cfg(test)]
    eval,
};

pub fn softmax(g: &mut Graph, x: NodeId) -> NodeId {
    let shape = g.shape(x).clone();
    g.push(Op::Softmax, vec![x], shape)
}

fn vjp(g: &mut Graph, id: NodeId, upstream: NodeId, _: &[bool]) -> Vec<Option<NodeId>> {
    let shape = g.shape(id).clone();
    vec![Some(g.push(Op::SoftmaxBack, vec![id, upstream], shape))]
}

fn emit(ctx: &Ctx, g: &Graph, id: NodeId) -> TokenStream {
    let node = g.node(id);
    let rt = rt();
    let ((rows, n), dst) = (super::last_axis_rows(ctx, &node.shape), ctx.write(id));
    let a = ctx.read(node.inputs[0]);
    match node.op {
        Op::Softmax => quote!(#rt::kernels::softmax(#rows, #n, #a, #dst);),
        _ => {
            let up = ctx.read(node.inputs[1]);
            quote!(#rt::kernels::softmax_back(#rows, #n, #a, #up, #dst);)
        }
    }
}

/// Softmax of one sample, shifted by its maximum.
#[cfg(test)]
pub fn probabilities(x: &[f64]) -> Vec<f64> {
    let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = x.iter().map(|v| (v - m).exp()).collect();
    let total: f64 = e.iter().sum();
    e.iter().map(|v| v / total).collect()
}

#[cfg(test)]
fn eval(v: &super::eval::Values, g: &Graph, id: NodeId) -> Vec<f64> {
    let node = g.node(id);
    let n = *node.shape.dims.last().expect("softmax over an axis");
    let a = v.of(node.inputs[0]);
    match node.op {
        Op::Softmax => a.chunks(n).flat_map(probabilities).collect(),
        _ => {
            let up = v.of(node.inputs[1]);
            a.chunks(n)
                .zip(up.chunks(n))
                .flat_map(|(p, g)| {
                    let dot: f64 = p.iter().zip(g).map(|(p, g)| p * g).sum();
                    p.iter().zip(g).map(move |(p, g)| p * (g - dot))
                })
                .collect()
        }
    }
}
