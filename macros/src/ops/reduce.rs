//! Sums, each the gradient of one way a `Map` broadcasts an operand:
//! `SumBatch` adds the samples (a bias shared by every sample),
//! `SumFeatures` the elements of each sample (a per-sample value),
//! `SumChannels` each channel's positions in every sample (a convolution's
//! bias, a per-channel statistic), `SumRows` every row of the last axis in
//! every sample (a per-column scale), `SumLast` the last axis of each
//! sample (a per-row statistic), or any runs of trailing positions (a
//! value broadcast per channel of each sample), `SumAll` everything (losses, penalties).
//!
//! Local derivative: the upstream gradient copied back to every summed
//! element, a `Map` that reads it the way the sum gathered it.

use super::{Derivative, Rules, always, map};
use crate::codegen::{Ctx, rt};
use crate::ir::expr::var;
use crate::ir::{Graph, NodeId, Op, Read, Shape};
use proc_macro2::TokenStream;
use quote::quote;

const fn sum(name: &'static str, forward: &'static str, formula: &'static str) -> Rules {
    Rules {
        name,
        forward,
        derivative: Derivative::Vjp { formula, build: vjp },
        emit,
        without_std: always,
        #[cfg(test)]
        eval,
    }
}

pub const SUM_BATCH: Rules = sum("sum_batch", "sum over samples", "`g` copied to every sample");
pub const SUM_FEATURES: Rules =
    sum("sum_features", "sum over each sample's elements", "`g` copied to every element of its sample");
pub const SUM_ALL: Rules = sum("sum_all", "sum of everything", "`g` copied to every element");
pub const SUM_CHANNELS: Rules = sum(
    "sum_channels",
    "per channel, sum over samples and positions",
    "`g` copied to every position of its channel",
);
pub const SUM_ROWS: Rules = sum(
    "sum_rows",
    "per position of the last axis, sum over samples and leading positions",
    "`g` copied to every row",
);
pub const SUM_LAST: Rules =
    sum("sum_last", "sum over the last axis of each sample", "`g` copied along the last axis");

pub fn sum_batch(g: &mut Graph, x: NodeId) -> NodeId {
    let dims = g.shape(x).dims.clone();
    g.push(Op::SumBatch, vec![x], Shape::fixed(&dims))
}

pub fn sum_features(g: &mut Graph, x: NodeId) -> NodeId {
    g.push(Op::SumFeatures, vec![x], Shape::batched(&[]))
}

/// Per channel, the sum over samples and positions: `x` is `[c, ..]` per
/// sample, the result `[c]`.
pub fn sum_channels(g: &mut Graph, x: NodeId) -> NodeId {
    let channels = g.shape(x).dims[0];
    g.push(Op::SumChannels, vec![x], Shape::fixed(&[channels]))
}

/// Per last-axis position, the sum over samples and every leading position
/// (time steps): `[.., n]` per sample to `[n]`.
pub fn sum_rows(g: &mut Graph, x: NodeId) -> NodeId {
    let n = *g.shape(x).dims.last().expect("a value with features");
    g.push(Op::SumRows, vec![x], Shape::fixed(&[n]))
}

/// Per sample, the sum over the last axis: `[.., n]` to `[..]`.
pub fn sum_last(g: &mut Graph, x: NodeId) -> NodeId {
    let dims = g.shape(x).dims.clone();
    g.push(Op::SumLast, vec![x], Shape::batched(&dims[..dims.len() - 1]))
}

/// Per sample, the sum over each run of trailing positions: `[batch, ..]`
/// to `to`, a batched shape that divides each sample into equal runs
/// (`[c]` for `[c, h, w]`: each channel's positions).
pub fn sum_runs(g: &mut Graph, x: NodeId, to: &Shape) -> NodeId {
    debug_assert!(to.batched && to.len() > 0 && g.shape(x).len().is_multiple_of(to.len()));
    g.push(Op::SumLast, vec![x], to.clone())
}

pub fn sum_all(g: &mut Graph, x: NodeId) -> NodeId {
    g.push(Op::SumAll, vec![x], Shape::scalar())
}

fn vjp(g: &mut Graph, id: NodeId, upstream: NodeId, _: &[bool]) -> Vec<Option<NodeId>> {
    let x = g.node(id).inputs[0];
    let shape = g.shape(x).clone();
    let read = match g.node(id).op {
        Op::SumBatch => Read::PerFeature,
        Op::SumFeatures => Read::PerSample,
        Op::SumChannels => Read::PerChannel,
        Op::SumRows => Read::PerColumn,
        Op::SumLast => Read::PerRow,
        _ => Read::Scalar,
    };
    vec![Some(map::map_with(g, var(0), vec![(upstream, read)], shape))]
}

fn emit(ctx: &Ctx, g: &Graph, id: NodeId) -> TokenStream {
    if ctx.sum_done_by_map(id) {
        return TokenStream::new();
    }
    let node = g.node(id);
    let rt = rt();
    let x = node.inputs[0];
    let (src, rows) = (ctx.read(x), ctx.rows());
    let (out, x_len) = (node.shape.len(), g.shape(x).len());
    if matches!(node.op, Op::SumAll) {
        let (name, s) = (ctx.name(id), ctx.scalar);
        return quote!(let #name: #s = #rt::kernels::sum_all(#src););
    }
    let dst = ctx.write(id);
    match node.op {
        Op::SumBatch => quote!(#rt::kernels::sum_batch(#rows, #out, #src, #dst);),
        Op::SumRows => {
            let lead = x_len / out;
            quote!(#rt::kernels::sum_batch(#rows * #lead, #out, #src, #dst);)
        }
        Op::SumChannels => {
            let spatial = x_len / out;
            quote!(#rt::kernels::sum_channels(#rows, #out, #spatial, #src, #dst);)
        }
        Op::SumLast => {
            let last = x_len / out;
            quote!(#rt::kernels::sum_features(#rows * #out, #last, #src, #dst);)
        }
        _ => quote!(#rt::kernels::sum_features(#rows, #x_len, #src, #dst);),
    }
}

#[cfg(test)]
fn eval(v: &super::eval::Values, g: &Graph, id: NodeId) -> Vec<f64> {
    let node = g.node(id);
    let x = v.of(node.inputs[0]);
    let (out, x_len) = (node.shape.len(), g.shape(node.inputs[0]).len());
    let mut sums = vec![0.0; v.samples(&node.shape) * out];
    for (e, &value) in x.iter().enumerate() {
        let (r, c) = (e / x_len, e % x_len);
        let at = match node.op {
            Op::SumBatch => c,
            Op::SumFeatures => r,
            Op::SumAll => 0,
            Op::SumChannels => c / (x_len / out),
            Op::SumRows => c % out,
            _ => r * out + c / (x_len / out),
        };
        sums[at] += value;
    }
    sums
}
