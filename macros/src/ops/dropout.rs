//! `DropoutMask(p)`: a fresh random mask, each element `0` with
//! probability `p`, else `1 / (1 - p)`. It depends on no parameter, so it
//! is a leaf: no gradient reaches it, and the product that applies it
//! reuses it in the backward pass. Emitted only in training code, which
//! has the network's random state `__rng` in scope.

use super::{Derivative, Rules, always};
use crate::codegen::{Ctx, rt};
use crate::ir::{Graph, NodeId, Op};
use proc_macro2::TokenStream;
use quote::quote;

pub const DROPOUT_MASK: Rules = Rules {
    name: "dropout_mask",
    forward: "a random mask of `0` (probability `p`) and `1 / (1 - p)`",
    derivative: Derivative::Leaf,
    emit,
    without_std: always,
    #[cfg(test)]
    eval: super::eval::given,
};

pub fn mask(g: &mut Graph, like: NodeId, p: f64) -> NodeId {
    let shape = g.shape(like).clone();
    g.push(Op::DropoutMask(p), vec![], shape)
}

fn emit(ctx: &Ctx, g: &Graph, id: NodeId) -> TokenStream {
    let Op::DropoutMask(p) = g.node(id).op else { unreachable!("dropout::emit on a mask") };
    let rt = rt();
    let dst = ctx.write(id);
    quote!(#rt::kernels::dropout_mask(__rng, #p, #dst);)
}
