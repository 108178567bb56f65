//! `Block(x)`: a rectangular piece of a `[rows, cols]` per-sample value,
//! shifted by a row and column offset, zero where it reaches outside the
//! rows (a recurrent layer's last hidden state, its hidden-state sequence,
//! the previous step's states, one half of a two-part gradient).
//!
//! Local derivative: `BlockBack(g)` puts the gradient back in its place,
//! zeros elsewhere.

use super::Op;
use crate::emit::body::{Ctx, rt};
use crate::ir::{Graph, NodeId, Shape};
use chainrule_spec::Block;
use proc_macro2::TokenStream;
use quote::quote;

/// The geometry's constructor expression, every field by name.
fn tokens(geom: &Block) -> TokenStream {
    let rt = rt();
    let Block { src_rows, src_cols, row_offset, col_offset, rows, cols } = *geom;
    quote!(#rt::kernels::Block {
        src_rows: #src_rows, src_cols: #src_cols, row_offset: #row_offset,
        col_offset: #col_offset, rows: #rows, cols: #cols,
    })
}

/// Adds the block of `x` described by `geom`, shaped `dims` per sample.
pub fn block(g: &mut Graph, x: NodeId, geom: Block, dims: &[usize]) -> NodeId {
    debug_assert_eq!(dims.iter().product::<usize>(), geom.rows * geom.cols);
    g.push(Op::Block(geom), vec![x], Shape::batched(dims))
}

pub fn vjp(g: &mut Graph, id: NodeId, upstream: NodeId) -> Vec<Option<NodeId>> {
    let Op::Block(geom) = g.node(id).op else { unreachable!("block::vjp on a block") };
    let shape = g.shape(g.node(id).inputs[0]).clone();
    vec![Some(g.push(Op::BlockBack(geom), vec![upstream], shape))]
}

pub fn emit(ctx: &Ctx, g: &Graph, id: NodeId) -> TokenStream {
    let node = g.node(id);
    let rt = rt();
    let (src, rows, dst) = (ctx.read(node.inputs[0]), ctx.rows(), ctx.write(id));
    match node.op {
        Op::Block(geom) => {
            let geom = tokens(&geom);
            quote!(#rt::kernels::block(&#geom, #rows, #src, #dst);)
        }
        Op::BlockBack(geom) => {
            let geom = tokens(&geom);
            quote!(#rt::kernels::block_back(&#geom, #rows, #src, #dst);)
        }
        _ => unreachable!("block::emit on a block"),
    }
}
