//! A quantized network in memory, runnable without recompiling: what
//! [`super::calibrate`] makes and a quantized weight file holds. It runs
//! the same kernels, on the same numbers, as the code `quantize: int8`
//! compiles in, so its predictions are those of the compiled network to
//! the bit; use it to measure a quantization before compiling it in.

use super::{Level, Multiplier, Step};
use crate::{Error, Result};
use chainrule_spec::quant::{self, folded_bias, pack_dense};
use chainrule_spec::quant_file::{self, Model, Tensors};
use std::path::Path;

/// A quantized network: its steps, their numbers, and the kernels' forms
/// of them (packed weights, folded biases, fixed-point multipliers).
#[derive(Debug, Clone)]
pub struct Quantized {
    steps: &'static [Step],
    model: Model,
    input_len: usize,
    output_len: usize,
    prepared: Vec<Option<Prepared>>,
    /// The codes between steps, two buffers used in turn.
    codes: [Vec<u8>; 2],
    /// The patches of the widest convolution.
    patches: Vec<u8>,
}

/// A dense or convolution step as the kernel takes it.
#[derive(Debug, Clone)]
struct Prepared {
    packed: Vec<i8>,
    bias: Vec<i32>,
    multipliers: Vec<Multiplier>,
    zero_point: i32,
    floor: i32,
}

impl Quantized {
    /// The network of `steps` with the numbers of `model`, over inputs of
    /// `input_len` values.
    pub fn new(steps: &'static [Step], model: Model, input_len: usize) -> Result<Self> {
        let fail = |message: String| Error::Int8(message);
        if model.layers.len() != steps.len() {
            return Err(fail(format!("{} steps but numbers for {}", steps.len(), model.layers.len())));
        }
        let (mut len, mut longest, mut q) =
            (input_len, input_len.next_multiple_of(quant::GROUP), model.input);
        let (mut prepared, mut patches) = (Vec::new(), 0);
        let kernel = |packed: Vec<i8>, row: usize, layer: &Tensors, q: super::Quantization, relu: bool| {
            let Tensors::Weighted { weight, weight_scale, bias, output } = layer else {
                unreachable!("matched")
            };
            let bias = weight.chunks_exact(row).zip(bias).map(|(w, &b)| folded_bias(b, q.zero_point, w));
            let multipliers = weight_scale.iter().map(|&s| quant::multiplier(q.scale, s, output.scale));
            Prepared {
                packed,
                bias: bias.collect(),
                multipliers: multipliers.collect(),
                zero_point: output.zero_point,
                floor: if relu { output.zero_point } else { 0 },
            }
        };
        for (step, layer) in steps.iter().zip(&model.layers) {
            let weighted = match (*step, layer) {
                (Step::Dense { inputs, outputs, relu, .. }, Tensors::Weighted { weight, .. }) => {
                    if inputs != len {
                        return Err(fail(format!("a dense step of {inputs} inputs after {len} values")));
                    }
                    let mut packed = vec![0i8; quant::packed_len(outputs, inputs)];
                    pack_dense(weight, outputs, inputs, &mut packed);
                    len = outputs;
                    Some(kernel(packed, inputs, layer, q, relu))
                }
                (Step::Conv2d { geometry: g, relu, .. }, Tensors::Weighted { weight, .. }) => {
                    if g.input_len() != len {
                        return Err(fail(format!(
                            "a convolution of {} inputs after {len} values",
                            g.input_len()
                        )));
                    }
                    let mut packed = vec![0i8; g.out_channels * quant::conv_row(&g)];
                    quant::pack_conv(weight, &g, &mut packed);
                    len = g.output_len();
                    patches = patches.max(super::patches_len(&g));
                    Some(kernel(packed, g.patch_len(), layer, q, relu))
                }
                (Step::MaxPool2d(p) | Step::AvgPool2d(p), Tensors::None) => {
                    if p.input_len() != len {
                        return Err(fail(format!("a pooling of {} values after {len}", p.input_len())));
                    }
                    len = p.output_len();
                    None
                }
                (Step::Table { .. }, Tensors::Table { .. }) => None,
                (step, _) => return Err(fail(format!("the numbers of another kind of step for {step:?}"))),
            };
            prepared.push(weighted);
            q = layer.output(q);
            longest = longest.max(len.next_multiple_of(quant::GROUP));
        }
        let codes = [vec![0u8; longest], vec![0u8; longest]];
        Ok(Self { steps, model, input_len, output_len: len, prepared, codes, patches: vec![0; patches] })
    }

