//! Stage 5: the functions to generate, each from its own copy of a graph
//! simplified for what it returns: batch-1 and batched inference and the
//! loss from the inference graph, the loss with its gradients from the
//! differentiated training graph, and the streaming step.
//!
//! Simplification rewrites a graph to be cheaper without changing values.
//! Each rule replaces a node in place with operands that precede it, so
//! node order stays topological and node ids stay valid for the caller's
//! roots. Nodes left without users are dropped when the function is
//! emitted, which only visits what its roots reach. The rules run until none
//! applies:
//!
//! - softmax followed by cross-entropy becomes the fused, stable
//!   `SoftmaxCrossEntropy`, and the chain of their two backward nodes becomes
//!   `(p - onehot t) * g / batch`;
//! - an elementwise `Map` read by exactly one other `Map` (or reading no
//!   operand at all, such as the constant seed of the backward pass) is
//!   inlined into it, so an activation, its bias addition and the pieces of
//!   a derivative run as one loop;
//! - a single-operand `Map` of a batch-1 dense layer's output, read by
//!   nothing else, becomes the layer's activation.

use crate::autodiff::Backward;
use crate::codegen::Mode;
use crate::ir::expr::var;
use crate::ir::{Graph, Map, NodeId, Op, Read};
use crate::lower::Graphs;
use crate::ops::map::{normalize, split};

/// What the caller wants out of a generated function.
#[derive(Clone, Default)]
pub struct Sinks {
    /// Network output: returned (batch-1) or written into `__out` (batched).
    pub output: Option<NodeId>,
    /// The loss scalar, returned.
    pub loss: Option<NodeId>,
    /// `(parameter index, gradient node)`, written into `__g<k>`; `Some`
    /// means the whole gradient buffer is written, zeros where a parameter
    /// does not affect the loss.
    pub grads: Option<Vec<(usize, NodeId)>>,
    /// Side effects to perform (running-statistics updates).
    pub effects: Vec<NodeId>,
    /// A training step (`Some`): `(parameter index, update node)` for each
    /// parameter the optimizer's step is applied to as its gradient is
    /// computed; every other parameter takes the step from its gradient
    /// at the end.
    pub updates: Option<Vec<(usize, NodeId)>>,
}

impl Sinks {
    pub fn roots(&self) -> Vec<NodeId> {
        let mut roots: Vec<NodeId> = self.output.iter().chain(&self.loss).copied().collect();
        roots.extend(self.grads.iter().flatten().map(|&(_, n)| n));
        roots.extend(&self.effects);
        roots.extend(self.updates.iter().flatten().map(|&(_, n)| n));
        roots
    }
}

/// One generated function: its graph, simplified for its sinks.
pub struct Function {
    pub graph: Graph,
    pub sinks: Sinks,
    pub mode: Mode,
}

impl Function {
    fn new(graph: &Graph, sinks: Sinks, mode: Mode) -> Self {
        let mut graph = graph.clone();
        simplify(&mut graph, &sinks.roots());
        Self { graph, sinks, mode }
    }
}

/// The functions of a network.
pub struct Functions {
    /// Batch-1 inference on the inference copy of the weights.
    pub predict: Function,
    /// Batch-1 inference on the parameters themselves, for when they have
    /// changed since the copy was made; only for networks that have one.
    pub predict_stale: Option<Function>,
    pub predict_batch: Function,
    pub loss: Function,
    pub loss_and_grad: Function,
    /// The loss, its gradients and the optimizer's step, for networks with
    /// a weight whose step can be fused into its gradient's product.
    pub train_step: Option<Function>,
    pub step: Option<Function>,
    /// `loss` and `loss_and_grad` with each sample weighted, for networks
    /// declared with `sample_weights: true`.
    pub weighted: Option<(Function, Function)>,
}

pub fn functions(graphs: &Graphs, backward: &Backward, weighted: Option<&Backward>) -> Functions {
    let inference = &graphs.inference;
    let output = || Sinks { output: Some(inference.output), ..Sinks::default() };
    let training = |backward: &Backward, training: &crate::lower::Lowered| Sinks {
        loss: Some(backward.loss),
        grads: Some(backward.grads.clone()),
        effects: training.graph.effects.clone(),
        output: None,
        updates: None,
    };
    let loss = |lowered: &crate::lower::Lowered| {
        Function::new(&lowered.graph, Sinks { loss: Some(lowered.loss), ..Sinks::default() }, Mode::Batched)
    };
    let weighted = graphs.weighted.as_ref().zip(weighted).map(|(graphs, backward)| {
        let loss_and_grad =
            Function::new(&backward.graph, training(backward, &graphs.training), Mode::Batched);
        (loss(&graphs.inference), loss_and_grad)
    });
    let training = training(backward, &graphs.training);
    let planned = &graphs.planned;
    let has_plan = !planned.graph.plans.is_empty();
    Functions {
        predict: Function::new(
            &planned.graph,
            Sinks { output: Some(planned.output), ..Sinks::default() },
            Mode::Single,
        ),
        predict_stale: has_plan.then(|| Function::new(&inference.graph, output(), Mode::Single)),
        predict_batch: Function::new(&inference.graph, output(), Mode::Batched),
        loss: loss(inference),
        train_step: fused_updates(backward).map(|(graph, grads, updates)| {
            let sinks = Sinks { grads: Some(grads), updates: Some(updates), ..training.clone() };
            Function::new(&graph, sinks, Mode::Batched)
        }),
        loss_and_grad: Function::new(&backward.graph, training, Mode::Batched),
        step: graphs.stream.as_ref().map(|s| {
            Function::new(&s.graph, Sinks { output: Some(s.output), ..Sinks::default() }, Mode::Single)
        }),
        weighted,
    }
}

