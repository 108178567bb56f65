//! `Map(f)(a, b, ..)`: a scalar expression applied elementwise, each
//! operand read as its `Read` says (its own element, one value per sample,
//! a bias shared by every sample, a per-channel or per-row statistic, a
//! per-column scale, a scalar). Activations, bias additions, the
//! elementwise parts of losses and normalizations, and all their gradients
//! are maps, which lets the simplifier fuse chains of them into one loop.
//!
//! Local derivative with respect to operand `i`: `g * df/di`, computed
//! symbolically. Wherever `df/di` contains `f` itself (tanh, sigmoid, exp),
//! the saved output is read instead of recomputing it. An operand that was
//! broadcast gets its gradient summed over what it was broadcast along:
//! the reduction that undoes its `Read`. In batched code that reduction,
//! a batch or channel sum (a bias gradient), is computed by the loop of
//! the map it sums, as the loop writes each element (`fusible_sums`).
//! ReLU's derivative reads its output rather than its input, so its
//! input (a bias addition) need not be kept and fuses into it.

use super::{Derivative, Rules, always};
use crate::codegen::{Ctx, Mode, emit_expr, rt};
use crate::ir::expr::{Expr, mul, relu, step, var};
use crate::ir::{Graph, Map, NodeId, Op, Read, Shape};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

pub const MAP: Rules = Rules {
    name: "map",
    forward: "`f(a, b, ..)` elementwise, operands broadcast as read",
    derivative: Derivative::Vjp {
        formula: "`da = g * df/da` (symbolic, reusing the output), summed over what `a` was broadcast along",
        build: vjp,
    },
    emit,
    without_std: always,
    #[cfg(test)]
    eval,
};

/// Adds `f(inputs)` with the given output shape, each operand read in the
/// one way its shape allows: its own elements, a scalar, one value per
/// sample, or one sample's worth shared by all. Per-channel, per-row and
/// per-column operands are ambiguous by shape alone; pass them to
/// [`map_with`].
pub fn map(g: &mut Graph, expr: Expr, inputs: Vec<NodeId>, shape: Shape) -> NodeId {
    let operands = inputs
        .into_iter()
        .map(|i| {
            let read = implied_read(g.shape(i), &shape).unwrap_or_else(|| {
                panic!("operand {:?} of a map to {shape:?} needs an explicit read", g.shape(i))
            });
            (i, read)
        })
        .collect();
    map_with(g, expr, operands, shape)
}

/// Adds `f(operands)`, each operand read as given, in normal form:
/// operands deduplicated, unused ones dropped, and the identity on an
/// operand of the output's shape replaced by that operand (no node is
/// added then).
pub fn map_with(g: &mut Graph, expr: Expr, operands: Vec<(NodeId, Read)>, shape: Shape) -> NodeId {
    let (expr, operands) = normalize(&expr, &operands);
    if expr == var(0) && *g.shape(operands[0].0) == shape {
        return operands[0].0;
    }
    let (inputs, reads) = operands.into_iter().unzip();
    g.push(Op::Map(Map { expr, reads }), inputs, shape)
}

/// How an operand of `operand` shape is read by a map to `out`, when the
/// shapes leave one choice.
fn implied_read(operand: &Shape, out: &Shape) -> Option<Read> {
    if operand.is_scalar() {
        Some(Read::Scalar)
    } else if operand.batched == out.batched && operand.len() == out.len() {
        Some(Read::Same)
    } else if operand.batched && out.batched && operand.dims.is_empty() {
        Some(Read::PerSample)
    } else if !operand.batched && out.batched && operand.len() == out.len() {
        Some(Read::PerFeature)
    } else {
        None
    }
}

/// Renumbers the variables of `expr` so that each distinct operand (node
/// and read) appears once and only operands that are read remain.
pub fn normalize(expr: &Expr, operands: &[(NodeId, Read)]) -> (Expr, Vec<(NodeId, Read)>) {
    let used = expr.vars();
    let mut kept: Vec<(NodeId, Read)> = Vec::new();
    let mut remap = vec![usize::MAX; operands.len()];
    for &i in &used {
        remap[i] = kept.iter().position(|&k| k == operands[i]).unwrap_or_else(|| {
            kept.push(operands[i]);
            kept.len() - 1
        });
    }
    (expr.substitute(&|i| var(remap[i])), kept)
}

