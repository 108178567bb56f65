//! `DenseT(x, plan)`: batch-1 inference of a dense layer from its planned
//! weights (input-major, padded rows, then the bias row), with an
//! activation applied to each output as it is produced; over a sequence,
//! the same for each step. The planned
//! lowering of `dense` makes it; the simplifier folds the activation that
//! follows into it. Never differentiated: training reads the parameters.

use super::{Derivative, Rules, always};
use crate::codegen::{Ctx, emit_expr, rt};
use crate::ir::{DenseT, Graph, NodeId, Op, Shape};
use proc_macro2::TokenStream;
use quote::quote;

pub const DENSE_T: Rules = Rules {
    name: "dense_t",
    forward: "`act(W x + b)` for one sample, from input-major planned weights",
    derivative: Derivative::InferenceOnly,
    emit,
    without_std: always,
    #[cfg(test)]
    eval,
};

/// Adds the layer over `x` (`inputs` values, or `rows` steps of them)
/// with planned weights `plan`.
pub fn dense_t(g: &mut Graph, x: NodeId, plan: NodeId, rows: usize, inputs: usize, outputs: usize) -> NodeId {
    let op = Op::DenseT(DenseT { rows, inputs, outputs, activation: crate::ir::expr::var(0) });
    let dims = if rows == 1 { vec![outputs] } else { vec![rows, outputs] };
    g.push(op, vec![x, plan], Shape::batched(&dims))
}

fn emit(ctx: &Ctx, g: &Graph, id: NodeId) -> TokenStream {
    let node = g.node(id);
    let Op::DenseT(d) = &node.op else { unreachable!("dense_t::emit on a dense_t") };
    let rt = rt();
    let (s, k, n) = (ctx.scalar, d.inputs, d.outputs);
    let np = chainrule_spec::plan::padded(n);
    let (x, plan, y) = (ctx.array(node.inputs[0]), ctx.read(node.inputs[1]), ctx.array_mut(id));
    let act = emit_expr(&d.activation, &[quote!(__v)], ctx);
    let call = |x, y| quote!(#rt::kernels::dense_t::<#s, #k, #n, #np>(__isa, #x, #plan, #y, #[inline(always)] |__v: #s| #act););
    if d.rows == 1 {
        return call(x, y);
    }
    let one = call(quote!(__x), quote!(__y));
    quote! {
        for (__x, __y) in (#x).as_chunks::<#k>().0.iter().zip((#y).as_chunks_mut::<#n>().0.iter_mut()) {
            #one
        }
    }
}

#[cfg(test)]
fn eval(v: &super::eval::Values, g: &Graph, id: NodeId) -> Vec<f64> {
    let node = g.node(id);
    let Op::DenseT(d) = &node.op else { unreachable!() };
    let (x, plan) = (v.of(node.inputs[0]), v.of(node.inputs[1]));
    let row = chainrule_spec::plan::padded(d.outputs);
    x.chunks_exact(d.inputs)
        .flat_map(|x| {
            (0..d.outputs).map(move |o| {
                let z =
                    plan[d.inputs * row + o] + (0..d.inputs).map(|i| x[i] * plan[i * row + o]).sum::<f64>();
                d.activation.eval(&[z], 1.0)
            })
        })
        .collect()
}
