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

/// Sums a gradient of the output's shape down to an operand's shape.
fn unbroadcast(g: &mut Graph, grad: NodeId, to: &Shape) -> NodeId {
    let from = g.shape(grad).clone();
    if from == *to {
        grad
    } else if to.is_scalar() {
        super::reduce::sum_all(g, grad)
    } else if to.batched && to.dims.is_empty() {
        super::reduce::sum_features(g, grad)
    } else {
        debug_assert!(from.batched && !to.batched && from.dims == to.dims);
        super::reduce::sum_batch(g, grad)
    }
}

/// How an operand is read inside the element loop.
enum Access {
    /// One element per output element.
    Same,
    /// One element per feature, shared by every sample.
    PerFeature,
    /// One value per sample, shared by its features.
    PerSample,
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
    for (j, &input) in node.inputs.iter().enumerate() {
        let shape = g.shape(input);
        let access = if shape.is_scalar() {
            Access::Scalar
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
        }
    }
    let dst = ctx.write(id);
    let value = emit_expr(f, &vars, ctx);
    let body = quote!(#(#loads)* __o[__i] = #value;);
    let rows = ctx.rows();
    let lp = if nested {
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
