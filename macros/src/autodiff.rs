//! Stage 4: reverse-mode differentiation on the IR.
//!
//! Walk the graph backwards from the loss, in reverse topological order.
//! Each node's gradient is the sum of the contributions its users sent
//! (a value read twice gets two contributions: a copy sums its gradients);
//! the node's `vjp` turns that gradient into contributions for its own
//! operands. Only nodes that depend on a parameter carry gradients, so the
//! network input and the targets never get one. The result is new nodes in
//! the same graph, which later stages simplify and emit like any others.

use crate::ir::expr::{add, c, var};
use crate::ir::{Graph, NodeId, Op, Shape};
use crate::lower::Lowered;
use crate::ops::{self, Derivative};

/// The training graph with its backward pass.
pub struct Backward {
    pub graph: Graph,
    pub loss: NodeId,
    /// `(parameter index, gradient node)` for each parameter the loss depends on.
    pub grads: Vec<(usize, NodeId)>,
    /// Nodes before this index are the forward pass.
    pub forward_len: usize,
}

/// Stage 4: the backward pass of the training graph.
pub fn backward(training: &Lowered) -> Backward {
    let mut graph = training.graph.clone();
    let forward_len = graph.nodes.len();
    let grads = differentiate(&mut graph, training.loss);
    Backward { graph, loss: training.loss, grads, forward_len }
}

/// Appends the backward pass of scalar `loss`; returns, for each parameter
/// the loss depends on, `(parameter index, gradient node)`, in parameter
/// order.
pub fn differentiate(g: &mut Graph, loss: NodeId) -> Vec<(usize, NodeId)> {
    let params: Vec<NodeId> =
        (0..g.nodes.len()).filter(|&id| matches!(g.node(id).op, Op::Param(_))).collect();
    let mut grads: Vec<(usize, NodeId)> = gradients(g, loss, &params)
        .into_iter()
        .map(|(node, grad)| match g.node(node).op {
            Op::Param(k) => (k, grad),
            _ => unreachable!("gradients are asked of parameters"),
        })
        .collect();
    grads.sort_by_key(|&(k, _)| k);
    grads
}

/// Appends the backward pass of scalar `loss` with respect to the nodes
/// `wrt`; returns `(node, gradient node)` for each of them the loss depends
/// on. Only nodes that depend on one of `wrt` carry gradients.
pub fn gradients(g: &mut Graph, loss: NodeId, wrt: &[NodeId]) -> Vec<(NodeId, NodeId)> {
    let forward = g.nodes.len();
    let mut needs = vec![false; forward];
    for id in 0..forward {
        needs[id] = wrt.contains(&id) || g.node(id).inputs.iter().any(|&i| needs[i]);
    }
    let mut pending: Vec<Vec<NodeId>> = vec![Vec::new(); forward];
    let seed = ops::map::map(g, c(1.0), vec![], Shape::scalar());
    pending[loss].push(seed);
    let mut found = Vec::new();
    for id in (0..=loss).rev() {
        let contributions = std::mem::take(&mut pending[id]);
        if contributions.is_empty() || !needs[id] {
            continue;
        }
        let grad = sum(g, contributions, g.shape(id).clone());
        g.gradient_of.push((grad, id));
        if wrt.contains(&id) {
            found.push((id, grad));
            continue;
        }
        let inputs = g.node(id).inputs.clone();
        let wants: Vec<bool> = inputs.iter().map(|&i| needs[i]).collect();
        let built_from = g.nodes.len();
        let operand_grads = match ops::rules(&g.node(id).op).derivative {
            Derivative::Vjp { build, .. } => build(g, id, grad, &wants),
            // Leaves have no operands; forward graphs hold no adjoints, and
            // side effects have no value for a gradient to reach.
            Derivative::Leaf => continue,
            Derivative::BackwardOnly | Derivative::Effect | Derivative::InferenceOnly => {
                unreachable!("`{}` on the path to the loss", ops::name(&g.node(id).op))
            }
        };
        g.derived_from.extend((built_from..g.nodes.len()).map(|n| (n, id)));
        for (&input, operand_grad) in inputs.iter().zip(operand_grads) {
            if let (Some(og), true) = (operand_grad, needs[input]) {
                pending[input].push(og);
            }
        }
    }
    found
}

/// The sum of gradient contributions, all shaped like their node.
fn sum(g: &mut Graph, parts: Vec<NodeId>, shape: Shape) -> NodeId {
    if parts.len() == 1 {
        return parts[0];
    }
    let expr = (1..parts.len()).fold(var(0), |acc, i| add(acc, var(i)));
    ops::map::map(g, expr, parts, shape)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::expr::mul;
    use crate::ir::{Init, Role};
    use proc_macro2::Span;

    /// loss = sum((x * w) * w): `w` is read twice, so its gradient must be
    /// the sum of both contributions, 2 x w summed.
    #[test]
    fn a_value_read_twice_sums_its_gradients() {
        let mut g = Graph::default();
        let x = g.push(Op::Input, vec![], Shape::fixed(&[3]));
        let w = g.param("w".into(), &[3], Role::Weight, Init::Zeros, Span::call_site());
        let xw = ops::map::map(&mut g, mul(var(0), var(1)), vec![x, w], Shape::fixed(&[3]));
        let xww = ops::map::map(&mut g, mul(var(0), var(1)), vec![xw, w], Shape::fixed(&[3]));
        let loss = ops::reduce::sum_all(&mut g, xww);
        let grads = differentiate(&mut g, loss);
        assert_eq!(grads.len(), 1);
        let node = g.node(grads[0].1);
        assert!(matches!(node.op, Op::Map(_)), "contributions are added by a map");
        assert_eq!(node.inputs.len(), 2, "two contributions");
    }

    #[test]
    fn the_input_gets_no_gradient() {
        let mut g = Graph::default();
        let x = g.push(Op::Input, vec![], Shape::batched(&[4]));
        let w = g.param("w".into(), &[2, 4], Role::Weight, Init::Zeros, Span::call_site());
        let y = ops::linear::linear(&mut g, x, w);
        let loss = ops::reduce::sum_all(&mut g, y);
        differentiate(&mut g, loss);
        assert!(!g.nodes.iter().any(|n| matches!(n.op, Op::LinearBackData)));
        assert!(g.nodes.iter().any(|n| matches!(n.op, Op::LinearBackWeight)));
    }
}
