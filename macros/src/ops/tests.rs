//! Every op's local derivative held to central finite differences of its
//! reference semantics (`eval`), in `f64`, on a small graph per op: the
//! graph's output dotted with fixed weights is the loss, reverse mode
//! builds the gradients of every floating operand, and each gradient
//! element must match the difference quotient. A test then checks that
//! every op is either covered that way or is a leaf or side effect, and
//! that the derivative table in the module docs is current.

use super::eval::Values;
use super::*;
use crate::autodiff::gradients;
use crate::ir::expr::{Expr, Unary, add, c, div, mul, powi, sub, unary, var};
use crate::ir::{Cell, DenseT, Init, Map, Read, RecurT, Role, Shape};
use chainrule_spec::{Block, Conv2d, Heads, Pool2d};
use proc_macro2::Span;
use std::collections::{BTreeSet, HashMap};

const BATCH: usize = 2;

/// A reproducible value in `[-1, 1)` for `(seed, index)`.
fn noise(seed: usize, i: usize) -> f64 {
    let mut z =
        (seed as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (i as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 31)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z >> 11) as f64 / (1u64 << 52) as f64 - 1.0
}

/// A small graph around one op, and what its leaves hold.
struct Case {
    name: &'static str,
    g: Graph,
    out: NodeId,
    given: HashMap<NodeId, Vec<f64>>,
    /// Leaves to differentiate with respect to.
    wrt: Vec<NodeId>,
}

impl Case {
    fn new(name: &'static str) -> Self {
        Case { name, g: Graph::default(), out: 0, given: HashMap::new(), wrt: Vec::new() }
    }

    fn len(&self, shape: &Shape) -> usize {
        shape.len() * if shape.batched { BATCH } else { 1 }
    }

    /// A leaf of `shape` holding noise, differentiated with respect to.
    fn leaf(&mut self, shape: Shape) -> NodeId {
        let id = self.fixed(shape, |i| noise(7 + 13 * i, i));
        self.wrt.push(id);
        id
    }

    /// A parameter tensor holding noise, differentiated with respect to.
    fn param(&mut self, dims: &[usize]) -> NodeId {
        let id = self.g.param(
            format!("p{}", self.g.params.len()),
            dims,
            Role::Weight,
            Init::Zeros,
            Span::call_site(),
        );
        let n = self.len(&Shape::fixed(dims));
        self.given.insert(id, (0..n).map(|i| noise(id, i)).collect());
        self.wrt.push(id);
        id
    }

    /// A leaf of `shape` holding `value(i)`, not differentiated.
    fn fixed(&mut self, shape: Shape, value: impl Fn(usize) -> f64) -> NodeId {
        let n = self.len(&shape);
        let id = self.g.push(Op::Input, vec![], shape);
        self.given.insert(id, (0..n).map(|i| value(i * 31 + id)).collect());
        id
    }

    /// Class indices below `classes`, one per sample.
    fn classes(&mut self, classes: usize) -> NodeId {
        let id = self.g.push(Op::Target(0), vec![], Shape::batched(&[]));
        self.given.insert(id, (0..BATCH).map(|r| ((r * 3 + 1) % classes) as f64).collect());
        id
    }

    /// Class indices below `classes`, one per step of each sample.
    fn classes_per_step(&mut self, classes: usize, steps: usize) -> NodeId {
        let id = self.g.push(Op::Target(0), vec![], Shape::batched(&[steps]));
        self.given.insert(id, (0..BATCH * steps).map(|r| ((r * 3 + 1) % classes) as f64).collect());
        id
    }