/// The training graph with the optimizer's step fused into each weight
/// gradient that is one `linear_back_weight` product (a dense layer's
/// weight, read by nothing else the loss depends on through a sum of
/// contributions: a regularized weight keeps its gradient); the remaining
/// gradients and the update nodes. `None` when no weight qualifies.
#[allow(clippy::type_complexity)]
fn fused_updates(backward: &Backward) -> Option<(Graph, Vec<(usize, NodeId)>, Vec<(usize, NodeId)>)> {
    let mut graph = backward.graph.clone();
    let (mut grads, mut updates) = (Vec::new(), Vec::new());
    for &(k, gradient) in &backward.grads {
        if matches!(graph.node(gradient).op, Op::LinearBackWeight) {
            updates.push((k, crate::ops::linear::update(&mut graph, k, gradient)));
        } else {
            grads.push((k, gradient));
        }
    }
    (!updates.is_empty()).then_some((graph, grads, updates))
}

/// Applies every rule until none applies.
pub fn simplify(g: &mut Graph, roots: &[NodeId]) {
    while fuse_softmax_cross_entropy(g, roots) || fuse_one_map(g, roots) || fuse_activation(g, roots) {}
}

/// Folds an elementwise map of a batch-1 dense layer's output (its
/// activation, after the maps that follow have fused into one) into the
/// layer, which applies it as it produces each output.
fn fuse_activation(g: &mut Graph, roots: &[NodeId]) -> bool {
    let uses = g.use_counts(roots);
    for id in g.live(roots) {
        let Op::Map(map) = &g.node(id).op else { continue };
        let &[producer] = g.node(id).inputs.as_slice() else { continue };
        let Op::DenseT(dense) = &g.node(producer).op else { continue };
        if map.reads[0] != Read::Same
            || g.node(producer).shape != g.node(id).shape
            || uses[producer] != 1
            || roots.contains(&producer)
        {
            continue;
        }
        let activation = map.expr.substitute(&|_| dense.activation.clone());
        let mut fused = dense.clone();
        fused.activation = activation;
        let inputs = g.node(producer).inputs.clone();
        g.nodes[id].op = Op::DenseT(fused);
        g.nodes[id].inputs = inputs;
        return true;
    }
    false
}

fn fuse_softmax_cross_entropy(g: &mut Graph, roots: &[NodeId]) -> bool {
    let mut changed = false;
    for id in g.live(roots) {
        let inputs = g.node(id).inputs.clone();
        match g.node(id).op {
            Op::CrossEntropy if matches!(g.node(inputs[0]).op, Op::Softmax) => {
                let logits = g.node(inputs[0]).inputs[0];
                g.nodes[id].op = Op::SoftmaxCrossEntropy;
                g.nodes[id].inputs = vec![logits, inputs[1]];
                changed = true;
            }
            Op::SoftmaxBack => {
                let (p, upstream) = (inputs[0], inputs[1]);
                let ce = g.node(upstream);
                if matches!(ce.op, Op::CrossEntropyBack)
                    && ce.inputs[0] == p
                    && matches!(g.node(p).op, Op::Softmax)
                {
                    let (t, seed) = (ce.inputs[1], ce.inputs[2]);
                    g.nodes[id].op = Op::SoftmaxCrossEntropyBack;
                    g.nodes[id].inputs = vec![p, t, seed];
                    changed = true;
                }
            }
            _ => {}
        }
    }
    changed
}

