//! The tensor graph: what the network computes, with every shape static.
//!
//! Nodes are appended in topological order (an operand always exists before
//! its user) and refer to operands by index. Values with `batched = true`
//! carry a leading batch dimension of run-time length in front of `dims`;
//! all other dimensions are compile-time constants. The forward pass, the
//! loss and, after differentiation, the backward pass all live in one graph.
//! Passes rewrite a node in place only with operands that precede it, so
//! index order stays a topological order.

pub mod expr;
mod op;

pub use chainrule_spec::plan::{Derivation, GateBlock};
pub use op::{Cell, ConvStep, DenseT, Map, Op, Read, RecurT};
use proc_macro2::Span;

pub type NodeId = usize;

/// Static shape of a value, per sample if batched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shape {
    pub batched: bool,
    pub dims: Vec<usize>,
}

impl Shape {
    pub fn batched(dims: &[usize]) -> Self {
        Self { batched: true, dims: dims.to_vec() }
    }

    pub fn fixed(dims: &[usize]) -> Self {
        Self { batched: false, dims: dims.to_vec() }
    }

    pub fn scalar() -> Self {
        Self::fixed(&[])
    }

    /// Elements per sample (or in total, when not batched).
    pub fn len(&self) -> usize {
        self.dims.iter().product()
    }

    pub fn is_scalar(&self) -> bool {
        !self.batched && self.dims.is_empty()
    }
}

pub use chainrule_spec::{Init, Role};

/// A trainable tensor inside the flat parameter buffer.
#[derive(Clone, Debug)]
pub struct Param {
    pub name: String,
    pub offset: usize,
    pub dims: Vec<usize>,
    pub role: Role,
    pub init: Init,
}

impl Param {
    pub fn len(&self) -> usize {
        self.dims.iter().product()
    }
}

impl chainrule_spec::tensor_file::Expected for Param {
    fn name(&self) -> &str {
        &self.name
    }
    fn shape(&self) -> &[usize] {
        &self.dims
    }
    fn offset(&self) -> usize {
        self.offset
    }
}

/// A tensor of the inference copy, at `offset` of that buffer.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanTensor {
    pub offset: usize,
    pub derivation: Derivation<Vec<GateBlock>>,
}

/// Kind of the training targets a loss reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetKind {
    /// Class indices below `classes`: one per sample, or with `steps`
    /// above 1 one per step of a `[steps, classes]` output.
    Class { classes: usize, steps: usize },
    /// One value per output element.
    Values,
}

#[derive(Clone, Debug)]
pub struct Node {
    pub op: Op,
    pub inputs: Vec<NodeId>,
    pub shape: Shape,
}

/// The graph of one network, plus its parameter and state tables.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub params: Vec<Param>,
    /// Where the user declared each parameter's layer, for messages.
    pub param_spans: Vec<Span>,
    /// Non-trainable tensors saved with the network (running statistics).
    pub states: Vec<Param>,
    /// Tensors of the inference copy of the weights, each derived from the
    /// parameters, laid out for a batch-1 kernel.
    pub plans: Vec<PlanTensor>,
    /// Nodes computed for their side effect on the state (training only).
    pub effects: Vec<NodeId>,
    /// `(gradient node, forward node)`: set by differentiation, for the
    /// human-readable description.
    pub gradient_of: Vec<(NodeId, NodeId)>,
    /// `(backward node, forward node)`: the forward node whose local
    /// derivative built it, for the description's naming of gate patterns.
    pub derived_from: Vec<(NodeId, NodeId)>,
    /// Values the declaration names (`let gated = ..` in a graph), for the
    /// description.
    pub value_names: Vec<(NodeId, String)>,
    /// Constant tensors the declaration fixes (a loss's class weights),
    /// compiled into the generated functions.
    pub constants: Vec<Vec<f64>>,
    /// What each output's loss reads (training graphs). With several
    /// outputs the caller's targets are tuples, one part per output, and
    /// each `Target(k)` gathers its part into a slice of its own.
    pub targets: Vec<TargetKind>,
}

impl Graph {
    pub fn push(&mut self, op: Op, inputs: Vec<NodeId>, shape: Shape) -> NodeId {
        debug_assert!(inputs.iter().all(|&i| i < self.nodes.len()));
        self.nodes.push(Node { op, inputs, shape });
        self.nodes.len() - 1
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    pub fn shape(&self, id: NodeId) -> &Shape {
        &self.nodes[id].shape
    }

    /// Adds a parameter tensor at the end of the flat buffer and its node.
    pub fn param(&mut self, name: String, dims: &[usize], role: Role, init: Init, span: Span) -> NodeId {
        let offset = self.params.last().map_or(0, |p| p.offset + p.len());
        self.params.push(Param { name, offset, dims: dims.to_vec(), role, init });
        self.param_spans.push(span);
        self.push(Op::Param(self.params.len() - 1), vec![], Shape::fixed(dims))
    }

    /// A constant `[values.len()]` tensor, the same for every sample.
    pub fn constant(&mut self, values: Vec<f64>) -> NodeId {
        let len = values.len();
        self.constants.push(values);
        self.push(Op::Constant(self.constants.len() - 1), vec![], Shape::fixed(&[len]))
    }

    /// Where parameter node `node` starts in the flat buffer.
    pub fn param_offset(&self, node: NodeId) -> usize {
        match self.node(node).op {
            Op::Param(k) => self.params[k].offset,
            _ => unreachable!("a parameter node"),
        }
    }

    pub fn param_len(&self) -> usize {
        self.params.last().map_or(0, |p| p.offset + p.len())
    }

    /// Adds a state tensor at the end of the state buffer and its node.
    pub fn state(&mut self, name: String, dims: &[usize], init: Init) -> NodeId {
        let offset = self.state_len();
        self.states.push(Param { name, offset, dims: dims.to_vec(), role: Role::Statistic, init });
        self.push(Op::State(self.states.len() - 1), vec![], Shape::fixed(dims))
    }

    pub fn state_len(&self) -> usize {
        self.states.last().map_or(0, |p| p.offset + p.len())
    }

    /// Adds a tensor to the inference copy and its node, from the start of
    /// a cache line (the buffer's start is on one).
    pub fn plan(&mut self, derivation: Derivation<Vec<GateBlock>>) -> NodeId {
        let offset = self.plan_len().next_multiple_of(chainrule_spec::plan::LINE);
        let len = derivation.len();
        self.plans.push(PlanTensor { offset, derivation });
        self.push(Op::Plan(self.plans.len() - 1), vec![], Shape::fixed(&[len]))
    }

    pub fn plan_len(&self) -> usize {
        self.plans.last().map_or(0, |p| p.offset + p.derivation.len())
    }

    /// Nodes reachable from `roots`, in topological order.
    pub fn live(&self, roots: &[NodeId]) -> Vec<NodeId> {
        let mut seen = vec![false; self.nodes.len()];
        let mut stack: Vec<NodeId> = roots.to_vec();
        while let Some(id) = stack.pop() {
            if !std::mem::replace(&mut seen[id], true) {
                stack.extend(&self.nodes[id].inputs);
            }
        }
        (0..self.nodes.len()).filter(|&i| seen[i]).collect()
    }

    /// How many times each node is read by live nodes or named as a root.
    pub fn use_counts(&self, roots: &[NodeId]) -> Vec<usize> {
        let mut uses = vec![0; self.nodes.len()];
        for id in self.live(roots) {
            for &input in &self.nodes[id].inputs {
                uses[input] += 1;
            }
        }
        for &r in roots {
            uses[r] += 1;
        }
        uses
    }
}
