//! `rnn(hidden)`, `lstm(hidden)`, `gru(hidden)`, each optionally with
//! `sequence = true`: recurrent layers over `[time, features]` values, as
//! PyTorch's `nn.RNN` (tanh), `nn.LSTM` and `nn.GRU` with one layer,
//! `batch_first`, and zero initial states.
//!
//! Shape rule: `[time, features]` becomes the last hidden state `[hidden]`,
//! or with `sequence = true` every step's, `[time, hidden]` (what a stacked
//! recurrent layer reads). Parameters, with PyTorch's names, gate order
//! and `U(-1/sqrt(hidden), 1/sqrt(hidden))` initialization:
//! `<path>.weight_ih_l0` `[gates * hidden, features]`, `<path>.weight_hh_l0`
//! `[gates * hidden, hidden]`, `<path>.bias_ih_l0` and `<path>.bias_hh_l0`
//! `[gates * hidden]`; the gates are (input, forget, cell, output) for
//! LSTM, (reset, update, new) for GRU.
//!
//! Lowers to a time-distributed `Linear` for the input projection of every
//! step at once, then a `Recur` with the cell's update as scalar
//! expressions (below), then a `Block` taking out the hidden states.

use super::window::boolean;
use crate::args;
use crate::errors::Errors;
use crate::ir::Cell;
use crate::ir::expr::{Unary, add, c, mul, sub, unary, var};
use crate::ir::{Graph, Init, NodeId, Role};
use crate::model::show_shape;
use crate::ops;
use crate::parse::Call;
use proc_macro2::Span;

pub const KEYWORDS: [&str; 3] = ["rnn", "lstm", "gru"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Rnn,
    Lstm,
    Gru,
}

pub struct Recurrent {
    pub kind: Kind,
    pub hidden: usize,
    pub sequence: bool,
    pub steps: usize,
    pub features: usize,
}

/// `Some` if `call` is a recurrent keyword: the layer and its output shape,
/// or `None` after an error.
pub fn resolve(
    call: &Call,
    input: Option<&[usize]>,
    errors: &mut Errors,
) -> Option<Option<(Recurrent, Vec<usize>)>> {
    let kind = match call.name.to_string().as_str() {
        "rnn" => Kind::Rnn,
        "lstm" => Kind::Lstm,
        "gru" => Kind::Gru,
        _ => return None,
    };
    Some(read(call, kind, input, errors))
}

fn read(
    call: &Call,
    kind: Kind,
    input: Option<&[usize]>,
    errors: &mut Errors,
) -> Option<(Recurrent, Vec<usize>)> {
    let (usage, with_sequence) =
        (format!("{}(32)", call.name), format!("{}(32, sequence = true)", call.name));
    let mut hidden = None;
    let mut sequence = false;
    let mut ok = true;
    for arg in &call.args {
        match arg.name.as_ref().map(ToString::to_string).as_deref() {
            None if hidden.is_none() => match args::whole(&arg.value) {
                Ok(0) => {
                    errors.push(arg.site(), format!("`{}` needs at least 1 hidden unit, found 0", call.name));
                    ok = false;
                }
                Ok(n) => hidden = Some(n as usize),
                Err(message) => {
                    errors.push(arg.site(), message);
                    ok = false;
                }
            },
            None => {
                errors.push(arg.site(), format!("too many arguments: write `{usage}` or `{with_sequence}`"));
                ok = false;
            }
            Some("sequence") => match boolean(&arg.value, "sequence") {
                Ok(b) => sequence = b,
                Err(message) => {
                    errors.push(arg.site(), message);
                    ok = false;
                }
            },
            Some(other) => {
                let message = match crate::suggest::did_you_mean(other, ["sequence"]).as_str() {
                    "" => format!(
                        "`{}` has no parameter `{other}`; it takes the hidden size and `sequence`",
                        call.name
                    ),
                    hint => format!("`{}` has no parameter `{other}`{hint}", call.name),
                };
                errors.push(arg.site(), message);
                ok = false;
            }
        }
    }
    let Some(hidden) = hidden else {
        if ok {
            errors.push(
                call.site(),
                format!("`{}` needs the size of its hidden state, as in `{usage}`", call.name),
            );
        }
        return None;
    };
    let &[steps, features] = input? else {
        errors.push(
            call.site(),
            format!(
                "`{}` expects a [time, features] input but receives {}",
                call.display(),
                show_shape(input?)
            ),
        );
        return None;
    };
    let output = if sequence { vec![steps, hidden] } else { vec![hidden] };
    ok.then_some((Recurrent { kind, hidden, sequence, steps, features }, output))
}

