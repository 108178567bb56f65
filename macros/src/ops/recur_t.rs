//! `RecurT(x, plan)`: batch-1 inference of a recurrent layer from its
//! planned weights: per step, every gate's input over `[x_t; h]` in one
//! product (`Derivation::Gates`), then the cell's update on them, the time
//! loop in the runtime (`kernels::recur_t`). Gives the hidden states, every
//! step's or the last; with a stream offset, one step whose carries live in
//! the network's stream buffer. Never differentiated.

use super::{Derivative, Rules, always};
use crate::codegen::{Ctx, emit_stores, rt};
use crate::ir::expr::{Expr, add, var};
use crate::ir::{Cell, GateBlock, Graph, NodeId, Op, RecurT, Shape};
use chainrule_spec::plan::Side;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

pub const RECUR_T: Rules = Rules {
    name: "recur_t",
    forward: "a recurrent layer on one sample, gates over `[x; h]` from planned weights",
    derivative: Derivative::InferenceOnly,
    emit,
    without_std: always,
    #[cfg(test)]
    eval,
};

/// The column blocks of a cell's plan and its update over them. A gate
/// whose input from `x` and from `h` appear only as their sum (an LSTM's
/// four, an RNN's, a GRU's reset and update gates) is one block summed over
/// both sides; any other (a GRU's new-state gate, which scales the state's
/// part) gets a block per side. Summed blocks come first.
pub fn blocks(cell: &Cell) -> (Vec<GateBlock>, Vec<Expr>) {
    let g = cell.gates;
    // Stand-ins for each gate's sum, past every variable of the cell.
    let sum_var = |k: usize| var(2 * g + cell.carries + k);
    let summed: Vec<bool> = (0..g)
        .map(|k| {
            cell.update.iter().all(|e| {
                let vars = e.replace(&add(var(k), var(g + k)), &sum_var(k)).vars();
                !vars.contains(&k) && !vars.contains(&(g + k))
            })
        })
        .collect();
    let mut blocks: Vec<GateBlock> =
        (0..g).filter(|&k| summed[k]).map(|gate| GateBlock { gate, from: Side::Both }).collect();
    for gate in (0..g).filter(|&k| !summed[k]) {
        blocks.extend([GateBlock { gate, from: Side::Input }, GateBlock { gate, from: Side::State }]);
    }
    let position = |gate: usize, from: Side| {
        blocks.iter().position(|b| *b == GateBlock { gate, from }).expect("every gate has its blocks")
    };
    let update = cell
        .update
        .iter()
        .map(|e| {
            let e = (0..g)
                .filter(|&k| summed[k])
                .fold(e.clone(), |e, k| e.replace(&add(var(k), var(g + k)), &sum_var(k)));
            e.substitute(&|v| match v {
                v if v >= 2 * g + cell.carries => var(position(v - 2 * g - cell.carries, Side::Both)),
                v if v >= 2 * g => var(blocks.len() + v - 2 * g),
                v if v >= g => var(position(v - g, Side::State)),
                v => var(position(v, Side::Input)),
            })
        })
        .collect();
    (blocks, update)
}

/// Adds the layer over `x` (`[steps, inputs]`) with planned weights `plan`.
pub fn recur_t(g: &mut Graph, x: NodeId, plan: NodeId, layer: RecurT) -> NodeId {
    let (steps, hidden) = (layer.cell.steps, layer.cell.hidden);
    let dims = if layer.sequence { vec![steps, hidden] } else { vec![hidden] };
    g.push(Op::RecurT(Box::new(layer)), vec![x, plan], Shape::batched(&dims))
}

/// Unit `__j`'s value in block `block` of `hidden` values of `array`.
fn unit(array: &str, block: usize, hidden: usize) -> TokenStream {
    let array = format_ident!("{array}");
    match block * hidden {
        0 => quote!(#array[__j]),
        offset => quote!(#array[#offset + __j]),
    }
}

fn emit(ctx: &Ctx, g: &Graph, id: NodeId) -> TokenStream {
    let node = g.node(id);
    let Op::RecurT(r) = &node.op else { unreachable!("recur_t::emit on a recur_t") };
    let rt = rt();
    let cell = &r.cell;
    let (s, i, h, c) = (ctx.scalar, r.inputs, cell.hidden, cell.carried());
    let (cp, ih) = (chainrule_spec::plan::padded(r.blocks.len() * h), i + h);
    let mut vars: Vec<TokenStream> = (0..r.blocks.len()).map(|b| unit("__gates", b, h)).collect();
    vars.extend((0..cell.carries).map(|m| unit("__prev", m, h)));
    let targets: Vec<TokenStream> = (0..cell.carries).map(|m| unit("__new", m, h)).collect();
    let update = emit_stores(&cell.update, &targets, &vars, ctx);
    let (x, plan, out, steps, sequence) =
        (ctx.read(node.inputs[0]), ctx.read(node.inputs[1]), ctx.write(id), cell.steps, r.sequence);
    let (load, keep) = match r.stream {
        Some(offset) => (
            quote!(__carries.copy_from_slice(&__stream[#offset..][..#c]);),
            quote!(__stream[#offset..][..#c].copy_from_slice(&__carries);),
        ),
        None => (quote!(), quote!()),
    };
    quote! {{
        let mut __carries = [0.0 as #s; #c];
        #load
        #rt::kernels::recur_t::<#s, #i, #h, #ih, #cp, #c>(__isa, #steps, #x, #plan, &mut __carries, #out, #sequence,
            #[inline(always)]
            |__gates, __prev, __new| {
                for __j in 0..#h {
                    #update
                }
            },
        );
        #keep
    }}
}

#[cfg(test)]
fn eval(v: &super::eval::Values, g: &Graph, id: NodeId) -> Vec<f64> {
    let node = g.node(id);
    let Op::RecurT(r) = &node.op else { unreachable!() };
    let (x, plan) = (v.of(node.inputs[0]), v.of(node.inputs[1]));
    let cell = &r.cell;
    let (h, inputs) = (cell.hidden, r.inputs);
    let row = chainrule_spec::plan::padded(r.blocks.len() * h);
    let columns = r.blocks.len() * h;
    let mut carries = vec![0.0; cell.carried()];
    let mut out = Vec::new();
    for t in 0..cell.steps {
        let gates: Vec<f64> = (0..columns)
            .map(|col| {
                let bias = plan[(inputs + h) * row + col];
                let from_x: f64 = (0..inputs).map(|i| x[t * inputs + i] * plan[i * row + col]).sum();
                let from_h: f64 = (0..h).map(|i| carries[i] * plan[(inputs + i) * row + col]).sum();
                bias + from_x + from_h
            })
            .collect();
        let mut new = vec![0.0; carries.len()];
        for j in 0..h {
            let mut vars: Vec<f64> = (0..r.blocks.len()).map(|b| gates[b * h + j]).collect();
            vars.extend((0..cell.carries).map(|m| carries[m * h + j]));
            for (m, e) in cell.update.iter().enumerate() {
                new[m * h + j] = e.eval(&vars, 1.0);
            }
        }
        carries = new;
        if r.sequence || t + 1 == cell.steps {
            out.extend(&carries[..h]);
        }
    }
    out
}
