//! `loss:` against the network's outputs: one loss for a network with one
//! output, or `loss: { name: weight * loss, .. }` naming every output once.
//! The total loss is the weighted sum of the terms (weights default to 1),
//! as Keras' `loss_weights` or a hand-written `w1 * l1 + w2 * l2`.

use super::{Loss, Term, likely_target, resolve, resolve_closure};
use crate::args;
use crate::errors::Errors;
use crate::ir::TargetKind;
use crate::parse::{LossSpec, OutputLoss};
use proc_macro2::extra::DelimSpan;

/// One output as the loss sees it: its name, and its shape unless a
/// mistake left it unknown.
pub struct Output {
    pub name: String,
    pub dims: Option<Vec<usize>>,
}

/// `loss: mse` (or a closure) for a network with one output.
pub fn single(spec: &LossSpec, outputs: &[Output], last: &str, errors: &mut Errors) -> Option<Vec<Term>> {
    if outputs.len() > 1 {
        let names: Vec<String> = outputs.iter().map(|o| format!("`{}`", o.name)).collect();
        let example: Vec<String> = outputs.iter().map(|o| format!("{}: mse", o.name)).collect();
        errors.push(
            spec.site(),
            format!(
                "the graph has {} outputs, {}: give each its loss, as in `loss: {{ {} }}`",
                outputs.len(),
                names.join(", "),
                example.join(", ")
            ),
        );
        return None;
    }
    let dims = outputs.first().and_then(|o| o.dims.as_deref());
    Some(vec![Term { weight: 1.0, loss: one(spec, dims, last, errors)? }])
}

/// `loss: { name: weight * loss, .. }`: every output once, in the order of
/// the outputs, whatever the order of the entries.
pub fn named(
    entries: &[OutputLoss],
    brace: &DelimSpan,
    outputs: &[Output],
    errors: &mut Errors,
) -> Option<Vec<Term>> {
    let mut terms: Vec<Option<Term>> = outputs.iter().map(|_| None).collect();
    let mut seen = vec![false; outputs.len()];
    let mut broken = false;
    let names: Vec<&str> = outputs.iter().map(|o| o.name.as_str()).collect();
    for entry in entries {
        let name = entry.output.to_string();
        let Some(k) = names.iter().position(|n| *n == name) else {
            errors.push(entry.output.span(), crate::suggest::unknown("output", &name, &names));
            broken = true;
            continue;
        };
        if std::mem::replace(&mut seen[k], true) {
            errors.push(entry.output.span(), format!("output `{name}` has a loss already"));
            broken = true;
            continue;
        }
        let weight = weight(entry, errors);
        let last = format!("output `{name}`");
        let loss = one(&entry.loss, outputs[k].dims.as_deref(), &last, errors);
        match (weight, loss) {
            (Some(weight), Some(loss)) => terms[k] = Some(Term { weight, loss }),
            _ => broken = true,
        }
    }
    // After a misspelt output name, the output it meant looks lossless:
    // that is the same mistake, reported once.
    let misspelt = entries.iter().any(|e| !names.iter().any(|n| e.output == n));
    for (output, _) in outputs.iter().zip(&seen).filter(|(_, seen)| !**seen && !misspelt) {
        let name = &output.name;
        errors.push(brace.close(), format!("output `{name}` has no loss; add one, as in `{name}: mse`"));
        broken = true;
    }
    broken |= misspelt;
    if broken {
        return None;
    }
    terms.into_iter().collect()
}

/// What each output's targets are, for the declared type: from the terms,
/// or after a mistake from what the declaration most likely meant.
pub fn targets(
    terms: Option<&[Term]>,
    specs: &[(Option<&LossSpec>, Option<&[usize]>)],
) -> Option<Vec<TargetKind>> {
    if let Some(terms) = terms {
        let dims = specs.iter().map(|(_, dims)| dims.unwrap_or(&[0]));
        return Some(terms.iter().zip(dims).map(|(t, dims)| t.loss.target(dims)).collect());
    }
    specs
        .iter()
        .map(|&(spec, dims)| match spec {
            Some(LossSpec::Call(call)) => likely_target(call, dims),
            _ => Some(TargetKind::Values),
        })
        .collect()
}

fn one(spec: &LossSpec, dims: Option<&[usize]>, last: &str, errors: &mut Errors) -> Option<Loss> {
    match spec {
        LossSpec::Call(call) => resolve(call, dims, last, errors),
        LossSpec::Closure(closure) => resolve_closure(closure, errors),
    }
}

/// The weight in front of a loss: a finite number above 0.
fn weight(entry: &OutputLoss, errors: &mut Errors) -> Option<f64> {
    let Some(lit) = &entry.weight else { return Some(1.0) };
    let expr = syn::Expr::Lit(syn::ExprLit { attrs: Vec::new(), lit: lit.clone() });
    match args::real(&expr) {
        Ok(w) if w.is_finite() && w > 0.0 => Some(w),
        Ok(w) => {
            errors.push(lit.span(), format!("a loss weight must be a finite number above 0, found {w}"));
            None
        }
        Err(message) => {
            errors.push(lit.span(), message);
            None
        }
    }
}
