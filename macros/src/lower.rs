//! Stage 3: the checked model to the tensor graphs of its forward pass and
//! loss. Each layer appends its operations; the loss and the regularizer
//! append theirs. A network has three graphs: inference and training
//! (dropout and batch norm differ between them; their parameter tables do
//! not), one streaming step when it has one, and with `sample_weights:
//! true` both loss graphs again with each sample's loss weighted.

use crate::ir::expr::{add, c, mul, var};
use crate::ir::{Graph, NodeId, Op, Read, Shape, TargetKind};
use crate::layers::{LowerCtx, OverTime};
use crate::model::Model;
use crate::ops;

/// The graphs of a network.
pub struct Graphs {
    pub inference: Lowered,
    pub training: Lowered,
    /// Batch-1 inference reading the inference copy of the weights.
    pub planned: Planned,
    /// One step of streaming inference, planned too, for networks that run
    /// a step at a time.
    pub stream: Option<Streamed>,
    /// With `sample_weights: true`: the graphs whose loss weights each
    /// sample by a `SampleWeight` leaf.
    pub weighted: Option<Weighted>,
}

/// The inference and training graphs again, each sample's loss weighted.
pub struct Weighted {
    pub inference: Lowered,
    pub training: Lowered,
}

/// The batch-1 inference graph, whose layers read weights laid out for
/// their batch-1 kernels (`Graph::plans`).
pub struct Planned {
    pub graph: Graph,
    pub output: NodeId,
}

pub fn lower(model: &Model) -> Graphs {
    let inference = forward(model, false, false);
    let training = forward(model, true, false);
    let weighted = model
        .sample_weights
        .then(|| Weighted { inference: forward(model, false, true), training: forward(model, true, true) });
    let planned = forward_planned(model);
    // Every function reads the same flat parameters, and both batch-1
    // functions the same inference copy.
    let table = |g: &Graph| g.params.iter().map(|p| (p.name.clone(), p.offset)).collect::<Vec<_>>();
    debug_assert!(table(&planned.graph) == table(&inference.graph), "one parameter layout");
    let stream = lower_stream(model)
        .filter(|s| table(&s.graph) == table(&inference.graph) && s.graph.plans == planned.graph.plans);
    Graphs { inference, training, planned, stream, weighted }
}

fn forward_planned(model: &Model) -> Planned {
    let ctx = LowerCtx { init: model.init, training: false };
    let mut graph = Graph::default();
    let outputs = model.flow.lower(&mut graph, ctx, true);
    let output = joined(&mut graph, &outputs);
    Planned { graph, output }
}

pub struct Lowered {
    pub graph: Graph,
    /// The network output: with several outputs, all of them side by side.
    pub output: NodeId,
    pub loss: NodeId,
}

/// The graph of `model`; `training` selects training behaviour (dropout
/// masks, batch statistics) over inference behaviour. Each output's loss
/// reads its own targets; the total is their weighted sum. `weighted`
/// weights each sample's loss by a weight the caller gives (every
/// output's by the same); the regularizer is not weighted.
fn forward(model: &Model, training: bool, weighted: bool) -> Lowered {
    let ctx = LowerCtx { init: model.init, training };
    let mut g = Graph::default();
    let outputs = model.flow.lower(&mut g, ctx, false);
    let sample_weights = weighted.then(|| g.push(Op::SampleWeight, vec![], Shape::batched(&[])));
    let mut total: Option<NodeId> = None;
    for (k, (&y, term)) in outputs.iter().zip(&model.losses).enumerate() {
        let target = term.loss.target(&model.flow.values[model.flow.outputs[k]].dims);
        let target_shape = match target {
            TargetKind::Class { steps: 1, .. } => Shape::batched(&[]),
            TargetKind::Class { steps, .. } => Shape::batched(&[steps]),
            TargetKind::Values => g.shape(y).clone(),
        };
        g.targets.push(target);
        let t = g.push(Op::Target(k), vec![], target_shape);
        let loss = match sample_weights {
            Some(w) => term.loss.lower_weighted(&mut g, y, t, w),
            None => term.loss.lower(&mut g, y, t),
        };
        let weighted = if term.weight == 1.0 {
            loss
        } else {
            ops::map::map(&mut g, mul(c(term.weight), var(0)), vec![loss], Shape::scalar())
        };
        total = Some(match total {
            None => weighted,
            Some(sum) => ops::map::map(&mut g, add(var(0), var(1)), vec![sum, weighted], Shape::scalar()),
        });
    }
    let mut loss = total.expect("a network has at least one output");
    if let Some(reg) = &model.regularizer {
        loss = reg.lower(&mut g, loss);
    }
    let output = joined(&mut g, &outputs);
    Lowered { graph: g, output, loss }
}

/// The outputs as one flat value per sample, side by side in the order
/// the graph lists them: what `predict` returns.
fn joined(g: &mut Graph, outputs: &[NodeId]) -> NodeId {
    match outputs {
        [one] => *one,
        _ => {
            let parts: Vec<(NodeId, usize)> = outputs.iter().map(|&o| (o, g.shape(o).len())).collect();
            let total = parts.iter().map(|&(_, len)| len).sum::<usize>();
            crate::dataflow::concat(g, &parts, &[total], 0)
        }
    }
}

