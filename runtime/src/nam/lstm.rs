//! NAM's LSTM, one sample at a time: stacked cells with gates in PyTorch's
//! order (input, forget, cell, output) and a linear head on the last
//! hidden state. `G` is `4 H`, given by the compiler because array lengths
//! cannot be computed from const parameters.

use crate::isa::Isa;
use crate::math::{mul_add, sigmoid, tanh};

/// One layer's weights, input `I` wide, `H` hidden units, `G = 4 H` gates.
#[derive(Debug)]
pub struct Cell<const I: usize, const H: usize, const G: usize> {
    /// `input[j][g]`: gate row `g` from input `j` (PyTorch's `weight_ih`, transposed).
    pub input: [[f32; G]; I],
    /// `hidden[j][g]`: gate row `g` from hidden unit `j` (`weight_hh`, transposed).
    pub hidden: [[f32; G]; H],
    /// Both of PyTorch's biases, summed.
    pub bias: [f32; G],
    /// The state a reset starts from: hidden, then cell.
    pub initial: ([f32; H], [f32; H]),
}

/// A layer's hidden and cell state.
#[derive(Clone, Copy, Debug)]
pub struct State<const H: usize> {
    /// The hidden state, the layer's output.
    pub h: [f32; H],
    /// The cell state.
    pub c: [f32; H],
}

impl<const I: usize, const H: usize, const G: usize> Cell<I, H, G> {
    /// The stored initial state.
    pub fn initial_state(&self) -> State<H> {
        State { h: self.initial.0, c: self.initial.1 }
    }

    /// Advances `state` by one input and returns the new hidden state.
    #[inline(always)]
    pub fn step(&self, isa: Isa, state: &mut State<H>, x: &[f32; I]) -> [f32; H] {
        let mut g = self.bias;
        for (row, &xj) in self.input.iter().zip(x) {
            for o in 0..G {
                g[o] = mul_add(isa, row[o], xj, g[o]);
            }
        }
        for (row, &hj) in self.hidden.iter().zip(&state.h) {
            for o in 0..G {
                g[o] = mul_add(isa, row[o], hj, g[o]);
            }
        }
        for u in 0..H {
            let (i, f, cell, o) = (g[u], g[H + u], g[2 * H + u], g[3 * H + u]);
            let c = mul_add(isa, sigmoid(isa, f), state.c[u], sigmoid(isa, i) * tanh(isa, cell));
            state.c[u] = c;
            state.h[u] = sigmoid(isa, o) * tanh(isa, c);
        }
        state.h
    }
}

/// The head: `bias + sum_j weight[j] h[j]`.
#[inline(always)]
pub fn head<const H: usize>(isa: Isa, weight: &[f32; H], bias: f32, h: &[f32; H]) -> f32 {
    weight.iter().zip(h).fold(bias, |y, (&w, &hj)| mul_add(isa, w, hj, y))
}
