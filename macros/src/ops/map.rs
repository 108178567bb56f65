//! `Map(f)(a, b, ..)`: a scalar expression applied elementwise.
//!
//! Every operand either has the output's shape, or is a scalar, or (for a
//! batched output) is unbatched with the same per-sample shape and is read
//! by every sample, or is one value per sample read by all of that
//! sample's features: broadcasting. Activations, bias additions, elementwise
//! parts of losses and all their gradients are `Map`s, which lets the
//! simplifier fuse chains of them into one loop.
//!
//! Local derivative with respect to operand `i`: `g * df/di`, computed
//! symbolically. Wherever `df/di` contains `f` itself (tanh, sigmoid, exp),
//! the saved output is read instead of recomputing it. An operand that was
//! broadcast gets the sum of its gradient over the broadcast dimensions.

use super::Op;
use crate::emit::body::{Ctx, Mode};
use crate::emit::expr::emit_expr;
use crate::ir::expr::{Expr, mul, var};
use crate::ir::{Graph, NodeId, Shape};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// Adds `f(inputs)` with the given output shape, in normal form: operands
/// deduplicated, unused ones dropped, and the identity on a same-shaped
/// operand replaced by that operand (no node is added then).
pub fn map(g: &mut Graph, expr: Expr, inputs: Vec<NodeId>, shape: Shape) -> NodeId {
    let (expr, inputs) = normalize(&expr, &inputs);
    if expr == var(0) && *g.shape(inputs[0]) == shape {
        return inputs[0];
    }
    g.push(Op::Map(expr), inputs, shape)
}

/// Renumbers the variables of `expr` so that each distinct operand appears
/// once and only operands that are read remain.
pub fn normalize(expr: &Expr, inputs: &[NodeId]) -> (Expr, Vec<NodeId>) {
    let used = expr.vars();
    let mut kept: Vec<NodeId> = Vec::new();
    let mut remap = vec![usize::MAX; inputs.len()];
    for &i in &used {
        let node = inputs[i];
        remap[i] = kept.iter().position(|&k| k == node).unwrap_or_else(|| {
            kept.push(node);
            kept.len() - 1
        });
    }
    (expr.substitute(&|i| var(remap[i])), kept)
}

pub fn vjp(g: &mut Graph, id: NodeId, upstream: NodeId, wants: &[bool]) -> Vec<Option<NodeId>> {
    let Op::Map(f) = g.node(id).op.clone() else { unreachable!("map::vjp on a map") };
    let inputs = g.node(id).inputs.clone();
    let out_shape = g.shape(id).clone();
    let (out, up) = (var(inputs.len()), var(inputs.len() + 1));
    let reuses_output = matches!(f, Expr::Unary(..) | Expr::Binary(..));
    let mut operands = inputs.clone();
    operands.extend([id, upstream]);
    (0..inputs.len())
        .map(|i| {
            if !wants[i] {
                return None;
            }
            let mut local = f.diff(i);
            if reuses_output {
                local = local.replace(&f, &out);
            }
            let grad = map(g, mul(up.clone(), local), operands.clone(), out_shape.clone());
            Some(unbroadcast(g, grad, &g.shape(inputs[i]).clone()))
        })
        .collect()
}

/// Sums a gradient of the output's shape down to an operand's shape, or
/// gives it the operand's dimensions when the map only reshaped it.
fn unbroadcast(g: &mut Graph, grad: NodeId, to: &Shape) -> NodeId {
    let from = g.shape(grad).clone();
    if from == *to {
        grad
    } else if to.is_scalar() {
        super::reduce::sum_all(g, grad)
    } else if to.batched && to.dims.is_empty() {
        super::reduce::sum_features(g, grad)
    } else if per_channel(to, &from).is_some() {
        debug_assert!(from.batched && to.dims.len() == 1, "per-channel operands are [channels]");
        super::reduce::sum_channels(g, grad)
    } else if from.batched == to.batched && from.len() == to.len() {
        map(g, var(0), vec![grad], to.clone())
    } else {
        debug_assert!(from.batched && !to.batched && from.dims == to.dims);
        super::reduce::sum_batch(g, grad)
    }
}

/// Positions per channel when an unbatched `operand` is one value per
/// channel of `out` (its dimensions a strict prefix of the output's), as a
/// convolution's bias or a per-channel statistic is.
fn per_channel(operand: &Shape, out: &Shape) -> Option<usize> {
    let prefix = !operand.batched
        && !operand.dims.is_empty()
        && operand.dims.len() < out.dims.len()
        && out.dims.starts_with(&operand.dims);
    prefix.then(|| out.len() / operand.len())
}

