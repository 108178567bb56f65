//! The losses with a weight per sample (`sample_weights: true`): each
//! sample's loss `l_i`, as the unweighted mean defines it, enters as
//! `sum_i w_i l_i / sum_i w_i`. Weights of 1 give the plain mean, and an
//! integer weight `k` counts a sample as `k` copies of it would. With a
//! class per step each of the sample's steps carries its weight; with
//! class weights as well, a step counts with the product of the two, as
//! PyTorch's `weight` with a `reduction='none'` loss times the sample
//! weights, summed and divided by the summed products.
//!
//! These are separate graphs from the unweighted ones: those keep their
//! fused softmax cross-entropy, which needs the plain mean.

use super::{Loss, LossKind};
use crate::ir::expr::{Binary, Expr, add, binary, c, div, mul, neg, sub, var};
use crate::ir::{Graph, NodeId, Read, Shape};
use crate::ops;

impl Loss {
    /// Appends the loss of output `y` against target `t`, sample `i`
    /// weighted by `w[i]` (`[batch]`); returns the scalar.
    pub fn lower_weighted(&self, g: &mut Graph, y: NodeId, t: NodeId, w: NodeId) -> NodeId {
        if let Some(per_element) = self.kind.elementwise() {
            let shape = g.shape(y).clone();
            let n = shape.len() as f64;
            let losses = ops::map::map(g, per_element, vec![y, t], shape);
            return weighted_sum(g, losses, w, |sum, weights| div(sum, mul(weights, c(n))));
        }
        if let Some(classes) = &self.class_weights {
            let softmax = self.kind == LossKind::SoftmaxCrossEntropy;
            return super::weighted_mean(g, y, t, classes, softmax, Some(w));
        }
        match self.kind {
            LossKind::Nll | LossKind::SoftmaxCrossEntropy => {
                let log_p = if self.kind == LossKind::Nll { y } else { ops::log_softmax::log_softmax(g, y) };
                let picked = ops::pick::pick(g, log_p, t);
                let steps = g.shape(picked).len() as f64;
                weighted_sum(g, picked, w, |sum, weights| neg(div(sum, mul(weights, c(steps)))))
            }
            LossKind::SoftmaxCrossEntropyProbabilities => {
                let log_p = ops::log_softmax::log_softmax(g, y);
                let shape = g.shape(y).clone();
                let products = ops::map::map(g, mul(var(0), var(1)), vec![log_p, t], shape);
                weighted_sum(g, products, w, |sum, weights| neg(div(sum, weights)))
            }
            // A sample's margins summed over every class include the target's
            // own, exactly 1: the weighted mean of the sums less 1.
            LossKind::MulticlassHinge => {
                let target_score = ops::pick::pick(g, y, t);
                let shape = g.shape(y).clone();
                let margin = binary(Binary::Max, c(0.0), add(sub(var(0), var(1)), c(1.0)));
                let margins = ops::map::map(g, margin, vec![y, target_score], shape);
                weighted_sum(g, margins, w, |sum, weights| sub(div(sum, weights), c(1.0)))
            }
            _ => unreachable!("every elementwise loss is handled above"),
        }
    }
}

/// `finish(sum_i w_i sum_k v_ik, sum_i w_i)`: the values of each sample
/// summed with its weight, and the weights summed.
fn weighted_sum(g: &mut Graph, values: NodeId, w: NodeId, finish: impl Fn(Expr, Expr) -> Expr) -> NodeId {
    let shape = g.shape(values).clone();
    let weighted =
        ops::map::map_with(g, mul(var(0), var(1)), vec![(values, Read::Same), (w, Read::PerSample)], shape);
    let (sum, weights) = (ops::reduce::sum_all(g, weighted), ops::reduce::sum_all(g, w));
    ops::map::map(g, finish(var(0), var(1)), vec![sum, weights], Shape::scalar())
}
