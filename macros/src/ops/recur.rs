//! `Recur(xw, W_hh, b_ih, b_hh)`: a recurrent cell run over time, and its
//! backward pass through time, `RecurBack`.
//!
//! The input projection `xw = x W_ih^T` of every step is an ordinary
//! (time-distributed) `Linear` before this op. What is left is the part that
//! cannot be batched over time: at step `t`, the recurrent projection
//! `hw_t = h_{t-1} W_hh^T + b_hh`, then per hidden unit the cell's update,
//! scalar expressions of the unit's gate inputs `x_k + b_ih` and `hw_k` and
//! of the previous carries (`h`, and `c` for LSTM). The op's value keeps,
//! per sample and step, the new carries and `hw_t`: `[steps, carries *
//! hidden + gates * hidden]`. Layers take the hidden states out of it with
//! `Block`.
//!
//! The backward pass is the chain rule applied by the macro: the local
//! derivatives of the update expressions are derived symbolically
//! (`Expr::diff`), and `RecurBack` walks the steps backwards, carrying the
//! gradient of the carries from step to step and adding the recurrent
//! projection's `d h_{t-1} = dhw_t W_hh`. It yields, per step, the gradient
//! of the gate inputs from `x` and from `h` (`[steps + 1, 2 * gates *
//! hidden]`; the last row is its scratch for the carries). The weight and
//! bias gradients are then ordinary ops: `dW_hh = sum_t dhw_t^T h_{t-1}` a
//! time-distributed `LinearBackWeight`, the biases `SumRows`. The time
//! loop is a loop in the generated code: compile time does not grow with
//! the sequence length.

use super::Op;
use super::block;
use crate::emit::body::{Ctx, rt};
use crate::emit::expr::emit_exprs;
use crate::ir::expr::{Expr, add, mul, var};
use crate::ir::{Graph, NodeId, Shape};
use chainrule_spec::Block;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// A recurrent cell: sizes and the update of its carries.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    pub steps: usize,
    pub hidden: usize,
    /// Gate blocks of `hidden` units each (RNN 1, GRU 3, LSTM 4).
    pub gates: usize,
    /// Carried vectors, the hidden state first (LSTM also carries `c`).
    pub carries: usize,
    /// The new value of each carry for one unit, over the variables
    /// `0..gates` (the gate inputs from `x`, bias included),
    /// `gates..2 * gates` (from `h`, bias included) and `2 * gates..` (the
    /// previous carries).
    pub update: Vec<Expr>,
    /// Streaming (one step at a time): where the carries live in the
    /// network's stream buffer `__stream`, read before the step and
    /// written after it. Otherwise the state starts at zero.
    pub stream: Option<usize>,
}

impl Cell {
    fn g(&self) -> usize {
        self.gates * self.hidden
    }

    /// Values kept per step: the carries, then `hw_t`.
    pub fn record(&self) -> usize {
        self.carries * self.hidden + self.g()
    }

    /// Variables of the update: gate inputs from `x`, from `h`, previous carries.
    fn variables(&self) -> usize {
        2 * self.gates + self.carries
    }

    /// For every variable, its gradient given the gradients of the new
    /// carries (variables `variables()..`): the chain rule, symbolically.
    fn gradients(&self) -> Vec<Expr> {
        let upstream = self.variables();
        (0..upstream)
            .map(|v| {
                self.update
                    .iter()
                    .enumerate()
                    .fold(crate::ir::expr::c(0.0), |sum, (m, e)| add(sum, mul(var(upstream + m), e.diff(v))))
            })
            .collect()
    }
}

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