/// How an operand is read inside the element loop.
enum Access {
    /// One element per output element.
    Same,
    /// One element per feature, shared by every sample.
    PerFeature,
    /// One value per sample, shared by its features.
    PerSample,
    /// One value per channel, shared by the channel's positions in every sample.
    PerChannel,
    /// One value for the whole loop.
    Scalar,
}

pub fn emit(ctx: &Ctx, g: &Graph, id: NodeId) -> TokenStream {
    let node = g.node(id);
    let Op::Map(f) = &node.op else { unreachable!("map::emit on a map") };
    let s = ctx.scalar;
    if node.shape.is_scalar() {
        let vars: Vec<TokenStream> = node.inputs.iter().map(|&i| ctx.read(i)).collect();
        let (name, value) = (ctx.name(id), emit_expr(f, &vars, ctx));
        return quote!(let #name: #s = #value;);
    }
    let n = node.shape.len();
    let batched = ctx.mode == Mode::Batched && node.shape.batched;
    let total = if batched { quote!(batch * #n) } else { quote!(#n) };
    let mut binds = Vec::new();
    let mut vars = Vec::new();
    let mut loads = Vec::new();
    let mut nested = false;
    // Positions per channel, when an operand is read per channel.
    let mut spatial = None;
    for (j, &input) in node.inputs.iter().enumerate() {
        let shape = g.shape(input);
        let channel = per_channel(shape, &node.shape);
        let access = if shape.is_scalar() {
            Access::Scalar
        } else if let Some(positions) = channel {
            debug_assert!(spatial.is_none_or(|s| s == positions), "one channel layout per map");
            spatial = Some(positions);
            Access::PerChannel
        } else if batched && !shape.batched {
            Access::PerFeature
        } else if shape.batched && shape.dims.is_empty() && !node.shape.dims.is_empty() {
            Access::PerSample
        } else {
            Access::Same
        };
        let (src, a, x) = (ctx.read(input), format_ident!("__a{j}"), format_ident!("__x{j}"));
        match access {
            Access::Scalar => vars.push(src),
            Access::Same => {
                binds.push(quote!(let #a = &(#src)[..#total];));
                loads.push(quote!(let #x = #a[__i];));
                vars.push(quote!(#x));
            }
            Access::PerFeature => {
                nested = true;
                binds.push(quote!(let #a = &(#src)[..#n];));
                loads.push(quote!(let #x = #a[__c];));
                vars.push(quote!(#x));
            }
            Access::PerSample => {
                nested = true;
                let rows = ctx.rows();
                binds.push(quote!(let #a = &(#src)[..#rows];));
                loads.push(quote!(let #x = #a[__r];));
                vars.push(quote!(#x));
            }
            Access::PerChannel => {
                let channels = shape.len();
                binds.push(quote!(let #a = &(#src)[..#channels];));
                loads.push(quote!(let #x = #a[__h];));
                vars.push(quote!(#x));
            }
        }
    }
    let dst = ctx.write(id);
    let value = emit_expr(f, &vars, ctx);
    let body = quote!(#(#loads)* __o[__i] = #value;);
    let rows = ctx.rows();
    let lp = if let Some(spatial) = spatial {
        // Samples, then channels, then the positions of a channel: the
        // per-channel value is loaded once per run of positions.
        let channels = n / spatial;
        quote! {
            for __r in 0..#rows {
                for __h in 0..#channels {
                    for __p in 0..#spatial {
                        let __c = __h * #spatial + __p;
                        let __i = __r * #n + __c;
                        #body
                    }
                }
            }
        }
    } else if nested {
        quote! {
            for __r in 0..#rows {
                for __c in 0..#n {
                    let __i = __r * #n + __c;
                    #body
                }
            }
        }
    } else {
        quote!(for __i in 0..#total { #body })
    };
    quote! {{
        #(#binds)*
        let __o = &mut (#dst)[..#total];
        #lp
    }}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::expr::{add, c};

    #[test]
    fn normal_form_drops_unused_and_duplicate_operands() {
        let (e, ins) = normalize(&add(var(2), var(0)), &[7, 8, 7]);
        assert_eq!(ins, vec![7]);
        assert_eq!(e, add(var(0), var(0)));
        let (e, ins) = normalize(&c(1.0), &[3]);
        assert!(ins.is_empty());
        assert_eq!(e, c(1.0));
    }
}
