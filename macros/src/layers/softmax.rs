//! `softmax` and `log_softmax` as layers: (log-)probabilities over the
//! features of each sample. Shape rule: a flat input, unchanged in size. No
//! parameters. Derivatives are those of the `Softmax` and `LogSoftmax`
//! operations. `softmax_cross_entropy` applies softmax itself and takes raw
//! scores, so its layers should not end with either; `nll` expects
//! `log_softmax` output, as in PyTorch.

use crate::args;
use crate::errors::Errors;
use crate::ir::{Graph, NodeId};
use crate::model::show_shape;
use crate::ops;
use crate::parse::Call;

pub const KEYWORDS: [&str; 2] = ["softmax", "log_softmax"];

/// `Some(log)` for the two keywords (after checking them), `None` otherwise.
pub fn resolve(call: &Call, input: Option<&[usize]>, errors: &mut Errors) -> Option<Option<bool>> {
    let log = match call.name.to_string().as_str() {
        "softmax" => false,
        "log_softmax" => true,
        _ => return None,
    };
    if call.paren.is_some() && args::positional(call, 0, KEYWORDS[usize::from(log)], errors).is_none() {
        return Some(None);
    }
    if let Some(dims) = input
        && dims.len() != 1
    {
        errors.push(
            call.site(),
            format!("`{}` expects a flat input but receives {}", call.name, show_shape(dims)),
        );
    }
    Some(Some(log))
}

pub fn lower(g: &mut Graph, x: NodeId, log: bool) -> NodeId {
    if log { ops::log_softmax::log_softmax(g, x) } else { ops::softmax::softmax(g, x) }
}
