//! Loss keywords: which outputs and targets each accepts, and the graph it
//! lowers to. Every loss is a mean, as PyTorch's default reduction.
//!
//! Elementwise losses compare each output element `y` with a target value
//! `t` (targets are arrays shaped like the output) and average over all
//! elements:
//!
//! | keyword | per element | PyTorch |
//! |---------|-------------|---------|
//! | `mse` | `(y - t)^2` | `MSELoss` |
//! | `mae` | `abs(y - t)` | `L1Loss` |
//! | `huber(delta = 1)` | `(y - t)^2 / 2` if `abs(y - t) < delta`, else `delta (abs(y - t) - delta / 2)` | `HuberLoss` |
//! | `binary_cross_entropy` | `-(t ln y + (1 - t) ln(1 - y))`, logs clamped at -100, `y` a probability | `BCELoss` |
//! | `binary_cross_entropy_with_logits` | the same on `sigmoid(y)`, computed as `softplus(y) - t y` | `BCEWithLogitsLoss` |
//! | `hinge` | `max(0, 1 - t y)` for `t` in {-1, +1} | |
//! | `\|y, t\| expr` | the closure, differentiated symbolically (see `user_expr`) | |
//!
//! Class losses need a flat output of at least 2 class scores and, unless
//! stated, take one class index (`usize`) per sample:
//!
//! | keyword | per sample | PyTorch |
//! |---------|------------|---------|
//! | `softmax_cross_entropy` | `-ln softmax(y)[t]` | `CrossEntropyLoss` |
//! | `softmax_cross_entropy(probabilities)` | `-sum_j t_j ln softmax(y)_j`, `t` a one-hot or probability vector | `CrossEntropyLoss` with probability targets |
//! | `nll` | `-y[t]`, `y` log-probabilities (end the layers with `log_softmax`) | `NLLLoss` |
//! | `multiclass_hinge` | `sum_{j != t} max(0, y_j - y_t + 1)`, the linear-classifier SVM loss | `MultiMarginLoss` times the class count |
//!
//! `softmax_cross_entropy(weights = [w_0, ..])` and `nll(weights = [..])`
//! weight each class as PyTorch's `weight` argument does: the loss is the
//! weighted mean `sum_i w[t_i] l_i / sum_i w[t_i]`, a weight per class,
//! each finite and at least 0, not all 0.
//!
//! `softmax_cross_entropy` is lowered as softmax followed by cross-entropy;
//! the simplifier fuses the pair into a stable log-sum-exp with gradient
//! `(p - onehot(t)) / batch`. With probability targets it is lowered on
//! `log_softmax`, which is stable by itself.

mod sample_weights;
mod terms;

pub use terms::{Output, named, single, targets};

use crate::args;
use crate::errors::Errors;
use crate::ir::expr::{Binary, Expr, Unary, add, binary, c, div, mul, neg, powi, sub, unary, var};
use crate::ir::{Graph, NodeId, Read, Shape, TargetKind};
use crate::model::show_shape;
use crate::ops;
use crate::parse::Call;

pub const KEYWORDS: [&str; 9] = [
    "mse",
    "mae",
    "huber",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "hinge",
    "softmax_cross_entropy",
    "nll",
    "multiclass_hinge",
];

#[derive(Clone, Debug, PartialEq)]
pub enum LossKind {
    Mse,
    Mae,
    Huber {
        delta: f64,
    },
    BinaryCrossEntropy,
    BinaryCrossEntropyWithLogits,
    Hinge,
    SoftmaxCrossEntropy,
    /// Softmax cross-entropy against probability (or one-hot) vectors.
    SoftmaxCrossEntropyProbabilities,
    Nll,
    MulticlassHinge,
    /// A user-defined elementwise loss of `Var(0)` (output) and `Var(1)` (target).
    Custom(Expr),
}

pub struct Loss {
    pub kind: LossKind,
    /// A weight per class (`weights = [..]` on a class loss).
    pub class_weights: Option<Vec<f64>>,
}

impl From<LossKind> for Loss {
    fn from(kind: LossKind) -> Self {
        Self { kind, class_weights: None }
    }
}

