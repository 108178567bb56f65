//! `ConvStep(x, w)`: one time step of a causal 1-D convolution in
//! streaming inference. `x` is the step's input column (`[channels]`), `w`
//! the layer's `[out, channels, kernel]` weights; the `dilation * (kernel -
//! 1)` columns before it are kept in a ring in the network's stream buffer
//! (`kernels::conv_step`). Gives the step's output column, without bias.
//! Never differentiated.

use super::{Derivative, Rules, always};
use crate::codegen::{Ctx, rt};
use crate::ir::{ConvStep, Graph, NodeId, Op, Shape};
use proc_macro2::TokenStream;
use quote::quote;

pub const CONV_STEP: Rules = Rules {
    name: "conv_step",
    forward: "one step of a causal 1-D convolution, its past inputs in the stream buffer",
    derivative: Derivative::InferenceOnly,
    emit,
    without_std: always,
    #[cfg(test)]
    eval,
};

/// Adds one step of the convolution of `x` (`[channels]`) by `w`.
pub fn conv_step(g: &mut Graph, x: NodeId, w: NodeId, step: ConvStep) -> NodeId {
    g.push(Op::ConvStep(step), vec![x, w], Shape::batched(&[step.out_channels]))
}

fn emit(ctx: &Ctx, g: &Graph, id: NodeId) -> TokenStream {
    let node = g.node(id);
    let Op::ConvStep(step) = node.op else { unreachable!("conv_step::emit on a conv_step") };
    let rt = rt();
    let ConvStep { channels, out_channels, kernel, dilation, stream } = step;
    let len = step.stream_len();
    let (x, w, out) = (ctx.read(node.inputs[0]), ctx.read(node.inputs[1]), ctx.write(id));
    quote! {
        #rt::kernels::conv_step(#x, #w, #channels, #out_channels, #kernel, #dilation, &mut __stream[#stream..][..#len], #out);
    }
}

/// From a fresh stream: only the current column's tap sees a value.
#[cfg(test)]
fn eval(v: &super::eval::Values, g: &Graph, id: NodeId) -> Vec<f64> {
    let node = g.node(id);
    let Op::ConvStep(step) = node.op else { unreachable!() };
    let (x, w) = (v.of(node.inputs[0]), v.of(node.inputs[1]));
    let (c, k) = (step.channels, step.kernel);
    (0..step.out_channels).map(|o| (0..c).map(|j| w[(o * c + j) * k + k - 1] * x[j]).sum()).collect()
}
