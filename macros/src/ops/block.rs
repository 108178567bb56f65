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
use proc_macro2::TokenStream;
use quote::quote;

/// Where the block lies in its source. Mirrors the runtime's `kernels::Block`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockGeom {
    pub src_rows: usize,
    pub src_cols: usize,
    pub row_offset: isize,
    pub col_offset: usize,
    pub rows: usize,
    pub cols: usize,
}

impl BlockGeom {
    fn tokens(&self) -> TokenStream {
        let rt = rt();
        let BlockGeom { src_rows, src_cols, row_offset, col_offset, rows, cols } = *self;
        quote!(#rt::kernels::Block {
            src_rows: #src_rows, src_cols: #src_cols, row_offset: #row_offset,
            col_offset: #col_offset, rows: #rows, cols: #cols,
        })
    }
}

/// Adds the block of `x` described by `geom`, shaped `dims` per sample.
pub fn block(g: &mut Graph, x: NodeId, geom: BlockGeom, dims: &[usize]) -> NodeId {
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
            let geom = geom.tokens();
            quote!(#rt::kernels::block(&#geom, #rows, #src, #dst);)
        }
        Op::BlockBack(geom) => {
            let geom = geom.tokens();
            quote!(#rt::kernels::block_back(&#geom, #rows, #src, #dst);)
        }
        _ => unreachable!("block::emit on a block"),
    }
}
