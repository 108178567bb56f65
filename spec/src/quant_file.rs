//! A quantized weight file: safetensors holding the input's scale and
//! zero point (`input.scale`, `f32 [1]`; `input.zero_point`, `i32 [1]`),
//! then for each step of a quantized network the tensors under its name:
//!
//! | tensor | type | shape |
//! |--------|------|-------|
//! | `{name}.weight` | `i8` | the layer's weight's |
//! | `{name}.weight_scale` | `f32` | `[outputs]`: one per output channel |
//! | `{name}.bias` | `i32` | `[outputs]`, in units of `input scale * weight scale` |
//! | `{name}.table` | `u8` | `[256]`: the output code of each input code |
//! | `{name}.scale` | `f32` | `[1]`: the output's scale |
//! | `{name}.zero_point` | `i32` | `[1]`: the output's zero point |
//!
//! Dense and convolution steps have the first three and the last two (a
//! bias of zeros without one), tables the last three, pooling none. The
//! runtime writes the file after calibration and reads it to run; the
//! compiler reads it for `quantize: int8` and compiles it in. Reading
//! checks every tensor against the steps and reports every mismatch.

use crate::quant::{INPUT, Kept, Quantization};
use safetensors::SafeTensors;
use safetensors::tensor::{Dtype, TensorView};
use std::format;
use std::string::{String, ToString};
use std::vec::Vec;

/// A quantized network's numbers, one entry per step.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// The input's codes.
    pub input: Quantization,
    /// Each step's tensors, in the steps' order.
    pub layers: Vec<Tensors>,
}

/// The tensors of one step.
#[derive(Clone, Debug, PartialEq)]
pub enum Tensors {
    /// A dense or convolution layer.
    Weighted {
        /// Codes in `-127..=127`, shaped as the layer's weight (`[outputs,
        /// inputs]`, `[out_channels, channels, kernel_h, kernel_w]`).
        weight: Vec<i8>,
        /// Each output channel's weight scale.
        weight_scale: Vec<f32>,
        /// Each output's bias in units of the input's scale times its weight scale.
        bias: Vec<i32>,
        /// The output's codes.
        output: Quantization,
    },
    /// A table from input code to output code.
    Table {
        /// The output code of each input code.
        table: [u8; 256],
        /// The output's codes.
        output: Quantization,
    },
    /// A step without tensors (max pooling keeps its input's codes).
    None,
}

impl Tensors {
    /// The quantization of the step's output, given its input's.
    pub fn output(&self, input: Quantization) -> Quantization {
        match self {
            Tensors::Weighted { output, .. } | Tensors::Table { output, .. } => *output,
            Tensors::None => input,
        }
    }

    /// Bytes of its tensors in the file (weights, scales, biases, tables).
    pub fn bytes(&self) -> usize {
        match self {
            Tensors::Weighted { weight, weight_scale, bias, .. } => {
                weight.len() + 4 * (weight_scale.len() + bias.len())
            }
            Tensors::Table { .. } => 256,
            Tensors::None => 0,
        }
    }
}

/// The file's bytes for `model`, whose layers follow `steps`.
pub fn write(model: &Model, steps: &[Kept]) -> Result<Vec<u8>, String> {
    let mut tensors: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
    let quantization = |name: &str, q: Quantization, tensors: &mut Vec<_>| {
        tensors.push((format!("{name}.scale"), Dtype::F32, std::vec![1], q.scale.to_le_bytes().to_vec()));
        tensors.push((
            format!("{name}.zero_point"),
            Dtype::I32,
            std::vec![1],
            q.zero_point.to_le_bytes().to_vec(),
        ));
    };
    quantization(INPUT, model.input, &mut tensors);
    for (step, layer) in steps.iter().zip(&model.layers) {
        match (layer, *step) {
            (Tensors::Weighted { weight, weight_scale, bias, output }, Kept::Weighted(name, shape)) => {
                let bytes = weight.iter().map(|&w| w as u8).collect();
                tensors.push((format!("{name}.weight"), Dtype::I8, shape.dims().to_vec(), bytes));
                let shape = shape.dims();
                let scales = weight_scale.iter().flat_map(|s| s.to_le_bytes()).collect();
                tensors.push((format!("{name}.weight_scale"), Dtype::F32, std::vec![shape[0]], scales));
                let biases = bias.iter().flat_map(|b| b.to_le_bytes()).collect();
                tensors.push((format!("{name}.bias"), Dtype::I32, std::vec![shape[0]], biases));
                quantization(name, *output, &mut tensors);
            }
            (Tensors::Table { table, output }, Kept::Table(name)) => {
                tensors.push((format!("{name}.table"), Dtype::U8, std::vec![256], table.to_vec()));
                quantization(name, *output, &mut tensors);
            }
            (Tensors::None, Kept::Nothing) => {}
            _ => return Err("the numbers of one kind of step for another".into()),
        }
    }
    let views = tensors
        .iter()
        .map(|(name, dtype, shape, bytes)| {
            TensorView::new(*dtype, shape.clone(), bytes)
                .map(|v| (name.clone(), v))
                .map_err(|e| e.to_string())
        })
        .collect::<Result<Vec<_>, _>>()?;
    let metadata = [("format".to_string(), "chainrule int8".to_string())].into_iter().collect();
    safetensors::serialize(views, Some(metadata)).map_err(|e| e.to_string())
}

