//! Warnings for declarations that compile and then train badly: a loss
//! that expects something the last layer does not give it. Stable Rust
//! lets a procedural macro warn only through the compiler's own lints, so
//! each finding becomes the use of a `#[deprecated]` item, spanned at the
//! offending layer, whose note says what is wrong and how to fix it.
//! `#[allow(deprecated)]` on the declaration silences them.

use crate::dataflow::Step;
use crate::losses::LossKind;
use crate::model::Model;
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote_spanned};

/// One finding: where, and what to say.
pub struct Lint {
    pub span: Span,
    pub message: String,
}

/// The keyword of a layer as written: `dense` of `dense(10)`.
fn keyword(shown: &str) -> &str {
    shown.split(['(', '[']).next().unwrap_or(shown).trim()
}

/// Every output's loss against the layer that makes the output.
pub fn findings(model: &Model) -> Vec<Lint> {
    let mut out = Vec::new();
    for (&value, term) in model.flow.outputs.iter().zip(&model.losses) {
        let Step::Layer { layer, .. } = &model.flow.values[value].step else { continue };
        let (last, span) = (keyword(&layer.shown), layer.site.start);
        let message = match (&term.loss.kind, last) {
            (LossKind::SoftmaxCrossEntropy | LossKind::SoftmaxCrossEntropyProbabilities, "softmax") => {
                "`softmax` before `softmax_cross_entropy` applies softmax twice: the loss takes raw scores (logits) \
                 and applies softmax itself, so this layer squeezes the scores into (0, 1) and training stalls; \
                 remove it (apply `softmax` to `predict`'s scores to read probabilities)"
            }
            (LossKind::SoftmaxCrossEntropy | LossKind::BinaryCrossEntropyWithLogits, "relu") => {
                "`relu` on the logits: every negative score becomes 0, so a wrong class's score cannot be pushed \
                 below 0 and the gradient of units at 0 is lost; end with the `dense` layer (logits are raw scores)"
            }
            (LossKind::BinaryCrossEntropy, last) if !matches!(last, "sigmoid" | "softmax") => {
                "`binary_cross_entropy` takes probabilities in (0, 1), but this layer's outputs are not (the loss \
                 becomes NaN when one leaves the interval); end with `sigmoid`, or better use \
                 `binary_cross_entropy_with_logits` on the raw score, which is stable"
            }
            (LossKind::Nll, last) if last != "log_softmax" => {
                "`nll` takes log-probabilities, but this layer's outputs are not; end with `log_softmax`, or use \
                 `softmax_cross_entropy` on the raw scores (the same loss, fused and stable)"
            }
            _ => continue,
        };
        out.push(Lint { span, message: message.into() });
    }
    out
}

/// The findings as deprecation warnings, unless the declaration allows them.
pub fn emit(model: &Model) -> TokenStream {
    let allowed = model.outline.attrs.iter().any(|a| {
        a.path().is_ident("allow")
            && quote::ToTokens::to_token_stream(&a.meta).to_string().contains("deprecated")
    });
    if allowed {
        return TokenStream::new();
    }
    findings(model)
        .into_iter()
        .enumerate()
        .map(|(k, lint)| {
            let item = format_ident!("loss_and_last_layer_disagree_{}", k, span = lint.span);
            let note = format!("{} (silence with #[allow(deprecated)] on the declaration)", lint.message);
            quote_spanned! {lint.span=>
                const _: () = {
                    #[deprecated(note = #note)]
                    #[allow(non_camel_case_types)]
                    struct #item;
                    let _ = #item;
                };
            }
        })
        .collect()
}
