//! `softmax` and `log_softmax` as layers: (log-)probabilities over the
//! features of each sample. Shape rule: a flat input, unchanged in size. No
//! parameters. Derivatives are those of the `Softmax` and `LogSoftmax`
//! operations. `softmax_cross_entropy` applies softmax itself and takes raw
//! scores, so its layers should not end with either; `nll` expects
//! `log_softmax` output, as in PyTorch.

use super::{At, Family, Layer, LowerCtx, Origin, Resolved};
use crate::args;
use crate::errors::Errors;
use crate::ir::{Graph, NodeId};
use crate::model::show_shape;
use crate::ops;
use crate::parse::Call;

pub struct Softmaxes;

impl Family for Softmaxes {
    fn keywords(&self) -> &'static [&'static str] {
        &["softmax", "log_softmax"]
    }

    fn aliases(&self) -> &'static [(&'static str, &'static str)] {
        &[("Softmax", "softmax"), ("LogSoftmax", "log_softmax")]
    }

    fn resolve(&self, call: &Call, input: Option<&[usize]>, _: &At, errors: &mut Errors) -> Option<Resolved> {
        let log = call.name == "log_softmax";
        let layer = read(call, input, log, errors)?;
        Resolved::new(layer, input.map(<[usize]>::to_vec))
    }
}

/// `softmax` (or `log_softmax`, when `log`) over each sample's features.
pub struct SoftmaxLayer {
    log: bool,
}

fn read(call: &Call, input: Option<&[usize]>, log: bool, errors: &mut Errors) -> Option<SoftmaxLayer> {
    if call.paren.is_some() {
        args::positional(call, 0, if log { "log_softmax" } else { "softmax" }, errors)?;
    }
    if let Some(dims) = input
        && dims.len() != 1
    {
        errors.push(
            call.site(),
            format!("`{}` expects a flat input but receives {}", call.name, show_shape(dims)),
        );
    }
    Some(SoftmaxLayer { log })
}

impl Layer for SoftmaxLayer {
    fn lower(&self, g: &mut Graph, x: NodeId, _: &Origin, _: LowerCtx) -> NodeId {
        if self.log { ops::log_softmax::log_softmax(g, x) } else { ops::softmax::softmax(g, x) }
    }
}
