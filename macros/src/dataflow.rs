//! The checked network as a graph of layers over named values: its
//! inputs, every value computed from them in the order the declaration
//! defines them (so that order is topological), and its outputs. A
//! `layers: [..]` chain is the graph whose every layer reads the value
//! before it. `resolve.rs` builds it from `graph: { .. }`; `lower` turns
//! each value into tensor-graph operations.

mod resolve;

use crate::ir::expr::{add, mul, var};
use crate::ir::{Graph, NodeId, Op, Read, Shape};
use crate::layers::{LowerCtx, Placed};
use crate::ops;
pub use resolve::resolve;

/// Index of a value in [`Dataflow::values`].
pub type ValueId = usize;

pub struct Dataflow {
    pub inputs: Vec<NamedInput>,
    pub values: Vec<Value>,
    pub outputs: Vec<ValueId>,
    /// The name of each output, for `loss: { name: .. }`: the name the
    /// graph ends with, or `output`.
    pub output_names: Vec<String>,
}

/// One input: its name, shape, and where it starts in each flat input
/// sample (several inputs are concatenated in declaration order).
pub struct NamedInput {
    pub dims: Vec<usize>,
    pub offset: usize,
    /// Token ids (`[u32; n]`), which only `embedding` reads.
    pub tokens: bool,
}

/// An input as declared: its name, its shape (`None` when the
/// declaration's is wrong), and whether it is token ids.
pub struct DeclaredInput {
    pub name: syn::Ident,
    pub dims: Option<Vec<usize>>,
    pub tokens: bool,
}

pub struct Value {
    pub step: Step,
    /// Shape per sample.
    pub dims: Vec<usize>,
    /// The name the declaration binds it to, if any.
    pub name: Option<String>,
}

/// How a value is computed.
pub enum Step {
    /// Input `k`.
    Input(usize),
    Layer {
        layer: Placed,
        of: ValueId,
    },
    /// `a + b` or `a * b`, `b` read as `broadcast` says.
    Merge {
        multiply: bool,
        a: ValueId,
        b: ValueId,
        broadcast: Broadcast,
    },
    /// The parts side by side along `axis` of each sample.
    Concat {
        parts: Vec<ValueId>,
        axis: usize,
    },
    /// Positions `start..start + len` along `axis`.
    Slice {
        of: ValueId,
        axis: usize,
        start: usize,
        len: usize,
    },
}

/// How the second operand of a merge is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Broadcast {
    /// The same shape: element by element.
    Same,
    /// `[c]` onto `[c, ..]`: one value per channel of each sample.
    PerChannel,
    /// `[1]`: one value per sample.
    PerSample,
}

impl Dataflow {
    /// The graph of one input flowing through `layers`.
    pub fn chain(input: Vec<usize>, tokens: bool, layers: Vec<Placed>) -> Self {
        let input_value = Value { step: Step::Input(0), dims: input.clone(), name: None };
        let mut values = vec![input_value];
        for layer in layers {
            let dims = layer.output.clone();
            values.push(Value { step: Step::Layer { layer, of: values.len() - 1 }, dims, name: None });
        }
        let inputs = vec![NamedInput { dims: input, offset: 0, tokens }];
        Self { inputs, outputs: vec![values.len() - 1], values, output_names: vec!["output".to_string()] }
    }

    /// The layers in order, if the graph is a chain from its one input.
    pub fn as_chain(&self) -> Option<Vec<&Placed>> {
        if self.inputs.len() != 1 || self.outputs != [self.values.len() - 1] {
            return None;
        }
        let mut layers = Vec::new();
        for (id, value) in self.values.iter().enumerate() {
            match &value.step {
                Step::Input(0) if id == 0 => {}
                Step::Layer { layer, of } if *of + 1 == id => layers.push(layer),
                _ => return None,
            }
        }
        Some(layers)
    }

    /// Whether the input is token ids (then it is the only input).
    pub fn tokens(&self) -> bool {
        self.inputs.iter().any(|i| i.tokens)
    }

    /// Values per flat input sample.
    pub fn input_len(&self) -> usize {
        self.inputs.iter().map(|i| i.dims.iter().product::<usize>()).sum()
    }

