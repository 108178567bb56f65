//! Stage 3: the checked model to the tensor graph of its forward pass and
//! loss. Each layer appends its operations; the loss and the regularizer
//! append theirs; the result names the output and the loss.

use crate::ir::{Graph, NodeId, Shape, TargetKind};
use crate::layers::LowerCtx;
use crate::model::Model;
use crate::ops::Op;

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
