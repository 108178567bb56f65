//! A Neural Amp Modeler (`.nam`) file read into the tensors of its model:
//! a standard WaveNet or an LSTM, each weight in the order NAM Core reads
//! the flat `weights` array (see the runtime's `nam` module for how they
//! compute). The compiler reads a file through here at build time
//! (`network! { struct Amp { nam: "amp.nam" } }`).
//!
//! Everything the file asks for that chainrule does not compute is
//! collected, not just the first: unknown keys, grouped convolutions, FiLM,
//! a `head1x1`, a post-stack head, several audio channels, and a weight
//! count that does not match the configuration.

pub use crate::nam::{Activation, Gating};
use serde_json::{Map, Value};
use std::format;
use std::string::{String, ToString};
use std::vec::Vec;

/// A `.nam` file: its model and what its metadata says about levels.
#[derive(Clone, Debug, PartialEq)]
pub struct NamFile {
    /// The file format version (`"0.5.0"`, ...).
    pub version: String,
    /// The sample rate the model was trained at, when the file says
    /// (files before 0.5.2 do not; they are 48 kHz by convention).
    pub sample_rate: Option<f64>,
    /// The loudness of the model's output on NAM's standard signal, in dB.
    pub loudness: Option<f64>,
    /// The input level, in dBu, that a full-scale digital signal stands for.
    pub input_level_dbu: Option<f64>,
    /// The output level, in dBu, of a full-scale digital signal.
    pub output_level_dbu: Option<f64>,
    /// The model and its weights.
    pub model: NamModel,
}

/// The two architectures chainrule compiles.
#[derive(Clone, Debug, PartialEq)]
pub enum NamModel {
    /// NAM's WaveNet: layer arrays of dilated causal convolutions.
    WaveNet(WaveNet),
    /// NAM's LSTM: stacked cells and a linear head.
    Lstm(Lstm),
}

/// A WaveNet: its layer arrays and the output scale (the file's last weight).
#[derive(Clone, Debug, PartialEq)]
pub struct WaveNet {
    /// In order; array `i > 0` reads array `i - 1`'s residual stream and
    /// starts its skip sum from array `i - 1`'s head output.
    pub arrays: Vec<LayerArray>,
    /// Multiplies the last array's head output.
    pub head_scale: f32,
}

/// One layer array.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerArray {
    /// Channels of the residual stream.
    pub channels: usize,
    /// Rows of each layer's activation (and of the skip sum).
    pub bottleneck: usize,
    /// From the array's input to the residual stream, without bias.
    pub rechannel: Conv,
    /// The layers, each reading the residual stream of the one before.
    pub layers: Vec<Layer>,
    /// From the skip sum to the array's head output.
    pub head: Conv,
}

/// One WaveNet layer.
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    /// The dilated causal convolution of the residual stream, with bias;
    /// `bottleneck` rows, or twice that when gated or blended.
    pub conv: Conv,
    /// The conditioning (the input audio) mixed into the convolution's
    /// output, without bias.
    pub mixin: Conv,
    /// From the activation back to the residual stream, with bias.
    pub layer1x1: Conv,
    /// The activation of the first `bottleneck` rows.
    pub activation: Activation,
    /// How the second half of the rows, if any, enters.
    pub gating: Gating,
}

/// A causal convolution, weights `(out, in, kernel)` row-major as
/// PyTorch's `Conv1d.weight`: tap `kernel - 1` multiplies the current
/// sample, tap `k` the one `dilation * (kernel - 1 - k)` samples before.
#[derive(Clone, Debug, PartialEq)]
pub struct Conv {
    /// Output channels.
    pub out: usize,
    /// Input channels.
    pub input: usize,
    /// Taps.
    pub kernel: usize,
    /// Samples between taps.
    pub dilation: usize,
    /// `out * input * kernel` weights.
    pub weight: Vec<f32>,
    /// `out` biases, if the convolution has them.
    pub bias: Option<Vec<f32>>,
}