/// The operand of a map that only reshapes it (the identity on an operand
/// of as many elements, read element for element), if `id` is one.
pub fn reshape_of(g: &Graph, id: NodeId) -> Option<NodeId> {
    let node = g.node(id);
    let Op::Map(Map { expr, reads }) = &node.op else { return None };
    let &[source] = node.inputs.as_slice() else { return None };
    let same = *expr == var(0) && reads[..] == [Read::Same];
    (same && g.shape(source).len() == node.shape.len() && !node.shape.is_scalar()).then_some(source)
}

/// The `[lead, tail]` split of each output sample that the map's
/// per-channel, per-row and per-column operands read by, if any; `None`
/// inside also when two of them disagree (a map the simplifier must not
/// build).
pub fn split(g: &Graph, inputs: &[NodeId], reads: &[Read], out: &Shape) -> Option<Option<usize>> {
    let n = out.len();
    let mut tail = None;
    for (&i, &read) in inputs.iter().zip(reads) {
        let len = g.shape(i).len();
        let t = match read {
            Read::PerChannel | Read::PerRow if len > 0 => n / len,
            Read::PerColumn => len,
            _ => continue,
        };
        if tail.is_some_and(|known| known != t) {
            return None;
        }
        tail = Some(t);
    }
    Some(tail)
}

fn vjp(g: &mut Graph, id: NodeId, upstream: NodeId, wants: &[bool]) -> Vec<Option<NodeId>> {
    let Op::Map(Map { expr: f, reads }) = g.node(id).op.clone() else { unreachable!("map::vjp on a map") };
    let inputs = g.node(id).inputs.clone();
    let out_shape = g.shape(id).clone();
    let (out, up) = (var(inputs.len()), var(inputs.len() + 1));
    let reuses_output = matches!(f, Expr::Unary(..) | Expr::Binary(..));
    let mut operands: Vec<(NodeId, Read)> = inputs.iter().copied().zip(reads.iter().copied()).collect();
    operands.extend([(id, Read::Same), (upstream, Read::Same)]);
    (0..inputs.len())
        .map(|i| {
            if !wants[i] {
                return None;
            }
            let mut local = f.diff(i);
            if reuses_output {
                local = local.replace(&f, &out);
            }
            // ReLU's mask from its output: `max(x, 0) > 0` exactly when
            // `x > 0` (both false for NaN), so the pre-activation need not
            // be kept, and the bias addition before it fuses with it.
            if f == relu(var(i)) {
                local = local.replace(&step(var(i)), &step(out.clone()));
            }
            let grad = map_with(g, mul(up.clone(), local), operands.clone(), out_shape.clone());
            Some(unbroadcast(g, grad, reads[i], &g.shape(inputs[i]).clone()))
        })
        .collect()
}

/// Sums a gradient of the output's shape down to an operand's: the
/// reduction that undoes how the operand was read.
fn unbroadcast(g: &mut Graph, grad: NodeId, read: Read, to: &Shape) -> NodeId {
    use super::reduce;
    if g.shape(grad) == to {
        return grad;
    }
    match read {
        // A reshape (`flatten`): the gradient takes the operand's dimensions back.
        Read::Same => map(g, var(0), vec![grad], to.clone()),
        Read::Scalar => reduce::sum_all(g, grad),
        Read::PerSample => reduce::sum_features(g, grad),
        Read::PerFeature => reduce::sum_batch(g, grad),
        Read::PerChannel => reduce::sum_channels(g, grad),
        Read::PerRow => reduce::sum_runs(g, grad, to),
        Read::PerColumn => reduce::sum_rows(g, grad),
    }
}

