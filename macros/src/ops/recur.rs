//! `Recur(xw, W_hh, b_ih, b_hh)`: a recurrent cell run over time, and its
//! backward pass through time, `RecurBack`.
//!
//! The input projection `xw = x W_ih^T` of every step is an ordinary
//! (time-distributed) `Linear` before this op. What is left is the part that
//! cannot be batched over time: at step `t`, the recurrent projection
//! `hw_t = h_{t-1} W_hh^T + b_hh`, then per hidden unit the cell's update,
//! scalar expressions of the unit's gate inputs `x_k + b_ih` and `hw_k` and
//! of the previous carries (`h`, and `c` for LSTM). The op's value keeps,
//! per sample and step, the new carries and the tape (`Cell::tape`: the
//! gate activations and whatever else the backward pass would otherwise
//! compute again): `[steps, carries * hidden + tape * hidden]`. Layers
//! take the hidden states out of it with `Block`; only `RecurBack` reads
//! the tape, a cache of the forward pass through which no gradient flows.
//!
//! The backward pass is the chain rule applied by the macro: the local
//! derivatives of the update expressions are derived symbolically
//! (`Expr::diff`) and written over the tape, and `RecurBack` walks the
//! steps backwards, carrying the gradient of the carries from step to
//! step and adding the recurrent projection's `d h_{t-1} = dhw_t W_hh`. It
//! yields, per step, the gradient of the gate inputs from `x` and from `h`
//! (`[steps, 2 * gates * hidden]`), or once when the two are the same
//! (`Cell::shares_gate_gradients`: an RNN's or LSTM's gates read `x_k +
//! hw_k`), which saves the copies that would take the halves apart. The
//! weight and bias gradients are then ordinary ops: `dW_hh = sum_t dhw_t^T
//! h_{t-1}` a time-distributed `LinearBackWeight`, the biases `SumRows`.
//!
//! The time loop lives in the runtime (`kernels::recur`, `recur_back`);
//! the generated code is the cell's update for one step, a closure the
//! runtime calls per step. Compile time does not grow with the sequence.

use super::block;
use super::{Derivative, Rules, always};
use crate::codegen::{Ctx, emit_stores, rt};
use crate::ir::expr::Expr;
use crate::ir::{Cell, Graph, NodeId, Op, Shape};
use chainrule_spec::Block;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

pub const RECUR: Rules = Rules {
    name: "recur",
    forward: "a recurrent cell over time",
    derivative: Derivative::Vjp {
        formula: "`recur_back`: backpropagation through time, the cell's update differentiated symbolically and read from the saved gate activations (none flows into them)",
        build: vjp,
    },
    emit,
    without_std: always,
    #[cfg(test)]
    eval,
};
pub const RECUR_BACK: Rules = Rules {
    name: "recur_back",
    forward: "the gradients of each step's gate inputs, from the last step to the first",
    derivative: Derivative::BackwardOnly,
    emit,
    without_std: always,
    #[cfg(test)]
    eval,
};

/// Adds the cell's run over `xw` (`[steps, gates * hidden]` per sample).
pub fn recur(g: &mut Graph, cell: Cell, xw: NodeId, w_hh: NodeId, b_ih: NodeId, b_hh: NodeId) -> NodeId {
    let shape = Shape::batched(&[cell.steps, cell.record()]);
    g.push(Op::Recur(Box::new(cell)), vec![xw, w_hh, b_ih, b_hh], shape)
}

/// The hidden states out of a `Recur` value: every step (`[steps, hidden]`)
/// or the last one (`[hidden]`).
pub fn hidden_states(g: &mut Graph, rec: NodeId, cell: &Cell, sequence: bool) -> NodeId {
    let (steps, record, hidden) = (cell.steps, cell.record(), cell.hidden);
    let geom = Block {
        src_rows: steps,
        src_cols: record,
        row_offset: if sequence { 0 } else { steps as isize - 1 },
        col_offset: 0,
        rows: if sequence { steps } else { 1 },
        cols: hidden,
    };
    let dims = if sequence { vec![steps, hidden] } else { vec![hidden] };
    block::block(g, rec, geom, &dims)
}