/// One output's loss and its weight in the network's total loss.
pub struct Term {
    pub weight: f64,
    pub loss: Loss,
}

/// Resolves the `loss:` call against the network output. `last` names the
/// layer producing the output, for messages.
pub fn resolve(call: &Call, output: Option<&[usize]>, last: &str, errors: &mut Errors) -> Option<Loss> {
    let name = call.name.to_string();
    let kind = match name.as_str() {
        "mse" => LossKind::Mse,
        "mae" => LossKind::Mae,
        "huber" => {
            return huber(call, errors).map(|delta| LossKind::Huber { delta }.into());
        }
        "binary_cross_entropy" => LossKind::BinaryCrossEntropy,
        "binary_cross_entropy_with_logits" => LossKind::BinaryCrossEntropyWithLogits,
        "hinge" => LossKind::Hinge,
        "softmax_cross_entropy" | "nll"
            if call.args.iter().any(|a| a.name.as_ref().is_some_and(|n| n == "weights")) =>
        {
            check_classes(call, &name, output, last, errors);
            let classes = output.and_then(|dims| dims.last().copied());
            let weights = class_weights(call, classes, errors)?;
            let kind = if name == "nll" { LossKind::Nll } else { LossKind::SoftmaxCrossEntropy };
            return Some(Loss { kind, class_weights: Some(weights) });
        }
        "softmax_cross_entropy" if call.paren.is_some() => {
            let kind = probabilities(call, errors)?;
            check_classes(call, &name, output, last, errors);
            return Some(kind.into());
        }
        "softmax_cross_entropy" => LossKind::SoftmaxCrossEntropy,
        "nll" => LossKind::Nll,
        "multiclass_hinge" => LossKind::MulticlassHinge,
        _ => {
            let message = match alias(&name) {
                Some(keyword) => format!("unknown loss `{name}`, did you mean `{keyword}`?"),
                None => crate::suggest::unknown("loss", &name, &KEYWORDS),
            };
            errors.push(call.name.span(), message);
            return None;
        }
    };
    if call.paren.is_some() {
        args::positional(call, 0, &name, errors)?;
    }
    if matches!(kind, LossKind::SoftmaxCrossEntropy | LossKind::Nll | LossKind::MulticlassHinge) {
        check_classes(call, &name, output, last, errors);
    }
    Some(kind.into())
}

/// `weights = [w_0, .., w_{c-1}]`: one finite weight of at least 0 per
/// class, not all 0, and nothing else in the parentheses.
fn class_weights(call: &Call, classes: Option<usize>, errors: &mut Errors) -> Option<Vec<f64>> {
    let name = call.name.to_string();
    let usage = format!("`{name}(weights = [1.0, 2.0, ..])`, a weight per class");
    let mut found = None;
    for arg in &call.args {
        match (&arg.name, &arg.value) {
            (Some(n), syn::Expr::Array(list)) if n == "weights" => found = Some((arg, list)),
            (Some(n), _) if n == "weights" => {
                errors.push(arg.site(), format!("expected a list of numbers, as in {usage}"));
                return None;
            }
            _ => {
                errors
                    .push(arg.site(), format!("`{name}` with class weights takes only them, as in {usage}"));
                return None;
            }
        }
    }
    let (arg, list) = found?;
    let mut weights = Vec::new();
    for element in &list.elems {
        match args::real(element) {
            Ok(w) if w.is_finite() && w >= 0.0 => weights.push(w),
            Ok(w) => {
                errors.push(
                    crate::errors::Site::of(element),
                    format!("a class weight must be finite and at least 0, found {w}"),
                );
                return None;
            }
            Err(message) => {
                errors.push(crate::errors::Site::of(element), message);
                return None;
            }
        }
    }
    if let Some(c) = classes.filter(|&c| c != weights.len()) {
        errors
            .push(arg.site(), format!("{} class weights for {c} classes: give one per class", weights.len()));
        return None;
    }
    if weights.iter().all(|&w| w == 0.0) {
        errors.push(arg.site(), "the class weights are all 0: no sample would count");
        return None;
    }
    Some(weights)
}

