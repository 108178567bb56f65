//! `dense(units)`: a fully connected layer, `y = x W^T + b`.
//!
//! Shape rule: a flat input of `k` features becomes `units` features.
//! Parameters: `layers.<i>.weight` of `[units, k]` (PyTorch's `Linear`
//! layout) and `layers.<i>.bias` of `[units]`. Lowers to a `Linear` product
//! and a broadcast addition, whose derivatives give the layer's gradient.

use crate::args;
use crate::errors::Errors;
use crate::ir::expr::{add, var};
use crate::ir::{Graph, Init, NodeId, Role};
use crate::model::show_shape;
use crate::ops;
use crate::parse::Call;
use proc_macro2::Span;

pub const KEYWORD: &str = "dense";

pub struct Dense {
    pub units: usize,
}

pub fn resolve(
    call: &Call,
    input: Option<&[usize]>,
    errors: &mut Errors,
) -> Option<(Dense, Vec<usize>)> {
    let [arg] = args::positional(call, 1, "dense(64)", errors)? else {
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
                "`{}` expects a flat input but receives {}",
                call.display(),
                show_shape(dims)
            ),
        );
    }
    Some((Dense { units }, vec![units]))
}

impl Dense {
    pub fn lower(&self, g: &mut Graph, x: NodeId, index: usize, span: Span) -> NodeId {
        let fan_in = g.shape(x).len();
        let init = Init::GlorotUniform {
            fan_in,
            fan_out: self.units,
        };
        let w = g.param(
            format!("layers.{index}.weight"),
            &[self.units, fan_in],
            Role::Weight,
            init,
            span,
        );
        let b = g.param(
            format!("layers.{index}.bias"),
            &[self.units],
            Role::Bias,
            Init::Zeros,
            span,
        );
        let z = ops::linear::linear(g, x, w);
        let shape = g.shape(z).clone();
        ops::map::map(g, add(var(0), var(1)), vec![z, b], shape)
    }
}