fn vjp(g: &mut Graph, id: NodeId, upstream: NodeId, wants: &[bool]) -> Vec<Option<NodeId>> {
    let Op::Recur(cell) = g.node(id).op.clone() else { unreachable!("recur::vjp on a recurrence") };
    let inputs = g.node(id).inputs.clone();
    let (steps, gates) = (cell.steps, cell.gate_len());
    // The backward pass reads x's gate inputs, W_hh, b_ih (the x-side gate
    // inputs include it) and the kept records; b_hh is inside the records.
    let operands = vec![upstream, inputs[0], inputs[1], inputs[2], id];
    let kept = cell.gate_gradients();
    let back = g.push(Op::RecurBack(cell.clone()), operands, Shape::batched(&[steps, kept]));
    let half = |g: &mut Graph, col_offset| {
        let geom =
            Block { src_rows: steps, src_cols: kept, row_offset: 0, col_offset, rows: steps, cols: gates };
        block::block(g, back, geom, &[steps, gates])
    };
    let (dxw, dhw) = if kept == gates { (back, back) } else { (half(g, 0), half(g, gates)) };
    let d_w_hh = wants[1].then(|| {
        // h_{t-1} for every step: the hidden states shifted down one step.
        let geom = Block {
            src_rows: steps,
            src_cols: cell.record(),
            row_offset: -1,
            col_offset: 0,
            rows: steps,
            cols: cell.hidden,
        };
        let previous = block::block(g, id, geom, &[steps, cell.hidden]);
        let shape = g.shape(inputs[1]).clone();
        g.push(Op::LinearBackWeight, vec![dhw, previous], shape)
    });
    let d_b_ih = wants[2].then(|| super::reduce::sum_rows(g, dxw));
    let d_b_hh = wants[3].then(|| super::reduce::sum_rows(g, dhw));
    vec![wants[0].then_some(dxw), d_w_hh, d_b_ih, d_b_hh]
}

fn emit(ctx: &Ctx, g: &Graph, id: NodeId) -> TokenStream {
    let node = g.node(id);
    let operands: Vec<TokenStream> = node.inputs.iter().map(|&i| ctx.read(i)).collect();
    match &node.op {
        Op::Recur(cell) => forward(ctx, &operands, ctx.write(id), cell),
        Op::RecurBack(cell) => backward(ctx, &operands, ctx.write(id), cell),
        _ => unreachable!("recur::emit on a recurrence"),
    }
}

