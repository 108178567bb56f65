//! Loss keywords: which outputs and targets each accepts, and the graph it
//! lowers to. Every loss is a mean over the batch, as PyTorch's default.
//!
//! - `mse`: `mean((y - t)^2)` over all output elements; targets are vectors
//!   shaped like the output.
//! - `softmax_cross_entropy`: `-mean(ln softmax(y)[t])`; targets are class
//!   indices. Lowered as softmax followed by cross-entropy; the simplifier
//!   fuses the pair into a stable log-sum-exp with gradient `(p - y) / batch`.

use crate::errors::Errors;
use crate::ir::expr::{Expr, div, mul, powi, sub, var};
use crate::ir::{Graph, NodeId, Shape, TargetKind};
use crate::model::show_shape;
use crate::ops;
use crate::parse::Call;

pub const KEYWORDS: [&str; 2] = ["mse", "softmax_cross_entropy"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LossKind {
    Mse,
    SoftmaxCrossEntropy,
}

pub struct Loss {
    pub kind: LossKind,
}

/// Resolves the `loss:` call against the network output. `last` names the
/// layer producing the output, for messages.
pub fn resolve(
    call: &Call,
    output: Option<&[usize]>,
    last: &str,
    errors: &mut Errors,
) -> Option<Loss> {
    let name = call.name.to_string();
    let kind = match name.as_str() {
        "mse" => LossKind::Mse,
        "softmax_cross_entropy" => LossKind::SoftmaxCrossEntropy,
        _ => {
            errors.push(
                call.name.span(),
                crate::suggest::unknown("loss", &name, &KEYWORDS),
            );
            return None;
        }
    };
    if call.paren.is_some() {
        crate::args::positional(call, 0, &name, errors)?;
    }
    if let (LossKind::SoftmaxCrossEntropy, Some(out)) = (kind, output) {
        if out.len() != 1 {
            errors.push(
                call.name.span(),
                format!(
                    "`{name}` needs a flat output of class scores but {last} produces {}",
                    show_shape(out)
                ),
            );
        } else if out[0] < 2 {
            errors.push(
                call.name.span(),
                format!(
                    "`{name}` needs at least 2 classes but {last} produces {} value",
                    out[0]
                ),
            );
        }
    }
    Some(Loss { kind })
}

impl Loss {
    pub fn target(&self, output: &[usize]) -> TargetKind {
        match self.kind {
            LossKind::Mse => TargetKind::Values,
            LossKind::SoftmaxCrossEntropy => TargetKind::Class {
                classes: output.iter().product(),
            },
        }
    }

    /// Appends the loss of output `y` against target `t`; returns the scalar.
    pub fn lower(&self, g: &mut Graph, y: NodeId, t: NodeId) -> NodeId {
        match self.kind {
            LossKind::Mse => {
                let shape = g.shape(y).clone();
                let n = shape.len() as f64;
                let squared = ops::map::map(g, powi(sub(var(0), var(1)), 2), vec![y, t], shape);
                let total = ops::reduce::sum_all(g, squared);
                let mean = div(var(0), mul(Expr::Batch, crate::ir::expr::c(n)));
                ops::map::map(g, mean, vec![total], Shape::scalar())
            }
            LossKind::SoftmaxCrossEntropy => {
                let p = ops::softmax::softmax(g, y);
                ops::cross_entropy::cross_entropy(g, p, t)
            }
        }
    }
}
