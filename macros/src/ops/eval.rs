//! The IR in `f64`: every node's value from its operands', by each op's
//! `eval`, for a batch of `batch` samples. Tests use it to hold each op's
//! local derivative to central finite differences, with no code generated.

use crate::ir::{Graph, NodeId, Shape};
use std::collections::HashMap;

/// Values of the nodes a set of roots needs, the leaves given.
pub struct Values {
    pub batch: usize,
    given: HashMap<NodeId, Vec<f64>>,
    computed: Vec<Option<Vec<f64>>>,
}

impl Values {
    /// Evaluates everything `roots` read, leaves (and dropout masks) from `given`.
    pub fn run(g: &Graph, batch: usize, given: HashMap<NodeId, Vec<f64>>, roots: &[NodeId]) -> Self {
        let mut values = Values { batch, given, computed: vec![None; g.nodes.len()] };
        for id in g.live(roots) {
            let value = (super::rules(&g.node(id).op).eval)(&values, g, id);
            values.computed[id] = Some(value);
        }
        values
    }

    /// The value of a node evaluated before.
    pub fn of(&self, id: NodeId) -> &[f64] {
        self.computed[id].as_deref().expect("operands are evaluated first")
    }

    /// Samples a value of `shape` holds: the batch, or 1 when unbatched.
    pub fn samples(&self, shape: &Shape) -> usize {
        if shape.batched { self.batch } else { 1 }
    }
}

/// The `eval` of values given from outside.
pub fn given(v: &Values, _: &Graph, id: NodeId) -> Vec<f64> {
    v.given.get(&id).cloned().unwrap_or_else(|| panic!("node {id} is a leaf without a given value"))
}

/// The `eval` of a tensor of the inference copy: derived, as the runtime
/// derives it, from the given values of the parameters.
pub fn planned(v: &Values, g: &Graph, id: NodeId) -> Vec<f64> {
    let crate::ir::Op::Plan(k) = g.node(id).op else { unreachable!("a plan tensor") };
    let mut flat = vec![0.0; g.param_len()];
    for (node, n) in g.nodes.iter().enumerate() {
        if let (crate::ir::Op::Param(p), Some(values)) = (&n.op, v.given.get(&node)) {
            flat[g.params[*p].offset..][..values.len()].copy_from_slice(values);
        }
    }
    let derivation = &g.plans[k].derivation;
    let mut out = vec![0.0; derivation.len()];
    chainrule_spec::plan::derive(derivation, &flat, &mut out);
    out
}

/// The `eval` of side effects, which have no value.
pub fn no_value(_: &Values, _: &Graph, _: NodeId) -> Vec<f64> {
    Vec::new()
}