/// Unit `__j`'s value in block `block` of `hidden` values of `array`.
fn unit(array: &str, block: usize, hidden: usize) -> TokenStream {
    let array = format_ident!("{array}");
    match block * hidden {
        0 => quote!(#array[__j]),
        offset => quote!(#array[#offset + __j]),
    }
}

/// Tokens reading the cell's variables for unit `__j`: the gate inputs
/// from `x` (bias included) in `__x` and from `h` in `__hw`, the previous
/// carries in `__prev`.
fn variables(cell: &Cell) -> Vec<TokenStream> {
    let h = cell.hidden;
    let mut vars: Vec<TokenStream> = (0..cell.gates).map(|k| unit("__x", k, h)).collect();
    vars.extend((0..cell.gates).map(|k| unit("__hw", k, h)));
    vars.extend((0..cell.carries).map(|m| unit("__prev", m, h)));
    vars
}

/// The runtime's size parameters: scalar, hidden units, gate values,
/// carried values, tape values.
fn sizes(ctx: &Ctx, cell: &Cell, tape: usize) -> TokenStream {
    let (s, h, g, c) = (ctx.scalar, cell.hidden, cell.gate_len(), cell.carried());
    let t = tape * h;
    quote!(#s, #h, #g, #c, #t)
}

fn forward(ctx: &Ctx, operands: &[TokenStream], out: TokenStream, cell: &Cell) -> TokenStream {
    let rt = rt();
    let [xw, w_hh, b_ih, b_hh] = operands else { unreachable!("four operands") };
    let (tape, _) = cell.tape();
    let (steps, h, rows, sizes) = (cell.steps, cell.hidden, ctx.rows(), sizes(ctx, cell, tape.len()));
    let mut targets: Vec<TokenStream> = (0..cell.carries).map(|m| unit("__new", m, h)).collect();
    targets.extend((0..tape.len()).map(|k| unit("__tape", k, h)));
    let values: Vec<Expr> = cell.update.iter().chain(&tape).cloned().collect();
    let update = emit_stores(&values, &targets, &variables(cell), ctx);
    quote! {
        #rt::kernels::recur::<#sizes>(#steps, #rows, #xw, #w_hh, #b_ih, #b_hh, #out,
            #[inline(always)]
            |__x, __hw, __prev, __new, __tape| {
                for __j in 0..#h {
                    #update
                }
            },
        );
    }
}

fn backward(ctx: &Ctx, operands: &[TokenStream], out: TokenStream, cell: &Cell) -> TokenStream {
    let rt = rt();
    let [up, xw, w_hh, b_ih, rec] = operands else { unreachable!("five operands") };
    let (tape, gradients) = cell.tape();
    let (steps, h, k, rows) = (cell.steps, cell.hidden, cell.gates, ctx.rows());
    let sizes = sizes(ctx, cell, tape.len());
    let shared = cell.shares_gate_gradients();
    // The gradients read no gate input from `h` (`__hw`): what they need
    // of them is on the tape.
    let mut vars = variables(cell);
    // The gradients of the new carries: upstream plus what later steps sent.
    vars.extend((0..cell.carries).map(|m| unit("__dnew", m, h)));
    vars.extend((0..tape.len()).map(|m| unit("__tape", m, h)));
    let mut targets: Vec<TokenStream> = (0..k).map(|i| unit("__dx", i, h)).collect();
    targets.extend((0..k).map(|i| unit("__dh", i, h)));
    targets.extend((0..cell.carries).map(|m| unit("__dprev", m, h)));
    let gradients = emit_stores(&gradients, &targets, &vars, ctx);
    quote! {
        #rt::kernels::recur_back::<#sizes>(#steps, #rows, #shared, #up, #xw, #w_hh, #b_ih, #rec, #out,
            #[inline(always)]
            |__x, __tape, __prev, __dnew, __dx, __dh, __dprev| {
                for __j in 0..#h {
                    #gradients
                }
            },
        );
    }
}

/// The reference: the same recurrence written plainly, for the tests.
#[cfg(test)]
fn eval(v: &super::eval::Values, g: &Graph, id: NodeId) -> Vec<f64> {
    let node = g.node(id);
    let operands: Vec<&[f64]> = node.inputs.iter().map(|&i| v.of(i)).collect();
    match &node.op {
        Op::Recur(cell) => eval_forward(cell, v.batch, &operands),
        Op::RecurBack(cell) => eval_backward(cell, v.batch, &operands),
        _ => unreachable!(),
    }
}

/// The cell's variables for unit `j`: gate inputs from `x` (with `b_ih`),
/// from `h`, then the previous carries, then `extra` per carry.
#[cfg(test)]
fn unit_variables(cell: &Cell, j: usize, x: &[f64], hw: &[f64], prev: &[f64], extra: &[f64]) -> Vec<f64> {
    let h = cell.hidden;
    let mut vars: Vec<f64> = (0..cell.gates).map(|k| x[k * h + j]).collect();
    vars.extend((0..cell.gates).map(|k| hw[k * h + j]));
    vars.extend((0..cell.carries).map(|m| prev[m * h + j]));
    vars.extend((0..extra.len() / h.max(1)).map(|m| extra[m * h + j]));
    vars
}

