//! Post-training quantization: a trained network and a few hundred
//! inputs in, a [`Quantized`] network out. The inputs run through the
//! network's int8 steps in `f64` (the same function as `predict`, step by
//! step), each value's range is observed, and then:
//!
//! - each activation gets the codes covering its range (min and max, or
//!   a central percentile that lets a few outliers clip), widened to 0;
//! - each dense weight a scale per output channel, its largest magnitude
//!   over 127, and codes rounded to nearest;
//! - each bias the `i32` of `bias / (s_x s_w)`;
//! - each elementwise function a table from input code to output code.
//!
//! A ReLU after a dense layer is fused: the layer's output codes cover the
//! ReLU's range and the kernel clamps at the zero point.

use super::{Quantization, Quantized, Step};
use crate::{Error, Network, Result, Scalar};
use chainrule_spec::quant_file::{Model, Tensors};

/// How an activation's range is taken from the values observed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Range {
    /// From the smallest to the largest value.
    MinMax,
    /// The central `p` percent of the values (`p` in (0, 100]): the
    /// `(100 - p) / 2` percent at each end clip, so rare outliers do not
    /// stretch the codes of the rest.
    Percentile(f64),
}

impl Range {
    /// The range of `values` (sorted in place).
    fn of(self, values: &mut [f32]) -> (f32, f32) {
        values.sort_unstable_by(f32::total_cmp);
        let at = |fraction: f64| {
            let last = values.len().saturating_sub(1);
            values.get((fraction * last as f64).round() as usize).copied().unwrap_or(0.0)
        };
        match self {
            Range::MinMax => (at(0.0), at(1.0)),
            Range::Percentile(p) => {
                let tail = (100.0 - p.clamp(0.0, 100.0)) / 200.0;
                (at(tail), at(1.0 - tail))
            }
        }
    }
}

/// Quantizes `net` from `samples` (a few hundred typical inputs; a
/// training subset will do), each activation's range taken by `range`.
/// Fails for a network with a layer int8 cannot run (the error names it),
/// without samples, or with a sample that gives a value that is not finite.
pub fn calibrate<N>(net: &N, samples: &[N::Input], range: Range) -> Result<Quantized>
where
    N: Network,
    N::Input: AsRef<[N::Scalar]>,
{
    let steps = N::INT8.map_err(|why| Error::Int8(why.to_string()))?;
    if samples.is_empty() {
        return Err(Error::Int8("calibration needs at least one sample".into()));
    }
    // Each step's weight and bias in f64, read once for every sample.
    let params = steps.iter().map(|step| parameters(net, step)).collect::<Result<Vec<_>>>()?;
    let mut observed: Vec<Vec<f32>> = vec![Vec::new(); steps.len() + 1];
    for sample in samples {
        let mut x: Vec<f64> = sample.as_ref().iter().map(|v| v.as_f64()).collect();
        observe(&mut observed[0], &x)?;
        for (k, (step, params)) in steps.iter().zip(&params).enumerate() {
            x = forward(step, params.as_ref(), &x);
            observe(&mut observed[k + 1], &x)?;
        }
    }
    let ranges: Vec<Quantization> = observed
        .iter_mut()
        .map(|values| {
            let (lo, hi) = range.of(values);
            Quantization::covering(lo, hi)
        })
        .collect();
    let mut layers = Vec::new();
    let mut input = ranges[0];
    for (k, (step, params)) in steps.iter().zip(&params).enumerate() {
        let layer = match (*step, params) {
            (Step::Dense { inputs, .. }, Some((w, b))) => dense(w, b, inputs, input, ranges[k + 1]),
            (Step::Conv2d { geometry: g, .. }, Some((w, b))) => {
                dense(w, b, g.patch_len(), input, ranges[k + 1])
            }
            (Step::Table { function, .. }, _) => table(function, input, ranges[k + 1]),
            _ => Tensors::None,
        };
        input = layer.output(input);
        layers.push(layer);
    }
    Quantized::new(steps, Model { input: ranges[0], layers }, N::INPUT_LEN)
}

/// Records `x`'s values; a value that is not finite is an error.
fn observe(values: &mut Vec<f32>, x: &[f64]) -> Result<()> {
    if let Some(bad) = x.iter().find(|v| !v.is_finite()) {
        return Err(Error::Int8(format!("a calibration sample gave the value {bad}")));
    }
    values.extend(x.iter().map(|&v| v as f32));
    Ok(())
}

/// The values of tensor `name` of the network's parameters.
fn tensor<N: Network>(net: &N, name: &str) -> Result<Vec<f64>> {
    let spec = N::LAYOUT
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| Error::Int8(format!("the network has no tensor `{name}`")))?;
    Ok(net.params()[spec.offset..][..spec.len()].iter().map(|v| v.as_f64()).collect())
}