/// An LSTM: its layers and the linear head on the last hidden state.
#[derive(Clone, Debug, PartialEq)]
pub struct Lstm {
    /// In order; layer 0 reads the audio sample, the others the hidden
    /// state of the layer before.
    pub layers: Vec<LstmLayer>,
    /// `hidden` weights of the one output.
    pub head_weight: Vec<f32>,
    /// Its bias.
    pub head_bias: f32,
}

/// One LSTM layer, gates in PyTorch's order (input, forget, cell, output).
#[derive(Clone, Debug, PartialEq)]
pub struct LstmLayer {
    /// Width of the input.
    pub input: usize,
    /// Width of the hidden and cell states.
    pub hidden: usize,
    /// `4 hidden x (input + hidden)` row-major: PyTorch's `weight_ih`
    /// beside `weight_hh`.
    pub weight: Vec<f32>,
    /// `4 hidden`: PyTorch's `bias_ih + bias_hh`.
    pub bias: Vec<f32>,
    /// The stored initial hidden state.
    pub h0: Vec<f32>,
    /// The stored initial cell state.
    pub c0: Vec<f32>,
}

impl NamFile {
    /// The samples NAM Core runs as silence through a freshly reset model
    /// before the first real one: one more than the receptive field for a
    /// WaveNet (after which every history holds its value for silence),
    /// half a second at the file's sample rate for an LSTM (1 when the
    /// file gives none).
    pub fn prewarm_samples(&self) -> usize {
        match &self.model {
            NamModel::WaveNet(net) => 1 + net.receptive_field(),
            NamModel::Lstm(_) => self.sample_rate.map_or(1, |rate| (0.5 * rate) as usize),
        }
    }
}

impl WaveNet {
    /// How many past samples each output depends on.
    pub fn receptive_field(&self) -> usize {
        self.arrays
            .iter()
            .map(|array| {
                let reach = |c: &Conv| c.dilation * (c.kernel - 1);
                array.layers.iter().map(|layer| reach(&layer.conv)).sum::<usize>() + reach(&array.head)
            })
            .sum()
    }
}

/// Reads a `.nam` file, or lists every problem with it: what cannot be
/// parsed, what chainrule does not compute, a weight count that does not
/// match. Weights are read as `f64` and rounded to `f32`, as NAM Core does.
pub fn read(text: &str) -> Result<NamFile, Vec<String>> {
    let root: Value = serde_json::from_str(text).map_err(|e| std::vec![format!("not a .nam file: {e}")])?;
    let mut problems = Vec::new();
    let Some(root) = root.as_object() else {
        return Err(std::vec!["not a .nam file: the top level is not a JSON object".to_string()]);
    };
    let version = root.get("version").and_then(Value::as_str).unwrap_or("").to_string();
    let weights: Vec<f32> = match root.get("weights").and_then(Value::as_array) {
        Some(values) => values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| match v.as_f64() {
                Some(x) if x.is_finite() => Some(x as f32),
                _ => {
                    problems.push(format!("weight {i} is not a finite number"));
                    None
                }
            })
            .collect(),
        None => {
            problems.push("no `weights` array".to_string());
            Vec::new()
        }
    };
    let config = root.get("config").and_then(Value::as_object);
    let architecture = root.get("architecture").and_then(Value::as_str).unwrap_or("");
    let mut reader = Weights { values: &weights, next: 0, short: false, cut: false };
    let model = match (architecture, config) {
        (_, None) => {
            problems.push("no `config` object".to_string());
            None
        }
        ("WaveNet", Some(config)) => wavenet(config, &mut reader, &mut problems).map(NamModel::WaveNet),
        ("LSTM", Some(config)) => lstm(config, &mut reader, &mut problems).map(NamModel::Lstm),
        (other, Some(_)) => {
            problems.push(format!("architecture `{other}` (chainrule compiles `WaveNet` and `LSTM`)"));
            None
        }
    };
    if let Some(model) = model.filter(|_| problems.is_empty()) {
        if reader.short || reader.next != weights.len() {
            let at_least = if reader.cut { "more than " } else { "" };
            problems.push(format!(
                "the configuration takes {at_least}{} weights, the file has {}",
                reader.next,
                weights.len()
            ));
        } else {
            let metadata = root.get("metadata").and_then(Value::as_object);
            let number = |key: &str| metadata.and_then(|m| m.get(key)).and_then(Value::as_f64);
            return Ok(NamFile {
                version,
                sample_rate: root.get("sample_rate").and_then(Value::as_f64).filter(|r| *r > 0.0),
                loudness: number("loudness"),
                input_level_dbu: number("input_level_dbu"),
                output_level_dbu: number("output_level_dbu"),
                model,
            });
        }
    }
    Err(problems)
}