#[cfg(test)]
fn projection(cell: &Cell, w_hh: &[f64], b_hh: &[f64], prev: &[f64]) -> Vec<f64> {
    let h = cell.hidden;
    (0..cell.gate_len()).map(|r| b_hh[r] + (0..h).map(|i| w_hh[r * h + i] * prev[i]).sum::<f64>()).collect()
}

#[cfg(test)]
fn eval_forward(cell: &Cell, batch: usize, operands: &[&[f64]]) -> Vec<f64> {
    let [xw, w_hh, b_ih, b_hh] = operands else { unreachable!() };
    let (h, gl, c) = (cell.hidden, cell.gate_len(), cell.carried());
    let mut out = Vec::new();
    for r in 0..batch {
        let mut prev = vec![0.0; c];
        for t in 0..cell.steps {
            let x: Vec<f64> = (0..gl).map(|i| xw[(r * cell.steps + t) * gl + i] + b_ih[i]).collect();
            let hw = projection(cell, w_hh, b_hh, &prev);
            let (tape, _) = cell.tape();
            let (mut new, mut saved) = (vec![0.0; c], vec![0.0; tape.len() * h]);
            for j in 0..h {
                let vars = unit_variables(cell, j, &x, &hw, &prev, &[]);
                for (m, e) in cell.update.iter().enumerate() {
                    new[m * h + j] = e.eval(&vars, 1.0);
                }
                for (k, e) in tape.iter().enumerate() {
                    saved[k * h + j] = e.eval(&vars, 1.0);
                }
            }
            out.extend(&new);
            out.extend(&saved);
            prev = new;
        }
    }
    out
}

#[cfg(test)]
fn eval_backward(cell: &Cell, batch: usize, operands: &[&[f64]]) -> Vec<f64> {
    let [up, xw, w_hh, b_ih, rec] = operands else { unreachable!() };
    let (h, gl, c, steps) = (cell.hidden, cell.gate_len(), cell.carried(), cell.steps);
    let record = cell.record();
    let (_, grads) = cell.tape();
    // The gradients read the tape, never a gate input from `h`: NaN there
    // would show.
    let hw = vec![f64::NAN; gl];
    let kept = cell.gate_gradients();
    let mut out = vec![0.0; batch * steps * kept];
    for r in 0..batch {
        let mut carry = vec![0.0; c];
        for t in (0..steps).rev() {
            let at = |t: usize| (r * steps + t) * record;
            let x: Vec<f64> = (0..gl).map(|i| xw[(r * steps + t) * gl + i] + b_ih[i]).collect();
            let prev = if t == 0 { vec![0.0; c] } else { rec[at(t - 1)..][..c].to_vec() };
            let u = &up[at(t)..][..c];
            // The carries' gradients, then the tape.
            let mut extra: Vec<f64> = (0..c).map(|i| u[i] + carry[i]).collect();
            extra.extend(&rec[at(t) + c..at(t) + record]);
            let row = &mut out[(r * steps + t) * kept..][..kept];
            let mut next = vec![0.0; c];
            for j in 0..h {
                let vars = unit_variables(cell, j, &x, &hw, &prev, &extra);
                let d: Vec<f64> = grads.iter().map(|e| e.eval(&vars, 1.0)).collect();
                for k in 0..cell.gates {
                    row[k * h + j] = d[k];
                    if kept > gl {
                        row[gl + k * h + j] = d[cell.gates + k];
                    }
                }
                for m in 0..cell.carries {
                    next[m * h + j] = d[2 * cell.gates + m];
                }
            }
            if t > 0 {
                for (rr, &dh) in row[kept - gl..].iter().enumerate() {
                    (0..h).for_each(|i| next[i] += dh * w_hh[rr * h + i]);
                }
            }
            carry = next;
        }
    }
    out
}
