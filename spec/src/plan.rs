//! The inference copy of a network's weights: each tensor laid out the way
//! its batch-1 kernel reads it. The compiler plans it (which tensors, in
//! which layout); the runtime derives it from the parameters whenever they
//! change, and the compiler derives it at compile time for weights compiled
//! in, with the same function, [`derive`].
//!
//! Batch-1 kernels broadcast each input over a vector of outputs, so they
//! want weights input-major (one row per input, the outputs along it) with
//! rows padded to a whole number of vectors: no horizontal reductions, no
//! partial vectors. PyTorch's layout, which the parameters keep so that
//! weight files exchange, is output-major.

/// Rows are padded to a multiple of this many values (one AVX2 vector of
/// `f32`; narrower sets take it in parts).
pub const LANES: usize = 8;

/// Values in a cache line of `f32` (64 bytes; one AVX-512 vector): each
/// tensor of the inference copy starts on a line, and so does each row
/// longer than [`LANES`], so that no vector load straddles two lines.
pub const LINE: usize = 16;

/// The padded length of a row of `n` values: one vector of [`LANES`], or
/// whole lines.
pub const fn padded(n: usize) -> usize {
    if n <= LANES { LANES } else { n.next_multiple_of(LINE) }
}

/// Which side of a recurrent cell a block of gate columns takes its
/// inputs from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// The input and the state, summed (with both biases).
    Both,
    /// The input alone (with the input bias).
    Input,
    /// The state alone (with the state bias).
    State,
}

/// `hidden` consecutive columns of a recurrent plan: one gate from one side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GateBlock {
    /// The gate, in the parameters' gate order.
    pub gate: usize,
    /// Where its inputs come from.
    pub from: Side,
}

/// How a tensor of the inference copy derives from the parameters (offsets
/// into the flat parameter buffer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Derivation<B = &'static [GateBlock]> {
    /// A dense layer: its weight `[outputs, inputs]` transposed to `inputs`
    /// rows of `padded(outputs)` values (zeros past `outputs`), then one row
    /// holding the bias (zeros without one).
    Dense {
        /// Offset of the weight.
        weight: usize,
        /// Offset of the bias, if the layer has one.
        bias: Option<usize>,
        /// Inputs: rows of the tensor.
        inputs: usize,
        /// Outputs: columns of each row, before padding.
        outputs: usize,
    },
    /// A recurrent cell with weights `w_ih` `[gates * hidden, inputs]` and
    /// `w_hh` `[gates * hidden, hidden]` and biases of `gates * hidden`:
    /// `inputs` rows for the input features, `hidden` rows for the state,
    /// one bias row, each of `padded(blocks.len() * hidden)` values. Column
    /// block `b` holds `blocks[b]`'s gate from its side (zeros in the rows
    /// of the other side), so a gate whose two sides are only ever summed
    /// is one product over `[x; h]`.
    Gates {
        /// Offset of the input weights.
        w_ih: usize,
        /// Offset of the recurrent weights.
        w_hh: usize,
        /// Offset of the input bias.
        b_ih: usize,
        /// Offset of the recurrent bias.
        b_hh: usize,
        /// Input features.
        inputs: usize,
        /// Hidden units.
        hidden: usize,
        /// The column blocks.
        blocks: B,
    },
}

impl<B: AsRef<[GateBlock]>> Derivation<B> {
    /// Values in a row.
    pub fn row(&self) -> usize {
        match self {
            Derivation::Dense { outputs, .. } => padded(*outputs),
            Derivation::Gates { hidden, blocks, .. } => padded(blocks.as_ref().len() * hidden),
        }
    }

    /// Values of the tensor: its rows and the bias row.
    pub fn len(&self) -> usize {
        let rows = match self {
            Derivation::Dense { inputs, .. } => *inputs,
            Derivation::Gates { inputs, hidden, .. } => inputs + hidden,
        };
        (rows + 1) * self.row()
    }

    /// Never empty; for the lint's sake.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One tensor of the inference copy: where it lies and how it derives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlanSpec {
    /// First value in the inference copy.
    pub offset: usize,
    /// What it holds.
    pub derivation: Derivation,
}