/// The graph of one streaming step, for networks over `[time, features]`
/// (a step of a sequence) or over `[channels, time]` through causal
/// convolutions (a column of a signal) that can run one step at a time.
pub struct Streamed {
    pub graph: Graph,
    pub output: NodeId,
    /// Values the stream keeps between steps: every recurrent layer's
    /// carries, every causal convolution's past columns.
    pub stream_len: usize,
    /// Features of one step in and out.
    pub input_len: usize,
    pub output_len: usize,
}

/// The inference graph of one time step, if the network has one. A signal
/// through causal convolutions streams a column a step (`lower_signal_step`,
/// chains and graphs). Otherwise a chain over a sequence: up to its last
/// layer that carries state, every layer must act on each step alone or
/// carry its state in the stream buffer; after one that returns its last
/// state, anything goes. A network whose output is a sequence streams one
/// step of it per call.
fn lower_stream(model: &Model) -> Option<Streamed> {
    if let Some(signal) = lower_signal_step(model) {
        return Some(signal);
    }
    // A sequence (`[time, features]`) streams one step a call; a step of
    // token ids is one id.
    let features = match *model.input.as_slice() {
        [_] if model.flow.tokens() => 1,
        [_, features] => features,
        _ => return None,
    };
    let layers = model.flow.as_chain()?;
    if !layers.iter().any(|l| matches!(l.layer.over_time(), OverTime::Carried(_))) {
        return None;
    }
    let ctx = LowerCtx { init: model.init, training: false };
    let mut g = Graph::default();
    let mut x = g.push(Op::Input, vec![], Shape::batched(&[features]));
    let (mut per_step, mut stream_len) = (true, 0);
    for layer in layers {
        x = match layer.layer.over_time() {
            _ if !per_step => layer.lower_planned(&mut g, x, ctx),
            OverTime::EachStep => layer.lower_planned(&mut g, x, ctx),
            OverTime::Carried(carried) => {
                let y = carried.lower_step(&mut g, x, &layer.origin, stream_len);
                stream_len += carried.stream_len();
                per_step = carried.keeps_time();
                y
            }
            OverTime::Whole => return None,
        };
    }
    let output_len = g.shape(x).len();
    Some(Streamed { graph: g, output: x, stream_len, input_len: features, output_len })
}

/// One column of a signal (`[channels, time]`, one input, one output) through
/// causal convolutions, for a chain or a graph: every value a `[c, time]`
/// signal, every layer acting on each column alone or carrying its past in
/// the stream buffer, merges element by element, concatenations and
/// slices along the channels. Anything else (a slice of time, pooling,
/// `flatten`) needs the whole signal.
fn lower_signal_step(model: &Model) -> Option<Streamed> {
    use crate::dataflow::{Broadcast, Step};
    let flow = &model.flow;
    let [channels, time] = *model.input.as_slice() else { return None };
    let carried = |step: &Step| matches!(step, Step::Layer { layer, .. } if matches!(layer.layer.over_columns(), OverTime::Carried(_)));
    if flow.inputs.len() != 1
        || flow.outputs.len() != 1
        || flow.tokens()
        || !flow.values.iter().any(|v| carried(&v.step))
    {
        return None;
    }
    let ctx = LowerCtx { init: model.init, training: false };
    let mut g = Graph::default();
    let mut nodes: Vec<NodeId> = Vec::with_capacity(flow.values.len());
    let mut stream_len = 0;
    for value in &flow.values {
        let [c, t] = *value.dims.as_slice() else { return None };
        if t != time {
            return None;
        }
        let node = match &value.step {
            Step::Input(_) => g.push(Op::Input, vec![], Shape::batched(&[channels])),
            Step::Layer { layer, of } => match layer.layer.over_columns() {
                OverTime::EachStep => layer.lower_planned(&mut g, nodes[*of], ctx),
                OverTime::Carried(step) => {
                    let y = step.lower_step(&mut g, nodes[*of], &layer.origin, stream_len);
                    stream_len += step.stream_len();
                    y
                }
                OverTime::Whole => return None,
            },
            &Step::Merge { multiply, a, b, broadcast: Broadcast::Same } => {
                let expr = if multiply { mul(var(0), var(1)) } else { add(var(0), var(1)) };
                let operands = vec![(nodes[a], Read::Same), (nodes[b], Read::Same)];
                crate::ops::map::map_with(&mut g, expr, operands, Shape::batched(&[c]))
            }
            Step::Concat { parts, axis: 0 } => {
                let parts: Vec<(NodeId, usize)> =
                    parts.iter().map(|&p| (nodes[p], flow.values[p].dims[0])).collect();
                crate::dataflow::concat(&mut g, &parts, &[c], 0)
            }
            &Step::Slice { of, axis: 0, start, len } => {
                let geom = crate::dataflow::piece(1, flow.values[of].dims[0], start, len);
                crate::ops::block::block(&mut g, nodes[of], geom, &[c])
            }
            _ => return None,
        };
        nodes.push(node);
    }
    let output = nodes[flow.outputs[0]];
    let output_len = g.shape(output).len();
    Some(Streamed { graph: g, output, stream_len, input_len: channels, output_len })
}

#[cfg(test)]
mod tests;
