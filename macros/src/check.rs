//! Stage 2: the declaration to a checked model, reporting every mistake.
//!
//! One function per rule, run in order; errors are collected, not returned
//! early, so a declaration with three independent mistakes gets three
//! messages, each at the smallest token that is wrong. After a mistake the
//! check carries on with what the user declared (a layer's declared size) or
//! with "unknown" (after an unknown layer), so one mistake is reported once
//! and never causes follow-up errors.

use crate::errors::Errors;
use crate::init::Scheme;
use crate::layers::{self, Placed};
use crate::losses;
use crate::model::{Model, Outline};
use crate::parse::{Declaration, Field, Item, KEYS, Value};
use crate::regularizer;
use proc_macro2::{Ident, Span};
use syn::Expr;

/// A declaration with mistakes: all of them, and what is known of the
/// type it declares, so the type can still be emitted.
pub struct Rejected {
    pub errors: syn::Error,
    pub outline: Box<Outline>,
}

pub fn check(decl: Declaration) -> Result<Model, Rejected> {
    let mut errors = Errors::default();
    let token_errors = decl.token_errors();
    // A key may hide in what could not be read: none is reported missing then.
    let damaged = !token_errors.is_empty();
    token_errors.into_iter().for_each(|e| errors.add(e));
    let fields = unique_fields(&decl.fields, &mut errors);
    let find = |key: &str| fields.iter().find(|f| f.key == key).map(|f| &f.value);
    // The required keys: without them there is nothing to compile.
    // Reported at the network's name, where the key belongs.
    let missing = |key: &str, suggestion: &str, errors: &mut Errors| {
        if !damaged {
            debug_assert!(KEYS.contains(&key));
            let name = &decl.name;
            errors.push(name.span(), format!("network `{name}` has no `{key}`; {suggestion}"));
        }
    };

    let scalar = scalar_type(find("scalar"), &decl.name, &mut errors);
    let input = match find("input") {
        Some(Value::Input { dims, span }) => input_shape(dims, *span, &mut errors),
        Some(_) => None,
        None => {
            missing("input", "add one, for example `input: [784]`", &mut errors);
            None
        }
    };
    let (layers, output) = match find("layers") {
        Some(Value::Layers { calls, span }) => layer_chain(calls, *span, input.as_deref(), &mut errors),
        Some(_) => (Vec::new(), None),
        None => {
            missing("layers", "add one, for example `layers: [dense(10)]`", &mut errors);
            (Vec::new(), None)
        }
    };
    let loss = match find("loss") {
        Some(Value::LossClosure(closure)) => losses::resolve_closure(closure, &mut errors),
        Some(Value::Loss(call)) => {
            let last = describe_last(find("layers"));
            losses::resolve(call, output.as_deref(), &last, &mut errors)
        }
        Some(_) => None,
        None => {
            missing("loss", &losses::example(output.as_deref()), &mut errors);
            None
        }
    };
    let regularizer = match find("regularizer") {
        Some(Value::Regularizer(terms)) => regularizer::resolve(terms, &mut errors),
        _ => None,
    };
    let init = match find("init") {
        Some(Value::Init(name)) => crate::init::resolve(name, &mut errors).unwrap_or(Scheme::GlorotUniform),
        _ => Scheme::GlorotUniform,
    };
    let weights = match find("weights") {
        Some(Value::Weights(path)) => Some(path.clone()),
        _ => None,
    };
    let embedded = match find("embedded") {
        Some(Value::Embedded(flag)) if flag.value => {
            embeddable(flag.span(), weights.is_some(), &mut errors);
            Some(flag.span())
        }
        _ => None,
    };
    let target = match (&loss, find("loss")) {
        (Some(loss), _) => Some(loss.target(output.as_deref().unwrap_or(&[0]))),
        (None, Some(Value::Loss(call))) => losses::likely_target(call, output.as_deref()),
        _ => None,
    };
    let outline = Outline {
        attrs: decl.attrs,
        vis: decl.vis,
        name: decl.name,
        scalar,
        input,
        output,
        target,
        trained: weights.is_some(),
        embedded: embedded.is_some(),
    };
    if let Err(errors) = errors.finish() {
        return Err(Rejected { errors, outline: Box::new(outline) });
    }
    match (outline.input.clone(), loss) {
        (Some(input), Some(loss)) => {
            Ok(Model { outline, input, layers, loss, regularizer, init, weights, embedded })
        }
        // Every path to `None` above records an error, so this is not reached;
        // should it be, the user still gets a message rather than a panic.
        _ => {
            let errors = syn::Error::new(outline.name.span(), "the network declaration is incomplete");
            Err(Rejected { errors, outline: Box::new(outline) })
        }
    }
}

