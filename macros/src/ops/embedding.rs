//! `Embedding(ids, table)`: each token id's row of a `[vocab, dim]`
//! table, `[n]` ids per sample to `[n, dim]` values. The ids are integers
//! (the network input, `&[u32]`) and get no gradient; the table's is
//! `EmbeddingBack(ids, g)`, each row the sum of the upstream rows of the
//! positions that read it, summed over the batch like any parameter's.

use super::{Derivative, Rules, always};
use crate::codegen::{Ctx, rt};
use crate::ir::{Graph, NodeId, Op, Shape};
use proc_macro2::TokenStream;
use quote::quote;

pub const EMBEDDING: Rules = Rules {
    name: "embedding",
    forward: "`table[ids[p]]` at each position `p`",
    derivative: Derivative::Vjp {
        formula: "table: `embedding_back(ids, g)`, row `v` the sum of `g` where `ids = v`",
        build: vjp,
    },
    emit,
    without_std: always,
    #[cfg(test)]
    eval,
};
pub const EMBEDDING_BACK: Rules = Rules {
    name: "embedding_back",
    forward: "each table row: the sum of `g` at the positions reading it",
    derivative: Derivative::BackwardOnly,
    emit,
    without_std: always,
    #[cfg(test)]
    eval,
};

/// The rows of `table` (`[vocab, dim]`) that `ids` (`[n]` per sample) name.
pub fn embedding(g: &mut Graph, ids: NodeId, table: NodeId) -> NodeId {
    let n = g.shape(ids).len();
    let dim = g.shape(table).dims[1];
    g.push(Op::Embedding, vec![ids, table], Shape::batched(&[n, dim]))
}

fn vjp(g: &mut Graph, id: NodeId, upstream: NodeId, _: &[bool]) -> Vec<Option<NodeId>> {
    let (ids, table) = (g.node(id).inputs[0], g.node(id).inputs[1]);
    let dims = g.shape(table).dims.clone();
    vec![None, Some(g.push(Op::EmbeddingBack, vec![ids, upstream], Shape::fixed(&dims)))]
}

fn emit(ctx: &Ctx, g: &Graph, id: NodeId) -> TokenStream {
    let node = g.node(id);
    let rt = rt();
    let (ids, operand) = (node.inputs[0], node.inputs[1]);
    let n = g.shape(ids).len();
    let (rows, ids, src, dst) = (ctx.rows(), ctx.read(ids), ctx.read(operand), ctx.write(id));
    match node.op {
        Op::Embedding => {
            let dim = node.shape.dims[1];
            quote!(#rt::kernels::embedding(#rows * #n, #dim, #ids, #src, #dst);)
        }
        _ => {
            let dim = node.shape.dims[1];
            quote!(#rt::kernels::embedding_back(#rows * #n, #dim, #ids, #src, #dst);)
        }
    }
}

#[cfg(test)]
fn eval(v: &super::eval::Values, g: &Graph, id: NodeId) -> Vec<f64> {
    let node = g.node(id);
    let (ids, operand) = (v.of(node.inputs[0]), v.of(node.inputs[1]));
    let dim = node.shape.dims[1];
    match node.op {
        Op::Embedding => ids
            .iter()
            .flat_map(|&t| (0..dim).map(move |c| operand.get(t as usize * dim + c).copied().unwrap_or(0.0)))
            .collect(),
        _ => {
            let mut grad = vec![0.0; node.shape.len()];
            for (p, &t) in ids.iter().enumerate() {
                for c in 0..dim {
                    if let Some(slot) = grad.get_mut(t as usize * dim + c) {
                        *slot += operand[p * dim + c];
                    }
                }
            }
            grad
        }
    }
}
