//! `flatten`: a `[channels, height, width]` (or any) value read as flat
//! features, channel after channel and row after row, as PyTorch's
//! `Flatten` does; what a `dense` layer after convolutions needs.
//!
//! Shape rule: the product of the input's dimensions. No parameters. The
//! memory layout does not change; lowering gives the value its new shape
//! (an identity map), and the gradient takes the old one back.

use crate::args;
use crate::errors::Errors;
use crate::ir::expr::var;
use crate::ir::{Graph, NodeId, Shape};
use crate::ops;
use crate::parse::Call;

pub const KEYWORD: &str = "flatten";

/// The flat output shape; `None` when the input shape is unknown or after
/// an error.
pub fn resolve(call: &Call, input: Option<&[usize]>, errors: &mut Errors) -> Option<Vec<usize>> {
    if call.paren.is_some() {
        args::positional(call, 0, "flatten", errors)?;
    }
    input.map(|dims| vec![dims.iter().product()])
}

pub fn lower(g: &mut Graph, x: NodeId) -> NodeId {
    let len = g.shape(x).len();
    ops::map::map(g, var(0), vec![x], Shape::batched(&[len]))
}