/// Names other libraries give these losses (PyTorch's modules and
/// functions, Keras' losses), each with the keyword to write instead.
const ALIASES: &[(&str, &str)] = &[
    ("cross_entropy", "softmax_cross_entropy"),
    ("CrossEntropyLoss", "softmax_cross_entropy"),
    ("categorical_crossentropy", "softmax_cross_entropy"),
    ("sparse_categorical_crossentropy", "softmax_cross_entropy"),
    ("CategoricalCrossentropy", "softmax_cross_entropy"),
    ("SparseCategoricalCrossentropy", "softmax_cross_entropy"),
    ("MSELoss", "mse"),
    ("mean_squared_error", "mse"),
    ("MeanSquaredError", "mse"),
    ("L1Loss", "mae"),
    ("mean_absolute_error", "mae"),
    ("MeanAbsoluteError", "mae"),
    ("HuberLoss", "huber"),
    ("Huber", "huber"),
    ("BCELoss", "binary_cross_entropy"),
    ("binary_crossentropy", "binary_cross_entropy"),
    ("BinaryCrossentropy", "binary_cross_entropy"),
    ("BCEWithLogitsLoss", "binary_cross_entropy_with_logits"),
    ("NLLLoss", "nll"),
    ("nll_loss", "nll"),
    ("MultiMarginLoss", "multiclass_hinge"),
];

fn alias(name: &str) -> Option<&'static str> {
    ALIASES.iter().find(|(other, _)| *other == name).map(|&(_, keyword)| keyword)
}

/// What to suggest when `loss` is missing, for a network with `output`.
pub fn example(output: Option<&[usize]>) -> String {
    match output {
        Some(&[n]) if n >= 2 => format!(
            "for its {n} outputs, add `loss: softmax_cross_entropy` if each sample's target is a class, or \
             `loss: mse` if it is {n} values"
        ),
        Some(&[1]) => {
            "for its one output, add `loss: mse`, or `loss: binary_cross_entropy_with_logits` if the \
                       target is yes or no"
                .to_string()
        }
        _ => "add one, for example `loss: mse`".to_string(),
    }
}

/// The targets the loss `call` most likely meant, when it names no loss:
/// those of the keyword it resembles, else class indices for several
/// outputs and values for one. Only for declaring the type after a mistake.
pub fn likely_target(call: &Call, output: Option<&[usize]>) -> Option<TargetKind> {
    let name = call.name.to_string();
    let meant = alias(&name).map(str::to_string).or_else(|| {
        let hint = crate::suggest::did_you_mean(&name, KEYWORDS);
        KEYWORDS.iter().find(|k| hint.contains(&format!("`{k}`"))).map(|k| k.to_string())
    });
    let out = output?;
    let classes = class_targets(out);
    Some(match meant.as_deref() {
        Some("softmax_cross_entropy" | "nll" | "multiclass_hinge") => classes,
        Some(_) => TargetKind::Values,
        None if out.iter().product::<usize>() >= 2 => classes,
        None => TargetKind::Values,
    })
}

/// Class targets of an output: a class per sample of a flat one, per
/// step of a `[t, c]` one.
fn class_targets(output: &[usize]) -> TargetKind {
    match output {
        &[steps, classes] => TargetKind::Class { classes, steps },
        _ => TargetKind::Class { classes: output.iter().product(), steps: 1 },
    }
}

/// Class losses read a flat output of at least two class scores (with one
/// output there is nothing to choose between: use a binary loss instead),
/// or, for `softmax_cross_entropy` and `nll`, a `[t, c]` output of scores
/// at every step (a language model's), with a class per step.
fn check_classes(call: &Call, name: &str, output: Option<&[usize]>, last: &str, errors: &mut Errors) {
    let Some(out) = output else { return };
    let per_step = matches!(name, "softmax_cross_entropy" | "nll");
    let classes = match *out {
        [classes] => classes,
        [_, classes] if per_step => classes,
        _ => {
            let expected = if per_step {
                "a flat output of class scores, or `[steps, classes]`,"
            } else {
                "a flat output of class scores"
            };
            errors.push(
                call.name.span(),
                format!("`{name}` needs {expected} but {last} produces {}", show_shape(out)),
            );
            return;
        }
    };
    if classes < 2 {
        errors.push(
            call.name.span(),
            format!("`{name}` needs at least 2 classes but {last} produces {classes} value"),
        );
    }
}

