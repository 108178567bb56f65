//! `Block(x)`: a rectangular piece of a `[rows, cols]` per-sample value,
//! shifted by a row and column offset, zero where it reaches outside the
//! rows (a recurrent layer's last hidden state, its hidden-state sequence,
//! the previous step's states, one half of a two-part gradient).
//!
//! Local derivative: `BlockBack(g)` puts the gradient back in its place,
//! zeros elsewhere.

use super::{Derivative, Rules, always};
use crate::codegen::{Ctx, rt};
use crate::ir::{Graph, NodeId, Op, Shape};
use chainrule_spec::Block;
use proc_macro2::TokenStream;
use quote::quote;

pub const BLOCK: Rules = Rules {
    name: "block",
    forward: "a shifted sub-block of each sample's `[rows, cols]` value",
    derivative: Derivative::Vjp { formula: "`block_back(g)`: `g` in its place, zeros elsewhere", build: vjp },
    emit,
    without_std: always,
    #[cfg(test)]
    eval,
};
pub const BLOCK_BACK: Rules = Rules {
    name: "block_back",
    forward: "`x` put in the block's place, zeros elsewhere",
    derivative: Derivative::Vjp { formula: "`block(g)`: the block's part of `g`", build: vjp },
    emit,
    without_std: always,
    #[cfg(test)]
    eval,
};

/// Adds the block of `x` described by `geom`, shaped `dims` per sample.
pub fn block(g: &mut Graph, x: NodeId, geom: Block, dims: &[usize]) -> NodeId {
    debug_assert_eq!(dims.iter().product::<usize>(), geom.rows * geom.cols);
    g.push(Op::Block(geom), vec![x], Shape::batched(dims))
}

/// Adds `x` put in the place of block `geom` of a value shaped `dims` per
/// sample, zeros elsewhere.
pub fn place(g: &mut Graph, x: NodeId, geom: Block, dims: &[usize]) -> NodeId {
    debug_assert_eq!(dims.iter().product::<usize>(), geom.src_rows * geom.src_cols);
    g.push(Op::BlockBack(geom), vec![x], Shape::batched(dims))
}

fn vjp(g: &mut Graph, id: NodeId, upstream: NodeId, _: &[bool]) -> Vec<Option<NodeId>> {
    let shape = g.shape(g.node(id).inputs[0]).clone();
    let op = match g.node(id).op {
        Op::Block(geom) => Op::BlockBack(geom),
        Op::BlockBack(geom) => Op::Block(geom),
        _ => unreachable!("block::vjp on a block"),
    };
    vec![Some(g.push(op, vec![upstream], shape))]
}

/// The geometry's constructor expression, every field by name.
fn tokens(geom: &Block) -> TokenStream {
    let rt = rt();
    let Block { src_rows, src_cols, row_offset, col_offset, rows, cols } = *geom;
    quote!(#rt::kernels::Block {
        src_rows: #src_rows, src_cols: #src_cols, row_offset: #row_offset,
        col_offset: #col_offset, rows: #rows, cols: #cols,
    })
}

fn emit(ctx: &Ctx, g: &Graph, id: NodeId) -> TokenStream {
    let node = g.node(id);
    let rt = rt();
    let (src, rows, dst) = (ctx.read(node.inputs[0]), ctx.rows(), ctx.write(id));
    match &node.op {
        Op::Block(geom) => {
            let geom = tokens(geom);
            quote!(#rt::kernels::block(&#geom, #rows, #src, #dst);)
        }
        Op::BlockBack(geom) => {
            let geom = tokens(geom);
            quote!(#rt::kernels::block_back(&#geom, #rows, #src, #dst);)
        }
        _ => unreachable!("block::emit on a block"),
    }
}

#[cfg(test)]
fn eval(v: &super::eval::Values, g: &Graph, id: NodeId) -> Vec<f64> {
    let node = g.node(id);
    let a = v.of(node.inputs[0]);
    let (Op::Block(b) | Op::BlockBack(b)) = node.op else { unreachable!() };
    let mut out = vec![0.0; v.samples(&node.shape) * node.shape.len()];
    for r in 0..v.batch {
        for (row, col) in (0..b.rows).flat_map(|i| (0..b.cols).map(move |j| (i, j))) {
            let Some(src_row) = b.source_row(row) else { continue };
            let inner = r * b.rows * b.cols + row * b.cols + col;
            let outer = r * b.src_rows * b.src_cols + src_row * b.src_cols + b.col_offset + col;
            match node.op {
                Op::Block(_) => out[inner] = a[outer],
                _ => out[outer] = a[inner],
            }
        }
    }
    out
}
