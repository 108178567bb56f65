//! `DropoutMask(p)`: a fresh random mask shaped like its reference operand,
//! each element `0` with probability `p`, else `1 / (1 - p)`. It depends on
//! no parameter, so it never receives a gradient; it reads the operand only
//! for its shape. Emitted only in training code, which has the network's
//! random state `__rng` in scope.

use super::Op;
use crate::emit::body::{Ctx, rt};
use crate::ir::{Graph, NodeId};
use proc_macro2::TokenStream;
use quote::quote;

pub fn mask(g: &mut Graph, like: NodeId, p: f64) -> NodeId {
    let shape = g.shape(like).clone();
    g.push(Op::DropoutMask(p), vec![], shape)
}

pub fn emit(ctx: &Ctx, g: &Graph, id: NodeId) -> TokenStream {
    let Op::DropoutMask(p) = g.node(id).op else { return TokenStream::new() };
    let rt = rt();
    let dst = ctx.write(id);
    quote!(#rt::kernels::dropout_mask(__rng, #p, #dst);)
}