/// `softmax_cross_entropy(probabilities)`; nothing else goes in the parentheses.
fn probabilities(call: &Call, errors: &mut Errors) -> Option<LossKind> {
    let usage = "softmax_cross_entropy(probabilities)";
    let [arg] = args::positional(call, 1, usage, errors)? else { return None };
    match &arg.value {
        syn::Expr::Path(p) if p.path.is_ident("probabilities") => {
            Some(LossKind::SoftmaxCrossEntropyProbabilities)
        }
        _ => {
            errors.push(
                arg.site(),
                format!("expected `probabilities`, as in `{usage}`, or no parentheses for class indices"),
            );
            None
        }
    }
}

/// `loss: |y, t| ...`: an elementwise loss averaged over all output elements.
pub fn resolve_closure(closure: &syn::ExprClosure, errors: &mut Errors) -> Option<Loss> {
    let expr = crate::user_expr::translate(closure, &["y", "t"], errors)?;
    Some(LossKind::Custom(expr).into())
}

/// `huber` or `huber(delta)` with a positive, finite delta (default 1, as PyTorch).
fn huber(call: &Call, errors: &mut Errors) -> Option<f64> {
    if call.paren.is_none() {
        return Some(1.0);
    }
    let [arg] = args::positional(call, 1, "huber(1.0)", errors)? else {
        return None;
    };
    match args::real(&arg.value) {
        Ok(d) if d.is_finite() && d > 0.0 => Some(d),
        Ok(d) => {
            errors.push(arg.site(), format!("`huber` delta must be a finite number above 0, found {d}"));
            None
        }
        Err(message) => {
            errors.push(arg.site(), message);
            None
        }
    }
}

impl LossKind {
    /// The per-element loss of output `Var(0)` against target `Var(1)`, for
    /// the elementwise losses.
    fn elementwise(&self) -> Option<Expr> {
        let (y, t) = (var(0), var(1));
        let ln_clamped = |e: Expr| binary(Binary::Max, unary(Unary::Ln, e), c(-100.0));
        Some(match self {
            LossKind::Mse => powi(sub(y, t), 2),
            LossKind::Mae => unary(Unary::Abs, sub(y, t)),
            // With m = min(|d|, delta): m^2 / 2 + delta (|d| - m) is the
            // quadratic inside the band and the linear part outside it.
            LossKind::Huber { delta } => {
                let delta = *delta;
                let d = unary(Unary::Abs, sub(y, t));
                let m = binary(Binary::Min, d.clone(), c(delta));
                add(mul(c(0.5), powi(m.clone(), 2)), mul(c(delta), sub(d, m)))
            }
            LossKind::BinaryCrossEntropy => {
                let positive = mul(t.clone(), ln_clamped(y.clone()));
                let negative = mul(sub(c(1.0), t), ln_clamped(sub(c(1.0), y)));
                neg(add(positive, negative))
            }
            LossKind::BinaryCrossEntropyWithLogits => sub(unary(Unary::Softplus, y.clone()), mul(t, y)),
            LossKind::Hinge => binary(Binary::Max, c(0.0), sub(c(1.0), mul(t, y))),
            LossKind::Custom(e) => e.clone(),
            LossKind::SoftmaxCrossEntropy
            | LossKind::SoftmaxCrossEntropyProbabilities
            | LossKind::Nll
            | LossKind::MulticlassHinge => return None,
        })
    }
}

impl Loss {
    pub fn target(&self, output: &[usize]) -> TargetKind {
        match self.kind {
            LossKind::SoftmaxCrossEntropy | LossKind::Nll | LossKind::MulticlassHinge => {
                class_targets(output)
            }
            _ => TargetKind::Values,
        }
    }