/// Inlines one producer `Map` into its consumer `Map`; true if it did.
/// The producer must be read element for element (or be a scalar), and
/// the fused map must still read its operands by one split of the output.
fn fuse_one_map(g: &mut Graph, roots: &[NodeId]) -> bool {
    let uses = g.use_counts(roots);
    for id in g.live(roots) {
        let Op::Map(consumer) = &g.node(id).op else {
            continue;
        };
        let node = g.node(id);
        for (slot, &producer) in node.inputs.iter().enumerate() {
            let Op::Map(inner) = &g.node(producer).op else {
                continue;
            };
            let p = g.node(producer);
            let fits = match consumer.reads[slot] {
                Read::Same => p.shape == node.shape,
                Read::Scalar => p.shape.is_scalar(),
                _ => false,
            };
            let cheap = uses[producer] == 1 || p.inputs.is_empty();
            if !fits || !cheap || roots.contains(&producer) {
                continue;
            }
            let base = node.inputs.len();
            let inner_expr = inner.expr.substitute(&|i| var(base + i));
            let fused = consumer.expr.substitute(&|i| if i == slot { inner_expr.clone() } else { var(i) });
            let mut operands: Vec<(NodeId, Read)> =
                node.inputs.iter().copied().zip(consumer.reads.iter().copied()).collect();
            operands.extend(p.inputs.iter().copied().zip(inner.reads.iter().copied()));
            let (expr, operands) = normalize(&fused, &operands);
            let (inputs, reads): (Vec<NodeId>, Vec<Read>) = operands.into_iter().unzip();
            if split(g, &inputs, &reads, &node.shape).is_none() {
                continue;
            }
            g.nodes[id].op = Op::Map(Map { expr, reads });
            g.nodes[id].inputs = inputs;
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autodiff::differentiate;
    use crate::ir::expr::{Unary, add, unary};
    use crate::ir::{Init, Role, Shape};
    use crate::ops;
    use proc_macro2::Span;

    fn classifier() -> (Graph, NodeId, NodeId) {
        let (g, h, loss, _) = classifier_with(unary(Unary::Tanh, var(0)));
        (g, h, loss)
    }

    /// A dense layer with `activation`, softmax and cross-entropy: the
    /// graph, the activation's node, the loss and the pre-activation.
    fn classifier_with(activation: crate::ir::expr::Expr) -> (Graph, NodeId, NodeId, NodeId) {
        let mut g = Graph::default();
        let x = g.push(Op::Input, vec![], Shape::batched(&[4]));
        let w = g.param("w".into(), &[3, 4], Role::Weight, Init::Zeros, Span::call_site());
        let b = g.param("b".into(), &[3], Role::Bias, Init::Zeros, Span::call_site());
        let z = ops::linear::linear(&mut g, x, w);
        let zb = ops::map::map(&mut g, add(var(0), var(1)), vec![z, b], Shape::batched(&[3]));
        let h = ops::map::map(&mut g, activation, vec![zb], Shape::batched(&[3]));
        let t = g.push(Op::Target(0), vec![], Shape::batched(&[]));
        let p = ops::softmax::softmax(&mut g, h);
        let loss = ops::cross_entropy::cross_entropy(&mut g, p, t);
        (g, h, loss, zb)
    }

    fn ops_of(g: &Graph, roots: &[NodeId]) -> Vec<&'static str> {
        g.live(roots).into_iter().map(|id| ops::name(&g.node(id).op)).collect()
    }

    #[test]
    fn softmax_then_cross_entropy_fuses_forward() {
        let (mut g, _, loss) = classifier();
        simplify(&mut g, &[loss]);
        let live = ops_of(&g, &[loss]);
        assert!(live.contains(&"softmax_cross_entropy"));
        assert!(!live.contains(&"softmax"), "the loss no longer needs probabilities: {live:?}");
    }

    #[test]
    fn backward_becomes_p_minus_onehot() {
        let (mut g, _, loss) = classifier();
        let grads = differentiate(&mut g, loss);
        let mut roots = vec![loss];
        roots.extend(grads.iter().map(|&(_, n)| n));
        simplify(&mut g, &roots);
        let live = ops_of(&g, &roots);
        assert!(live.contains(&"softmax_cross_entropy_back"), "{live:?}");
        assert!(!live.contains(&"softmax_back") && !live.contains(&"cross_entropy_back"), "{live:?}");
    }

    #[test]
    fn bias_and_activation_fuse_into_one_loop() {
        let (mut g, h, _) = classifier();
        simplify(&mut g, &[h]);
        let live = ops_of(&g, &[h]);
        assert_eq!(live.iter().filter(|&&o| o == "map").count(), 1, "{live:?}");
    }

    #[test]
    fn relu_backward_reads_the_output_so_the_pre_activation_is_not_kept() {
        let (mut g, _, loss, zb) = classifier_with(crate::ir::expr::relu(var(0)));
        let grads = differentiate(&mut g, loss);
        let mut roots = vec![loss];
        roots.extend(grads.iter().map(|&(_, n)| n));
        simplify(&mut g, &roots);
        assert!(
            !g.live(&roots).contains(&zb),
            "the bias addition is inlined into the ReLU: {:?}",
            ops_of(&g, &roots)
        );
    }
}
