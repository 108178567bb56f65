//! The parts of a Neural Amp Modeler WaveNet layer that the compiler
//! names in the code it emits and the runtime's kernels compute: which
//! activation, and how a gated layer combines the halves of its
//! convolution. Reading `.nam` files is `nam_file` (with `files`).

/// How a layer's activation combines the halves of its convolution.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Gating {
    /// One half: `a = act(z)`.
    None,
    /// `a = act(z1) * gate(z2)`.
    Gated(Activation),
    /// `alpha = blend(z2)`, `a = alpha * act(z1) + (1 - alpha) * z1`.
    Blended(Activation),
}

/// The activations NAM names, with their parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    /// `tanh`.
    Tanh,
    /// NAM's rational approximation of `tanh` (`"Fasttanh"`).
    FastTanh,
    /// `clamp(x, -1, 1)`.
    Hardtanh,
    /// `max(x, 0)`.
    Relu,
    /// `x` above 0, `slope * x` below (PReLU with one slope is the same).
    LeakyRelu(f32),
    /// `1 / (1 + e^-x)`.
    Sigmoid,
    /// `x * sigmoid(x)`.
    Silu,
    /// `x * clamp(x + 3, 0, 6) / 6`.
    Hardswish,
    /// `x / (1 + |x|)`.
    Softsign,
    /// `x` inside `[min, max]`, slopes `min_slope` and `max_slope` outside.
    LeakyHardtanh {
        /// Lower knee.
        min: f32,
        /// Upper knee.
        max: f32,
        /// Slope below `min`.
        min_slope: f32,
        /// Slope above `max`.
        max_slope: f32,
    },
}
