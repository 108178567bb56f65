//! `regularizer: l2(lambda)`: adds `lambda / 2 * sum(w^2)` over every weight
//! (not biases) to the loss, so its gradient is `lambda * w`, the same as
//! `weight_decay = lambda` in PyTorch's SGD.

use crate::args;
use crate::errors::Errors;
use crate::ir::expr::{Expr, add, c, mul, powi, var};
use crate::ir::{Graph, NodeId, Role, Shape};
use crate::ops::{self, Op};
use crate::parse::Call;

pub const KEYWORDS: [&str; 1] = ["l2"];

pub struct Regularizer {
    pub l2: f64,
}

pub fn resolve(call: &Call, errors: &mut Errors) -> Option<Regularizer> {
    let name = call.name.to_string();
    if name != "l2" {
        errors.push(
            call.name.span(),
            crate::suggest::unknown("regularizer", &name, &KEYWORDS),
        );
        return None;
    }
    let [arg] = args::positional(call, 1, "l2(1e-4)", errors)? else {
        return None;
    };
    match args::real(&arg.value) {
        Ok(v) if v.is_finite() && v >= 0.0 => Some(Regularizer { l2: v }),
        Ok(v) => {
            errors.push(
                arg.site(),
                format!("`l2` strength must be a finite number of at least 0, found {v}"),
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
    /// Returns `loss + lambda / 2 * sum of squared weights`.
    pub fn lower(&self, g: &mut Graph, loss: NodeId) -> NodeId {
        let weights: Vec<NodeId> = (0..g.nodes.len())
            .filter(|&id| matches!(g.node(id).op, Op::Param(k) if g.params[k].role == Role::Weight))
            .collect();
        if weights.is_empty() || self.l2 == 0.0 {
            return loss;
        }
        let sums: Vec<NodeId> = weights
            .into_iter()
            .map(|w| {
                let shape = g.shape(w).clone();
                let squares = ops::map::map(g, powi(var(0), 2), vec![w], shape);
                ops::reduce::sum_all(g, squares)
            })
            .collect();
        let total = (1..sums.len()).fold(var(0), |acc, i| add(acc, var(i)));
        let penalty: Expr = mul(c(self.l2 / 2.0), total);
        let reg = ops::map::map(g, penalty, sums, Shape::scalar());
        ops::map::map(g, add(var(0), var(1)), vec![loss, reg], Shape::scalar())
    }
}