impl Recurrent {
    /// The cell's update, over variables `x_k` (`0..gates`), `h_k`
    /// (`gates..2 * gates`) and previous carries (`2 * gates..`).
    fn cell(&self, steps: usize, stream: Option<usize>) -> Cell {
        let sigmoid = |e| unary(Unary::Sigmoid, e);
        let tanh = |e| unary(Unary::Tanh, e);
        let (gates, update) = match self.kind {
            // h' = tanh(x + h)
            Kind::Rnn => (1, vec![tanh(add(var(0), var(1)))]),
            // i, f, g, o = gates; c' = f c + i g; h' = o tanh(c')
            Kind::Lstm => {
                let gate = |k: usize| add(var(k), var(4 + k));
                let (i, f, g, o) = (sigmoid(gate(0)), sigmoid(gate(1)), tanh(gate(2)), sigmoid(gate(3)));
                let cell = add(mul(f, var(9)), mul(i, g));
                (4, vec![mul(o, tanh(cell.clone())), cell])
            }
            // r, z = gates; n = tanh(x_n + r h_n); h' = (1 - z) n + z h
            Kind::Gru => {
                let (r, z) = (sigmoid(add(var(0), var(3))), sigmoid(add(var(1), var(4))));
                let n = tanh(add(var(2), mul(r, var(5))));
                (3, vec![add(mul(sub(c(1.0), z.clone()), n), mul(z, var(6)))])
            }
        };
        let carries = update.len();
        Cell { steps, hidden: self.hidden, gates, carries, update, stream }
    }

    pub fn lower(&self, g: &mut Graph, x: NodeId, prefix: &str, span: Span) -> NodeId {
        self.lower_cell(g, x, prefix, span, self.cell(self.steps, None), self.sequence)
    }

    /// One step of a stream: the carries at `offset` of the stream buffer
    /// are read before the step and written after it; the result is this
    /// step's hidden state.
    pub fn lower_step(&self, g: &mut Graph, x: NodeId, prefix: &str, span: Span, offset: usize) -> NodeId {
        self.lower_cell(g, x, prefix, span, self.cell(1, Some(offset)), false)
    }

    /// Values the stream keeps for this layer: its carries.
    pub fn stream_len(&self) -> usize {
        self.cell(1, None).carries * self.hidden
    }

    fn lower_cell(
        &self,
        g: &mut Graph,
        x: NodeId,
        prefix: &str,
        span: Span,
        cell: Cell,
        sequence: bool,
    ) -> NodeId {
        let (h, rows) = (self.hidden, cell.gates * self.hidden);
        let init = Init::Recurrent { hidden: h };
        let w_ih =
            g.param(format!("{prefix}.weight_ih_l0"), &[rows, self.features], Role::Weight, init, span);
        let w_hh = g.param(format!("{prefix}.weight_hh_l0"), &[rows, h], Role::Weight, init, span);
        let b_ih = g.param(format!("{prefix}.bias_ih_l0"), &[rows], Role::Bias, init, span);
        let b_hh = g.param(format!("{prefix}.bias_hh_l0"), &[rows], Role::Bias, init, span);
        let xw = ops::linear::linear(g, x, w_ih);
        let rec = ops::recur::recur(g, cell.clone(), xw, w_hh, b_ih, b_hh);
        ops::recur::hidden_states(g, rec, &cell, sequence)
    }
}