pub fn vjp(g: &mut Graph, id: NodeId, upstream: NodeId, wants: &[bool]) -> Vec<Option<NodeId>> {
    let Op::Recur(cell) = g.node(id).op.clone() else { unreachable!("recur::vjp on a recurrence") };
    let inputs = g.node(id).inputs.clone();
    let (steps, gates) = (cell.steps, cell.g());
    // The backward pass reads x's gate inputs, W_hh, b_ih (the x-side gate
    // inputs include it) and the kept records; b_hh is inside the records.
    let operands = vec![upstream, inputs[0], inputs[1], inputs[2], id];
    let back = g.push(Op::RecurBack(cell.clone()), operands, Shape::batched(&[steps + 1, 2 * gates]));
    let half = |g: &mut Graph, col_offset| {
        let geom = Block {
            src_rows: steps + 1,
            src_cols: 2 * gates,
            row_offset: 0,
            col_offset,
            rows: steps,
            cols: gates,
        };
        block::block(g, back, geom, &[steps, gates])
    };
    let dxw = half(g, 0);
    let dhw = half(g, gates);
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

pub fn emit(ctx: &Ctx, g: &Graph, id: NodeId) -> TokenStream {
    let node = g.node(id);
    match &node.op {
        Op::Recur(cell) => {
            forward(ctx, node.inputs.iter().map(|&i| ctx.read(i)).collect(), ctx.write(id), cell)
        }
        Op::RecurBack(cell) => {
            backward(ctx, node.inputs.iter().map(|&i| ctx.read(i)).collect(), ctx.write(id), cell)
        }
        _ => unreachable!("recur::emit on a recurrence"),
    }
}

/// Tokens reading the cell's variables for unit `__j` of step `__t`: the
/// gate inputs from `__x` (plus `__bi`) and `__hw`, the previous carries
/// `__p<m>`.
fn variable_tokens(cell: &Cell) -> Vec<TokenStream> {
    let h = cell.hidden;
    let mut vars: Vec<TokenStream> =
        (0..cell.gates).map(|k| quote!((__x[#k * #h + __j] + __bi[#k * #h + __j]))).collect();
    vars.extend((0..cell.gates).map(|k| quote!(__hw[#k * #h + __j])));
    vars.extend((0..cell.carries).map(|m| {
        let p = format_ident!("__p{m}");
        quote!(#p)
    }));
    vars
}

/// Binds `__p<m>`, the previous carries of unit `__j` (zero before step 0),
/// read from `__prev` (the previous step's record) if `__t > 0`.
fn previous_carries(cell: &Cell, ctx: &Ctx) -> Vec<TokenStream> {
    let (h, s) = (cell.hidden, ctx.scalar);
    (0..cell.carries)
        .map(|m| {
            let p = format_ident!("__p{m}");
            quote!(let #p: #s = __prev[#m * #h + __j];)
        })
        .collect()
}

fn forward(ctx: &Ctx, inputs: Vec<TokenStream>, out: TokenStream, cell: &Cell) -> TokenStream {
    let rt = rt();
    let [xw, w_hh, b_ih, b_hh] = inputs.try_into().expect("four operands");
    let (steps, h, gates, record) = (cell.steps, cell.hidden, cell.g(), cell.record());
    let carried = cell.carries * h;
    let (rows, s) = (ctx.rows(), ctx.scalar);
    let vars = variable_tokens(cell);
    let update = emit_exprs(&cell.update, &vars, ctx);
    let news: Vec<_> = (0..cell.carries).map(|m| format_ident!("__n{m}")).collect();
    // Into a local array first: the compiler knows it aliases nothing, so
    // the loop over units vectorizes.
    let stores = (0..cell.carries).map(|m| {
        let n = &news[m];
        quote!(__new[#m * #h + __j] = #n;)
    });
    let previous = previous_carries(cell, ctx);
    // A stream starts from the carries it kept and keeps the new ones.
    let (initial, has_initial, keep) = match cell.stream {
        Some(offset) => (
            quote!(&__stream[#offset..][..#carried]),
            true,
            quote!(__stream[#offset..][..#carried].copy_from_slice(&__rec[(#steps - 1) * #record..][..#carried]);),
        ),
        None => (quote!(&__zeros), false, quote!()),
    };
    quote! {{
        let (__xw_all, __w, __bi, __bh): (&[#s], &[#s], &[#s], &[#s]) = (#xw, #w_hh, #b_ih, #b_hh);
        let __out: &mut [#s] = #out;
        let __zeros = [0.0 as #s; #carried];
        for __b in 0..#rows {
            let __rec = &mut __out[__b * (#steps * #record)..][..#steps * #record];
            let __xw = &__xw_all[__b * (#steps * #gates)..][..#steps * #gates];
            for __t in 0..#steps {
                let (__done, __now) = __rec.split_at_mut(__t * #record);
                let (__carry, __hw) = __now[..#record].split_at_mut(#carried);
                let __prev: &[#s] = if __t == 0 { #initial } else { &__done[(__t - 1) * #record..][..#carried] };
                // The recurrent projection, h_{t-1} W_hh^T + b_hh.
                if __t == 0 && !#has_initial {
                    __hw.copy_from_slice(&__bh[..#gates]);
                } else {
                    #rt::kernels::linear(1, #h, #gates, &__prev[..#h], __w, __hw);
                    for (__v, __c) in __hw.iter_mut().zip(&__bh[..#gates]) {
                        *__v += *__c;
                    }
                }
                let __hw: &[#s] = __hw;
                let __x = &__xw[__t * #gates..][..#gates];
                let __prev = &__prev[..#carried];
                let mut __new = [0.0 as #s; #carried];
                for __j in 0..#h {
                    #(#previous)*
                    let [#(#news),*] = #update;
                    #(#stores)*
                }
                __carry.copy_from_slice(&__new);
            }
            #keep
        }
    }}
}

fn backward(ctx: &Ctx, inputs: Vec<TokenStream>, out: TokenStream, cell: &Cell) -> TokenStream {
    let [up, xw, w_hh, b_ih, rec] = inputs.try_into().expect("five operands");
    let (steps, h, gates, record) = (cell.steps, cell.hidden, cell.g(), cell.record());
    let carried = cell.carries * h;
    let (rows, s) = (ctx.rows(), ctx.scalar);
    let mut vars = variable_tokens(cell);
    // The gradients of the new carries: upstream plus what later steps sent.
    vars.extend((0..cell.carries).map(|m| quote!((__u[#m * #h + __j] + __carry[#m * #h + __j]))));
    let grads = emit_exprs(&cell.gradients(), &vars, ctx);
    let names: Vec<_> = (0..cell.variables()).map(|v| format_ident!("__d{v}")).collect();
    let k = cell.gates;
    // Into local arrays first, as in the forward pass.
    let stores_x = (0..k).map(|i| {
        let d = &names[i];
        quote!(__dg[#i * #h + __j] = #d;)
    });
    let stores_h = (0..k).map(|i| {
        let d = &names[k + i];
        // Upstream on the kept `hw` values adds to their gradient.
        quote!(__dg[#gates + #i * #h + __j] = #d + __u[#carried + #i * #h + __j];)
    });
    let stores_carry = (0..cell.carries).map(|m| {
        let d = &names[2 * k + m];
        quote!(__dc[#m * #h + __j] = #d;)
    });
    let previous = previous_carries(cell, ctx);
    let width = 2 * gates;
    quote! {{
        let (__up_all, __xw_all, __w, __bi, __rec_all): (&[#s], &[#s], &[#s], &[#s], &[#s]) =
            (#up, #xw, #w_hh, #b_ih, #rec);
        let __back: &mut [#s] = #out;
        let __zeros = [0.0 as #s; #carried];
        for __b in 0..#rows {
            let __back = &mut __back[__b * ((#steps + 1) * #width)..][..(#steps + 1) * #width];
            let (__steps, __scratch) = __back.split_at_mut(#steps * #width);
            let __carry = &mut __scratch[..#carried];
            __carry.fill(0.0);
            let __rec = &__rec_all[__b * (#steps * #record)..][..#steps * #record];
            let __upr = &__up_all[__b * (#steps * #record)..][..#steps * #record];
            let __xw = &__xw_all[__b * (#steps * #gates)..][..#steps * #gates];
            for __t in (0..#steps).rev() {
                let __hw = &__rec[__t * #record + #carried..][..#gates];
                let __prev: &[#s] = if __t == 0 { &__zeros } else { &__rec[(__t - 1) * #record..][..#carried] };
                let __u = &__upr[__t * #record..][..#record];
                let __x = &__xw[__t * #gates..][..#gates];
                let (mut __dg, mut __dc) = ([0.0 as #s; #width], [0.0 as #s; #carried]);
                {
                    let __carry: &[#s] = &__carry[..#carried];
                    for __j in 0..#h {
                        #(#previous)*
                        let [#(#names),*] = #grads;
                        #(#stores_x)*
                        #(#stores_h)*
                        #(#stores_carry)*
                    }
                }
                let __d = &mut __steps[__t * #width..][..#width];
                __d.copy_from_slice(&__dg);
                __carry.copy_from_slice(&__dc);
                // Through the recurrent projection: d h_{t-1} += dhw_t W_hh,
                // a sum of rows of W_hh accumulated in a local array (which
                // the compiler keeps in registers: its size is a constant).
                if __t > 0 {
                    let mut __acc = [0.0 as #s; #h];
                    for (__g, __row) in __d[#gates..].iter().zip(__w.chunks_exact(#h)) {
                        for (__a, __v) in __acc.iter_mut().zip(__row) {
                            *__a += *__g * *__v;
                        }
                    }
                    for (__c, __v) in __carry[..#h].iter_mut().zip(&__acc) {
                        *__c += *__v;
                    }
                }
            }
        }
    }}
}
