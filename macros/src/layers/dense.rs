//! `dense(units)` or `dense(units, init = scheme)`: a fully connected
//! layer, `y = x W^T + b`.
//!
//! Shape rule: a flat input of `k` features becomes `units` features.
//! Parameters: `<path>.weight` of `[units, k]` (PyTorch's `Linear`
//! layout) and `<path>.bias` of `[units]`. Lowers to a `Linear` product
//! and a broadcast addition, whose derivatives give the layer's gradient.

use super::{At, Family, Layer, LowerCtx, Origin, Resolved, check_size};
use crate::args;
use crate::errors::Errors;
use crate::init::Scheme;
use crate::ir::expr::{add, var};
use crate::ir::{Derivation, Graph, Init, NodeId, Role};
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
        let fan_in = input.map_or(1, |dims| dims.iter().product());
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
    if let Some(dims) = input
        && dims.len() != 1
    {
        errors.push(
            call.site(),
            format!(
                "`{}` expects a flat input but receives {}; add `flatten` before it",
                call.display(),
                show_shape(dims)
            ),
        );
    }
    Some((DenseLayer { units, init }, vec![units]))
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

impl Layer for DenseLayer {
    fn lower(&self, g: &mut Graph, x: NodeId, origin: &Origin, ctx: LowerCtx) -> NodeId {
        let (w, b) = self.params(g, g.shape(x).len(), origin, ctx);
        let z = ops::linear::linear(g, x, w);
        let shape = g.shape(z).clone();
        ops::map::map(g, add(var(0), var(1)), vec![z, b], shape)
    }

    /// The weight input-major with the bias, for the batch-1 kernel.
    fn lower_planned(&self, g: &mut Graph, x: NodeId, origin: &Origin, ctx: LowerCtx) -> NodeId {
        let fan_in = g.shape(x).len();
        let (w, b) = self.params(g, fan_in, origin, ctx);
        let (weight, bias) = (g.param_offset(w), g.param_offset(b));
        let plan =
            g.plan(Derivation::Dense { weight, bias: Some(bias), inputs: fan_in, outputs: self.units });
        ops::dense_t::dense_t(g, x, plan, fan_in, self.units)
    }
}
