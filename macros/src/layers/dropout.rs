//! `dropout(p)`: inverted dropout. In training each element is zeroed with
//! probability `p` and the rest scaled by `1 / (1 - p)`; in inference the
//! layer is absent. Shape rule: unchanged. No parameters.
//!
//! Lowering in training draws a mask (a stored value) and multiplies by it;
//! the product's derivative multiplies the upstream gradient by the same
//! mask, so the backward pass reuses it without special code.

use super::{At, Family, Layer, LowerCtx, Origin, OverTime, Resolved};
use crate::args;
use crate::errors::Errors;
use crate::ir::expr::{mul, var};
use crate::ir::{Graph, NodeId};
use crate::ops;
use crate::parse::Call;

pub struct Dropout;

impl Family for Dropout {
    fn keywords(&self) -> &'static [&'static str] {
        &["dropout"]
    }

    fn aliases(&self) -> &'static [(&'static str, &'static str)] {
        &[("Dropout", "dropout")]
    }

    fn resolve(&self, call: &Call, input: Option<&[usize]>, _: &At, errors: &mut Errors) -> Option<Resolved> {
        let p = probability(call, errors)?;
        Resolved::new(DropoutLayer { p }, input.map(<[usize]>::to_vec))
    }
}

/// Inverted dropout with drop probability `p`.
pub struct DropoutLayer {
    p: f64,
}

/// The drop probability, which must lie in [0, 1): at 1 nothing would pass.
fn probability(call: &Call, errors: &mut Errors) -> Option<f64> {
    let [arg] = args::positional(call, 1, "dropout(0.2)", errors)? else { return None };
    match args::real(&arg.value) {
        Ok(p) if (0.0..1.0).contains(&p) => Some(p),
        Ok(p) => {
            errors.push(arg.site(), format!("`dropout` probability must be in [0, 1), found {p}"));
            None
        }
        Err(message) => {
            errors.push(arg.site(), message);
            None
        }
    }
}

impl Layer for DropoutLayer {
    /// Inference passes its input on.
    fn int8(&self, _: &[usize]) -> Option<crate::int8::Form> {
        Some(crate::int8::Form::Nothing)
    }

    fn lower(&self, g: &mut Graph, x: NodeId, _: &Origin, ctx: LowerCtx) -> NodeId {
        if !ctx.training || self.p == 0.0 {
            return x;
        }
        let mask = ops::dropout::mask(g, x, self.p);
        let shape = g.shape(x).clone();
        ops::map::map(g, mul(var(0), var(1)), vec![x, mask], shape)
    }

    fn over_time(&self) -> OverTime<'_> {
        OverTime::EachStep
    }

    fn over_columns(&self) -> OverTime<'_> {
        OverTime::EachStep
    }
}
