//! The `network!` compiler of chainrule. Use it through the `chainrule`
//! crate, which re-exports it and provides the runtime the generated code
//! calls.
//!
//! Stages, one module each: [`parse`] (tokens to a declaration with spans),
//! [`check`] (keywords and shapes, every error at once), [`lower`] (the
//! tensor graph of the forward pass and loss), [`autodiff`] (reverse mode on
//! that graph), [`simplify`] (fusions), [`emit`] (Rust code).

mod args;
mod autodiff;
mod check;
mod describe;
mod emit;
mod errors;
mod expand;
mod init;
mod ir;
mod layers;
mod losses;
mod lower;
mod model;
mod ops;
mod parse;
mod regularizer;
mod simplify;
mod suggest;
mod user_expr;

use proc_macro::TokenStream;

/// Declares a neural network and compiles it into a struct implementing
/// `chainrule::Network`.
///
/// ```text
/// network! {
///     /// Documentation and attributes go on the generated struct.
///     pub struct Name {
///         input: [features],
///         layers: [layer, layer, ...],
///         loss: loss,
///         regularizer: l2(lambda),   // optional
///         scalar: f32,               // optional: f32 (default) or f64
///     }
/// }
/// ```
///
/// # Layers
///
/// | keyword | shape rule | parameters |
/// |---------|------------|------------|
/// | `dense(n)` | `[k]` to `[n]` | `layers.<i>.weight` `[n, k]` (Glorot uniform), `layers.<i>.bias` `[n]` (zeros) |
/// | `sigmoid` | unchanged | none |
/// | `tanh` | unchanged | none |
/// | `relu` | unchanged | none |
/// | `identity` | unchanged | none |
///
/// `<i>` is the layer's position in the list, counting activations, as
/// PyTorch numbers the modules of an `nn.Sequential`.
///
/// # Losses
///
/// All are means over the batch.
///
/// | keyword | output | target per sample |
/// |---------|--------|-------------------|
/// | `mse` | any | `[S; OUTPUT_LEN]`, mean over all elements of `(y - t)^2` |
/// | `softmax_cross_entropy` | `[n]`, `n >= 2`, raw scores (logits) | `usize` class index |
///
/// # Regularizer
///
/// `l2(lambda)` adds `lambda / 2 * sum(w^2)` over weights (not biases), whose
/// gradient `lambda * w` equals PyTorch SGD's `weight_decay = lambda`.
///
/// # What is generated
///
/// A struct owning one heap buffer of parameters, with `new(seed)` and
/// `from_params(&[S])`, implementing `chainrule::Network`: batch-1
/// `predict` on fixed-size arrays, and batched `predict_batch`, `loss` and
/// `loss_and_grad` that use a `chainrule::Workspace` and allocate nothing
/// once it has grown. The backward pass is derived from the forward graph by
/// reverse-mode differentiation at compile time.
///
/// Every shape is checked at compile time; mistakes are compile errors at
/// the offending token, all reported at once.
#[proc_macro]
pub fn network(input: TokenStream) -> TokenStream {
    expand::expand(input.into()).into()
}