/// Writes the tensor `derivation` describes into `out` (its `len()`
/// values) from the flat parameters.
///
/// # Panics
/// If `params` or `out` is shorter than the derivation says: a compiler bug.
pub fn derive<T, B>(derivation: &Derivation<B>, params: &[T], out: &mut [T])
where
    T: Copy + Default + core::ops::Add<Output = T>,
    B: AsRef<[GateBlock]>,
{
    let row = derivation.row();
    let out = &mut out[..derivation.len()];
    out.fill(T::default());
    match derivation {
        &Derivation::Dense { weight, bias, inputs, outputs } => {
            for o in 0..outputs {
                let w = &params[weight + o * inputs..][..inputs];
                for (i, &v) in w.iter().enumerate() {
                    out[i * row + o] = v;
                }
            }
            if let Some(bias) = bias {
                out[inputs * row..][..outputs].copy_from_slice(&params[bias..][..outputs]);
            }
        }
        Derivation::Gates { w_ih, w_hh, b_ih, b_hh, inputs, hidden, blocks } => {
            let (inputs, hidden) = (*inputs, *hidden);
            let bias_row = (inputs + hidden) * row;
            for (b, block) in blocks.as_ref().iter().enumerate() {
                let (input_side, state_side) = match block.from {
                    Side::Both => (true, true),
                    Side::Input => (true, false),
                    Side::State => (false, true),
                };
                for u in 0..hidden {
                    let (column, unit) = (b * hidden + u, block.gate * hidden + u);
                    if input_side {
                        for i in 0..inputs {
                            out[i * row + column] = params[w_ih + unit * inputs + i];
                        }
                        out[bias_row + column] = out[bias_row + column] + params[b_ih + unit];
                    }
                    if state_side {
                        for i in 0..hidden {
                            out[(inputs + i) * row + column] = params[w_hh + unit * hidden + i];
                        }
                        out[bias_row + column] = out[bias_row + column] + params[b_hh + unit];
                    }
                }
            }
        }
    }
}

/// Derives every tensor of `plan` into the inference copy `out`.
pub fn relayout<T>(plan: &[PlanSpec], params: &[T], out: &mut [T])
where
    T: Copy + Default + core::ops::Add<Output = T>,
{
    for spec in plan {
        let len = spec.derivation.len();
        derive(&spec.derivation, params, &mut out[spec.offset..][..len]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dense_weight_is_transposed_and_padded() {
        // W = [[1, 2], [3, 4], [5, 6]] (3 outputs, 2 inputs), b = [7, 8, 9].
        let params = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0];
        let d: Derivation = Derivation::Dense { weight: 0, bias: Some(6), inputs: 2, outputs: 3 };
        let mut out = [f64::NAN; 24];
        derive(&d, &params, &mut out);
        assert_eq!(d.len(), 24);
        assert_eq!(&out[..8], &[1.0, 3.0, 5.0, 0.0, 0.0, 0.0, 0.0, 0.0], "input 0 over the outputs");
        assert_eq!(&out[8..11], &[2.0, 4.0, 6.0]);
        assert_eq!(&out[16..19], &[7.0, 8.0, 9.0], "then the bias");
    }

    /// Two gates of one unit: the first summed over both sides, the
    /// second taken from each side on its own (a GRU's new-state gate).
    #[test]
    fn gates_are_laid_over_input_and_state() {
        // w_ih [2 gates * 1 unit, 1 input], w_hh [2, 1], b_ih [2], b_hh [2].
        let params = [10.0, 20.0, 30.0, 40.0, 1.0, 2.0, 3.0, 4.0];
        const BLOCKS: &[GateBlock] = &[
            GateBlock { gate: 0, from: Side::Both },
            GateBlock { gate: 1, from: Side::Input },
            GateBlock { gate: 1, from: Side::State },
        ];
        let d =
            Derivation::Gates { w_ih: 0, w_hh: 2, b_ih: 4, b_hh: 6, inputs: 1, hidden: 1, blocks: BLOCKS };
        let mut out = [f64::NAN; 24];
        derive(&d, &params, &mut out);
        assert_eq!(&out[..3], &[10.0, 20.0, 0.0], "the input row");
        assert_eq!(&out[8..11], &[30.0, 0.0, 40.0], "the state row");
        assert_eq!(&out[16..19], &[1.0 + 3.0, 2.0, 4.0], "the biases");
    }
}