    /// Checks the gradients; returns the ops the graph holds.
    fn check(mut self) -> BTreeSet<&'static str> {
        let shape = self.g.shape(self.out).clone();
        let weights = self.fixed(shape.clone(), |i| noise(99, i));
        let dotted = map::map_with(
            &mut self.g,
            mul(var(0), var(1)),
            vec![(self.out, Read::Same), (weights, Read::Same)],
            shape,
        );
        let loss = reduce::sum_all(&mut self.g, dotted);
        let grads = gradients(&mut self.g, loss, &self.wrt);
        assert_eq!(grads.len(), self.wrt.len(), "{}: every operand reaches the loss", self.name);
        let mut roots = vec![loss];
        roots.extend(grads.iter().map(|&(_, grad)| grad));
        let values = Values::run(&self.g, BATCH, self.given.clone(), &roots);
        let loss_at =
            |given: HashMap<NodeId, Vec<f64>>| Values::run(&self.g, BATCH, given, &[loss]).of(loss)[0];
        let h = 1e-6;
        for &(leaf, grad) in &grads {
            let symbolic = values.of(grad);
            assert_eq!(
                symbolic.len(),
                self.given[&leaf].len(),
                "{}: gradient of node {leaf} has its shape",
                self.name
            );
            for (e, &s) in symbolic.iter().enumerate() {
                let nudged = |by: f64| {
                    let mut given = self.given.clone();
                    given.get_mut(&leaf).expect("a given leaf")[e] += by;
                    loss_at(given)
                };
                let numeric = (nudged(h) - nudged(-h)) / (2.0 * h);
                assert!(
                    (numeric - s).abs() <= 1e-7 + 1e-6 * numeric.abs().max(s.abs()),
                    "{}: d loss / d node {leaf}[{e}]: finite differences {numeric}, reverse mode {s}",
                    self.name
                );
            }
        }
        self.g.live(&roots).into_iter().map(|id| name(&self.g.node(id).op)).collect()
    }
}

fn linear_case() -> Case {
    let mut k = Case::new("linear over two time steps");
    let x = k.leaf(Shape::batched(&[2, 3]));
    let w = k.param(&[4, 3]);
    k.out = linear::linear(&mut k.g, x, w);
    k
}

/// Elementwise functions with each read that needs no split.
fn map_case() -> Case {
    let mut k = Case::new("map: same, per feature, per sample, scalar");
    let a = k.leaf(Shape::batched(&[2, 3]));
    let b = k.param(&[2, 3]);
    let s = k.leaf(Shape::batched(&[]));
    let q = k.param(&[]);
    let expr = add(
        mul(unary(Unary::Tanh, var(0)), var(1)),
        div(mul(var(2), unary(Unary::Sigmoid, var(0))), add(c(1.0), powi(var(3), 2))),
    );
    let reads = [Read::Same, Read::PerFeature, Read::PerSample, Read::Scalar];
    k.out = map::map_with(
        &mut k.g,
        expr,
        vec![a, b, s, q].into_iter().zip(reads).collect(),
        Shape::batched(&[2, 3]),
    );
    k
}

/// Per-channel, per-row and per-column operands of one `[2, 3]` output.
fn map_split_case() -> Case {
    let mut k = Case::new("map: per channel, per row, per column");
    let a = k.leaf(Shape::batched(&[2, 3]));
    let channel = k.param(&[2]);
    let row = k.leaf(Shape::batched(&[2]));
    let column = k.param(&[3]);
    let expr =
        sub(mul(var(0), add(var(1), unary(Unary::Exp, var(3)))), div(var(2), add(c(2.0), powi(var(1), 2))));
    let reads = [Read::Same, Read::PerChannel, Read::PerRow, Read::PerColumn];
    let operands = vec![a, channel, row, column].into_iter().zip(reads).collect();
    k.out = map::map_with(&mut k.g, expr, operands, Shape::batched(&[2, 3]));
    k
}

/// A reshape (`flatten`) whose gradient takes the old shape back.
fn map_reshape_case() -> Case {
    let mut k = Case::new("map: reshape");
    let x = k.leaf(Shape::batched(&[2, 3]));
    k.out = map::map_with(&mut k.g, mul(var(0), var(0)), vec![(x, Read::Same)], Shape::batched(&[6]));
    k
}