/// The weight and bias (zeros without one) of a dense or convolution
/// step, in `f64`; `None` for other steps.
fn parameters<N: Network>(net: &N, step: &Step) -> Result<Option<(Vec<f64>, Vec<f64>)>> {
    let (name, bias, outputs) = match *step {
        Step::Dense { name, bias, outputs, .. } => (name, bias, outputs),
        Step::Conv2d { name, bias, geometry, .. } => (name, bias, geometry.out_channels),
        _ => return Ok(None),
    };
    let weight = tensor(net, &format!("{name}.weight"))?;
    let b = if bias { tensor(net, &format!("{name}.bias"))? } else { vec![0.0; outputs] };
    Ok(Some((weight, b)))
}

/// One step on real values, as the network computes it, with the step's
/// [`parameters`].
fn forward(step: &Step, params: Option<&(Vec<f64>, Vec<f64>)>, x: &[f64]) -> Vec<f64> {
    match (*step, params) {
        (Step::Dense { inputs, outputs, relu, .. }, Some((weight, b))) => (0..outputs)
            .map(|o| {
                let y = b[o] + weight[o * inputs..][..inputs].iter().zip(x).map(|(w, v)| w * v).sum::<f64>();
                if relu { y.max(0.0) } else { y }
            })
            .collect(),
        (Step::Conv2d { geometry: g, relu, .. }, Some((weight, b))) => convolve(&g, x, weight, b, relu),
        (Step::Table { function, .. }, _) => x.iter().map(|&v| function(v)).collect(),
        (Step::MaxPool2d(p), _) => pool(&p, x, f64::NEG_INFINITY, f64::max, |m| m),
        (Step::AvgPool2d(p), _) => {
            let window = (p.kernel_h * p.kernel_w) as f64;
            pool(&p, x, 0.0, |s, v| s + v, |s| s / window)
        }
        (Step::Dense { .. } | Step::Conv2d { .. }, None) => unreachable!("`parameters` reads them"),
    }
}

/// Pooling on real values: each window folded from `start` by `fold`, then `finish`ed.
fn pool(
    p: &chainrule_spec::Pool2d,
    x: &[f64],
    start: f64,
    fold: fn(f64, f64) -> f64,
    finish: impl Fn(f64) -> f64,
) -> Vec<f64> {
    let mut out = vec![start; p.output_len()];
    for c in 0..p.channels {
        for r in 0..p.out_h {
            for col in 0..p.out_w {
                let o = &mut out[(c * p.out_h + r) * p.out_w + col];
                for i in 0..p.kernel_h {
                    for j in 0..p.kernel_w {
                        let at = (c * p.height + r * p.stride_h + i) * p.width + col * p.stride_w + j;
                        *o = fold(*o, x[at]);
                    }
                }
                *o = finish(*o);
            }
        }
    }
    out
}

/// A convolution on real values, by its definition.
fn convolve(g: &chainrule_spec::Conv2d, x: &[f64], weight: &[f64], bias: &[f64], relu: bool) -> Vec<f64> {
    let mut out = vec![0.0; g.output_len()];
    for o in 0..g.out_channels {
        for r in 0..g.out_h {
            for col in 0..g.out_w {
                let mut y = bias[o];
                for c in 0..g.channels {
                    for i in 0..g.kernel_h {
                        let row = (r * g.stride_h + i * g.dilation_h) as isize - g.pad_top as isize;
                        if row < 0 || row as usize >= g.height {
                            continue;
                        }
                        for j in 0..g.kernel_w {
                            let at = (col * g.stride_w + j * g.dilation_w) as isize - g.pad_left as isize;
                            if at >= 0 && (at as usize) < g.width {
                                let w = weight[((o * g.channels + c) * g.kernel_h + i) * g.kernel_w + j];
                                y += w * x[(c * g.height + row as usize) * g.width + at as usize];
                            }
                        }
                    }
                }
                out[(o * g.out_h + r) * g.out_w + col] = if relu { y.max(0.0) } else { y };
            }
        }
    }
    out
}

/// A dense layer's or convolution's codes (rows of `inputs` weights): a scale per output channel, biases in the sum's units.
fn dense(weight: &[f64], bias: &[f64], inputs: usize, input: Quantization, output: Quantization) -> Tensors {
    let (mut codes, mut scales, mut biases) = (Vec::new(), Vec::new(), Vec::new());
    for (row, &b) in weight.chunks_exact(inputs).zip(bias) {
        let largest = row.iter().fold(0.0f64, |m, w| m.max(w.abs()));
        let scale = if largest > 0.0 { largest / 127.0 } else { 1.0 };
        let scale = scale as f32;
        codes.extend(row.iter().map(|&w| (w / f64::from(scale)).round().clamp(-127.0, 127.0) as i8));
        let unit = f64::from(input.scale) * f64::from(scale);
        biases.push((b / unit).round().clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32);
        scales.push(scale);
    }
    Tensors::Weighted { weight: codes, weight_scale: scales, bias: biases, output }
}

/// The output code of each input code through `function`.
fn table(function: fn(f64) -> f64, input: Quantization, output: Quantization) -> Tensors {
    let mut table = [0u8; 256];
    for (code, entry) in table.iter_mut().enumerate() {
        *entry = output.quantize(function(f64::from(input.dequantize(code as u8))) as f32);
    }
    Tensors::Table { table, output }
}
