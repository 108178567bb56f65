//! `regularizer:` penalties on the weights, added to the loss.
//!
//! - `l2(lambda)` adds `lambda / 2 * sum(w^2)`, whose gradient `lambda * w`
//!   equals `weight_decay = lambda` in PyTorch's SGD;
//! - `l1(lambda)` adds `lambda * sum(abs(w))`, gradient `lambda * sign(w)`;
//! - `l1(a) + l2(b)` adds both (the elastic net).
//!
//! Only weights are penalized by default, since shrinking biases buys no
//! smoothness; `l2(lambda, biases = true)` includes the biases too.

use crate::args;
use crate::errors::Errors;
use crate::ir::Op;
use crate::ir::expr::{Expr, Unary, add, c, mul, powi, unary, var};
use crate::ir::{Graph, NodeId, Role, Shape};
use crate::ops;
use crate::parse::Call;
use syn::{Expr as SynExpr, Lit};

pub const KEYWORDS: [&str; 2] = ["l1", "l2"];

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Penalty {
    pub lambda: f64,
    pub biases: bool,
}

#[derive(Default)]
pub struct Regularizer {
    pub l1: Option<Penalty>,
    pub l2: Option<Penalty>,
}

pub fn resolve(terms: &[Call], errors: &mut Errors) -> Option<Regularizer> {
    let mut reg = Regularizer::default();
    for call in terms {
        let name = call.name.to_string();
        let slot = match name.as_str() {
            "l1" => &mut reg.l1,
            "l2" => &mut reg.l2,
            _ => {
                errors.push(call.name.span(), crate::suggest::unknown("regularizer", &name, &KEYWORDS));
                continue;
            }
        };
        if slot.is_some() {
            errors.push(call.name.span(), format!("`{name}` is given twice; give each penalty once"));
            continue;
        }
        *slot = penalty(call, errors);
    }
    Some(reg)
}

/// `(lambda)` or `(lambda, biases = true|false)`, lambda finite and at least 0.
fn penalty(call: &Call, errors: &mut Errors) -> Option<Penalty> {
    let usage = format!("{}(1e-4)", call.name);
    let (positional, named): (Vec<_>, Vec<_>) = call.args.iter().partition(|a| a.name.is_none());
    let mut biases = false;
    for arg in named {
        let name = arg.name.as_ref().map(ToString::to_string).unwrap_or_default();
        if name != "biases" {
            errors.push(arg.site(), format!("`{}` has no parameter `{name}`; it takes `biases`", call.name));
            return None;
        }
        match &arg.value {
            SynExpr::Lit(lit) if matches!(lit.lit, Lit::Bool(_)) => {
                biases = matches!(&lit.lit, Lit::Bool(b) if b.value);
            }
            _ => {
                errors.push(arg.site(), "`biases` takes `true` or `false`");
                return None;
            }
        }
    }
    let [arg] = positional.as_slice() else {
        errors.push(call.site(), format!("`{}` takes its strength, as in `{usage}`", call.name));
        return None;
    };
    match args::real(&arg.value) {
        Ok(v) if v.is_finite() && v >= 0.0 => Some(Penalty { lambda: v, biases }),
        Ok(v) => {
            errors.push(
                arg.site(),
                format!("`{}` strength must be a finite number of at least 0, found {v}", call.name),
            );
            None
        }
        Err(message) => {
            errors.push(arg.site(), message);
            None
        }
    }
}

impl Regularizer {
    /// Returns `loss` plus every penalty.
    pub fn lower(&self, g: &mut Graph, loss: NodeId) -> NodeId {
        let l1 = self.l1.map(|p| (p, unary(Unary::Abs, var(0)), 1.0));
        let l2 = self.l2.map(|p| (p, powi(var(0), 2), 0.5));
        let mut total = loss;
        for (penalty, per_element, factor) in l1.into_iter().chain(l2) {
            if penalty.lambda == 0.0 {
                continue;
            }
            let sums = penalized(g, penalty.biases)
                .into_iter()
                .map(|p| {
                    let shape = g.shape(p).clone();
                    let values = ops::map::map(g, per_element.clone(), vec![p], shape);
                    ops::reduce::sum_all(g, values)
                })
                .collect::<Vec<_>>();
            if sums.is_empty() {
                continue;
            }
            let sum: Expr = (1..sums.len()).fold(var(0), |acc, i| add(acc, var(i)));
            let term = ops::map::map(g, mul(c(penalty.lambda * factor), sum), sums, Shape::scalar());
            total = ops::map::map(g, add(var(0), var(1)), vec![total, term], Shape::scalar());
        }
        total
    }
}

/// Parameter nodes a penalty applies to.
fn penalized(g: &Graph, biases: bool) -> Vec<NodeId> {
    (0..g.nodes.len())
        .filter(|&id| match g.node(id).op {
            Op::Param(k) => g.params[k].role == Role::Weight || biases,
            _ => false,
        })
        .collect()
}
