//! `batch_norm`, or `batch_norm(momentum = 0.1, eps = 1e-5)`: batch
//! normalization, as PyTorch's `BatchNorm1d` on flat features and
//! `[channels, length]` values, and `BatchNorm2d` on images.
//!
//! Shape rule: any input, unchanged. A flat input of `n` features has `n`
//! statistics, each over the batch; a `[channels, ..]` input has one per
//! channel, over the batch and every position of the channel. Parameters:
//! `<path>.weight` (the scale, ones) and `<path>.bias` (the shift, zeros).
//! State, saved with the weights and never trained: `<path>.running_mean`
//! (zeros) and `<path>.running_var` (ones).
//!
//! Training normalizes with the batch's own statistics,
//! `(x - mean) / sqrt(var + eps) * weight + bias` with the biased variance,
//! and moves the running statistics toward the batch's (the variance
//! unbiased), `running = (1 - momentum) running + momentum batch`.
//! Because the mean and variance are built from sums and elementwise
//! operations, reverse mode differentiates through them: the full gradient,
//! not the one that treats the statistics as constants. Inference
//! normalizes with the running statistics.

use super::{At, Family, Layer, LowerCtx, Origin, Resolved};
use crate::args;
use crate::errors::Errors;
use crate::ir::expr::{Expr, Unary, add, c, div, mul, powi, sub, unary, var};
use crate::ir::{Graph, Init, NodeId, Read, Role, Shape};
use crate::ops;
use crate::parse::Call;

pub struct BatchNorms;

impl Family for BatchNorms {
    fn keywords(&self) -> &'static [&'static str] {
        &["batch_norm"]
    }

    fn aliases(&self) -> &'static [(&'static str, &'static str)] {
        &[("BatchNorm1d", "batch_norm"), ("BatchNorm2d", "batch_norm"), ("BatchNormalization", "batch_norm")]
    }

    fn resolve(&self, call: &Call, input: Option<&[usize]>, _: &At, errors: &mut Errors) -> Option<Resolved> {
        Resolved::new(read(call, input, errors)?, input.map(<[usize]>::to_vec))
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchNorm {
    pub momentum: f64,
    pub eps: f64,
}

fn read(call: &Call, input: Option<&[usize]>, errors: &mut Errors) -> Option<BatchNorm> {
    let mut bn = BatchNorm { momentum: 0.1, eps: 1e-5 };
    let mut ok = true;
    for arg in &call.args {
        let Some(name) = &arg.name else {
            errors.push(
                arg.site(),
                "`batch_norm` takes named arguments, as in `batch_norm(momentum = 0.1, eps = 1e-5)`",
            );
            ok = false;
            continue;
        };
        let value = match args::real(&arg.value) {
            Ok(v) => v,
            Err(message) => {
                errors.push(arg.site(), message);
                ok = false;
                continue;
            }
        };
        match name.to_string().as_str() {
            "momentum" if (0.0..=1.0).contains(&value) => bn.momentum = value,
            "momentum" => errors.push(arg.site(), format!("`momentum` must be in [0, 1], found {value}")),
            "eps" if value > 0.0 && value.is_finite() => bn.eps = value,
            "eps" => errors.push(arg.site(), format!("`eps` must be a finite number above 0, found {value}")),
            other => errors.push(
                arg.site(),
                format!("`batch_norm` has no parameter `{other}`; it takes `momentum` and `eps`"),
            ),
        }
    }
    if let Some(dims) = input
        && dims.is_empty()
    {
        errors.push(call.site(), format!("`{}` needs features to normalize", call.display()));
    }
    ok.then_some(bn)
}

impl Layer for BatchNorm {
    fn lower(&self, g: &mut Graph, x: NodeId, origin: &Origin, ctx: LowerCtx) -> NodeId {
        let (prefix, span, training) = (&origin.path, origin.span, ctx.training);
        let shape = g.shape(x).clone();
        // Flat features are their own statistics; otherwise, channels.
        let flat = shape.dims.len() == 1;
        let dims = if flat { shape.dims.clone() } else { vec![shape.dims[0]] };
        let per_sample = shape.len() / dims[0];
        let weight = g.param(format!("{prefix}.weight"), &dims, Role::Scale, Init::Ones, span);
        let bias = g.param(format!("{prefix}.bias"), &dims, Role::Bias, Init::Zeros, span);
        let running_mean = g.state(format!("{prefix}.running_mean"), &dims, Init::Zeros);
        let running_var = g.state(format!("{prefix}.running_var"), &dims, Init::Ones);
        // (x - mean) / sqrt(var + eps) * weight + bias, over operands
        // (x, mean, var, weight, bias).
        let normalize =
            add(mul(div(sub(var(0), var(1)), unary(Unary::Sqrt, add(var(2), c(self.eps)))), var(3)), var(4));
        // A statistic (and the scale and shift) is read per feature of a
        // flat value, per channel otherwise.
        let per = if flat { Read::PerFeature } else { Read::PerChannel };
        let operands = |mean, var| vec![(x, Read::Same), (mean, per), (var, per), (weight, per), (bias, per)];
        if !training {
            return ops::map::map_with(g, normalize, operands(running_mean, running_var), shape);
        }
        let statistic = Shape::fixed(&dims);
        let count = mul(Expr::Batch, c(per_sample as f64));
        let batch_mean = |g: &mut Graph, v: NodeId| {
            let total = if flat { ops::reduce::sum_batch(g, v) } else { ops::reduce::sum_channels(g, v) };
            ops::map::map(g, div(var(0), count.clone()), vec![total], statistic.clone())
        };
        let mean = batch_mean(g, x);
        let squared = ops::map::map_with(
            g,
            powi(sub(var(0), var(1)), 2),
            vec![(x, Read::Same), (mean, per)],
            shape.clone(),
        );
        let variance = batch_mean(g, squared);
        ops::running::update(g, running_mean, mean, self.momentum, false, per_sample);
        ops::running::update(g, running_var, variance, self.momentum, true, per_sample);
        ops::map::map_with(g, normalize, operands(mean, variance), shape)
    }
}