/// `embedded: true` compiles batch-1 inference for a runtime without
/// `std`, from weights compiled in; every layer has its code there.
fn embeddable(flag: Span, baked: bool, errors: &mut Errors) {
    if !baked {
        errors.push(
            flag,
            "`embedded: true` needs the weights compiled in: add `weights: \"path/to/model.safetensors\"`",
        );
    }
}

/// Each key may appear once: a second `loss` is a mistake, reported at the
/// second key, since silently taking either one would hide a typo.
fn unique_fields<'a>(fields: &'a [Field], errors: &mut Errors) -> Vec<&'a Field> {
    let mut seen: Vec<&Field> = Vec::new();
    for field in fields {
        if seen.iter().any(|f| f.key == field.key) {
            errors.push(field.key.span(), format!("duplicate key `{}`; each key may appear once", field.key));
        } else {
            seen.push(field);
        }
    }
    seen
}

/// `scalar: f32 | f64`, default `f32`. Other types are rejected because the
/// kernels exist for these two only.
fn scalar_type(value: Option<&Value>, name: &Ident, errors: &mut Errors) -> Ident {
    match value {
        Some(Value::Scalar(ty)) if ty == "f32" || ty == "f64" => ty.clone(),
        Some(Value::Scalar(ty)) => {
            errors.push(ty.span(), format!("`scalar` must be `f32` or `f64`, found `{ty}`"));
            Ident::new("f32", ty.span())
        }
        _ => Ident::new("f32", name.span()),
    }
}

/// Every input dimension is a whole number of at least 1: a zero-sized
/// input has nothing to learn from. `input: []` is rejected likewise.
fn input_shape(dims: &[Expr], span: Span, errors: &mut Errors) -> Option<Vec<usize>> {
    if dims.is_empty() {
        errors.push(span, "`input` needs at least one dimension, as in `input: [784]`");
        return None;
    }
    let mut shape = Vec::new();
    for dim in dims {
        match crate::args::whole(dim) {
            Ok(0) => {
                errors.push(crate::errors::Site::of(dim), "input dimensions must be at least 1, found 0")
            }
            Ok(n) => shape.push(n as usize),
            Err(message) => errors.push(crate::errors::Site::of(dim), message),
        }
    }
    if shape.len() == dims.len()
        && let Err(message) = crate::args::elements(&shape, "the input")
    {
        errors.push(span, message);
        return None;
    }
    (shape.len() == dims.len()).then_some(shape)
}

/// Each layer must accept the shape the previous one produces (see
/// `layers::chain`); an empty list is a mistake, since a network without
/// layers has nothing to learn.
fn layer_chain(
    calls: &[Item],
    span: Span,
    input: Option<&[usize]>,
    errors: &mut Errors,
) -> (Vec<Placed>, Option<Vec<usize>>) {
    if calls.is_empty() {
        errors
            .push(span, "`layers` is empty; a network needs at least one layer, as in `layers: [dense(10)]`");
        return (Vec::new(), None);
    }
    layers::chain(calls, input, "layers", errors)
}