fn sum_cases() -> Vec<Case> {
    type Builder = fn(&mut Graph, NodeId) -> NodeId;
    let sums: [(&str, Builder); 6] = [
        ("sum_batch", reduce::sum_batch),
        ("sum_features", reduce::sum_features),
        ("sum_all", reduce::sum_all),
        ("sum_channels", reduce::sum_channels),
        ("sum_rows", reduce::sum_rows),
        ("sum_last", reduce::sum_last),
    ];
    sums.into_iter()
        .map(|(name, sum)| {
            let mut k = Case::new(name);
            let x = k.leaf(Shape::batched(&[2, 3]));
            // A nonlinear producer, so the gradient depends on the values.
            let y = map::map(&mut k.g, powi(var(0), 3), vec![x], Shape::batched(&[2, 3]));
            k.out = sum(&mut k.g, y);
            k
        })
        .collect()
}

fn conv_case() -> Case {
    let mut k = Case::new("conv: stride, padding, dilation");
    let geom = Conv2d {
        channels: 2,
        height: 5,
        width: 6,
        out_channels: 3,
        kernel_h: 2,
        kernel_w: 3,
        stride_h: 2,
        stride_w: 1,
        pad_top: 1,
        pad_left: 1,
        dilation_h: 1,
        dilation_w: 2,
        out_h: 3,
        out_w: 4,
    };
    let x = k.leaf(Shape::batched(&[2, 5, 6]));
    let w = k.param(&[3, 2, 2, 3]);
    k.out = conv::conv(&mut k.g, x, w, geom, &[3, 3, 4]);
    k
}

fn pool_cases() -> Vec<Case> {
    let geom = Pool2d {
        channels: 2,
        height: 4,
        width: 5,
        kernel_h: 2,
        kernel_w: 2,
        stride_h: 2,
        stride_w: 1,
        out_h: 2,
        out_w: 4,
    };
    [("max_pool", true), ("avg_pool", false)]
        .into_iter()
        .map(|(name, max)| {
            let mut k = Case::new(name);
            let x = k.leaf(Shape::batched(&[2, 4, 5]));
            k.out = pool::pool(&mut k.g, x, geom, max, &[2, 2, 4]);
            k
        })
        .collect()
}

fn block_case() -> Case {
    let mut k = Case::new("block shifted down one row");
    let x = k.leaf(Shape::batched(&[3, 4]));
    let geom = Block { src_rows: 3, src_cols: 4, row_offset: -1, col_offset: 1, rows: 3, cols: 2 };
    k.out = block::block(&mut k.g, x, geom, &[3, 2]);
    k
}

/// A part of a concatenation: a `[2, 2]` value in columns 1..3 of a
/// `[2, 4]` one.
fn block_place_case() -> Case {
    let mut k = Case::new("block_back: a value put in its place");
    let x = k.leaf(Shape::batched(&[2, 2]));
    let y = map::map(&mut k.g, powi(var(0), 2), vec![x], Shape::batched(&[2, 2]));
    let geom = Block { src_rows: 2, src_cols: 4, row_offset: 0, col_offset: 1, rows: 2, cols: 2 };
    k.out = block::place(&mut k.g, y, geom, &[2, 4]);
    k
}

/// A per-sample `[2]` value read per channel of a `[2, 2, 3]` output:
/// its gradient sums each channel's six positions.
fn map_per_channel_of_sample_case() -> Case {
    let mut k = Case::new("map: per channel of each sample");
    let a = k.leaf(Shape::batched(&[2, 2, 3]));
    let scale = k.leaf(Shape::batched(&[2]));
    let operands = vec![(a, Read::Same), (scale, Read::PerRow)];
    k.out = map::map_with(
        &mut k.g,
        mul(var(0), unary(Unary::Tanh, var(1))),
        operands,
        Shape::batched(&[2, 2, 3]),
    );
    k
}