/// The flat weights, taken in NAM Core's construction order. Running out
/// is noted (and zeros handed out) so that the count check can report the
/// whole configuration's need.
struct Weights<'a> {
    values: &'a [f32],
    next: usize,
    short: bool,
    /// Layers were left out once the weights ran out: `next` is a lower bound.
    cut: bool,
}

impl Weights<'_> {
    /// The next `n` weights; none (and `short` set) past the end, so that
    /// a configuration asking for more than the file holds allocates nothing.
    fn take(&mut self, n: usize) -> Vec<f32> {
        let end = self.next.saturating_add(n);
        self.next = end;
        match self.values.get(end - n..end) {
            Some(values) if !self.short => values.to_vec(),
            _ => {
                self.short = true;
                Vec::new()
            }
        }
    }

    fn conv(&mut self, out: usize, input: usize, kernel: usize, dilation: usize, bias: bool) -> Conv {
        let weight = self.take(out.saturating_mul(input).saturating_mul(kernel));
        let bias = bias.then(|| self.take(out));
        Conv { out, input, kernel, dilation, weight, bias }
    }
}

/// The longest history a convolution may keep, in samples (about 22
/// seconds at 48 kHz); NAM's standard models reach 1,024.
pub const MAX_REACH: usize = 1 << 20;

/// Keys of a layer array that chainrule reads.
const ARRAY_KEYS: &[&str] = &[
    "input_size",
    "condition_size",
    "channels",
    "bottleneck",
    "kernel_size",
    "kernel_sizes",
    "dilations",
    "activation",
    "gated",
    "gating_mode",
    "secondary_activation",
    "head_size",
    "head_bias",
    "head",
    "layer1x1",
    "head1x1",
    "groups_input",
    "groups_input_mixin",
];

fn wavenet(
    config: &Map<String, Value>,
    weights: &mut Weights,
    problems: &mut Vec<String>,
) -> Option<WaveNet> {
    for key in config.keys() {
        match key.as_str() {
            "layers" | "head_scale" => {}
            "head" if config[key].is_null() => {}
            "in_channels" | "out_channels" if config[key].as_u64() == Some(1) => {}
            "in_channels" | "out_channels" => {
                problems.push(format!("`{key}` other than 1 (chainrule runs mono models)"))
            }
            "head" => problems.push("a post-stack `head`".to_string()),
            "condition_dsp" => problems.push("a `condition_dsp` (a model conditioning another)".to_string()),
            other => problems.push(format!("the key `{other}` of the config")),
        }
    }
    let Some(specs) = config.get("layers").and_then(Value::as_array).filter(|a| !a.is_empty()) else {
        problems.push("no `layers` array in the config".to_string());
        return None;
    };
    let before = problems.len();
    let mut arrays = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let Some(spec) = spec.as_object() else {
            problems.push(format!("layer array {i} is not an object"));
            continue;
        };
        if let Some(array) = layer_array(i, spec, weights, problems) {
            arrays.push(array);
        }
    }
    for (i, pair) in arrays.windows(2).enumerate() {
        if pair[0].head.out != pair[1].bottleneck || pair[0].channels != pair[1].rechannel.input {
            problems.push(format!(
                "layer array {} does not continue layer array {i} (its input_size must be {} and its bottleneck {})",
                i + 1,
                pair[0].channels,
                pair[0].head.out
            ));
        }
    }
    if let Some(last) = arrays.last().filter(|a| a.head.out != 1) {
        problems.push(format!(
            "head_size {} of the last layer array (chainrule runs mono models)",
            last.head.out
        ));
    }
    let head_scale = weights.take(1).first().copied().unwrap_or(0.0);
    (problems.len() == before && arrays.len() == specs.len()).then_some(WaveNet { arrays, head_scale })
}

