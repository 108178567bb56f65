//! Layer keywords: what each accepts, the shape it produces, and the graph
//! it lowers to. A layer is sugar over IR operations; its gradient comes
//! from theirs, never from code written for the layer.

mod activation;
mod batch_norm;
mod conv;
mod dense;
mod dropout;
mod flatten;
mod pool;
mod recurrent;
mod residual;
mod softmax;
mod window;

pub use activation::Activation;
pub use dense::Dense;

use crate::errors::Errors;
use crate::init::Scheme;
use crate::ir::{Graph, NodeId};
use crate::parse::Call;
use proc_macro2::Span;

pub enum LayerKind {
    Dense(Dense),
    Activation(Activation),
    /// `softmax`, or `log_softmax` when `log` is true.
    Softmax {
        log: bool,
    },
    Dropout {
        p: f64,
    },
    BatchNorm(batch_norm::BatchNorm),
    Residual(Vec<Layer>),
    Conv(conv::Conv),
    Recurrent(recurrent::Recurrent),
    Pool(pool::Pool),
    Flatten,
}

/// A resolved layer with its output shape.
pub struct Layer {
    /// Where its parameters are named from: `layers.3`, `layers.2.body.0`.
    pub path: String,
    pub kind: LayerKind,
    pub span: Span,
    pub output: Vec<usize>,
}

/// Resolves a list of calls in order, each against the shape the previous
/// one produces. A layer with a mistake still passes on its declared output,
/// so the next layers are checked too; after an unknown layer the shape is
/// unknown and checks that need it are skipped rather than guessed. Returns
/// the layers that resolved and the final shape, if known.
pub fn chain(
    calls: &[Call],
    input: Option<&[usize]>,
    prefix: &str,
    errors: &mut Errors,
) -> (Vec<Layer>, Option<Vec<usize>>) {
    let mut shape = input.map(<[usize]>::to_vec);
    let mut layers = Vec::new();
    for (index, call) in calls.iter().enumerate() {
        let path = format!("{prefix}.{index}");
        match resolve(call, shape.as_deref(), &path, errors) {
            Some((kind, output)) => {
                let input_len = shape.as_ref().map_or(1, |s| s.iter().product::<usize>());
                shape = output;
                // A shape too large to count is an error here, once, and
                // unknown to the layers after it.
                if let Some(out) = &shape
                    && let Err(message) =
                        crate::args::elements(out, &format!("the output of `{}`", call.display()))
                {
                    errors.push(call.site(), message);
                    shape = None;
                }
                if let Some(message) = kind.weight_too_large(input_len) {
                    errors.push(call.site(), message);
                    shape = None;
                }
                if let Some(out) = &shape {
                    layers.push(Layer { path, kind, span: call.name.span(), output: out.clone() });
                }
            }
            None => shape = None,
        }
    }
    (layers, shape)
}

/// What lowering needs besides the layer itself.
#[derive(Clone, Copy)]
pub struct LowerCtx {
    /// Weight initialization for layers that do not pick their own.
    pub init: Scheme,
    /// Building the training graph (dropout active, batch statistics).
    pub training: bool,
}

/// Every layer keyword, for suggestions.
pub fn keywords() -> Vec<&'static str> {
    let mut all =
        vec![dense::KEYWORD, dropout::KEYWORD, batch_norm::KEYWORD, residual::KEYWORD, flatten::KEYWORD];
    all.extend(conv::KEYWORDS);
    all.extend(pool::KEYWORDS);
    all.extend(recurrent::KEYWORDS);
    all.extend(softmax::KEYWORDS);
    all.extend(activation::KEYWORDS);
    all
}