    /// Reads a quantized weight file for `steps` (see
    /// [`chainrule_spec::quant_file`]), every problem reported.
    pub fn load(steps: &'static [Step], input_len: usize, path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| Error::Io { path: path.into(), source })?;
        let kept: Vec<_> = steps.iter().map(Step::kept).collect();
        let model = quant_file::read(&bytes, &kept)
            .map_err(|problems| Error::Weights { path: path.into(), message: problems.join("; ") })?;
        Self::new(steps, model, input_len)
    }

    /// Writes the quantized weight file, atomically.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let fail = |message: String| Error::Weights { path: path.into(), message };
        let kept: Vec<_> = self.steps.iter().map(Step::kept).collect();
        let bytes = quant_file::write(&self.model, &kept).map_err(fail)?;
        crate::train::write_atomically(path, &bytes).map_err(|e| fail(e.to_string()))
    }

    /// The numbers: scales, zero points, codes.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The steps it runs.
    pub fn steps(&self) -> &'static [Step] {
        self.steps
    }

    /// Bytes of its weights, biases, scales and tables: what compiling it
    /// in adds to a binary's read-only data.
    pub fn weight_bytes(&self) -> usize {
        self.model.layers.iter().map(Tensors::bytes).sum()
    }

    /// Values per input and per output.
    pub fn sizes(&self) -> (usize, usize) {
        (self.input_len, self.output_len)
    }

    /// The output for `x` (the network's real scores, dequantized), on the
    /// int8 kernels of `level`. Allocates nothing.
    ///
    /// # Panics
    /// If `x` or `out` is shorter than [`Quantized::sizes`] says.
    pub fn predict_on(&mut self, level: Level, x: &[f32], out: &mut [f32]) {
        assert!(x.len() >= self.input_len && out.len() >= self.output_len);
        let [a, b] = &mut self.codes;
        let (mut from, mut to) = (a, b);
        super::quantize(self.model.input, &x[..self.input_len], from);
        let (mut len, mut q) = (self.input_len, self.model.input);
        for ((step, layer), prepared) in self.steps.iter().zip(&self.model.layers).zip(&self.prepared) {
            match (*step, layer, prepared) {
                (Step::Dense { inputs, outputs, .. }, _, Some(p)) => {
                    super::dense(
                        level,
                        inputs,
                        outputs,
                        from,
                        &p.packed,
                        &p.bias,
                        &p.multipliers,
                        (p.zero_point, p.floor),
                        to,
                    );
                    len = outputs;
                }
                (Step::Conv2d { geometry, .. }, _, Some(p)) => {
                    super::conv2d(
                        level,
                        &geometry,
                        from,
                        q.zero_point as u8,
                        &mut self.patches,
                        &p.packed,
                        &p.bias,
                        &p.multipliers,
                        (p.zero_point, p.floor),
                        to,
                    );
                    len = geometry.output_len();
                }
                (Step::MaxPool2d(pool), ..) => {
                    super::max_pool2d(&pool, from, to);
                    len = pool.output_len();
                }
                (Step::AvgPool2d(pool), ..) => {
                    super::avg_pool2d(&pool, from, to);
                    len = pool.output_len();
                }
                (Step::Table { .. }, Tensors::Table { table, .. }, _) => {
                    super::table(table, &from[..len], to)
                }
                _ => unreachable!("`new` matched every step with its numbers"),
            }
            q = layer.output(q);
            core::mem::swap(&mut from, &mut to);
        }
        super::dequantize(q, &from[..len], out);
    }

    /// [`Quantized::predict_on`] the active level ([`super::active`]).
    pub fn predict(&mut self, x: &[f32], out: &mut [f32]) {
        self.predict_on(super::active(), x, out);
    }

    /// The fraction of `data` whose highest score is the target class.
    pub fn accuracy<const N: usize>(&mut self, data: &crate::Dataset<[f32; N], usize>) -> f64 {
        let mut scores = vec![0.0f32; self.output_len];
        let right = data
            .inputs()
            .iter()
            .zip(data.targets())
            .filter(|(x, t)| {
                self.predict(&x[..], &mut scores);
                crate::metrics::argmax(&scores) == **t
            })
            .count();
        right as f64 / data.len().max(1) as f64
    }
}