fn layer_array(
    i: usize,
    spec: &Map<String, Value>,
    weights: &mut Weights,
    problems: &mut Vec<String>,
) -> Option<LayerArray> {
    let before = problems.len();
    let mut unsupported = |what: String| problems.push(format!("layer array {i}: {what}"));
    for key in spec.keys().filter(|k| !ARRAY_KEYS.contains(&k.as_str())) {
        unsupported(format!("the key `{key}`"));
    }
    let size = |key: &str| spec.get(key).and_then(Value::as_u64).map(|v| v as usize).filter(|&v| v > 0);
    for key in ["groups_input", "groups_input_mixin"] {
        if spec.get(key).is_some_and(|v| v.as_u64() != Some(1)) {
            unsupported(format!("`{key}` other than 1 (grouped convolutions)"));
        }
    }
    if spec.get("layer1x1").is_some_and(|v| {
        v.get("active") != Some(&Value::Bool(true)) || v.get("groups").is_some_and(|g| g.as_u64() != Some(1))
    }) {
        unsupported("a `layer1x1` that is inactive or grouped".to_string());
    }
    if spec.get("head1x1").is_some_and(|v| v.get("active") != Some(&Value::Bool(false))) {
        unsupported("an active `head1x1`".to_string());
    }
    let (input, condition, channels) = (size("input_size"), size("condition_size"), size("channels"));
    for (key, value) in [("input_size", input), ("condition_size", condition), ("channels", channels)] {
        if value.is_none() {
            unsupported(format!("no positive `{key}`"));
        }
    }
    if i == 0 && input.is_some_and(|n| n != 1) {
        unsupported(format!("input_size {} (chainrule runs mono models)", input.unwrap_or(0)));
    }
    if condition.is_some_and(|c| c != 1) {
        unsupported("condition_size other than 1 (the conditioning is the mono input)".to_string());
    }
    let channels = channels.unwrap_or(1);
    let bottleneck = size("bottleneck").unwrap_or(channels);
    let dilations: Vec<usize> = match spec.get("dilations").and_then(Value::as_array) {
        Some(d) if !d.is_empty() && d.iter().all(|v| v.as_u64().is_some_and(|v| v > 0)) => {
            d.iter().filter_map(Value::as_u64).map(|v| v as usize).collect()
        }
        _ => {
            unsupported("`dilations` is not a list of positive integers".to_string());
            std::vec![1]
        }
    };
    let n = dilations.len();
    let kernels: Vec<usize> = match (spec.get("kernel_sizes"), size("kernel_size")) {
        (Some(Value::Array(k)), _) if k.len() == n && k.iter().all(|v| v.as_u64().is_some_and(|v| v > 0)) => {
            k.iter().filter_map(Value::as_u64).map(|v| v as usize).collect()
        }
        (None, Some(k)) => std::vec![k; n],
        _ => {
            unsupported(format!(
                "no `kernel_size`, nor `kernel_sizes` with one positive entry per dilation ({n})"
            ));
            std::vec![1; n]
        }
    };
    let activations = per_layer(spec.get("activation"), n, &mut unsupported, "activation", None);
    let gating = gating(spec, n, &mut unsupported);
    let (head_size, head_kernel, head_dilation, head_bias) = match spec.get("head") {
        Some(head) if !head.is_null() => {
            let field =
                |key: &str| head.get(key).and_then(Value::as_u64).map(|v| v as usize).filter(|&v| v > 0);
            let (out, kernel) = (field("out_channels"), field("kernel_size"));
            if out.is_none() || kernel.is_none() || head.get("bias").and_then(Value::as_bool).is_none() {
                unsupported(
                    "a `head` without positive `out_channels` and `kernel_size` and a boolean `bias`"
                        .to_string(),
                );
            }
            let bias = head.get("bias").and_then(Value::as_bool).unwrap_or(false);
            (out.unwrap_or(1), kernel.unwrap_or(1), field("head_dilation").unwrap_or(1), bias)
        }
        _ => match (size("head_size"), spec.get("head_bias").and_then(Value::as_bool)) {
            (Some(out), Some(bias)) => (out, 1, 1, bias),
            _ => {
                unsupported("neither a `head` object nor `head_size` and `head_bias`".to_string());
                (1, 1, 1, false)
            }
        },
    };
    let reaches = dilations.iter().zip(&kernels).map(|(d, k)| d.saturating_mul(k - 1));
    if reaches.chain([head_dilation.saturating_mul(head_kernel - 1)]).any(|reach| reach > MAX_REACH) {
        unsupported(format!("a convolution reaching more than {MAX_REACH} samples back"));
    }
    if problems.len() > before {
        return None;
    }
    let rechannel = weights.conv(channels, input.unwrap_or(1), 1, 1, false);
    let layers = (0..n)
        .map(|l| {
            let rows = if gating[l] == Gating::None { bottleneck } else { 2 * bottleneck };
            Layer {
                conv: weights.conv(rows, channels, kernels[l], dilations[l], true),
                mixin: weights.conv(rows, 1, 1, 1, false),
                layer1x1: weights.conv(channels, bottleneck, 1, 1, true),
                activation: activations[l],
                gating: gating[l],
            }
        })
        .collect();
    let head = weights.conv(head_size, bottleneck, head_kernel, head_dilation, head_bias);
    Some(LayerArray { channels, bottleneck, rechannel, layers, head })
}