fn emit(ctx: &Ctx, g: &Graph, id: NodeId) -> TokenStream {
    let node = g.node(id);
    let Op::Map(Map { expr: f, reads }) = &node.op else { unreachable!("map::emit on a map") };
    let (s, rt) = (ctx.scalar, rt());
    if node.shape.is_scalar() {
        let vars: Vec<TokenStream> = node.inputs.iter().map(|&i| ctx.read(i)).collect();
        let (name, value) = (ctx.name(id), emit_expr(f, &vars, ctx));
        return quote!(let #name: #s = #value;);
    }
    let n = node.shape.len();
    // A loop over samples only in batched code over a batched value.
    let samples = ctx.mode == Mode::Batched && node.shape.batched;
    let total = if samples { quote!(batch * #n) } else { quote!(#n) };
    let sum = ctx.sum_in_map(id).map(|sum| (sum, &g.node(sum).op));
    // The split of each sample into `lead` runs of `tail` positions that
    // per-channel (per-row, per-column) operands are read by; a channel
    // sum also runs over one channel's positions at a time.
    let tail = match sum {
        Some((sum, Op::SumChannels)) => Some(n / g.node(sum).shape.len()),
        _ => split(g, &node.inputs, reads, &node.shape).expect("one split per map").filter(|&t| t > 0),
    };
    let lead = tail.map_or(0, |t| n / t);
    // A loop over samples, then within each sample (a batch sum needs each
    // element's column), where any operand is read per sample or feature
    // or by a split; otherwise one flat loop.
    let by_sample = samples
        && (tail.is_some()
            || sum.is_some()
            || reads.iter().any(|r| matches!(r, Read::PerFeature | Read::PerSample)));
    // Operands bound whole, then (looping by sample) rebound to the
    // sample's part, so that every index is below a constant length:
    // bounds checks fold away and the loop over a sample vectorizes.
    let (mut binds, mut per_sample, mut vars) = (Vec::new(), Vec::new(), Vec::new());
    for (j, (&input, &read)) in node.inputs.iter().zip(reads).enumerate() {
        let a = format_ident!("__a{j}");
        // The operand's length, its part of sample `__r` (`len` from
        // `start`) and the index there of element `__c` of the sample
        // (`__h`, `__p` the run and position in the run) or, looping
        // flat, of element `__i`.
        let (len, part, index) = match read {
            Read::Scalar => {
                vars.push(ctx.read(input));
                continue;
            }
            Read::Same if by_sample => (total.clone(), Some((quote!(__r * #n), n)), quote!(__c)),
            Read::Same if samples => (total.clone(), None, quote!(__i)),
            Read::Same => (total.clone(), None, quote!(__c)),
            Read::PerFeature => (quote!(#n), None, quote!(__c)),
            Read::PerSample if samples => (quote!(batch), None, quote!(__r)),
            Read::PerSample => (quote!(1usize), None, quote!(0usize)),
            Read::PerChannel => (quote!(#lead), None, quote!(__h)),
            Read::PerRow if samples => {
                (quote!(batch * #lead), Some((quote!(__r * #lead), lead)), quote!(__h))
            }
            Read::PerRow => (quote!(#lead), None, quote!(__h)),
            Read::PerColumn => {
                let tail = tail.unwrap_or(n);
                (quote!(#tail), None, quote!(__p))
            }
        };
        let operand = ctx.slice(input, &len);
        binds.push(quote!(let #a = #operand;));
        if let Some((start, len)) = part {
            per_sample.push(quote!(let #a = &#a[#start..][..#len];));
        }
        vars.push(quote!(#a[#index]));
    }
    let value = emit_expr(f, &vars, ctx);
    // Looping flat, element `__i` of `__o`; otherwise element `__c` of the
    // sample's part `__s` (all of `__o` when there is one sample).
    let flat = samples && !by_sample;
    let (out, index) = if flat { (quote!(__o), quote!(__i)) } else { (quote!(__s), quote!(__c)) };
    let body = match sum {
        None => quote!(#out[#index] = #value;),
        Some((_, Op::SumChannels)) => quote!(let __v = #value; #out[#index] = __v; __lanes[__l] += __v;),
        Some(_) => quote!(let __v = #value; #out[#index] = __v; __sum[__c] += __v;),
    };
    let within = match tail {
        // The lead positions, then the tail: a per-channel (per-row,
        // per-column) value is loaded once per run of the tail.
        Some(tail) => {
            let element = quote!(let __c = __h * #tail + __p; #body);
            let run = match sum {
                // Each channel's run of one sample summed as the runtime's
                // sums are (position `p` into running sum `p % LANES`, the
                // sums folded in halves), then added to the channel's total
                // in sample order: the bits of `kernels::sum_channels`.
                Some((_, Op::SumChannels)) => {
                    let lanes = quote!(#rt::kernels::LANES);
                    quote! {
                        let mut __lanes = [0.0 as #s; #lanes];
                        for __q in 0..#tail / #lanes {
                            for __l in 0..#lanes { let __p = __q * #lanes + __l; #element }
                        }
                        for __l in 0..#tail % #lanes { let __p = #tail / #lanes * #lanes + __l; #element }
                        __sum[__h] += #rt::kernels::fold_lanes(__lanes);
                    }
                }
                _ => counted(quote!(__p), tail, element),
            };
            counted(quote!(__h), lead, run)
        }
        None => counted(quote!(__c), n, body.clone()),
    };
    let lp = if by_sample {
        quote! {
            for __r in 0..batch {
                let __s = &mut __o[__r * #n..][..#n];
                #(#per_sample)*
                #within
            }
        }
    } else if flat {
        quote!(for __i in 0..batch * #n { #body })
    } else {
        quote!({ let __s = __o; #within })
    };
    let dst = ctx.write(id);
    let sum = sum.map(|(sum, _)| {
        let (dst, len) = (ctx.write(sum), g.node(sum).shape.len());
        quote!(let __sum = &mut (#dst)[..#len]; __sum.fill(0.0 as #s);)
    });
    quote! {{
        #(#binds)*
        let __o = &mut (#dst)[..#total];
        #sum
        #lp
    }}
}

/// `(map, sum)` pairs whose sum the map's loop computes as it writes each
/// element (`emit` above), so the bias gradient costs no pass over the
/// gradient it sums: a batch sum or a channel sum of a batched map whose
/// operands allow the channel split, in batched code.
pub fn fusible_sums(g: &Graph, live: &[NodeId], mode: Mode) -> Vec<(NodeId, NodeId)> {
    let mut pairs: Vec<(NodeId, NodeId)> = Vec::new();
    if mode != Mode::Batched {
        return pairs;
    }
    for &sum in live {
        let node = g.node(sum);
        let &[summed] = node.inputs.as_slice() else { continue };
        let Op::Map(Map { reads, .. }) = &g.node(summed).op else { continue };
        let map = g.node(summed);
        // A reshape has no loop of its own (it is its operand's storage).
        let reshape = reshape_of(g, summed).is_some();
        if !map.shape.batched || map.shape.is_scalar() || reshape || pairs.iter().any(|&(m, _)| m == summed) {
            continue;
        }
        let tail = split(g, &map.inputs, reads, &map.shape).flatten().filter(|&t| t > 0);
        let fits = match node.op {
            Op::SumBatch => true,
            Op::SumChannels => {
                let spatial = map.shape.len() / node.shape.len();
                tail.is_none_or(|t| t == spatial)
            }
            _ => false,
        };
        if fits {
            pairs.push((summed, sum));
        }
    }
    pairs
}

/// `for index in 0..n { body }`, or the body alone for one element.
fn counted(index: TokenStream, n: usize, body: TokenStream) -> TokenStream {
    if n == 1 { quote!({ let #index = 0usize; #body }) } else { quote!(for #index in 0..#n { #body }) }
}

#[cfg(test)]
fn eval(v: &super::eval::Values, g: &Graph, id: NodeId) -> Vec<f64> {
    let node = g.node(id);
    let Op::Map(Map { expr, reads }) = &node.op else { unreachable!() };
    let n = node.shape.len();
    let samples = v.samples(&node.shape);
    let tail = split(g, &node.inputs, reads, &node.shape).unwrap().unwrap_or(n.max(1));
    let lead = n / tail;
    let operands: Vec<&[f64]> = node.inputs.iter().map(|&i| v.of(i)).collect();
    let mut out = Vec::with_capacity(samples * n);
    for r in 0..samples {
        for c in 0..n.max(1) {
            let vars: Vec<f64> = reads
                .iter()
                .zip(&operands)
                .map(|(read, x)| match read {
                    Read::Same => x[r * n + c],
                    Read::Scalar => x[0],
                    Read::PerSample => x[r],
                    Read::PerFeature => x[c],
                    Read::PerChannel => x[c / tail],
                    Read::PerRow => x[r * lead + c / tail],
                    Read::PerColumn => x[c % tail],
                })
                .collect();
            out.push(expr.eval(&vars, v.batch as f64));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::expr::{add, c};

    #[test]
    fn normal_form_drops_unused_and_duplicate_operands() {
        let same = |i| (i, Read::Same);
        let (e, ins) = normalize(&add(var(2), var(0)), &[same(7), same(8), same(7)]);
        assert_eq!(ins, vec![same(7)]);
        assert_eq!(e, add(var(0), var(0)));
        let (e, ins) = normalize(&c(1.0), &[same(3)]);
        assert!(ins.is_empty());
        assert_eq!(e, c(1.0));
        let (_, ins) = normalize(&add(var(0), var(1)), &[same(7), (7, Read::PerFeature)]);
        assert_eq!(ins.len(), 2, "one node read two ways is two operands");
    }
}