/// An LSTM cell of two units over three steps.
fn recur_case() -> Case {
    let mut k = Case::new("recur: an LSTM cell");
    let (hidden, steps) = (2, 3);
    let sigmoid = |e| unary(Unary::Sigmoid, e);
    let tanh = |e| unary(Unary::Tanh, e);
    let gate = |i: usize| add(var(i), var(4 + i));
    let cell_state = add(mul(sigmoid(gate(1)), var(9)), mul(sigmoid(gate(0)), tanh(gate(2))));
    let update: Vec<Expr> = vec![mul(sigmoid(gate(3)), tanh(cell_state.clone())), cell_state];
    let cell = Cell { steps, hidden, gates: 4, carries: 2, update };
    let xw = k.leaf(Shape::batched(&[steps, 8]));
    let w_hh = k.param(&[8, hidden]);
    let b_ih = k.param(&[8]);
    let b_hh = k.param(&[8]);
    let rec = recur::recur(&mut k.g, cell.clone(), xw, w_hh, b_ih, b_hh);
    // Every carry of every step, as layers read them; the rest of the
    // record is the backward pass's tape, through which no gradient flows.
    let carries = Block {
        src_rows: steps,
        src_cols: cell.record(),
        row_offset: 0,
        col_offset: 0,
        rows: steps,
        cols: cell.carried(),
    };
    k.out = block::block(&mut k.g, rec, carries, &[steps, cell.carried()]);
    k
}

fn class_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let mut pick = Case::new("pick");
    let y = pick.leaf(Shape::batched(&[4]));
    let t = pick.classes(4);
    pick.out = pick::pick(&mut pick.g, y, t);
    cases.push(pick);
    let mut sm = Case::new("softmax");
    let x = sm.leaf(Shape::batched(&[4]));
    sm.out = softmax::softmax(&mut sm.g, x);
    cases.push(sm);
    let mut lsm = Case::new("log_softmax");
    let x = lsm.leaf(Shape::batched(&[4]));
    lsm.out = log_softmax::log_softmax(&mut lsm.g, x);
    cases.push(lsm);
    let mut ce = Case::new("cross_entropy on probabilities");
    let p = ce.fixed(Shape::batched(&[4]), |i| 0.2 + 0.35 * (noise(5, i) + 1.0));
    ce.wrt.push(p);
    let t = ce.classes(4);
    ce.out = cross_entropy::cross_entropy(&mut ce.g, p, t);
    cases.push(ce);
    let mut sce = Case::new("softmax_cross_entropy");
    let z = sce.leaf(Shape::batched(&[4]));
    let t = sce.classes(4);
    sce.out = sce.g.push(Op::SoftmaxCrossEntropy, vec![z, t], Shape::scalar());
    cases.push(sce);
    // A class per step of a `[t, c]` value: each row its own prediction.
    let mut steps = Case::new("softmax_cross_entropy per step");
    let z = steps.leaf(Shape::batched(&[3, 4]));
    let t = steps.classes_per_step(4, 3);
    steps.out = steps.g.push(Op::SoftmaxCrossEntropy, vec![z, t], Shape::scalar());
    cases.push(steps);
    let mut per_step = Case::new("softmax, log_softmax, pick and cross_entropy per step");
    let z = per_step.leaf(Shape::batched(&[3, 4]));
    let t = per_step.classes_per_step(4, 3);
    let p = softmax::softmax(&mut per_step.g, z);
    let ls = log_softmax::log_softmax(&mut per_step.g, z);
    let picked = pick::pick(&mut per_step.g, ls, t);
    let ce = cross_entropy::cross_entropy(&mut per_step.g, p, t);
    let total = reduce::sum_all(&mut per_step.g, picked);
    per_step.out = map::map(&mut per_step.g, add(var(0), var(1)), vec![total, ce], Shape::scalar());
    cases.push(per_step);
    cases
}

/// Ids that repeat (a row read twice sums two gradients) and one past the
/// vocabulary (a row of zeros, no gradient).
fn embedding_case() -> Case {
    let mut k = Case::new("embedding");
    let ids = k.fixed(Shape::batched(&[3]), |i| [1.0, 0.0, 1.0, 3.0, 2.0, 0.0][i % 6]);
    let table = k.param(&[3, 2]);
    k.out = embedding::embedding(&mut k.g, ids, table);
    k
}

