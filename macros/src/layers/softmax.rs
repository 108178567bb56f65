//! `softmax` as a layer: probabilities over the features of each sample.
//! Shape rule: a flat input, unchanged in size. No parameters. Its
//! derivative is `Softmax`'s (`p * (g - sum(g p))`). `softmax_cross_entropy`
//! applies softmax itself and takes raw scores: do not end its layers with
//! `softmax`.

use crate::args;
use crate::errors::Errors;
use crate::ir::{Graph, NodeId};
use crate::model::show_shape;
use crate::ops;
use crate::parse::Call;

pub const KEYWORD: &str = "softmax";

pub fn resolve(call: &Call, input: Option<&[usize]>, errors: &mut Errors) -> Option<()> {
    if call.paren.is_some() {
        args::positional(call, 0, KEYWORD, errors)?;
    }
    if let Some(dims) = input
        && dims.len() != 1
    {
        errors.push(call.site(), format!("`softmax` expects a flat input but receives {}", show_shape(dims)));
    }
    Some(())
}

pub fn lower(g: &mut Graph, x: NodeId) -> NodeId {
    ops::softmax::softmax(g, x)
}
