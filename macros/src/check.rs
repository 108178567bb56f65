//! Stage 2: the declaration to a checked model, reporting every mistake.
//!
//! One function per rule, run in order; errors are collected, not returned
//! early, so a declaration with three independent mistakes gets three
//! messages, each at the smallest token that is wrong. After a mistake the
//! check carries on with what the user declared (a layer's declared size) or
//! with "unknown" (after an unknown layer), so one mistake is reported once
//! and never causes follow-up errors.

use crate::dataflow::{Dataflow, DeclaredInput};
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
    let graph = match find("graph") {
        Some(Value::Graph(graph)) => Some(graph),
        _ => None,
    };
    let inputs = inputs(find("input"), &mut errors);
    if find("input").is_none() {
        missing("input", "add one, for example `input: [784]`", &mut errors);
    }
    let (flow, output) = match (find("layers"), graph) {
        (Some(_), Some(_)) => {
            let key = fields.iter().find(|f| f.key == "graph").map(|f| f.key.span());
            errors.push(
                key.unwrap_or(decl.name.span()),
                "a network has `layers` (a chain) or `graph`, not both; write the chain in the graph",
            );
            (None, None)
        }
        (_, Some(graph)) => {
            let flow =
                inputs.as_ref().and_then(|inputs| crate::dataflow::resolve(inputs, graph, &mut errors));
            (flow, None)
        }
        (Some(Value::Layers { calls, span }), None) => {
            let input =
                single_input(inputs.as_deref(), fields.iter().find(|f| f.key == "input"), &mut errors);
            let tokens = inputs.as_deref().is_some_and(|i| i.iter().any(|i| i.tokens));
            let (layers, output) = layer_chain(calls, *span, input.as_deref(), tokens, &mut errors);
            let flow = input.filter(|_| output.is_some()).map(|input| Dataflow::chain(input, tokens, layers));
            (flow, output)
        }
        (Some(_), None) => (None, None),
        (None, None) => {
            missing("layers", "add one, for example `layers: [dense(10)]`, or a `graph`", &mut errors);
            (None, None)
        }
    };
    let input = match &flow {
        Some(flow) => Some(flow.input_dims()),
        None => inputs.as_ref().and_then(|inputs| flat_input(inputs)),
    };
    let outputs = outputs(flow.as_ref(), graph, output);
    let output = flat_output(&outputs);
    let losses = match find("loss") {
        Some(Value::Loss(spec)) => {
            let last = describe_last(find("layers").or(find("graph")));
            losses::single(spec, &outputs, &last, &mut errors)
        }
        Some(Value::Losses { entries, brace }) => losses::named(entries, brace, &outputs, &mut errors),
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
    let sample_weights = match find("sample_weights") {
        Some(Value::SampleWeights(flag)) if flag.value => {
            if embedded.is_some() {
                errors.push(
                    flag.span(),
                    "`sample_weights: true` is for training, and an `embedded: true` network only infers: \
                     remove one of them",
                );
            }
            true
        }
        _ => false,
    };
    let quantize = match find("quantize") {
        Some(Value::Quantize(kind)) if kind == "int8" => {
            if weights.is_none() {
                errors.push(
                    kind.span(),
                    "`quantize: int8` compiles in a quantized weights file: add `weights: \"path/to/model.int8.safetensors\"` \
                     (`chainrule::int8::calibrate` writes one)",
                );
            }
            if sample_weights {
                errors.push(kind.span(), "a quantized network only infers: remove `sample_weights`");
            }
            Some(kind.span())
        }
        Some(Value::Quantize(kind)) => {
            errors.push(kind.span(), format!("`quantize` takes `int8`, found `{kind}`"));
            None
        }
        _ => None,
    };
    let specs: Vec<_> = match find("loss") {
        Some(Value::Loss(spec)) => outputs.iter().map(|o| (Some(spec), o.dims.as_deref())).collect(),
        Some(Value::Losses { entries, .. }) => {
            // An output without an entry takes a misspelt one, in order.
            let mut misspelt = entries.iter().filter(|e| !outputs.iter().any(|o| e.output == o.name));
            outputs
                .iter()
                .map(|o| {
                    let entry = entries.iter().find(|e| e.output == o.name).or_else(|| misspelt.next());
                    (entry.map(|e| &e.loss), o.dims.as_deref())
                })
                .collect()
        }
        _ => Vec::new(),
    };
    let targets = if specs.is_empty() { None } else { losses::targets(losses.as_deref(), &specs) };
    let outline = Outline {
        attrs: decl.attrs,
        vis: decl.vis,
        name: decl.name,
        scalar,
        input,
        tokens: inputs.as_deref().is_some_and(|i| i.iter().any(|i| i.tokens)),
        named_inputs: named_inputs(inputs.as_deref()),
        named_outputs: named_outputs(&outputs),
        output,
        targets,
        trained: weights.is_some(),
        embedded: embedded.is_some() || quantize.is_some(),
        quantized: quantize.is_some(),
    };
    if let Err(errors) = errors.finish() {
        return Err(Rejected { errors, outline: Box::new(outline) });
    }
    match (outline.input.clone(), flow, losses) {
        (Some(input), Some(flow), Some(losses)) => {
            let model =
                Model { outline, input, flow, losses, regularizer, init, weights, embedded, sample_weights };
            Ok(model)
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

/// The declared inputs, each with its shape (`None` when it is wrong):
/// `input: [784]` is one input named `input`.
fn inputs(value: Option<&Value>, errors: &mut Errors) -> Option<Vec<DeclaredInput>> {
    let declared = match value? {
        Value::Input { dims, span, elem } => {
            let tokens = tokens(elem.as_ref(), dims, *span, errors);
            let dims = input_shape(dims, *span, errors);
            vec![DeclaredInput { name: Ident::new("input", *span), dims, tokens }]
        }
        Value::Inputs(named) if named.is_empty() => return None,
        Value::Inputs(named) => named
            .iter()
            .map(|n| {
                let tokens = tokens(n.elem.as_ref(), &n.dims, n.span, errors);
                DeclaredInput { name: n.name.clone(), dims: input_shape(&n.dims, n.span, errors), tokens }
            })
            .collect(),
        _ => return None,
    };
    if declared.len() > 1
        && let Some(text) = declared.iter().find(|i| i.tokens)
    {
        errors.push(
            text.name.span(),
            format!(
                "token ids are the network's only input for now: `{}` cannot share the input \
                 with values of another type",
                text.name
            ),
        );
        return None;
    }
    Some(declared)
}

/// Whether `[elem; n]` declares token ids: `u32` does; an array of any
/// other type is a mistake, and so is more than one size.
fn tokens(elem: Option<&Ident>, dims: &[Expr], span: Span, errors: &mut Errors) -> bool {
    let Some(elem) = elem else { return false };
    if elem != "u32" {
        errors.push(
            elem.span(),
            format!(
                "an input is `[..sizes]` of the network's scalars, or `[u32; n]`, n token ids; \
                 found `{elem}`"
            ),
        );
    } else if dims.len() != 1 {
        errors.push(span, "token ids are a sequence: `[u32; n]`, n ids per sample");
    }
    true
}

/// Several inputs, each with its length, when all are known.
fn named_inputs(inputs: Option<&[DeclaredInput]>) -> Vec<(Ident, usize)> {
    let Some(inputs) = inputs.filter(|i| i.len() > 1) else { return Vec::new() };
    let lens = inputs.iter().map(|i| Some((i.name.clone(), i.dims.as_ref()?.iter().product())));
    lens.collect::<Option<Vec<_>>>().unwrap_or_default()
}

/// The input of a chain: `layers` reads one input.
fn single_input(
    inputs: Option<&[DeclaredInput]>,
    field: Option<&&Field>,
    errors: &mut Errors,
) -> Option<Vec<usize>> {
    match inputs? {
        [one] => one.dims.clone(),
        _ => {
            let at = field.map_or_else(Span::call_site, |f| f.key.span());
            errors.push(
                at,
                "several named inputs need a `graph` that says where each goes; `layers` reads one",
            );
            None
        }
    }
}

/// The flat input when every input's shape is known: the one input's
/// shape, or all side by side.
fn flat_input(inputs: &[DeclaredInput]) -> Option<Vec<usize>> {
    match inputs {
        [one] => one.dims.clone(),
        _ => inputs
            .iter()
            .map(|i| i.dims.as_ref().map(|d| d.iter().product::<usize>()))
            .sum::<Option<usize>>()
            .map(|n| vec![n]),
    }
}

/// Each layer must accept the shape the previous one produces (see
/// `layers::chain`); an empty list is a mistake, since a network without
/// layers has nothing to learn.
fn layer_chain(
    calls: &[Item],
    span: Span,
    input: Option<&[usize]>,
    tokens: bool,
    errors: &mut Errors,
) -> (Vec<Placed>, Option<Vec<usize>>) {
    if calls.is_empty() {
        errors
            .push(span, "`layers` is empty; a network needs at least one layer, as in `layers: [dense(10)]`");
        return (Vec::new(), None);
    }
    layers::chain(calls, input, tokens, "layers", errors)
}

/// The network's outputs with their names and shapes, as far as known:
/// the graph's (its names even when a mistake hides their shapes), or the
/// one output of a chain.
fn outputs(
    flow: Option<&Dataflow>,
    graph: Option<&crate::parse::flow::GraphBlock>,
    chain_output: Option<Vec<usize>>,
) -> Vec<losses::Output> {
    use crate::parse::flow::Flow;
    let output = |name: &str, dims| losses::Output { name: name.to_string(), dims };
    match (flow, graph.and_then(|g| g.tail.as_ref())) {
        (Some(flow), _) => flow
            .outputs
            .iter()
            .zip(&flow.output_names)
            .map(|(&o, name)| output(name, Some(flow.values[o].dims.clone())))
            .collect(),
        (None, Some(Flow::Tuple(parts))) => {
            let mut outputs: Vec<losses::Output> = Vec::new();
            for (k, part) in parts.iter().enumerate() {
                let name = match part {
                    Flow::Name(name) => name.to_string(),
                    _ => format!("out{k}"),
                };
                // A name listed twice is one mistake, reported by the graph.
                if !outputs.iter().any(|o| o.name == name) {
                    outputs.push(output(&name, None));
                }
            }
            outputs
        }
        (None, Some(Flow::Name(name))) => vec![output(&name.to_string(), None)],
        _ => vec![output("output", chain_output)],
    }
}

/// The shape of one output sample: the one output's, or several side by side.
fn flat_output(outputs: &[losses::Output]) -> Option<Vec<usize>> {
    match outputs {
        [one] => one.dims.clone(),
        several => {
            let lens: Option<Vec<usize>> =
                several.iter().map(|o| o.dims.as_ref().map(|d| d.iter().product())).collect();
            Some(vec![lens?.iter().sum()])
        }
    }
}

/// Several outputs, each with its name and length, for `outputs(..)`.
fn named_outputs(outputs: &[losses::Output]) -> Vec<(String, usize)> {
    match outputs {
        [_] => Vec::new(),
        several => several
            .iter()
            .map(|o| (o.name.clone(), o.dims.as_ref().map_or(0, |d| d.iter().product())))
            .collect(),
    }
}

/// "the last layer `dense(1)`", for loss messages.
fn describe_last(value: Option<&Value>) -> String {
    match value {
        Some(Value::Layers { calls, .. }) => match calls.last() {
            Some(Item::Call(last)) => format!("the last layer `{}`", last.display()),
            _ => "the last layer".to_string(),
        },
        Some(Value::Graph(graph)) => match &graph.tail {
            Some(tail) => format!("the graph's output `{}`", tail.display()),
            None => "the graph's output".to_string(),
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

    #[test]
    fn a_graph_checks_shapes_across_branches() {
        check_errors(
            quote!(struct N {
                input: { x: [4], c: [2] },
                graph: {
                    let h = dense(x, 8);
                    let (a, b) = split(h, 2);
                    let gated = tanh(a) * sigmoid(b);
                    dense(concat(gated, dense(c, 3), h), 2)
                },
                loss: mse,
            }),
            &[],
        );
        check_errors(
            quote!(struct N { input: [4], graph: { let h = dense(input, 8); h + dense(input, 3) }, loss: mse }),
            &["`add` of values shaped 8 and 3"],
        );
    }

    /// A statement with a token error costs itself: the name it binds is
    /// known (its value not), so using it reports nothing more, and the
    /// mistakes of other statements still show.
    #[test]
    fn a_token_error_in_a_graph_costs_its_statement() {
        check_errors(
            quote!(struct N {
                input: [4],
                graph: {
                    let h = dense(input 8);
                    let g = dense(input, 0);
                    dense(relu(h) + g, 2)
                },
                loss: mse,
            }),
            &["expected `,`", "`dense` needs at least 1 output unit"],
        );
    }

    #[test]
    fn token_ids_have_one_axis_and_one_reader() {
        check_errors(
            quote!(struct N { input: [u32; 2, 3], layers: [embedding(9, 4), flatten, dense(2)], loss: mse }),
            &["token ids are a sequence: `[u32; n]`, n ids per sample"],
        );
        check_errors(
            quote!(struct N { input: [u32; 6], graph: { let e = embedding(input, 9, 4); dense(flatten(e + input), 2) }, loss: mse }),
            &["`input` is token ids, which only `embedding` reads"],
        );
        check_errors(
            quote!(struct N { input: { a: [u32; 6], b: [2] }, graph: { dense(concat(flatten(embedding(a, 9, 2)), b), 2) }, loss: mse }),
            &["token ids are the network's only input for now"],
        );
    }

    #[test]
    fn several_outputs_each_have_a_named_loss() {
        let graph = quote!(graph: { let h = dense(input, 8); let price = dense(h, 1); let class = dense(h, 3); (price, class) });
        check_errors(
            quote!(struct N { input: [4], #graph, loss: { price: mse, class: 0.5 * softmax_cross_entropy } }),
            &[],
        );
        check_errors(
            quote!(struct N { input: [4], #graph, loss: mse }),
            &[
                "the graph has 2 outputs, `price`, `class`: give each its loss, as in `loss: { price: mse, class: mse }`",
            ],
        );
        check_errors(
            quote!(struct N { input: [4], #graph, loss: { price: mse, klass: nll } }),
            &["unknown output `klass`, did you mean `class`?"],
        );
        check_errors(
            quote!(struct N { input: [4], #graph, loss: { price: mse } }),
            &["output `class` has no loss; add one, as in `class: mse`"],
        );
        check_errors(
            quote!(struct N { input: [4], #graph, loss: { price: mse, price: mae, class: nll } }),
            &["output `price` has a loss already"],
        );
        check_errors(
            quote!(struct N { input: [4], #graph, loss: { price: 0 * mse, class: nll } }),
            &["a loss weight must be a finite number above 0, found 0"],
        );
        // Each loss is checked against its own output.
        check_errors(
            quote!(struct N { input: [4], #graph, loss: { price: softmax_cross_entropy, class: nll } }),
            &["`softmax_cross_entropy` needs at least 2 classes but output `price` produces 1 value"],
        );
    }

    #[test]
    fn outputs_are_names() {
        check_errors(
            quote!(struct N { input: [4], graph: { let h = dense(input, 8); (dense(h, 2), h) }, loss: mse }),
            &[
                "each output is a name, which its loss refers to: bind it first, as in `let out0 = dense(h, 2);`",
                // Independent of the first: two outputs need two losses.
                "the graph has 2 outputs, `out0`, `h`",
            ],
        );
        check_errors(
            quote!(struct N { input: [4], graph: { let h = dense(input, 8); (h, h) }, loss: { h: mse } }),
            &["`h` is listed twice among the outputs"],
        );
    }

    #[test]
    fn layers_and_graph_exclude_each_other() {
        check_errors(
            quote!(struct N { input: [4], layers: [dense(2)], graph: { dense(input, 2) }, loss: mse }),
            &["a network has `layers` (a chain) or `graph`, not both"],
        );
        check_errors(
            quote!(struct N { input: { a: [4], b: [2] }, layers: [dense(2)], loss: mse }),
            &["several named inputs need a `graph`"],
        );
    }
}