/// Two heads of width 2 over three steps, causal and not: every path of
/// the softmax and the mix, masked pairs included.
fn attention_cases() -> Vec<Case> {
    [("attention", false), ("causal attention", true)]
        .into_iter()
        .map(|(name, causal)| {
            let mut k = Case::new(name);
            let qkv = k.leaf(Shape::batched(&[3, 12]));
            k.out = attention::attention(&mut k.g, qkv, 2, causal);
            k
        })
        .collect()
}

fn all_cases() -> Vec<Case> {
    let mut cases = vec![
        linear_case(),
        map_case(),
        map_split_case(),
        map_reshape_case(),
        conv_case(),
        block_case(),
        block_place_case(),
        map_per_channel_of_sample_case(),
        recur_case(),
        embedding_case(),
    ];
    cases.extend(sum_cases());
    cases.extend(pool_cases());
    cases.extend(class_cases());
    cases.extend(attention_cases());
    cases
}

#[test]
fn every_local_derivative_matches_finite_differences() {
    for case in all_cases() {
        case.check();
    }
}

/// One example of every op, the pattern and the example side by side: a
/// variant added to `Op` without an entry here makes the match below
/// non-exhaustive, which does not compile.
macro_rules! every_op {
    ($($pattern:pat => $example:expr),* $(,)?) => {
        fn every_op() -> Vec<Op> {
            vec![$($example),*]
        }
        #[allow(dead_code)]
        fn listed(op: &Op) {
            match op {
                $($pattern => {})*
            }
        }
    };
}

const CONV: Conv2d = Conv2d {
    channels: 1,
    height: 1,
    width: 1,
    out_channels: 1,
    kernel_h: 1,
    kernel_w: 1,
    stride_h: 1,
    stride_w: 1,
    pad_top: 0,
    pad_left: 0,
    dilation_h: 1,
    dilation_w: 1,
    out_h: 1,
    out_w: 1,
};
const POOL: Pool2d = Pool2d {
    channels: 1,
    height: 1,
    width: 1,
    kernel_h: 1,
    kernel_w: 1,
    stride_h: 1,
    stride_w: 1,
    out_h: 1,
    out_w: 1,
};
const HEADS: Heads = Heads { t: 1, d: 1, heads: 1, causal: false };
const BLOCK: Block = Block { src_rows: 1, src_cols: 1, row_offset: 0, col_offset: 0, rows: 1, cols: 1 };

fn cell() -> Box<Cell> {
    Box::new(Cell { steps: 1, hidden: 1, gates: 1, carries: 1, update: vec![var(0)] })
}

