//! `LogSoftmax(x) = x - logsumexp(x)` over each sample's features, finite
//! for any input. Its local derivative uses only the saved output `ls`:
//! `dx = g - exp(ls) * sum(g)` (`LogSoftmaxBack`).

use super::{Derivative, Rules, always};
use crate::codegen::{Ctx, rt};
use crate::ir::{Graph, NodeId, Op};
use proc_macro2::TokenStream;
use quote::quote;

pub const LOG_SOFTMAX: Rules = Rules {
    name: "log_softmax",
    forward: "`ls = x - logsumexp(x)` over each sample's features",
    derivative: Derivative::Vjp { formula: "`log_softmax_back(ls, g) = g - exp(ls) sum(g)`", build: vjp },
    emit,
    without_std: always,
    #[cfg(test)]
    eval,
};
pub const LOG_SOFTMAX_BACK: Rules = Rules {
    name: "log_softmax_back",
    forward: "`g - exp(ls) sum(g)`",
    derivative: Derivative::BackwardOnly,
    emit,
    without_std: always,
    #[cfg(test)]
    eval,
};

pub fn log_softmax(g: &mut Graph, x: NodeId) -> NodeId {
    let shape = g.shape(x).clone();
    g.push(Op::LogSoftmax, vec![x], shape)
}

fn vjp(g: &mut Graph, id: NodeId, upstream: NodeId, _: &[bool]) -> Vec<Option<NodeId>> {
    let shape = g.shape(id).clone();
    vec![Some(g.push(Op::LogSoftmaxBack, vec![id, upstream], shape))]
}

fn emit(ctx: &Ctx, g: &Graph, id: NodeId) -> TokenStream {
    let node = g.node(id);
    let rt = rt();
    let ((rows, n), dst) = (super::last_axis_rows(ctx, &node.shape), ctx.write(id));
    let a = ctx.read(node.inputs[0]);
    match node.op {
        Op::LogSoftmax => quote!(#rt::kernels::log_softmax(#rows, #n, #a, #dst);),
        _ => {
            let up = ctx.read(node.inputs[1]);
            quote!(#rt::kernels::log_softmax_back(#rows, #n, #a, #up, #dst);)
        }
    }
}

#[cfg(test)]
fn eval(v: &super::eval::Values, g: &Graph, id: NodeId) -> Vec<f64> {
    let node = g.node(id);
    let n = *node.shape.dims.last().expect("log_softmax over an axis");
    let a = v.of(node.inputs[0]);
    match node.op {
        Op::LogSoftmax => {
            a.chunks(n).flat_map(|x| super::softmax::probabilities(x).into_iter().map(f64::ln)).collect()
        }
        _ => {
            let up = v.of(node.inputs[1]);
            a.chunks(n)
                .zip(up.chunks(n))
                .flat_map(|(ls, g)| {
                    let total: f64 = g.iter().sum();
                    ls.iter().zip(g).map(move |(l, g)| g - l.exp() * total)
                })
                .collect()
        }
    }
}
