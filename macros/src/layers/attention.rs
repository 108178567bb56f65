//! `attention(heads)`, `attention(heads, causal = true)`: multi-head
//! self-attention over a `[t, d]` sequence, as PyTorch's
//! `nn.MultiheadAttention(d, heads, batch_first = True)` called as
//! `mha(x, x, x, attn_mask = causal_mask)`.
//!
//! Shape rule: `[t, d]` to `[t, d]`, `d` a multiple of `heads`. Step `i`
//! attends to every step, or with `causal = true` to steps `0..=i` only
//! (a language model's mask). Parameters, named and laid out as PyTorch's:
//! `<path>.in_proj_weight` `[3d, d]` (the `q`, `k`, `v` projections, one
//! above the other), `<path>.in_proj_bias` `[3d]` (zeros),
//! `<path>.out_proj.weight` `[d, d]`, `<path>.out_proj.bias` `[d]`
//! (zeros); the weights take the network's initialization (Glorot uniform
//! by default, PyTorch's for the in-projection).
//!
//! Lowers to the in-projection (`Linear` over the last axis plus its
//! bias), the attention (`AttentionScores`, `AttentionMix`: see
//! `ops/attention.rs`) and the out-projection.

use super::{At, Family, Layer, LowerCtx, Origin, Resolved};
use crate::args;
use crate::errors::Errors;
use crate::ir::expr::{add, var};
use crate::ir::{Derivation, Graph, Init, NodeId, Read, Role};
use crate::ops;
use crate::parse::Call;

pub struct Attentions;

impl Family for Attentions {
    fn keywords(&self) -> &'static [&'static str] {
        &["attention"]
    }

    fn aliases(&self) -> &'static [(&'static str, &'static str)] {
        &[("MultiheadAttention", "attention"), ("MultiHeadAttention", "attention")]
    }

    fn resolve(&self, call: &Call, input: Option<&[usize]>, _: &At, errors: &mut Errors) -> Option<Resolved> {
        let usage = "attention(4)` or `attention(4, causal = true)";
        let positional: Vec<_> = call.args.iter().filter(|a| a.name.is_none()).collect();
        let [heads] = positional.as_slice() else {
            let at = positional.get(1).map_or(call.site(), |a| a.site());
            errors.push(at, format!("`attention` takes its number of heads, as in `{usage}`"));
            return None;
        };
        let heads = match args::whole(&heads.value) {
            Ok(0) => {
                errors.push(heads.site(), "`attention` needs at least 1 head, found 0");
                return None;
            }
            Ok(n) => n as usize,
            Err(message) => {
                errors.push(heads.site(), message);
                return None;
            }
        };
        let mut causal = false;
        for arg in call.args.iter().filter(|a| a.name.is_some()) {
            let name = arg.name.as_ref().map(ToString::to_string).unwrap_or_default();
            match (name.as_str(), &arg.value) {
                ("causal", syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Bool(flag), .. })) => {
                    causal = flag.value
                }
                ("causal", _) => {
                    errors.push(arg.site(), "`causal` is `true` or `false`");
                    return None;
                }
                (other, _) => {
                    errors.push(
                        arg.site(),
                        format!("`attention` has no parameter `{other}`; it takes `causal`"),
                    );
                    return None;
                }
            }
        }
        let output = match input {
            // The shape it gives is known even so: the layers after it are
            // checked as if the heads fitted.
            Some(&[t, d]) if d % heads != 0 => {
                errors.push(
                    call.site(),
                    format!("`attention` splits the {d} features of each step into {heads} heads, which does not divide them"),
                );
                Some(vec![t, d])
            }
            Some(&[t, d]) => {
                super::check_size(&[3 * d, d], call, errors)?;
                Some(vec![t, d])
            }
            Some(dims) => {
                errors.push(
                    call.site(),
                    format!(
                        "`attention` reads a sequence `[time, features]` but its input is {}",
                        crate::model::show_shape(dims)
                    ),
                );
                return None;
            }
            None => None,
        };
        Resolved::new(Attention { heads, causal }, output)
    }
}

pub struct Attention {
    heads: usize,
    causal: bool,
}

/// `x W^T + b` over the last axis of `x` (`[t, d]`), `W` `[out, d]`;
/// `planned` for batch-1 inference, on the inference copy of `W` and `b`.
fn projection(
    g: &mut Graph,
    x: NodeId,
    (weight, bias): (String, String),
    out: usize,
    (origin, ctx, planned): (&Origin, LowerCtx, bool),
) -> NodeId {
    let [t, d] = g.shape(x).dims[..] else { unreachable!("attention reads [t, d]") };
    let init = ctx.init.init(d, out);
    let w = g.param(weight, &[out, d], Role::Weight, init, origin.span);
    let b = g.param(bias, &[out], Role::Bias, Init::Zeros, origin.span);
    if planned {
        let (weight, bias) = (g.param_offset(w), g.param_offset(b));
        let plan = g.plan(Derivation::Dense { weight, bias: Some(bias), inputs: d, outputs: out });
        return ops::dense_t::dense_t(g, x, plan, t, d, out);
    }
    let z = ops::linear::linear(g, x, w);
    let shape = g.shape(z).clone();
    ops::map::map_with(g, add(var(0), var(1)), vec![(z, Read::Same), (b, Read::PerColumn)], shape)
}

impl Attention {
    fn lower_with(&self, g: &mut Graph, x: NodeId, origin: &Origin, ctx: LowerCtx, planned: bool) -> NodeId {
        let d = g.shape(x).dims[1];
        let p = &origin.path;
        let names = |w: &str, b: &str| (format!("{p}.{w}"), format!("{p}.{b}"));
        let how = (origin, ctx, planned);
        let qkv = projection(g, x, names("in_proj_weight", "in_proj_bias"), 3 * d, how);
        let mixed = ops::attention::attention(g, qkv, self.heads, self.causal);
        projection(g, mixed, names("out_proj.weight", "out_proj.bias"), d, how)
    }
}

impl Layer for Attention {
    fn lower(&self, g: &mut Graph, x: NodeId, origin: &Origin, ctx: LowerCtx) -> NodeId {
        self.lower_with(g, x, origin, ctx, false)
    }

    /// The projections through the batch-1 dense kernel, each step alike.
    fn lower_planned(&self, g: &mut Graph, x: NodeId, origin: &Origin, ctx: LowerCtx) -> NodeId {
        self.lower_with(g, x, origin, ctx, true)
    }
}