/// A layer array's gating, layer by layer: the legacy `gated` flag or
/// `gating_mode` (one value or one per layer), with `secondary_activation`
/// (one or one per layer; sigmoid when absent).
fn gating(spec: &Map<String, Value>, n: usize, unsupported: &mut dyn FnMut(String)) -> Vec<Gating> {
    let secondary = per_layer(
        spec.get("secondary_activation"),
        n,
        unsupported,
        "secondary_activation",
        Some(Activation::Sigmoid),
    );
    let modes: Vec<Value> = match (spec.get("gating_mode"), spec.get("gated")) {
        (Some(Value::Array(modes)), _) if modes.len() == n => modes.clone(),
        (Some(Value::Array(_)), _) => {
            unsupported(format!("`gating_mode` is a list but not of {n} entries"));
            return std::vec![Gating::None; n];
        }
        (Some(mode), _) => std::vec![mode.clone(); n],
        (None, Some(Value::Bool(gated))) => std::vec![Value::from(if *gated { "gated" } else { "none" }); n],
        (None, _) => std::vec![Value::from("none"); n],
    };
    modes
        .iter()
        .zip(secondary)
        .map(|(mode, second)| match mode.as_str() {
            Some("none") => Gating::None,
            Some("gated") => Gating::Gated(second),
            Some("blended") => Gating::Blended(second),
            _ => {
                unsupported(format!("gating mode {mode} (chainrule knows none, gated and blended)"));
                Gating::None
            }
        })
        .collect()
}

/// One activation per layer from a value or a list of them.
fn per_layer(
    value: Option<&Value>,
    n: usize,
    unsupported: &mut dyn FnMut(String),
    key: &str,
    default: Option<Activation>,
) -> Vec<Activation> {
    let mut one = |v: &Value| {
        activation(v).unwrap_or_else(|problem| {
            unsupported(format!("`{key}` {problem}"));
            Activation::Tanh
        })
    };
    match (value, default) {
        (Some(Value::Array(list)), _) if list.len() == n => list.iter().map(one).collect(),
        (Some(Value::Array(_)), _) => {
            unsupported(format!("`{key}` is a list but not of {n} entries"));
            std::vec![Activation::Tanh; n]
        }
        (Some(v), _) => std::vec![one(v); n],
        (None, Some(default)) => std::vec![default; n],
        (None, None) => {
            unsupported(format!("no `{key}`"));
            std::vec![Activation::Tanh; n]
        }
    }
}

