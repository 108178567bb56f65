//! Layer keywords. Each file defines one family of keywords completely:
//! the keywords and the names other libraries use for them, how a call's
//! arguments are read and checked, the shape rule, the operations it
//! lowers to (its parameters and their limits with them), how it treats
//! time steps when a network streams, and whether it compiles without
//! `std`. [`FAMILIES`] lists them all; nothing else names a layer. A layer
//! is sugar over IR operations: its gradient comes from theirs, never from
//! code written for the layer.

mod activation;
mod attention;
mod batch_norm;
mod conv;
mod dense;
mod dropout;
mod embedding;
mod flatten;
mod layer_norm;
mod pool;
mod positional;
mod recurrent;
mod residual;
mod softmax;
mod window;

use crate::errors::{Errors, Site};
use crate::init::Scheme;
use crate::ir::{Graph, NodeId};
use crate::parse::{Call, Item};
use proc_macro2::Span;

/// Every layer family: the one list.
pub const FAMILIES: &[&dyn Family] = &[
    &dense::Dense,
    &embedding::Embeddings,
    &activation::Activations,
    &softmax::Softmaxes,
    &dropout::Dropout,
    &batch_norm::BatchNorms,
    &layer_norm::LayerNorms,
    &residual::Residual,
    &conv::Convolutions,
    &pool::Pools,
    &flatten::Flatten,
    &recurrent::Recurrents,
    &attention::Attentions,
    &positional::Positional,
];

/// A family of layer keywords: how calls of them are read and checked.
pub trait Family: Sync {
    /// The keywords it answers to.
    fn keywords(&self) -> &'static [&'static str];

    /// Names other libraries give these layers (PyTorch's modules, Keras'
    /// layers), each with the keyword to write instead.
    fn aliases(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }

    /// Reads `call`, one of this family's keywords, against the shape
    /// flowing in (`None` when an earlier mistake left it unknown). Records
    /// every mistake; returns the layer and its output shape (`None` when
    /// it cannot be known), or `None` after a mistake that leaves nothing
    /// to build.
    fn resolve(&self, call: &Call, input: Option<&[usize]>, at: &At, errors: &mut Errors)
    -> Option<Resolved>;
}

/// Where a call sits: `path` names its parameters (`layers.3`,
/// `layers.2.body.0`).
pub struct At<'a> {
    pub path: &'a str,
}

/// A layer as a family resolved it.
pub struct Resolved {
    pub layer: Box<dyn Layer>,
    pub output: Option<Vec<usize>>,
}

impl Resolved {
    pub fn new(layer: impl Layer + 'static, output: Option<Vec<usize>>) -> Option<Self> {
        Some(Self { layer: Box::new(layer), output })
    }
}

/// What a resolved layer does.
pub trait Layer {
    /// Appends its operations to `g`, reading `x`; returns its output.
    fn lower(&self, g: &mut Graph, x: NodeId, origin: &Origin, ctx: LowerCtx) -> NodeId;

    /// The same for batch-1 inference, where a layer may read the
    /// inference copy of its weights, laid out for its batch-1 kernel
    /// (`Graph::plan`). Parameters are registered as in `lower`, in the
    /// same order, so both graphs share one parameter layout.
    fn lower_planned(&self, g: &mut Graph, x: NodeId, origin: &Origin, ctx: LowerCtx) -> NodeId {
        self.lower(g, x, origin, ctx)
    }

    /// Its int8 form over an input of shape `input` (see `int8.rs`):
    /// `None` when int8 cannot run it.
    fn int8(&self, input: &[usize]) -> Option<crate::int8::Form> {
        let _ = input;
        None
    }

    /// How it treats the steps of a `[time, features]` value, for `step`.
    fn over_time(&self) -> OverTime<'_> {
        OverTime::Whole
    }

    /// How it treats the columns of a `[channels, time]` value (a signal
    /// through convolutions), for `step`: each column a step.
    fn over_columns(&self) -> OverTime<'_> {
        OverTime::Whole
    }
}

/// How a layer treats time steps when the network streams, one step a call.
pub enum OverTime<'a> {
    /// It acts on each step alone: one step lowers as the whole does.
    EachStep,
    /// It carries state from step to step, kept in the stream buffer.
    Carried(&'a dyn Carried),
    /// It needs the whole sequence, or its input is not one.
    Whole,
}

/// A layer that carries state across time steps.
pub trait Carried {
    /// One step of batch-1 inference, its carries read from and written
    /// to `offset` of the stream buffer; returns this step's output.
    fn lower_step(&self, g: &mut Graph, x: NodeId, origin: &Origin, offset: usize) -> NodeId;

    /// Values the stream keeps for the layer.
    fn stream_len(&self) -> usize;

    /// Whether its output is still a sequence, so the layers after it
    /// stream too (stacked recurrent layers).
    fn keeps_time(&self) -> bool;
}

/// Where a layer's parameters come from: their name prefix and the
/// declaration's span.
pub struct Origin {
    pub path: String,
    pub span: Span,
}

/// What lowering needs besides the layer itself.
#[derive(Clone, Copy)]
pub struct LowerCtx {
    /// Weight initialization for layers that do not pick their own.
    pub init: Scheme,
    /// Building the training graph (dropout active, batch statistics).
    pub training: bool,
}

/// A layer in its place in the network.
pub struct Placed {
    pub layer: Box<dyn Layer>,
    pub origin: Origin,
    /// The call as written, and where, for messages.
    pub shown: String,
    pub site: Site,
    pub output: Vec<usize>,
}

impl Placed {
    pub fn lower(&self, g: &mut Graph, x: NodeId, ctx: LowerCtx) -> NodeId {
        self.layer.lower(g, x, &self.origin, ctx)
    }