/// Resolves one call of a layer list. `input` is the shape flowing in,
/// `None` when an earlier mistake left it unknown; `path` names the layer's
/// parameters. Returns the layer and its output shape (`None` when it
/// cannot be known), or `None` after an error.
fn resolve(
    call: &Call,
    input: Option<&[usize]>,
    path: &str,
    errors: &mut Errors,
) -> Option<(LayerKind, Option<Vec<usize>>)> {
    let name = call.name.to_string();
    if name == residual::KEYWORD {
        return residual::resolve(call, input, path, errors)
            .map(|layers| (LayerKind::Residual(layers), input.map(<[usize]>::to_vec)));
    }
    if let Some((_, span)) = &call.block {
        errors.push(span.join(), format!("`{name}` takes no `[...]` block; only `residual` does"));
    }
    if name == dense::KEYWORD {
        return dense::resolve(call, input, errors).map(|(d, out)| (LayerKind::Dense(d), Some(out)));
    }
    if let Some(conv) = conv::resolve(call, input, errors) {
        return conv.map(|(c, out)| (LayerKind::Conv(c), Some(out)));
    }
    if let Some(rec) = recurrent::resolve(call, input, errors) {
        return rec.map(|(r, out)| (LayerKind::Recurrent(r), Some(out)));
    }
    if let Some(pool) = pool::resolve(call, input, errors) {
        return pool.map(|p| {
            let out = p.output.clone();
            (LayerKind::Pool(p), Some(out))
        });
    }
    if name == flatten::KEYWORD {
        let out = flatten::resolve(call, input, errors);
        return Some((LayerKind::Flatten, out));
    }
    if name == batch_norm::KEYWORD {
        return batch_norm::resolve(call, input, errors)
            .map(|bn| (LayerKind::BatchNorm(bn), input.map(<[usize]>::to_vec)));
    }
    if name == dropout::KEYWORD {
        return dropout::resolve(call, errors)
            .map(|p| (LayerKind::Dropout { p }, input.map(<[usize]>::to_vec)));
    }
    if let Some(log) = softmax::resolve(call, input, errors) {
        return log.map(|log| (LayerKind::Softmax { log }, input.map(<[usize]>::to_vec)));
    }
    if let Some(act) = activation::resolve(call, errors) {
        return act.map(|a| (LayerKind::Activation(a), input.map(<[usize]>::to_vec)));
    }
    errors.push(call.name.span(), crate::suggest::unknown("layer", &name, &keywords()));
    None
}

impl LayerKind {
    /// An error if the layer's largest parameter tensor would exceed what a
    /// tensor may hold; `input_len` is the size of one input sample, which
    /// the previous layer's check already bounded.
    fn weight_too_large(&self, input_len: usize) -> Option<String> {
        let dims: Vec<usize> = match self {
            LayerKind::Conv(c) => {
                let g = &c.geom;
                vec![g.out_channels, g.channels, g.kernel_h, g.kernel_w]
            }
            LayerKind::Recurrent(r) => vec![4 * r.hidden, r.features.max(r.hidden)],
            LayerKind::Dense(d) => vec![d.units, input_len],
            _ => return None,
        };
        crate::args::elements(&dims, "its weight").err()
    }

    /// Appends the layer's operations to `g`, reading `x`.
    pub fn lower(&self, g: &mut Graph, x: NodeId, path: &str, span: Span, ctx: LowerCtx) -> NodeId {
        match self {
            LayerKind::Dense(d) => d.lower(g, x, path, span, ctx.init),
            LayerKind::Activation(a) => a.lower(g, x),
            LayerKind::Softmax { log } => softmax::lower(g, x, *log),
            LayerKind::Dropout { p } => dropout::lower(g, x, *p, ctx.training),
            LayerKind::BatchNorm(bn) => bn.lower(g, x, path, span, ctx.training),
            LayerKind::Residual(layers) => residual::lower(layers, g, x, ctx),
            LayerKind::Conv(c) => c.lower(g, x, path, span, ctx.init),
            LayerKind::Recurrent(r) => r.lower(g, x, path, span),
            LayerKind::Pool(p) => p.lower(g, x),
            LayerKind::Flatten => flatten::lower(g, x),
        }
    }
}