fn activation(value: &Value) -> Result<Activation, String> {
    let (name, params) = match value {
        Value::String(name) => (name.as_str(), None),
        Value::Object(map) => (map.get("type").and_then(Value::as_str).unwrap_or(""), Some(map)),
        other => return Err(format!("{other} is neither a name nor an object")),
    };
    let param = |key: &str, default: f32| {
        params.and_then(|p| p.get(key)).and_then(Value::as_f64).map_or(default, |v| v as f32)
    };
    Ok(match name {
        "Tanh" => Activation::Tanh,
        "Fasttanh" => Activation::FastTanh,
        "Hardtanh" => Activation::Hardtanh,
        "ReLU" => Activation::Relu,
        "LeakyReLU" => Activation::LeakyRelu(param("negative_slope", 0.01)),
        "PReLU" if params.is_some_and(|p| p.contains_key("negative_slopes")) => {
            return Err("PReLU with a slope per channel".to_string());
        }
        "PReLU" => Activation::LeakyRelu(param("negative_slope", 0.01)),
        "Sigmoid" => Activation::Sigmoid,
        "SiLU" => Activation::Silu,
        "Hardswish" => Activation::Hardswish,
        "Softsign" => Activation::Softsign,
        "LeakyHardtanh" | "LeakyHardTanh" => Activation::LeakyHardtanh {
            min: param("min_val", -1.0),
            max: param("max_val", 1.0),
            min_slope: param("min_slope", 0.01),
            max_slope: param("max_slope", 0.01),
        },
        other => return Err(format!("`{other}`, not an activation NAM names")),
    })
}

