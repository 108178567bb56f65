//! `layer_norm`, or `layer_norm(eps = 1e-5)`: layer normalization over the
//! last dimension, as PyTorch's `nn.LayerNorm(features)`.
//!
//! Shape rule: any input, unchanged. Each row of the last dimension (a flat
//! sample; a time step of a `[time, features]` sequence) is normalized by
//! its own mean and biased variance, `(x - mean) / sqrt(var + eps)`, then
//! scaled and shifted per feature. Parameters: `<path>.weight` (the scale,
//! ones) and `<path>.bias` (the shift, zeros), both `[features]`. Unlike
//! batch norm, training and inference compute the same thing and there is
//! no state; a step of a sequence is normalized alone, so a streaming
//! network can run through it.
//!
//! Lowers to the per-row mean (`SumLast`), the centered values, their
//! per-row variance, and one map for the rest; reverse mode differentiates
//! through the statistics, so the gradient is the full one.

use super::{At, Family, Layer, LowerCtx, Origin, OverTime, Resolved};
use crate::args;
use crate::errors::Errors;
use crate::ir::expr::{Unary, add, c, div, mul, powi, sub, unary, var};
use crate::ir::{Graph, Init, NodeId, Read, Role};
use crate::ops;
use crate::parse::Call;

pub struct LayerNorms;

impl Family for LayerNorms {
    fn keywords(&self) -> &'static [&'static str] {
        &["layer_norm"]
    }

    fn aliases(&self) -> &'static [(&'static str, &'static str)] {
        &[("LayerNorm", "layer_norm"), ("LayerNormalization", "layer_norm")]
    }

    fn resolve(&self, call: &Call, input: Option<&[usize]>, _: &At, errors: &mut Errors) -> Option<Resolved> {
        let mut eps = 1e-5;
        for arg in &call.args {
            match arg.name.as_ref().map(ToString::to_string).as_deref() {
                Some("eps") => match args::real(&arg.value) {
                    Ok(v) if v > 0.0 && v.is_finite() => eps = v,
                    Ok(v) => {
                        errors.push(arg.site(), format!("`eps` must be a finite number above 0, found {v}"));
                        return None;
                    }
                    Err(message) => {
                        errors.push(arg.site(), message);
                        return None;
                    }
                },
                Some(other) => {
                    errors
                        .push(arg.site(), format!("`layer_norm` has no parameter `{other}`; it takes `eps`"));
                    return None;
                }
                None => {
                    errors.push(
                        arg.site(),
                        "`layer_norm` takes a named argument, as in `layer_norm(eps = 1e-5)`",
                    );
                    return None;
                }
            }
        }
        Resolved::new(LayerNorm { eps }, input.map(<[usize]>::to_vec))
    }
}

pub struct LayerNorm {
    eps: f64,
}

impl Layer for LayerNorm {
    fn lower(&self, g: &mut Graph, x: NodeId, origin: &Origin, _: LowerCtx) -> NodeId {
        let shape = g.shape(x).clone();
        let features = *shape.dims.last().expect("a value has dimensions");
        let (prefix, span) = (&origin.path, origin.span);
        let weight = g.param(format!("{prefix}.weight"), &[features], Role::Scale, Init::Ones, span);
        let bias = g.param(format!("{prefix}.bias"), &[features], Role::Bias, Init::Zeros, span);
        let row_mean = |g: &mut Graph, v: NodeId| {
            let total = ops::reduce::sum_last(g, v);
            let shape = g.shape(total).clone();
            ops::map::map_with(g, div(var(0), c(features as f64)), vec![(total, Read::Same)], shape)
        };
        let mean = row_mean(g, x);
        let centered = ops::map::map_with(
            g,
            sub(var(0), var(1)),
            vec![(x, Read::Same), (mean, Read::PerRow)],
            shape.clone(),
        );
        let squared = ops::map::map(g, powi(var(0), 2), vec![centered], shape.clone());
        let variance = row_mean(g, squared);
        // centered / sqrt(var + eps) * weight + bias
        let normalize = add(mul(div(var(0), unary(Unary::Sqrt, add(var(1), c(self.eps)))), var(2)), var(3));
        let operands = vec![
            (centered, Read::Same),
            (variance, Read::PerRow),
            (weight, Read::PerColumn),
            (bias, Read::PerColumn),
        ];
        ops::map::map_with(g, normalize, operands, shape)
    }

    fn over_time(&self) -> OverTime<'_> {
        OverTime::EachStep
    }
}
