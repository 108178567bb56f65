//! The parameter table: what each tensor of a network's flat buffer is,
//! where it lies, and how it starts. The compiler writes the table as a
//! constant (`LAYOUT`, `STATE_LAYOUT`); the runtime initializes, regularizes,
//! saves and loads by it.

/// What a parameter tensor is for. Regularizers apply to weights only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A weight matrix (`[out, in]` for a dense layer).
    Weight,
    /// A bias vector.
    Bias,
    /// The learned scale of a normalization layer.
    Scale,
    /// A running statistic: state that training updates but never
    /// differentiates (batch norm's running mean and variance).
    Statistic,
}

/// How a parameter tensor starts before training. `fan_in` is the number of
/// inputs of one output unit, `fan_out` the number of outputs one input
/// feeds. The formulas are those of PyTorch's `torch.nn.init`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Init {
    /// All zeros (biases, running means).
    Zeros,
    /// All ones (normalization scales, running variances).
    Ones,
    /// `U(-1, 1)`, as in the classic perceptron lessons.
    Uniform,
    /// Xavier/Glorot uniform: `U(-a, a)` with `a = sqrt(6 / (fan_in + fan_out))`.
    GlorotUniform {
        /// Inputs of one unit.
        fan_in: usize,
        /// Outputs of one input.
        fan_out: usize,
    },
    /// Xavier/Glorot normal: `N(0, 2 / (fan_in + fan_out))`.
    GlorotNormal {
        /// Inputs of one unit.
        fan_in: usize,
        /// Outputs of one input.
        fan_out: usize,
    },
    /// He/Kaiming uniform for ReLU: `U(-a, a)` with `a = sqrt(6 / fan_in)`.
    HeUniform {
        /// Inputs of one unit.
        fan_in: usize,
    },
    /// He/Kaiming normal for ReLU: `N(0, 2 / fan_in)`.
    HeNormal {
        /// Inputs of one unit.
        fan_in: usize,
    },
    /// `N(0, 1)`: PyTorch's embeddings.
    StandardNormal,
    /// PyTorch's recurrent layers: `U(-a, a)` with `a = 1 / sqrt(hidden)`,
    /// weights and biases alike.
    Recurrent {
        /// Units of the layer's hidden state.
        hidden: usize,
    },
}

/// One tensor inside a network's flat parameter (or state) buffer. The
/// whole table is computed by the compiler.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParamSpec {
    /// PyTorch `state_dict` name: `layers.<index in the layer list>.weight`.
    pub name: &'static str,
    /// First element in the flat buffer.
    pub offset: usize,
    /// Dimensions, row-major; a dense weight is `[out, in]`.
    pub shape: &'static [usize],
    /// Weight, bias, scale or statistic.
    pub role: Role,
    /// Initialization used by the generated `new`.
    pub init: Init,
}

impl ParamSpec {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// True for a tensor without elements (never produced by the compiler).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The elements of this tensor inside a flat buffer.
    ///
    /// # Panics
    /// If `flat` is shorter than the network's parameter count.
    pub fn slice<'a, T>(&self, flat: &'a [T]) -> &'a [T] {
        &flat[self.offset..self.offset + self.len()]
    }
}
