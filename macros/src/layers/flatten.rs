//! `flatten`: a `[channels, height, width]` (or any) value read as flat
//! features, channel after channel and row after row, as PyTorch's
//! `Flatten` does; what a `dense` layer after convolutions needs.
//!
//! Shape rule: the product of the input's dimensions. No parameters. The
//! memory layout does not change; lowering gives the value its new shape
//! (an identity map), and the gradient takes the old one back.

use super::{At, Family, Layer, LowerCtx, Origin, Resolved};
use crate::args;
use crate::errors::Errors;
use crate::ir::expr::var;
use crate::ir::{Graph, NodeId, Shape};
use crate::ops;
use crate::parse::Call;

pub struct Flatten;

impl Family for Flatten {
    fn keywords(&self) -> &'static [&'static str] {
        &["flatten"]
    }

    fn aliases(&self) -> &'static [(&'static str, &'static str)] {
        &[("Flatten", "flatten")]
    }

    /// The flat output shape is unknown when the input shape is.
    fn resolve(&self, call: &Call, input: Option<&[usize]>, _: &At, errors: &mut Errors) -> Option<Resolved> {
        if call.paren.is_some() {
            args::positional(call, 0, "flatten", errors)?;
        }
        Resolved::new(FlattenLayer, input.map(|dims| vec![dims.iter().product()]))
    }
}

pub struct FlattenLayer;

impl Layer for FlattenLayer {
    fn lower(&self, g: &mut Graph, x: NodeId, _: &Origin, _: LowerCtx) -> NodeId {
        let len = g.shape(x).len();
        ops::map::map(g, var(0), vec![x], Shape::batched(&[len]))
    }

    /// The same codes, read as one row.
    fn int8(&self, _: &[usize]) -> Option<crate::int8::Form> {
        Some(crate::int8::Form::Nothing)
    }
}