    /// The shape of the flat input: an input's own, if there is one.
    pub fn input_dims(&self) -> Vec<usize> {
        match self.inputs.as_slice() {
            [one] => one.dims.clone(),
            _ => vec![self.input_len()],
        }
    }

    /// Appends the operations of every value to `g`, reading the network
    /// input; returns the node of each output. `planned` lowers layers for
    /// batch-1 inference on the inference copy of the weights.
    pub fn lower(&self, g: &mut Graph, ctx: LowerCtx, planned: bool) -> Vec<NodeId> {
        let input = g.push(Op::Input, vec![], Shape::batched(&self.input_dims()));
        let mut nodes: Vec<NodeId> = Vec::with_capacity(self.values.len());
        for value in &self.values {
            let node = match &value.step {
                Step::Input(_) if self.inputs.len() == 1 => input,
                &Step::Input(k) => {
                    let (len, total) = (value.dims.iter().product(), self.input_len());
                    let geom = piece(1, total, self.inputs[k].offset, len);
                    ops::block::block(g, input, geom, &value.dims)
                }
                Step::Layer { layer, of } if planned => layer.lower_planned(g, nodes[*of], ctx),
                Step::Layer { layer, of } => layer.lower(g, nodes[*of], ctx),
                &Step::Merge { multiply, a, b, broadcast } => {
                    let expr = if multiply { mul(var(0), var(1)) } else { add(var(0), var(1)) };
                    let (b, read) = match broadcast {
                        Broadcast::Same => (nodes[b], Read::Same),
                        Broadcast::PerChannel => (nodes[b], Read::PerRow),
                        // Read as the per-sample scalar it is.
                        Broadcast::PerSample => {
                            (ops::map::map(g, var(0), vec![nodes[b]], Shape::batched(&[])), Read::PerSample)
                        }
                    };
                    let operands = vec![(nodes[a], Read::Same), (b, read)];
                    ops::map::map_with(g, expr, operands, Shape::batched(&value.dims))
                }
                Step::Concat { parts, axis } => {
                    let parts: Vec<(NodeId, usize)> =
                        parts.iter().map(|&p| (nodes[p], self.values[p].dims[*axis])).collect();
                    concat(g, &parts, &value.dims, *axis)
                }
                &Step::Slice { of, axis, start, len } => {
                    let dims = &self.values[of].dims;
                    let (outer, inner) = around(dims, axis);
                    let geom = piece(outer, dims[axis] * inner, start * inner, len * inner);
                    ops::block::block(g, nodes[of], geom, &value.dims)
                }
            };
            if let Some(name) = &value.name
                && !matches!(g.node(node).op, Op::Input | Op::Param(_))
                && !g.value_names.iter().any(|(n, _)| *n == node)
            {
                g.value_names.push((node, name.clone()));
            }
            nodes.push(node);
        }
        self.outputs.iter().map(|&o| nodes[o]).collect()
    }
}

/// `parts` (each a node and its length along `axis`) side by side along
/// `axis` of a value shaped `dims`: each part put in its place in a value
/// of zeros, then the placed parts summed, so each part's gradient is the
/// block of the sum's.
pub fn concat(g: &mut Graph, parts: &[(NodeId, usize)], dims: &[usize], axis: usize) -> NodeId {
    let (outer, inner) = around(dims, axis);
    let mut offset = 0;
    let placed: Vec<NodeId> = parts
        .iter()
        .map(|&(node, len)| {
            let geom = piece(outer, dims[axis] * inner, offset * inner, len * inner);
            offset += len;
            ops::block::place(g, node, geom, dims)
        })
        .collect();
    let sum = (1..placed.len()).fold(var(0), |e, k| add(e, var(k)));
    ops::map::map(g, sum, placed, Shape::batched(dims))
}

/// Values before and after `axis` of a sample: a value seen as `[outer,
/// dims[axis] * inner]`, so a range along the axis is a range of columns.
fn around(dims: &[usize], axis: usize) -> (usize, usize) {
    (dims[..axis].iter().product(), dims[axis + 1..].iter().product())
}

/// Columns `start..start + cols` of every row of a `[rows, width]` sample.
pub fn piece(rows: usize, width: usize, start: usize, cols: usize) -> chainrule_spec::Block {
    chainrule_spec::Block { src_rows: rows, src_cols: width, row_offset: 0, col_offset: start, rows, cols }
}