    pub fn lower_planned(&self, g: &mut Graph, x: NodeId, ctx: LowerCtx) -> NodeId {
        self.layer.lower_planned(g, x, &self.origin, ctx)
    }
}

/// Every layer keyword, for suggestions.
pub fn keywords() -> Vec<&'static str> {
    FAMILIES.iter().flat_map(|f| f.keywords().iter().copied()).collect()
}

/// Resolves a list of calls in order, each against the shape the previous
/// one produces. A layer with a mistake still passes on its declared output,
/// so the next layers are checked too; after an unknown layer the shape is
/// unknown and checks that need it are skipped rather than guessed. Returns
/// the layers that resolved and the final shape, if known.
pub fn chain(
    items: &[Item],
    input: Option<&[usize]>,
    tokens: bool,
    prefix: &str,
    errors: &mut Errors,
) -> (Vec<Placed>, Option<Vec<usize>>) {
    let mut shape = input.map(<[usize]>::to_vec);
    let mut layers = Vec::new();
    for (index, item) in items.iter().enumerate() {
        // An unreadable item's token error is reported already.
        let Item::Call(call) = item else {
            shape = None;
            continue;
        };
        let tokens = tokens && index == 0;
        let placed = place(call, shape.as_deref(), tokens, format!("{prefix}.{index}"), errors);
        shape = placed.as_ref().map(|p| p.output.clone());
        layers.extend(placed);
    }
    (layers, shape)
}

/// Resolves one call against the shape flowing in, its parameters named
/// from `path`: the layer in its place, or `None` when its output cannot
/// be known (after a mistake, reported).
///
/// Token ids (`tokens`) are read by `embedding` alone, and `embedding`
/// reads nothing else: a mistake either way is reported at the call.
pub fn place(
    call: &Call,
    input: Option<&[usize]>,
    tokens: bool,
    path: String,
    errors: &mut Errors,
) -> Option<Placed> {
    let embeds = call.name == embedding::KEYWORD;
    if tokens && !embeds && is_keyword(&call.name.to_string()) {
        errors.push(
            call.name.span(),
            format!(
                "`{}` reads numbers, and this value is token ids: turn them into vectors first, \
                 as in `embedding(vocab, 64)`",
                call.name
            ),
        );
        return None;
    }
    if embeds && !tokens && input.is_some() {
        errors.push(
            call.name.span(),
            "`embedding` reads token ids: declare them as the input, as in `input: [u32; 64]`",
        );
        return None;
    }
    let resolved = resolve(call, input, &At { path: &path }, errors)?;
    let output = resolved.output?;
    // A shape too large to count is an error here, once, and unknown
    // to the layers after it.
    if let Err(message) = crate::args::elements(&output, &format!("the output of `{}`", call.display())) {
        errors.push(call.site(), message);
        return None;
    }
    let origin = Origin { path, span: call.name.span() };
    Some(Placed { layer: resolved.layer, origin, shown: call.display(), site: call.site(), output })
}

/// The keyword for a name another library gives a layer (`Linear`).
pub fn alias(name: &str) -> Option<&'static str> {
    FAMILIES.iter().flat_map(|f| f.aliases()).find(|(other, _)| *other == name).map(|(_, keyword)| *keyword)
}

/// Whether `name` is a layer keyword.
pub fn is_keyword(name: &str) -> bool {
    FAMILIES.iter().any(|f| f.keywords().contains(&name))
}

/// Resolves one call by the family that owns its keyword; an unknown one
/// is an error with the closest keyword, or the keyword for a name that
/// another library uses.
fn resolve(call: &Call, input: Option<&[usize]>, at: &At, errors: &mut Errors) -> Option<Resolved> {
    let name = call.name.to_string();
    let Some(family) = FAMILIES.iter().find(|f| f.keywords().contains(&name.as_str())) else {
        let alias = FAMILIES.iter().flat_map(|f| f.aliases()).find(|(other, _)| *other == name);
        let message = match alias {
            Some((_, keyword)) => format!("unknown layer `{name}`, did you mean `{keyword}`?"),
            None => crate::suggest::unknown("layer", &name, &keywords()),
        };
        errors.push(call.name.span(), message);
        return None;
    };
    if let Some((_, span)) = &call.block
        && name != residual::KEYWORD
    {
        errors.push(span.join(), format!("`{name}` takes no `[...]` block; only `residual` does"));
    }
    family.resolve(call, input, at, errors)
}

/// The message for `activation = ..` among a layer's arguments (Keras
/// style): here an activation is a layer of its own, written after it.
pub fn activation_argument(call: &Call, activation: &crate::parse::Arg) -> String {
    use quote::ToTokens;
    let act = match &activation.value {
        syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(name), .. }) => name.value(),
        other => other.to_token_stream().to_string().replace(' ', ""),
    };
    let rest: Vec<String> = call
        .args
        .iter()
        .filter(|a| !std::ptr::eq(*a, activation))
        .map(|a| {
            let value = a.value.to_token_stream().to_string().replace(' ', "");
            a.name.as_ref().map_or(value.clone(), |n| format!("{n} = {value}"))
        })
        .collect();
    format!("an activation is a layer of its own here: write `{}({}), {act}`", call.name, rest.join(", "))
}

/// The error when a layer's parameter tensor would hold more values than
/// a tensor may; `what` names it.
pub fn check_size(dims: &[usize], call: &Call, errors: &mut Errors) -> Option<()> {
    match crate::args::elements(dims, "its weight") {
        Ok(_) => Some(()),
        Err(message) => {
            errors.push(call.site(), message);
            None
        }
    }
}

#[cfg(test)]
mod tests;
