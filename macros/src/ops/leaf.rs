//! Leaves: values the generated function receives rather than computes.
//! The input, the targets and the sample weights come from the caller, parameters and state
//! from the network's buffers. Gradients stop at leaves; reverse mode asks
//! for them only at parameters.

use super::{Derivative, Rules, always, nothing};
use crate::codegen::Ctx;
use crate::ir::{Graph, NodeId, Op, TargetKind};
use proc_macro2::TokenStream;
use quote::quote;

pub const INPUT: Rules = leaf("input", "the network input");
pub const TARGET: Rules =
    Rules { emit: gather_targets, ..leaf("target", "training targets: class indices or values") };
pub const SAMPLE_WEIGHT: Rules = leaf("sample_weight", "the weight of each sample in the loss");
pub const PARAM: Rules = leaf("param", "a tensor of the flat parameter buffer");
pub const STATE: Rules = leaf("state", "a tensor of the state buffer (running statistics)");
pub const PLAN: Rules = Rules {
    #[cfg(test)]
    eval: super::eval::planned,
    ..leaf("plan", "a tensor of the inference copy, derived from the parameters")
};

pub const CONSTANT: Rules = Rules {
    #[cfg(test)]
    eval: constant_values,
    ..leaf("constant", "a tensor the declaration fixes, compiled in")
};

#[cfg(test)]
fn constant_values(_: &super::eval::Values, g: &Graph, id: NodeId) -> Vec<f64> {
    let Op::Constant(k) = g.node(id).op else { unreachable!("the constant rule is for constants") };
    g.constants[k].clone()
}

const fn leaf(name: &'static str, forward: &'static str) -> Rules {
    Rules {
        name,
        forward,
        derivative: Derivative::Leaf,
        emit: nothing,
        without_std: always,
        #[cfg(test)]
        eval: super::eval::given,
    }
}

/// With several outputs the caller's targets are tuples: output `k`'s
/// part of every sample is gathered into the node's own slot, so its loss
/// reads one contiguous slice as a network with one output does. With one
/// output the node is the caller's slice itself and nothing is emitted.
fn gather_targets(ctx: &Ctx, g: &Graph, id: NodeId) -> TokenStream {
    let Op::Target(k) = g.node(id).op else { unreachable!("the target rule is for targets") };
    if g.targets.len() < 2 {
        return TokenStream::new();
    }
    let (part, dst) = (syn::Index::from(k), ctx.write(id));
    match g.targets[k] {
        TargetKind::Class { steps: 1, .. } => quote! {
            for (__slot, __t) in (#dst).iter_mut().zip(targets) {
                *__slot = __t.#part;
            }
        },
        TargetKind::Class { steps, .. } => quote! {
            for (__slot, __t) in (#dst).chunks_exact_mut(#steps).zip(targets) {
                __slot.copy_from_slice(&__t.#part);
            }
        },
        TargetKind::Values => {
            let n = g.node(id).shape.len();
            quote! {
                for (__slot, __t) in (#dst).chunks_exact_mut(#n).zip(targets) {
                    __slot.copy_from_slice(&__t.#part);
                }
            }
        }
    }
}
