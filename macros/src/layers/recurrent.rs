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
use super::{At, Carried, Family, Layer, LowerCtx, Origin, OverTime, Resolved, check_size};
use crate::args;
use crate::errors::Errors;
use crate::ir::expr::{Unary, add, c, mul, sub, unary, var};
use crate::ir::{Cell, Derivation, Graph, Init, NodeId, RecurT, Role};
use crate::model::show_shape;
use crate::ops;
use crate::parse::Call;

pub struct Recurrents;

impl Family for Recurrents {
    fn keywords(&self) -> &'static [&'static str] {
        &["rnn", "lstm", "gru"]
    }

    fn aliases(&self) -> &'static [(&'static str, &'static str)] {
        &[("RNN", "rnn"), ("SimpleRNN", "rnn"), ("LSTM", "lstm"), ("GRU", "gru")]
    }

    fn resolve(&self, call: &Call, input: Option<&[usize]>, _: &At, errors: &mut Errors) -> Option<Resolved> {
        let kind = match call.name.to_string().as_str() {
            "rnn" => Kind::Rnn,
            "lstm" => Kind::Lstm,
            _ => Kind::Gru,
        };
        let (layer, output) = read(call, kind, input, errors)?;
        check_size(&[4 * layer.hidden, layer.features.max(layer.hidden)], call, errors)?;
        Resolved::new(layer, Some(output))
    }
}

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
        let input = input?;
        // A flat value is most often a sequence of single values.
        let hint = match input {
            &[n] => format!("; {n} steps of one value each are written `[{n}, 1]`, as in `input: [{n}, 1]`"),
            _ => String::new(),
        };
        errors.push(
            call.site(),
            format!(
                "`{}` expects a [time, features] input but receives {}{hint}",
                call.display(),
                show_shape(input)
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
    fn cell(&self, steps: usize) -> Cell {
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
        Cell { steps, hidden: self.hidden, gates, carries, update }
    }

    /// The four tensors, as every lowering registers them: `w_ih`,
    /// `w_hh`, `b_ih`, `b_hh`.
    fn params(&self, g: &mut Graph, origin: &Origin) -> [NodeId; 4] {
        let (prefix, span) = (&origin.path, origin.span);
        let (h, rows) = (self.hidden, self.cell(1).gate_len());
        let init = Init::Recurrent { hidden: h };
        [
            g.param(format!("{prefix}.weight_ih_l0"), &[rows, self.features], Role::Weight, init, span),
            g.param(format!("{prefix}.weight_hh_l0"), &[rows, h], Role::Weight, init, span),
            g.param(format!("{prefix}.bias_ih_l0"), &[rows], Role::Bias, init, span),
            g.param(format!("{prefix}.bias_hh_l0"), &[rows], Role::Bias, init, span),
        ]
    }

    /// Batch-1 inference over `steps` steps from the planned gates; with
    /// `stream`, the carries live at that offset of the stream buffer.
    fn planned(
        &self,
        g: &mut Graph,
        x: NodeId,
        origin: &Origin,
        steps: usize,
        stream: Option<usize>,
    ) -> NodeId {
        let (cell, sequence) = (self.cell(steps), self.sequence && stream.is_none());
        let [w_ih, w_hh, b_ih, b_hh] = self.params(g, origin).map(|p| g.param_offset(p));
        let (blocks, update) = ops::recur_t::blocks(&cell);
        let derivation = Derivation::Gates {
            w_ih,
            w_hh,
            b_ih,
            b_hh,
            inputs: self.features,
            hidden: self.hidden,
            blocks: blocks.clone(),
        };
        let plan = g.plan(derivation);
        let layer = RecurT { inputs: self.features, blocks, cell: Cell { update, ..cell }, sequence, stream };
        ops::recur_t::recur_t(g, x, plan, layer)
    }
}

impl Layer for Recurrent {
    fn lower(&self, g: &mut Graph, x: NodeId, origin: &Origin, _: LowerCtx) -> NodeId {
        let [w_ih, w_hh, b_ih, b_hh] = self.params(g, origin);
        let cell = self.cell(self.steps);
        let xw = ops::linear::linear(g, x, w_ih);
        let rec = ops::recur::recur(g, cell.clone(), xw, w_hh, b_ih, b_hh);
        ops::recur::hidden_states(g, rec, &cell, self.sequence)
    }

    /// Every gate over `[x; h]` in one product per step, from the planned
    /// weights: no packed matrix multiply, so it compiles without `std`.
    fn lower_planned(&self, g: &mut Graph, x: NodeId, origin: &Origin, _: LowerCtx) -> NodeId {
        self.planned(g, x, origin, self.steps, None)
    }

    fn over_time(&self) -> OverTime<'_> {
        OverTime::Carried(self)
    }
}

impl Carried for Recurrent {
    /// One step of a stream: the carries at `offset` of the stream buffer
    /// are read before the step and written after it; the result is this
    /// step's hidden state.
    fn lower_step(&self, g: &mut Graph, x: NodeId, origin: &Origin, offset: usize) -> NodeId {
        self.planned(g, x, origin, 1, Some(offset))
    }

    /// Its carries.
    fn stream_len(&self) -> usize {
        self.cell(1).carried()
    }

    fn keeps_time(&self) -> bool {
        self.sequence
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::expr::Expr;

    fn tape(kind: Kind) -> Vec<Expr> {
        Recurrent { kind, hidden: 2, sequence: false, steps: 3, features: 1 }.cell(3).tape().0
    }

    /// What each cell's forward pass keeps for its backward one: every
    /// activation, and of the gate inputs from `h` only the one a GRU's
    /// gradient reads raw (`hw_n`, through its reset gate).
    #[test]
    fn each_cell_saves_its_activations() {
        assert_eq!(tape(Kind::Rnn), vec![unary(Unary::Tanh, add(var(0), var(1)))]);
        let lstm = tape(Kind::Lstm);
        assert_eq!(lstm.len(), 5, "four gates and tanh(c): {lstm:?}");
        assert!(lstm.iter().all(|e| matches!(e, Expr::Unary(..))), "{lstm:?}");
        let gru = tape(Kind::Gru);
        assert_eq!(gru.len(), 4, "r, z, n and hw_n: {gru:?}");
        assert_eq!(gru.last(), Some(&var(5)));
    }

    /// An RNN's and an LSTM's gates read `x_k + hw_k`, so the backward
    /// pass keeps one gradient per gate input; a GRU's candidate does not.
    #[test]
    fn gate_gradients_are_kept_once_where_x_and_h_enter_as_a_sum() {
        let cell = |kind| Recurrent { kind, hidden: 2, sequence: false, steps: 3, features: 1 }.cell(3);
        assert!(cell(Kind::Rnn).shares_gate_gradients() && cell(Kind::Lstm).shares_gate_gradients());
        assert!(!cell(Kind::Gru).shares_gate_gradients());
    }
}
