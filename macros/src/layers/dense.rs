//! `dense(units)` or `dense(units, init = scheme)`: a fully connected
//! layer, `y = x W^T + b`.
//!
//! Shape rule: a flat input of `k` features becomes `units` features; a
//! sequence `[time, k]` becomes `[time, units]`, the same weights applied
//! at every step (as PyTorch's `Linear` on `[batch, time, k]`), and in
//! streaming inference to each step as it comes. Parameters:
//! `<path>.weight` of `[units, k]` (PyTorch's `Linear` layout) and
//! `<path>.bias` of `[units]`. Lowers to a `Linear` product over the last
//! axis and a broadcast addition, whose derivatives give the layer's
//! gradient.

use super::{At, Family, Layer, LowerCtx, Origin, OverTime, Resolved, check_size};
use crate::args;
use crate::errors::Errors;
use crate::init::Scheme;
use crate::ir::expr::{add, var};
use crate::ir::{Derivation, Graph, Init, NodeId, Read, Role};
use crate::model::show_shape;
use crate::ops;
use crate::parse::Call;

pub struct Dense;

impl Family for Dense {
    fn keywords(&self) -> &'static [&'static str] {
        &["dense"]
    }

    fn aliases(&self) -> &'static [(&'static str, &'static str)] {
        &[("Linear", "dense"), ("Dense", "dense")]
    }

    fn resolve(&self, call: &Call, input: Option<&[usize]>, _: &At, errors: &mut Errors) -> Option<Resolved> {
        let (layer, output) = read(call, input, errors)?;
        let fan_in = input.and_then(|dims| dims.last().copied()).unwrap_or(1);
        check_size(&[layer.units, fan_in], call, errors)?;
        Resolved::new(layer, Some(output))
    }
}

/// A resolved `dense` layer.
pub struct DenseLayer {
    pub units: usize,
    /// The layer's own initialization, if it names one.
    pub init: Option<Scheme>,
}

fn read(call: &Call, input: Option<&[usize]>, errors: &mut Errors) -> Option<(DenseLayer, Vec<usize>)> {
    let init = named_init(call, errors);
    let positional: Vec<_> = call.args.iter().filter(|a| a.name.is_none()).collect();
    let [arg] = positional.as_slice() else {
        let at = positional.get(1).map_or(call.site(), |a| a.site());
        errors.push(at, "`dense` takes the number of output units, as in `dense(64)`");
        return None;
    };
    let units = match args::whole(&arg.value) {
        Ok(0) => {
            errors.push(arg.site(), "`dense` needs at least 1 output unit, found 0");
            return None;
        }
        Ok(n) => n as usize,
        Err(message) => {
            errors.push(arg.site(), message);
            return None;
        }
    };
    let output = match input {
        Some(&[_]) | None => vec![units],
        Some(&[steps, _]) => vec![steps, units],
        Some(dims) => {
            errors.push(
                call.site(),
                format!(
                    "`{}` expects a flat input or a [time, features] sequence but receives {}; add `flatten` before it",
                    call.display(),
                    show_shape(dims)
                ),
            );
            vec![units]
        }
    };
    Some((DenseLayer { units, init }, output))
}

/// The optional `init = scheme` argument; any other named argument is an error.
fn named_init(call: &Call, errors: &mut Errors) -> Option<Scheme> {
    let mut init = None;
    for arg in call.args.iter() {
        let Some(name) = &arg.name else { continue };
        let scheme = match &arg.value {
            syn::Expr::Path(p) => p.path.get_ident(),
            _ => None,
        };
        match (name.to_string().as_str(), scheme) {
            ("init", Some(scheme)) => init = crate::init::resolve(scheme, errors),
            ("init", None) => errors.push(arg.site(), "`init` takes a scheme name, as in `init = he_normal`"),
            ("activation", _) => errors.push(arg.site(), super::activation_argument(call, arg)),
            (other, _) => {
                errors.push(arg.site(), format!("`dense` has no parameter `{other}`; it takes `init`"))
            }
        }
    }
    init
}

impl DenseLayer {
    /// The weight and bias, as both lowerings register them.
    fn params(&self, g: &mut Graph, fan_in: usize, origin: &Origin, ctx: LowerCtx) -> (NodeId, NodeId) {
        let (prefix, span) = (&origin.path, origin.span);
        let init = self.init.unwrap_or(ctx.init).init(fan_in, self.units);
        let w = g.param(format!("{prefix}.weight"), &[self.units, fan_in], Role::Weight, init, span);
        let b = g.param(format!("{prefix}.bias"), &[self.units], Role::Bias, Init::Zeros, span);
        (w, b)
    }
}

/// The input's features: its last axis (a sequence's steps are rows).
fn features(g: &Graph, x: NodeId) -> usize {
    g.shape(x).dims.last().copied().unwrap_or(1)
}

impl Layer for DenseLayer {
    fn lower(&self, g: &mut Graph, x: NodeId, origin: &Origin, ctx: LowerCtx) -> NodeId {
        let (w, b) = self.params(g, features(g, x), origin, ctx);
        let z = ops::linear::linear(g, x, w);
        let shape = g.shape(z).clone();
        // The bias is added to every row: every step of a sequence.
        let per_row = if shape.dims.len() > 1 { Read::PerColumn } else { Read::PerFeature };
        ops::map::map_with(g, add(var(0), var(1)), vec![(z, Read::Same), (b, per_row)], shape)
    }

    /// The weight input-major with the bias, for the batch-1 kernel (on
    /// each step of a sequence).
    fn lower_planned(&self, g: &mut Graph, x: NodeId, origin: &Origin, ctx: LowerCtx) -> NodeId {
        let fan_in = features(g, x);
        let rows = g.shape(x).len() / fan_in;
        let (w, b) = self.params(g, fan_in, origin, ctx);
        let (weight, bias) = (g.param_offset(w), g.param_offset(b));
        let plan =
            g.plan(Derivation::Dense { weight, bias: Some(bias), inputs: fan_in, outputs: self.units });
        ops::dense_t::dense_t(g, x, plan, rows, fan_in, self.units)
    }

    /// On a flat input, as its weight is: `[units, inputs]` codes.
    fn int8(&self, input: &[usize]) -> Option<crate::int8::Form> {
        let &[inputs] = input else { return None };
        Some(crate::int8::Form::Dense { inputs, outputs: self.units })
    }

    /// Each step alone: streaming applies it to the step's features.
    fn over_time(&self) -> OverTime<'_> {
        OverTime::EachStep
    }
}
