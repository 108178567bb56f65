//! Stage 3: the checked model to the tensor graph of its forward pass and
//! loss. Each layer appends its operations; the loss and the regularizer
//! append theirs; the result names the output and the loss.

use crate::ir::Op;
use crate::ir::{Graph, NodeId, Shape, TargetKind};
use crate::layers::{LayerKind, LowerCtx};
use crate::model::Model;

pub struct Lowered {
    pub graph: Graph,
    pub output: NodeId,
    pub loss: NodeId,
    pub target: TargetKind,
}

/// The graph of `model`; `training` selects training behaviour (dropout
/// masks) over inference behaviour.
pub fn lower(model: &Model, training: bool) -> Lowered {
    let ctx = LowerCtx { init: model.init, training };
    let mut g = Graph::default();
    let mut x = g.push(Op::Input, vec![], Shape::batched(&model.input));
    for layer in &model.layers {
        x = layer.kind.lower(&mut g, x, &layer.path, layer.span, ctx);
    }
    let output = x;
    let target = model.loss.target(model.output());
    let target_shape = match target {
        TargetKind::Class { .. } => Shape::batched(&[]),
        TargetKind::Values => Shape::batched(model.output()),
    };
    let t = g.push(Op::Target, vec![], target_shape);
    let mut loss = model.loss.lower(&mut g, output, t);
    if let Some(reg) = &model.regularizer {
        loss = reg.lower(&mut g, loss);
    }
    Lowered { graph: g, output, loss, target }
}

/// The graph of one streaming step, for networks over `[time, features]`
/// that can run one step at a time.
pub struct Streamed {
    pub graph: Graph,
    pub output: NodeId,
    /// Values the stream keeps between steps: every recurrent layer's carries.
    pub stream_len: usize,
    /// Features of one step in and out.
    pub input_len: usize,
    pub output_len: usize,
}

/// The inference graph of one time step, if the network has one: up to its
/// last recurrent layer, every layer must act on each step alone
/// (activations, dropout, recurrent layers, which keep their carries in the
/// stream buffer); after a recurrent layer that returns its last state,
/// anything goes. A network whose output is a sequence streams one step of
/// it per call.
pub fn lower_stream(model: &Model) -> Option<Streamed> {
    let &[_, features] = model.input.as_slice() else { return None };
    if !model.layers.iter().any(|l| matches!(l.kind, LayerKind::Recurrent(_))) {
        return None;
    }
    let ctx = LowerCtx { init: model.init, training: false };
    let mut g = Graph::default();
    let mut x = g.push(Op::Input, vec![], Shape::batched(&[features]));
    let (mut per_step, mut stream_len) = (true, 0);
    for layer in &model.layers {
        x = match &layer.kind {
            LayerKind::Recurrent(r) if per_step => {
                let y = r.lower_step(&mut g, x, &layer.path, layer.span, stream_len);
                stream_len += r.stream_len();
                per_step = r.sequence;
                y
            }
            LayerKind::Activation(_) | LayerKind::Dropout { .. } if per_step => {
                layer.kind.lower(&mut g, x, &layer.path, layer.span, ctx)
            }
            _ if per_step => return None,
            _ => layer.kind.lower(&mut g, x, &layer.path, layer.span, ctx),
        };
    }
    let output_len = g.shape(x).len();
    Some(Streamed { graph: g, output: x, stream_len, input_len: features, output_len })
}