/// Reads a file written by [`write`] for `steps`; every problem, one a line.
pub fn read(bytes: &[u8], steps: &[Kept]) -> Result<Model, Vec<String>> {
    let file =
        SafeTensors::deserialize(bytes).map_err(|e| std::vec![format!("not a safetensors file: {e}")])?;
    let mut reader = Reader { file, expected: Vec::new(), problems: Vec::new() };
    let input = reader.quantization(INPUT);
    let mut layers = Vec::new();
    for step in steps {
        let layer = match *step {
            Kept::Nothing => Some(Tensors::None),
            Kept::Weighted(name, shape) => reader.weighted(name, shape.dims()),
            Kept::Table(name) => {
                let table = reader.tensor(&format!("{name}.table"), Dtype::U8, &[256]);
                let output = reader.quantization(name);
                table.zip(output).map(|(t, output)| {
                    let mut table = [0u8; 256];
                    table.copy_from_slice(&t);
                    Tensors::Table { table, output }
                })
            }
        };
        layers.push(layer);
    }
    let Reader { file, expected, mut problems } = reader;
    for (name, _) in file.tensors() {
        if !expected.contains(&name) {
            problems.push(format!("tensor `{name}` is not part of this network"));
        }
    }
    match (input, layers.into_iter().collect::<Option<Vec<_>>>()) {
        (Some(input), Some(layers)) if problems.is_empty() => Ok(Model { input, layers }),
        _ => {
            problems.sort();
            problems.dedup();
            Err(problems)
        }
    }
}

/// The file being read, the tensors asked for so far and the problems found.
struct Reader<'a> {
    file: SafeTensors<'a>,
    expected: Vec<String>,
    problems: Vec<String>,
}

impl Reader<'_> {
    /// The bytes of tensor `name`, if it is there with this type and shape.
    fn tensor(&mut self, name: &str, dtype: Dtype, shape: &[usize]) -> Option<Vec<u8>> {
        self.expected.push(name.to_string());
        match self.file.tensor(name) {
            Err(_) => {
                self.problems.push(format!("tensor `{name}` is missing"));
                None
            }
            Ok(view) if view.dtype() != dtype || view.shape() != shape => {
                let (found, dims) = (view.dtype(), view.shape());
                self.problems.push(format!(
                    "tensor `{name}` is {found:?} {dims:?}, this network needs {dtype:?} {shape:?}"
                ));
                None
            }
            Ok(view) => Some(view.data().to_vec()),
        }
    }

    fn f32s(&mut self, name: &str, shape: &[usize]) -> Option<Vec<f32>> {
        let bytes = self.tensor(name, Dtype::F32, shape)?;
        Some(bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
    }

    fn i32s(&mut self, name: &str, shape: &[usize]) -> Option<Vec<i32>> {
        let bytes = self.tensor(name, Dtype::I32, shape)?;
        Some(bytes.chunks_exact(4).map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
    }

    /// `{name}.scale` and `{name}.zero_point`.
    fn quantization(&mut self, name: &str) -> Option<Quantization> {
        let scale = self.f32s(&format!("{name}.scale"), &[1]);
        let zero_point = self.i32s(&format!("{name}.zero_point"), &[1]);
        let (scale, zero_point) = (scale?[0], zero_point?[0]);
        if !(scale.is_finite() && scale > 0.0 && (0..=255).contains(&zero_point)) {
            self.problems.push(format!(
                "`{name}` has scale {scale} and zero point {zero_point}: a scale is above 0, a zero point a code of 0 to 255"
            ));
            return None;
        }
        Some(Quantization { scale, zero_point })
    }

    /// A weighted step's tensors, the weight of `shape` (outputs first).
    fn weighted(&mut self, name: &str, shape: &[usize]) -> Option<Tensors> {
        let weight = self.tensor(&format!("{name}.weight"), Dtype::I8, shape);
        let weight_scale = self.f32s(&format!("{name}.weight_scale"), &shape[..1]);
        let bias = self.i32s(&format!("{name}.bias"), &shape[..1]);
        let output = self.quantization(name);
        let weight: Vec<i8> = weight?.into_iter().map(|b| b as i8).collect();
        if weight.contains(&i8::MIN) {
            self.problems.push(format!("`{name}.weight` holds -128: weights are codes of -127 to 127"));
        }
        let weight_scale = weight_scale?;
        if weight_scale.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
            self.problems.push(format!("`{name}.weight_scale` holds a scale that is not above 0"));
        }
        Some(Tensors::Weighted { weight, weight_scale, bias: bias?, output: output? })
    }
}