    /// Appends the loss of output `y` against target `t`; returns the scalar.
    pub fn lower(&self, g: &mut Graph, y: NodeId, t: NodeId) -> NodeId {
        match self.kind.elementwise() {
            Some(per_element) => {
                let shape = g.shape(y).clone();
                let n = shape.len() as f64;
                let losses = ops::map::map(g, per_element, vec![y, t], shape);
                let total = ops::reduce::sum_all(g, losses);
                let mean = div(var(0), mul(Expr::Batch, c(n)));
                ops::map::map(g, mean, vec![total], Shape::scalar())
            }
            None => self.lower_classes(g, y, t),
        }
    }
}

impl Loss {
    /// The class losses; each returns the mean over the batch (and over
    /// the steps, with a class per step, as PyTorch's mean over all
    /// targets).
    fn lower_classes(&self, g: &mut Graph, y: NodeId, t: NodeId) -> NodeId {
        if let Some(weights) = &self.class_weights {
            return weighted_mean(g, y, t, weights, self.kind == LossKind::SoftmaxCrossEntropy, None);
        }
        let negative_mean = |g: &mut Graph, values: NodeId, per_sample: usize| {
            let total = ops::reduce::sum_all(g, values);
            let count = match per_sample {
                1 => Expr::Batch,
                n => mul(Expr::Batch, c(n as f64)),
            };
            ops::map::map(g, neg(div(var(0), count)), vec![total], Shape::scalar())
        };
        match self.kind {
            LossKind::Nll => {
                let picked = ops::pick::pick(g, y, t);
                let steps = g.shape(picked).len();
                negative_mean(g, picked, steps)
            }
            LossKind::SoftmaxCrossEntropyProbabilities => {
                let log_p = ops::log_softmax::log_softmax(g, y);
                let shape = g.shape(y).clone();
                let weighted = ops::map::map(g, mul(var(0), var(1)), vec![log_p, t], shape);
                negative_mean(g, weighted, 1)
            }
            // Summing max(0, y_j - y_t + 1) over all j includes j = t, which
            // adds exactly 1 per sample; the mean subtracts it back out.
            LossKind::MulticlassHinge => {
                let target_score = ops::pick::pick(g, y, t);
                let shape = g.shape(y).clone();
                let margin = binary(Binary::Max, c(0.0), add(sub(var(0), var(1)), c(1.0)));
                let margins = ops::map::map(g, margin, vec![y, target_score], shape);
                let total = ops::reduce::sum_all(g, margins);
                ops::map::map(g, sub(div(var(0), Expr::Batch), c(1.0)), vec![total], Shape::scalar())
            }
            _ => {
                let p = ops::softmax::softmax(g, y);
                ops::cross_entropy::cross_entropy(g, p, t)
            }
        }
    }
}

/// `-sum_i w[t_i] ln p_i[t_i] / sum_i w[t_i]`, `ln p` the log-softmax of
/// `y` or `y` itself (`nll`): PyTorch's class-weighted mean, over samples
/// or, with a class per step, over every step. With `samples` (a weight
/// per sample, `[batch]`), each `w[t_i]` is multiplied by its sample's.
fn weighted_mean(
    g: &mut Graph,
    y: NodeId,
    t: NodeId,
    weights: &[f64],
    softmax: bool,
    samples: Option<NodeId>,
) -> NodeId {
    let shape = g.shape(y).clone();
    let log_p = if softmax { ops::log_softmax::log_softmax(g, y) } else { y };
    let w = g.constant(weights.to_vec());
    let mut reads = vec![(w, Read::PerColumn)];
    reads.extend(samples.map(|s| (s, Read::PerSample)));
    // The product of all the operands of a map.
    let product = |operands: &[(NodeId, Read)]| (0..operands.len()).map(var).reduce(mul).expect("an operand");
    let mut operands = vec![(log_p, Read::Same)];
    operands.extend(reads.iter().copied());
    let weighted = ops::map::map_with(g, product(&operands), operands, shape.clone());
    let every_row = ops::map::map_with(g, product(&reads), reads, shape);
    let (numerator, denominator) = (ops::pick::pick(g, weighted, t), ops::pick::pick(g, every_row, t));
    let (numerator, denominator) = (ops::reduce::sum_all(g, numerator), ops::reduce::sum_all(g, denominator));
    ops::map::map(g, neg(div(var(0), var(1))), vec![numerator, denominator], Shape::scalar())
}