fn lstm(config: &Map<String, Value>, weights: &mut Weights, problems: &mut Vec<String>) -> Option<Lstm> {
    let before = problems.len();
    let size = |key: &str| config.get(key).and_then(Value::as_u64).map(|v| v as usize);
    for key in config.keys() {
        match key.as_str() {
            "input_size" | "hidden_size" | "num_layers" => {}
            "in_channels" | "out_channels" if size(key) == Some(1) => {}
            "in_channels" | "out_channels" => {
                problems.push(format!("LSTM: `{key}` other than 1 (chainrule runs mono models)"))
            }
            other => problems.push(format!("LSTM: the key `{other}` of the config")),
        }
    }
    let (input, hidden, layers) = (size("input_size"), size("hidden_size"), size("num_layers"));
    if input != Some(1) {
        problems.push("LSTM: `input_size` other than 1 (chainrule runs mono models)".to_string());
    }
    let (Some(hidden), Some(count)) = (hidden.filter(|&h| h > 0), layers.filter(|&l| l > 0)) else {
        problems.push("LSTM: no positive `hidden_size` and `num_layers`".to_string());
        return None;
    };
    if problems.len() > before {
        return None;
    }
    // Built until the weights run out: a count beyond the file's stops there.
    let layers = (0..count)
        .map_while(|l| {
            let input = if l == 0 { 1 } else { hidden };
            let layer = LstmLayer {
                input,
                hidden,
                weight: weights.take(4usize.saturating_mul(hidden).saturating_mul(input + hidden)),
                bias: weights.take(4usize.saturating_mul(hidden)),
                h0: weights.take(hidden),
                c0: weights.take(hidden),
            };
            (!weights.short).then_some(layer)
        })
        .collect::<Vec<_>>();
    // The layer the weights ran out in is counted in full; those after it not.
    weights.cut = layers.len() + 1 < count;
    let head_weight = weights.take(hidden);
    let head_bias = weights.take(1).first().copied().unwrap_or(0.0);
    Some(Lstm { layers, head_weight, head_bias })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A model file of the repository's `data/nam`.
    fn shipped(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/nam").join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn the_standard_wavenet_takes_every_weight() {
        let file = read(&shipped("ac10.nam")).expect("ac10 reads");
        let NamModel::WaveNet(net) = &file.model else { panic!("a WaveNet") };
        assert_eq!(net.receptive_field(), 4092);
        assert_eq!(file.prewarm_samples(), 4093);
        assert_eq!(net.head_scale, 0.02f32);
        assert_eq!(net.arrays[1].head.bias.as_ref().map(Vec::len), Some(1));
        assert_eq!(file.sample_rate, None);
    }

    #[test]
    fn the_lstm_reads_its_initial_state_and_levels() {
        let file = read(&shipped("lstm.nam")).expect("lstm reads");
        let NamModel::Lstm(lstm) = &file.model else { panic!("an LSTM") };
        assert_eq!((lstm.layers.len(), lstm.layers[0].hidden, lstm.layers[0].weight.len()), (1, 3, 48));
        assert_eq!(file.sample_rate, Some(48000.0));
        assert_eq!(file.input_level_dbu, Some(18.3));
        assert_eq!(file.prewarm_samples(), 24000);
    }

    #[test]
    fn every_unsupported_part_is_named_at_once() {
        let text = r#"{"version": "0.5.4", "architecture": "WaveNet", "weights": [1.0],
            "config": {"layers": [{"input_size": 2, "condition_size": 1, "channels": 4,
              "kernel_size": 3, "dilations": [1, 2], "activation": "Mish", "gated": false,
              "head_size": 1, "head_bias": true, "groups_input": 2, "film": {}}],
              "condition_dsp": {}}}"#;
        let problems = read(text).unwrap_err();
        let all = problems.join("\n");
        for part in ["condition_dsp", "`film`", "groups_input", "`Mish`", "input_size 2"] {
            assert!(all.contains(part), "{part} missing from:\n{all}");
        }
    }

    #[test]
    fn a_weight_count_that_does_not_match_is_reported_with_both_counts() {
        let text = r#"{"version": "0.5.4", "architecture": "LSTM", "weights": [0.5, 0.25],
            "config": {"input_size": 1, "hidden_size": 2, "num_layers": 1}}"#;
        assert_eq!(read(text).unwrap_err(), ["the configuration takes 39 weights, the file has 2"]);
    }

    /// Model files mutated at random (spans deleted or repeated, numbers
    /// made huge or negative, the text cut short) read or fail with a
    /// list of problems: never a panic, never an allocation the file does
    /// not justify.
    #[test]
    fn mutated_files_never_panic() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n.max(1) as u64) as usize
        };
        for file in ["data/nam/lstm.nam", "tests/fixtures/nam/narrow.nam", "tests/fixtures/nam/gated.nam"] {
            let text = std::fs::read_to_string(root.join(file)).expect("the model file is in the repository");
            for _ in 0..300 {
                let mut mutated = text.clone().into_bytes();
                for _ in 0..1 + next(3) {
                    let at = next(mutated.len());
                    let span = (1 + next(40)).min(mutated.len() - at);
                    match next(4) {
                        0 => drop(mutated.drain(at..at + span)),
                        1 => {
                            let copy = mutated[at..at + span].to_vec();
                            mutated.splice(at..at, copy);
                        }
                        2 => drop(mutated.splice(at..at, *b"4000000000")),
                        _ => mutated.truncate(at),
                    }
                }
                let _ = read(&String::from_utf8_lossy(&mutated));
            }
        }
    }

    #[test]
    fn damaged_text_is_an_error_not_a_panic() {
        assert!(read("{\"weights\": [1, 2").unwrap_err()[0].starts_with("not a .nam file"));
        assert!(read("[]").is_err());
        assert!(
            read(r#"{"architecture": "WaveNet", "config": {"layers": [1]}, "weights": [null]}"#).is_err()
        );
    }
}
