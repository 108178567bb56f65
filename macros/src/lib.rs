//! The `network!` compiler of chainrule. Use it through the `chainrule`
//! crate, which re-exports it and provides the runtime the generated code
//! calls.
//!
//! `pipeline` runs the stages in order, one module each: `parse` (tokens to
//! a declaration with spans), `check` (keywords and shapes, every error at
//! once), `lower` (the tensor graphs of the forward pass and loss),
//! `weights_file` (a `weights:` file checked against them), `autodiff`
//! (reverse mode), `simplify` (one graph per generated function), `emit`
//! (Rust code); `fallback` declares the type after a mistake.

mod args;
mod autodiff;
#[cfg(test)]
mod boundaries;
mod check;
mod codegen;
mod dataflow;
mod describe;
mod emit;
mod errors;
mod fallback;
mod init;
mod int8;
mod ir;
mod layers;
mod lints;
mod losses;
mod lower;
mod model;
mod nam;
#[cfg(test)]
mod never_panics;
mod ops;
mod parse;
mod pipeline;
mod regularizer;
mod simplify;
mod suggest;
mod user_expr;
mod weights_file;

use proc_macro::TokenStream;

/// Declares a neural network and compiles it into a struct implementing
/// `chainrule::Network`.
///
/// ```text
/// network! {
///     /// Documentation and attributes go on the generated struct.
///     pub struct Name {
///         input: [features],           // or [channels, height, width], [channels, length], [time, features]
///                                      // or [u32; n], n token ids (read by `embedding`)
///                                      // or several: { name: [..], name: [..] }
///         layers: [layer, layer, ...], // a chain, or a graph: see below
///         graph: { let h = layer(input, ..); ...; output },
///         loss: loss,
///         regularizer: l1(a) + l2(b),   // optional, either term alone too
///         init: he_normal,             // optional, default glorot_uniform
///         scalar: f64,                 // optional, default f32
///         weights: "models/net.safetensors", // optional: compiled in, see below
///         embedded: true,              // optional: inference only, no_std, see below
///         sample_weights: true,        // optional: a weighted loss too, see "Sample weights"
///     }
/// }
///
/// network! {
///     /// A Neural Amp Modeler model, compiled in: the file is the whole network.
///     pub struct Amp { nam: "models/amp.nam" }
/// }
/// ```
///
/// # Input layout
///
/// A sample is its declared shape flattened row-major, the last axis
/// fastest, as PyTorch lays out a tensor: images `[channels, height,
/// width]` are channel-major (every pixel of channel 0, then of channel 1:
/// planar, not interleaved RGB), sequences `[time, features]` time-major
/// (one step's features after another's), signals `[channels, length]`
/// channel-major. Several inputs sit side by side in declaration order
/// (`Name::inputs(&a, &b)` joins them).
///
/// # Layers
///
/// `<path>` names a layer's tensors: `layers.<i>` for the `i`-th entry of
/// the list (activations count, as PyTorch numbers the modules of an
/// `nn.Sequential`), `<path>.body.<j>` inside a residual block.
///
/// | keyword | shape rule | parameters and state |
/// |---------|------------|----------------------|
/// | `dense(n)`, `dense(n, init = scheme)` | `[k]` to `[n]`; `[t, k]` to `[t, n]`, each step alike | `<path>.weight` `[n, k]`, `<path>.bias` `[n]` (zeros) |
/// | `sigmoid`, `tanh`, `relu`, `identity` | unchanged | none |
/// | `leaky_relu`, `leaky_relu(slope)` | unchanged; slope 0.01 by default | none |
/// | `elu`, `elu(alpha)` | unchanged; alpha 1 by default | none |
/// | `softplus` | unchanged | none |
/// | `gelu` (exact), `gelu(tanh)` (tanh approximation) | unchanged | none |
/// | `swish`, `silu` | unchanged: `x sigmoid(x)` | none |
/// | `activation(\|x\| expr)` | unchanged: a user-defined function | none |
/// | `softmax`, `log_softmax` | `[n]` to `[n]`, over each sample's features | none |
/// | `dropout(p)` | unchanged; `0 <= p < 1`; training only (inverted) | none |
/// | `batch_norm`, `batch_norm(momentum = 0.1, eps = 1e-5)` | unchanged; statistics per feature of `[n]`, per channel of `[c, ..]` | `<path>.weight`, `<path>.bias` `[n]` or `[c]`; state `<path>.running_mean`, `<path>.running_var` likewise |
/// | `layer_norm`, `layer_norm(eps = 1e-5)` | unchanged; each row of the last dimension (a flat sample, a time step) normalized by its own mean and variance | `<path>.weight`, `<path>.bias` `[n]` for a last dimension of `n` |
/// | `residual[layer, ...]` | `y = x + layers(x)`; the layers must give back the input's shape | those of its layers |
/// | `conv2d(c_out, kernel = k, ...)` | `[c, h, w]` to `[c_out, h', w']` | `<path>.weight` `[c_out, c, kh, kw]`, `<path>.bias` `[c_out]` |
/// | `conv1d(c_out, kernel = k, ...)` | `[c, l]` to `[c_out, l']` | `<path>.weight` `[c_out, c, k]`, `<path>.bias` `[c_out]` |
/// | `max_pool2d(k)`, `max_pool2d(k, stride)`, `avg_pool2d(..)` | `[c, h, w]` to `[c, h', w']`, no padding; stride `k` by default | none |
/// | `max_pool1d(k)`, `avg_pool1d(k, stride)` | `[c, l]` to `[c, l']` | none |
/// | `global_avg_pool` | `[c, h, w]` or `[c, l]` to `[c]`: each channel's mean | none |
/// | `global_max_pool` | `[c, h, w]` or `[c, l]` to `[c]`: each channel's maximum | none |
/// | `flatten` | `[c, h, w]` to `[c * h * w]`, channel-major as PyTorch | none |
/// | `attention(heads)`, `attention(heads, causal = true)` | `[t, d]` unchanged, `d` a multiple of `heads`: multi-head self-attention, as `nn.MultiheadAttention`; causal: step `i` sees steps `0..=i` | `<path>.in_proj_weight` `[3d, d]`, `<path>.in_proj_bias` `[3d]`, `<path>.out_proj.weight` `[d, d]`, `<path>.out_proj.bias` `[d]` |
/// | `positional_embedding` | `[t, d]` unchanged: a learned vector added at each position | `<path>.weight` `[t, d]`, `N(0, 1)` |
/// | `embedding(vocab, dim)` | `[n]` token ids (the input `[u32; n]`) to `[n, dim]` | `<path>.weight` `[vocab, dim]`, `N(0, 1)` as PyTorch |
/// | `rnn(h)`, `lstm(h)`, `gru(h)` | `[t, f]` to the last state `[h]`; with `sequence = true` every step's, `[t, h]` | `<path>.weight_ih_l0` `[g h, f]`, `<path>.weight_hh_l0` `[g h, h]`, `<path>.bias_ih_l0`, `<path>.bias_hh_l0` `[g h]`; `g` gates: 1, 4 (i, f, g, o), 3 (r, z, n) |
///
/// Token ids are read by `embedding` alone, and it reads nothing else. A
/// network over `[u32; n]` ids takes `&[u32; n]` samples; every batched
/// call (`loss`, `loss_and_grad`, `train_step`, `predict_batch`) checks
/// each id against the vocabulary first and returns
/// `Error::TokenOutOfRange`, changing nothing, for one outside it; batch-1
/// `predict`, which has no error to return, reads a row of zeros for it
/// (as for padding), never memory outside the table.
///
/// Convolutions take `kernel = k` or `(kh, kw)` (required), `stride`
/// (default 1), `padding = p`, `(ph, pw)`, `same` (stride 1; the odd zero
/// goes after, as PyTorch), `valid` (0, the default) or, on `conv1d`,
/// `causal` (stride 1; all `dilation * (k - 1)` zeros before the sequence,
/// so each output sees only its own and earlier samples), `dilation`
/// (default 1) and `init = scheme`; pooling takes `kernel` and `stride`,
/// positionally or by name. Per axis the output size is `(input + padding -
/// dilation * (k - 1) - 1) / stride + 1`, rounded down as PyTorch does;
/// with `exact = true` a window arrangement that leaves rows or columns out
/// is a compile error instead. A kernel larger than its padded input, a
/// layer on an input of the wrong rank, and `dense` on a `[c, h, w]` value
/// (write `flatten` first) are compile errors at the layer or argument.
/// On a two-axis value `dense` acts on the last axis, every leading
/// position (a sequence's step) alike, as PyTorch's `Linear` does: after a
/// `conv1d`, whose output is `[channels, length]`, write `flatten` first
/// to mix channels.
///
/// Recurrent layers are PyTorch's `nn.RNN` (tanh), `nn.LSTM` and `nn.GRU`
/// with `batch_first`, one layer and zero initial states, with the same
/// weight names, gate order and initialization (`U(-1/sqrt(h), 1/sqrt(h))`),
/// so weights exchange. Stack them with `sequence = true` on all but the
/// last. The time loop is a loop in the generated code; its backward pass
/// (through time) differentiates the cell's update symbolically.
///
/// # Graphs
///
/// `layers: [..]` is a chain. `graph: { .. }` (instead of `layers`) names
/// values and applies layers to them, so a network can branch, merge and
/// take several inputs. It is a block of `let` statements ending with the
/// output; each layer keyword is a function whose first argument is the
/// value it applies to, followed by the layer's own arguments:
///
/// ```text
/// network! {
///     struct Gated {
///         input: { signal: [2, 16], cond: [8] },
///         graph: {
///             let h = conv1d(signal, 16, kernel = 3, padding = same);
///             let (a, b) = split(h, 2);                      // channels 0..8 and 8..16
///             let gated = tanh(a) * sigmoid(b);              // [8, 16]
///             let scaled = gated * dense(cond, 8);           // [8] per channel of each sample
///             let skip = conv1d(signal, 8, kernel = 1);      // a projection shortcut
///             layers(flatten(scaled + skip), [dense(32), relu, dense(1)])
///         },
///         loss: mse,
///     }
/// }
/// ```
///
/// | function | value |
/// |----------|-------|
/// | `keyword(value, args..)` | a layer applied to `value`: `dense(h, 64)`, `relu(h)`, `conv2d(x, 16, kernel = 3)` |
/// | `layers(value, [layer, ..])` | a chain applied to `value`, written as in `layers:` |
/// | `a + b`, `add(a, b, ..)` | the elementwise sum |
/// | `a * b`, `multiply(a, b, ..)` | the elementwise product |
/// | `concat(a, b, .., axis = 0)` | side by side along an axis of each sample: channels of `[c, ..]` values, features of flat ones (`axis = 1`: a sequence's features) |
/// | `split(v, n, axis = 0)` | `n` equal parts, bound as `let (a, b) = split(v, 2);` |
/// | `slice(v, start..end, axis = 0)` | positions `start..end` along an axis |
///
/// Sums and products take values of the same shape, or broadcast one
/// operand: `[c]` onto `[c, ..]` (a value per channel of each sample, as
/// a conditioning vector) or `[1]` (one per sample). A value may be used
/// any number of times; its gradient is the sum of its uses'. Each name is
/// defined once, before its use (so a graph has no cycles); every input
/// and every named value must be used (a name starting with `_` may go
/// unused). Mistakes are compile errors at the token, naming the shapes
/// involved.
///
/// A layer's tensors are named after the value it defines: `let skip =
/// dense(x, 8)` gives `skip.weight` and `skip.bias`; a statement applying
/// several layers numbers them, `<name>.<k>` for its `k`-th layer in the
/// order they apply (`let h = layers(x, [dense(8), relu, dense(4)])` gives
/// `h.0.*` and `h.2.*`); the output's are named `output`. With several
/// inputs the network's input is their values side by side in the order
/// they are declared, and the struct gets `inputs(a, b, ..)`, which builds
/// one input sample from its parts.
///
/// A graph ends with its output, or with a tuple of names for several
/// outputs, each with its own loss and weight in the total loss:
///
/// ```text
/// graph: {
///     let h = dense(input, 32);
///     let price = dense(h, 1);
///     let class = dense(relu(h), 10);
///     (price, class)
/// },
/// loss: { price: 0.5 * mse, class: softmax_cross_entropy },
/// ```
///
/// The loss is `0.5 * mse(price) + softmax_cross_entropy(class)`, each term
/// the mean its loss computes (a weight is a literal, 1 when omitted; every
/// output has exactly one entry). A target is then a tuple, one part per
/// output in the tuple's order (`([f32; 1], usize)` here); `predict`
/// returns the outputs side by side (`[f32; 11]`), and the struct gets
/// `outputs(&out)`, which splits them (`(&[f32; 1], &[f32; 10])`).
/// Accuracy, where a trainer reports it, is that of the first output with
/// class targets. With one output, `loss: { name: mse }` is also accepted,
/// the name being the value the graph ends with (or `output`).
///
/// A graph network runs `predict`, `predict_batch` and training like a
/// chain; `step` (streaming) is generated for recurrent chains and for
/// signal graphs of causal convolutions (below).
///
/// # Losses
///
/// All are means, as PyTorch's default reduction. Elementwise losses average
/// over every output element and take targets shaped like the output
/// (`[S; OUTPUT_LEN]` per sample):
///
/// | keyword | per element |
/// |---------|-------------|
/// | `mse` | `(y - t)^2` |
/// | `mae` | `abs(y - t)` |
/// | `huber`, `huber(delta)` | quadratic below `delta` (default 1), linear above |
/// | `binary_cross_entropy` | `-(t ln y + (1 - t) ln(1 - y))`, `y` a probability |
/// | `binary_cross_entropy_with_logits` | the same on `sigmoid(y)`, stable |
/// | `hinge` | `max(0, 1 - t y)`, `t` in {-1, +1} |
/// | `\|y, t\| expr` | a user-defined loss |
///
/// Class losses need a flat output of at least 2 scores and take one class
/// index (`usize`) per sample, except where stated:
///
/// | keyword | per sample |
/// |---------|------------|
/// | `softmax_cross_entropy` | `-ln softmax(y)[t]`, from raw scores |
/// | `softmax_cross_entropy(probabilities)` | `-sum_j t_j ln softmax(y)_j`, `t` a probability or one-hot vector |
/// | `softmax_cross_entropy(weights = [..])`, `nll(weights = [..])` | as without, each sample's loss times its class's weight, divided by the sum of the weights of the batch's classes (PyTorch's `weight`); one finite weight of at least 0 per class |
/// | `nll` | `-y[t]`, `y` log-probabilities (end with `log_softmax`) |
/// | `multiclass_hinge` | `sum_{j != t} max(0, y_j - y_t + 1)` |
///
/// `softmax_cross_entropy` and `nll` also take a `[steps, classes]` output
/// (scores at every step, as a language model's) with a class per step,
/// `[usize; steps]` per sample, and average over every step of every
/// sample, as PyTorch's loss on the flattened steps.
///
/// # Sample weights
///
/// `sample_weights: true` compiles the loss a second time with a weight
/// per sample, given at run time: `weighted_loss(inputs, targets, weights,
/// ws)` and `weighted_loss_and_grad(.., weights, grad, ws)`, which the
/// trainer calls for a dataset with weights (`Dataset::with_weights`).
/// The batch's loss is `sum_i w_i l_i / sum_i w_i` plus the regularizer,
/// `l_i` sample `i`'s loss as the plain mean defines it (the mean of its
/// elements, of its steps with a class per step); with class weights too,
/// a sample counts with the product of both, as PyTorch's `weight` with
/// `reduction='none'` times the sample weights, summed and divided by the
/// summed products. So weights of 1 give the plain loss, an integer
/// weight `k` counts a sample as `k` copies of it, and weight 0 leaves it
/// out. Every output takes the same weights; batch statistics
/// (`batch_norm`) count every sample once. Keras' `sample_weight` divides
/// by the batch size instead of the summed weights: the same gradient
/// direction, scaled by the batch's mean weight. Without the key the
/// network compiles no weighted loss and those calls are errors.
///
/// # User-defined functions
///
/// `activation(|x| ...)` and `loss: |y, t| ...` take a closure over `+ - *
/// /`, unary `-`, numbers, and `exp`, `ln`, `sqrt`, `abs`, `sigmoid`,
/// `tanh`, `cosh`, `sinh`, `powi(x, n)` (`n` a whole number), `powf(x, p)`
/// (`p` a number), `max(a, b)`, `min(a, b)` (as functions or methods:
/// `x.exp()`). The macro differentiates it symbolically and simplifies the
/// result; anything else is a compile error at that sub-expression
/// (`floor`, `round`, `signum` and the like are refused by name: their
/// derivative is zero wherever it exists).
///
/// Simplification names what it recognizes, so the derivative computes and
/// `describe()` prints as it is taught: `ln(cosh(y - t))` (log-cosh) has
/// the derivative `tanh(y - t)`, `e^u / (1 + e^u)` becomes `sigmoid(u)`, and
/// `ln(1 + exp(x))` is computed as the built-in `softplus(x)`, which stays
/// finite where `exp(x)` overflows (from `x` near 89 in `f32`), with the
/// derivative `sigmoid(x)`. Other overflow-prone forms are kept as written:
/// `cosh` itself overflows past 89 in `f32`, so a log-cosh loss on
/// residuals that large is infinite.
///
/// # Warnings
///
/// A loss that expects something the last layer does not give it compiles
/// with a warning at that layer, which says why and the fix: `softmax`
/// before `softmax_cross_entropy` (softmax twice), `binary_cross_entropy`
/// after a layer that is not `sigmoid` (use
/// `binary_cross_entropy_with_logits`), `nll` without `log_softmax`, `relu`
/// on the logits of `softmax_cross_entropy` or
/// `binary_cross_entropy_with_logits`. `#[allow(deprecated)]` on the
/// declaration silences them.
///
/// # Regularizer and initialization
///
/// `l2(lambda)` adds `lambda / 2 * sum(w^2)` (gradient `lambda * w`, PyTorch
/// SGD's `weight_decay`); `l1(lambda)` adds `lambda * sum(abs(w))`; `l1(a) +
/// l2(b)` both. They apply to dense weights only; `l2(lambda, biases =
/// true)` applies to every parameter. Convolution kernels are weights.
///
/// `init:`, `dense(n, init = ...)` and `conv2d(.., init = ...)` take `uniform` (`U(-1, 1)`),
/// `glorot_uniform` / `xavier_uniform` (default), `glorot_normal` /
/// `xavier_normal`, `he_uniform` / `kaiming_uniform`, `he_normal` /
/// `kaiming_normal`. Biases start at zero; batch-norm scales at one.
///
/// # What is generated
///
/// A struct owning one heap buffer of parameters (and one of running
/// statistics, when a layer keeps them), with
/// `new(seed)` and `from_params(&[S])`, implementing `chainrule::Network`:
/// batch-1 `predict` on fixed-size arrays; batched `predict_batch`, `loss`
/// and `loss_and_grad` that use a `chainrule::Workspace` and allocate
/// nothing once it has grown; `LAYOUT` and `STATE_LAYOUT`; `describe()` and
/// `graph_dot()`, the graph and the derived backward equations. The
/// backward pass is derived from the forward graph by reverse-mode
/// differentiation at compile time. Inference runs without dropout and with
/// running statistics; `loss_and_grad` runs in training mode.
///
/// With `weights: "file.safetensors"` (a path from the crate root), the
/// macro reads the file at compile time, checks every tensor against the
/// network (names, shapes and scalar type as `chainrule::weights::save`
/// writes them and as PyTorch's `state_dict` has them; a mismatch is a
/// compile error naming the tensor) and bakes the values into static data:
/// `Name::trained()` is the network with those weights, read in place with
/// no copy and no parsing at run time. Cargo rebuilds when the file changes.
///
/// With `embedded: true` as well, the macro emits only an inference struct
/// for `#![no_std]` builds without `alloc` (depend on `chainrule` with
/// `default-features = false`): a unit struct with `const fn trained()`,
/// `INPUT_LEN`, `OUTPUT_LEN` and batch-1 `predict` on the compiled-in
/// weights. For now it takes dense, activation, batch norm, softmax,
/// dropout, residual and pooling layers; convolutions and recurrent layers
/// need the std build's packed matrix multiply and are a compile error.
///
/// # int8
///
/// With `quantize: int8`, `weights:` names a quantized file, which
/// `chainrule::int8::calibrate` writes from the trained `f32` network (the
/// same declaration without the key): the macro compiles it in as an
/// inference-only unit struct, with or without `embedded: true` (it needs
/// neither `std` nor `alloc`): `trained()`, `INPUT_LEN`, `OUTPUT_LEN`,
/// `WEIGHT_BYTES` (the compiled-in bytes), `predict_batch` (the same bits,
/// four inputs at a time) and `predict(&self, &[f32; n]) -> [f32; m]`,
/// which quantizes the input, runs every layer on 8-bit codes
/// with `i32` sums on the integer dot-product instructions the CPU has
/// (`chainrule::int8::Level`), and returns the real scores. int8 runs a
/// chain of dense layers on flat inputs, `conv2d` and `conv1d` (padding
/// reads the code of 0), elementwise activations (a table of codes; a
/// ReLU after a dense layer or a convolution is fused into it), max and
/// average pooling, `flatten` and `dropout`; another layer is a compile
/// error at it. Every
/// network states its int8 steps, or the layer that prevents them, as
/// `Network::INT8`.
///
/// A network over `[time, features]` whose layers up to its last recurrent
/// one act on each step alone (activations, dropout, recurrent layers) also
/// gets `step(&mut self, &[S; features]) -> [S; out]` and `reset()`:
/// streaming inference, one step in and one output out, the recurrent
/// states kept in the network; allocation-free and panic-free. A network
/// over token ids (`[u32; n]`, then `embedding`) streams one id a step,
/// `step(&mut self, &[u32; 1])`. Attention needs the whole sequence, so a
/// network with it does not stream. A network over a signal, `[channels,
/// time]` (one input, one output, a chain or a graph), whose layers are
/// causal 1-D convolutions (`padding = causal`, or a kernel of 1),
/// activations and dropout, joined by sums, products, and concatenations
/// or slices of channels, streams one column a step,
/// `step(&mut self, &[S; channels]) -> [S; out_channels]`: each causal
/// convolution keeps its last `dilation * (kernel - 1)` input columns in a
/// ring in the network, so the steps give the whole signal's outputs,
/// column for column.
///
/// A stream of one `f32` in and one out per step (an audio model) also
/// implements `chainrule::Process`: `process(&mut self, &[f32], &mut [f32])`
/// over blocks of any length, one `step` per sample.
///
/// # Amp models (`.nam` files)
///
/// `nam: "file.nam"` (a path from the crate root, and no other key)
/// compiles a Neural Amp Modeler model: NAM's WaveNet (any number of layer
/// arrays; per-layer dilations, kernel sizes and activations; gated,
/// blended or plain layers with any secondary activation; a bottleneck; a
/// head convolution of any kernel, with or without bias; the head scale,
/// the file's last weight) or LSTM (any number of layers and units, its
/// stored initial state), mono. The activations are NAM's: `Tanh`,
/// `Fasttanh`, `Hardtanh`, `ReLU`, `LeakyReLU` (with `negative_slope`),
/// `PReLU` with one slope, `Sigmoid`, `SiLU`, `Hardswish`, `Softsign`,
/// `LeakyHardtanh`. The macro reads the file at compile time; everything in
/// it that chainrule does not compute (grouped convolutions, FiLM, an
/// active `head1x1`, a post-stack head, a conditioning model, several
/// channels, a weight count that does not fit) is listed in one error at
/// the path. The struct gets `new()` (the model after NAM's prewarm: its
/// histories allocated once), `process(&mut self, &[f32], &mut [f32])` over
/// blocks of any length (allocation-free, lock-free, panic-free; a sample
/// that is not a finite number is read as silence), `reset()` (back to the
/// prewarmed state), `reset_unwarmed()`, and the constants `SAMPLE_RATE`,
/// `LOUDNESS`, `INPUT_LEVEL_DBU`, `OUTPUT_LEVEL_DBU` (each an `Option<f64>`:
/// what the file says), `RECEPTIVE_FIELD` and `PREWARM_SAMPLES`.
///
/// Every shape is checked at compile time; mistakes are compile errors at
/// the offending token, all reported at once. After a mistake the struct
/// is still declared with its whole API, so code using it gets no
/// follow-up errors.
#[proc_macro]
pub fn network(input: TokenStream) -> TokenStream {
    pipeline::expand(input.into()).into()
}