/// "the last layer `dense(1)`", for loss messages.
fn describe_last(value: Option<&Value>) -> String {
    match value {
        Some(Value::Layers { calls, .. }) => match calls.last() {
            Some(Item::Call(last)) => format!("the last layer `{}`", last.display()),
            _ => "the last layer".to_string(),
        },
        _ => "the input".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn errors_of(tokens: proc_macro2::TokenStream) -> Vec<String> {
        let decl = crate::parse::parse(tokens).unwrap();
        match check(decl) {
            Ok(_) => vec![],
            Err(rejected) => rejected.errors.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    fn check_errors(tokens: proc_macro2::TokenStream, expected: &[&str]) {
        let found = errors_of(tokens);
        assert_eq!(found.len(), expected.len(), "{found:#?}");
        for (f, e) in found.iter().zip(expected) {
            assert!(f.contains(e), "expected `{e}` in `{f}`");
        }
    }

    #[test]
    fn a_valid_network_has_no_errors() {
        check_errors(
            quote!(struct N { input: [4], layers: [dense(8), tanh, dense(3)], loss: softmax_cross_entropy }),
            &[],
        );
    }

    #[test]
    fn independent_mistakes_are_all_reported() {
        check_errors(
            quote!(struct N { input: [0], layers: [dens(8), relu(2), dense(0)], loss: mes, loss: mse }),
            &[
                "duplicate key `loss`",
                "input dimensions must be at least 1",
                "unknown layer `dens`, did you mean `dense`?",
                "`relu` takes no arguments",
                "`dense` needs at least 1 output unit",
                "unknown loss `mes`, did you mean `mse`?",
            ],
        );
    }

    #[test]
    fn missing_keys_are_named() {
        check_errors(
            quote!(struct N { layers: [dense(2)] }),
            &["network `N` has no `input`", "network `N` has no `loss`"],
        );
    }

    #[test]
    fn softmax_cross_entropy_needs_two_classes() {
        check_errors(
            quote!(struct N { input: [4], layers: [dense(1)], loss: softmax_cross_entropy }),
            &["needs at least 2 classes but the last layer `dense(1)` produces 1 value"],
        );
    }

    #[test]
    fn dense_on_a_multidimensional_input_names_both_shapes() {
        check_errors(
            quote!(struct N { input: [2, 3, 4], layers: [dense(2)], loss: mse }),
            &["`dense(2)` expects a flat input or a [time, features] sequence but receives 2x3x4"],
        );
    }

    #[test]
    fn regularizer_strength_must_be_non_negative() {
        check_errors(
            quote!(struct N { input: [4], layers: [dense(2)], loss: mse, regularizer: l2(-1e-3) }),
            &["`l2` strength must be a finite number of at least 0, found -0.001"],
        );
    }

    #[test]
    fn initialization_names_are_checked() {
        check_errors(
            quote!(struct N { input: [4], layers: [dense(2, init = he_normal)], loss: mse, init: glorot_uniform }),
            &[],
        );
        check_errors(
            quote!(struct N { input: [4], layers: [dense(2, init = he_norml), dense(2, bias = false)], loss: mse, init: kaiming }),
            &[
                "unknown initialization `he_norml`, did you mean `he_normal`?",
                "`dense` has no parameter `bias`",
                "unknown initialization `kaiming`",
            ],
        );
    }

    #[test]
    fn regularizer_terms_combine_once_each() {
        check_errors(
            quote!(struct N { input: [4], layers: [dense(2)], loss: mse, regularizer: l1(1e-3) + l2(1e-2, biases = true) }),
            &[],
        );
        check_errors(
            quote!(struct N { input: [4], layers: [dense(2)], loss: mse, regularizer: l2(1e-3) + l2(1e-2) }),
            &["`l2` is given twice"],
        );
        check_errors(
            quote!(struct N { input: [4], layers: [dense(2)], loss: mse, regularizer: l1(1e-3, biases = 1) }),
            &["`biases` takes `true` or `false`"],
        );
    }
}