every_op! {
    Op::Input => Op::Input,
    Op::Target(_) => Op::Target(0),
    Op::SampleWeight => Op::SampleWeight,
    Op::Param(_) => Op::Param(0),
    Op::State(_) => Op::State(0),
    Op::UpdateRunning { .. } => Op::UpdateRunning { momentum: 0.1, unbiased: true, per_sample: 1 },
    Op::Linear => Op::Linear,
    Op::LinearBackData => Op::LinearBackData,
    Op::LinearBackWeight => Op::LinearBackWeight,
    Op::LinearUpdate(_) => Op::LinearUpdate(0),
    Op::Map(_) => Op::Map(Map { expr: var(0), reads: vec![Read::Same] }),
    Op::SumBatch => Op::SumBatch,
    Op::SumFeatures => Op::SumFeatures,
    Op::SumAll => Op::SumAll,
    Op::SumChannels => Op::SumChannels,
    Op::SumRows => Op::SumRows,
    Op::SumLast => Op::SumLast,
    Op::Conv(_) => Op::Conv(CONV),
    Op::ConvBackData(_) => Op::ConvBackData(CONV),
    Op::ConvBackWeight(_) => Op::ConvBackWeight(CONV),
    Op::MaxPool(_) => Op::MaxPool(POOL),
    Op::MaxPoolBack(_) => Op::MaxPoolBack(POOL),
    Op::AvgPool(_) => Op::AvgPool(POOL),
    Op::AvgPoolBack(_) => Op::AvgPoolBack(POOL),
    Op::Block(_) => Op::Block(BLOCK),
    Op::BlockBack(_) => Op::BlockBack(BLOCK),
    Op::Recur(_) => Op::Recur(cell()),
    Op::RecurBack(_) => Op::RecurBack(cell()),
    Op::AttentionLogits(_) => Op::AttentionLogits(HEADS),
    Op::AttentionLogitsBack(_) => Op::AttentionLogitsBack(HEADS),
    Op::AttentionMix(_) => Op::AttentionMix(HEADS),
    Op::AttentionMixBackProbs(_) => Op::AttentionMixBackProbs(HEADS),
    Op::AttentionMixBackValues(_) => Op::AttentionMixBackValues(HEADS),
    Op::Embedding => Op::Embedding,
    Op::EmbeddingBack => Op::EmbeddingBack,
    Op::Pick => Op::Pick,
    Op::Scatter => Op::Scatter,
    Op::LogSoftmax => Op::LogSoftmax,
    Op::LogSoftmaxBack => Op::LogSoftmaxBack,
    Op::DropoutMask(_) => Op::DropoutMask(0.5),
    Op::Softmax => Op::Softmax,
    Op::SoftmaxBack => Op::SoftmaxBack,
    Op::CrossEntropy => Op::CrossEntropy,
    Op::CrossEntropyBack => Op::CrossEntropyBack,
    Op::SoftmaxCrossEntropy => Op::SoftmaxCrossEntropy,
    Op::SoftmaxCrossEntropyBack => Op::SoftmaxCrossEntropyBack,
    Op::Plan(_) => Op::Plan(0),
    Op::Constant(_) => Op::Constant(0),
    Op::DenseT(_) => Op::DenseT(DenseT { rows: 1, inputs: 1, outputs: 1, activation: var(0) }),
    Op::RecurT(_) => Op::RecurT(Box::new(RecurT { inputs: 1, blocks: vec![], cell: *cell(), sequence: false, stream: None })),
    Op::ConvStep(_) => Op::ConvStep(crate::ir::ConvStep { channels: 1, out_channels: 1, kernel: 2, dilation: 1, stream: 0 }),
}

/// Every op with a derivative, and every adjoint its derivative builds, is
/// exercised by the finite-difference test; only leaves and side effects
/// are not.
#[test]
fn every_op_is_covered_by_a_finite_difference_case() {
    let covered: BTreeSet<&str> = all_cases().into_iter().flat_map(Case::check).collect();
    for op in every_op() {
        let rules = rules(&op);
        let exempt =
            matches!(rules.derivative, Derivative::Leaf | Derivative::Effect | Derivative::InferenceOnly);
        assert!(
            exempt || covered.contains(rules.name),
            "no finite-difference case exercises `{}`",
            rules.name
        );
    }
    let names: BTreeSet<&str> = every_op().iter().map(name).collect();
    assert_eq!(names.len(), every_op().len(), "op names are unique");
}

/// The table in `derivatives.md` (shown in the module docs) is generated
/// from the rules; `CHAINRULE_BLESS=1` rewrites it.
#[test]
fn the_derivative_table_is_current() {
    let mut table =
        String::from("| op | forward | local derivative, from upstream `g` |\n|----|---------|------|\n");
    for op in every_op() {
        let rules = rules(&op);
        let derivative = match rules.derivative {
            Derivative::Leaf => "none: a leaf",
            Derivative::Vjp { formula, .. } => formula,
            Derivative::BackwardOnly => "an adjoint; not differentiated again",
            Derivative::Effect => "none: a side effect",
            Derivative::InferenceOnly => "none: inference only (planned weights)",
        };
        table.push_str(&format!("| `{}` | {} | {derivative} |\n", rules.name, rules.forward));
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/ops/derivatives.md");
    if std::env::var_os("CHAINRULE_BLESS").is_some() {
        std::fs::write(path, &table).expect("derivatives.md is writable");
    }
    let current = std::fs::read_to_string(path).unwrap_or_default();
    assert!(current == table, "src/ops/derivatives.md is out of date: run with CHAINRULE_BLESS=1");
}
