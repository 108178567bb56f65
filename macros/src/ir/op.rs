//! The operations a graph node can perform: the one list of them. Each has
//! a file in `ops/` with its shape rule (the builder), its local derivative
//! and its code; `ops::rules` maps a variant to those. The payloads here
//! are plain data, so the graph reads without the code generator.

use super::expr::Expr;
use chainrule_spec::{Block, Conv2d, Heads, Pool2d};

#[derive(Clone, Debug)]
pub enum Op {
    /// The network input (batched).
    Input,
    /// The training targets of output `k` (class indices or values, see
    /// `TargetKind` and `Graph::targets`).
    Target(usize),
    /// The weight of each sample (`[batch]`), in the training functions
    /// of a network declared with `sample_weights: true`.
    SampleWeight,
    /// Parameter tensor `k` of the flat buffer.
    Param(usize),
    /// State tensor `k` (running statistics): read, never differentiated.
    State(usize),
    /// Tensor `k` of the inference copy of the weights (see `Graph::plans`).
    Plan(usize),
    /// Moves state operand 0 toward statistic operand 1 (a side effect).
    UpdateRunning {
        momentum: f64,
        unbiased: bool,
        /// Values per sample behind each statistic (positions of a
        /// channel), for the unbiased correction.
        per_sample: usize,
    },
    /// Multi-head self-attention logits of `qkv` (`[t, 3d]`), `-inf` where
    /// a causal mask hides a pair: `[heads, t, t]` a sample.
    AttentionLogits(Heads),
    /// Gradient of the logits with respect to `qkv` (operands: `qkv`, the
    /// upstream gradient): its `q` and `k` parts.
    AttentionLogitsBack(Heads),
    /// Each head's probabilities (operand 0) times its values (of `qkv`,
    /// operand 1), the heads side by side: `[t, d]`.
    AttentionMix(Heads),
    /// Gradient of the mix with respect to the probabilities (operands:
    /// `qkv`, the upstream gradient).
    AttentionMixBackProbs(Heads),
    /// Gradient of the mix with respect to `qkv` (operands: the
    /// probabilities, the upstream gradient): its `v` part.
    AttentionMixBackValues(Heads),
    /// The rows of table operand 1 (`[vocab, dim]`) that the token ids of
    /// operand 0 name: `[n]` ids per sample to `[n, dim]`.
    Embedding,
    /// Gradient of the table: each row the sum of the upstream rows
    /// (operand 1) at the positions whose id (operand 0) names it.
    EmbeddingBack,
    /// `x W^T` over the last axis of `x`.
    Linear,
    LinearBackData,
    LinearBackWeight,
    /// The optimizer's step applied to parameter `k` (operand 2) as its
    /// gradient, `linear_back_weight` of operands 0 and 1, is computed: a
    /// side effect of the training step, whose value is scratch.
    LinearUpdate(usize),
    /// Constant tensor `k` of the graph's table, fixed by the declaration.
    Constant(usize),
    /// A scalar expression applied elementwise, operands broadcast as read.
    Map(Map),
    /// Sum over samples: `[batch, ..]` to `[..]`.
    SumBatch,
    /// Sum over each sample's elements: `[batch, ..]` to `[batch]`.
    SumFeatures,
    /// Sum of everything, to a scalar.
    SumAll,
    /// Sum over samples and positions of each channel: `[batch, c, ..]` to `[c]`.
    SumChannels,
    /// Sum over samples and every leading position: `[batch, .., n]` to `[n]`.
    SumRows,
    /// Sum over the last axis of each sample: `[batch, .., n]` to `[batch, ..]`.
    SumLast,
    Conv(Conv2d),
    ConvBackData(Conv2d),
    ConvBackWeight(Conv2d),
    MaxPool(Pool2d),
    MaxPoolBack(Pool2d),
    AvgPool(Pool2d),
    AvgPoolBack(Pool2d),
    /// A shifted rectangular piece of each sample's `[rows, cols]` value.
    Block(Block),
    BlockBack(Block),
    /// A recurrent cell run over time.
    Recur(Box<Cell>),
    RecurBack(Box<Cell>),
    /// Batch-1 inference: a dense layer from its planned weights, with an
    /// activation applied as the outputs are produced.
    DenseT(DenseT),
    /// Batch-1 inference: a recurrent layer from its planned weights,
    /// giving its hidden states.
    RecurT(Box<RecurT>),
    /// Streaming inference: one step of a causal 1-D convolution, its past
    /// inputs in the stream buffer.
    ConvStep(ConvStep),
    /// The value at each sample's target class.
    Pick,
    Scatter,
    LogSoftmax,
    LogSoftmaxBack,
    /// A random dropout mask with drop probability `p` (training only).
    DropoutMask(f64),
    Softmax,
    SoftmaxBack,
    CrossEntropy,
    CrossEntropyBack,
    SoftmaxCrossEntropy,
    SoftmaxCrossEntropyBack,
}

/// An elementwise operation: `expr` over the operands (`Var(i)` is operand
/// `i`), each read as `reads[i]` says.
#[derive(Clone, Debug, PartialEq)]
pub struct Map {
    pub expr: Expr,
    pub reads: Vec<Read>,
}

/// How a `Map` reads one operand for each element of its output:
/// broadcasting, made explicit. The last three split each output sample
/// into `[lead, tail]`: a channel and its positions (`tail` is the
/// operand's spatial size), or the rows of the last axis and that axis
/// (`tail` is the last dimension). Operands that split must agree on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Read {
    /// Its own element: as many per sample as the output (shapes may
    /// differ, as when `flatten` reshapes).
    Same,
    /// One value for every element.
    Scalar,
    /// One value per sample (`[batch]`), shared by the sample's elements.
    PerSample,
    /// One sample's worth, unbatched, shared by every sample (a bias).
    PerFeature,
    /// One value per channel (`[c]` for a `[c, ..]` output), shared by
    /// the channel's positions in every sample.
    PerChannel,
    /// One value per row of the last axis of each sample (`[batch, ..]`
    /// for a `[batch, .., n]` output): a per-row statistic.
    PerRow,
    /// One value per position of the last axis (`[n]` for a `[.., n]`
    /// output), shared by every row and sample: a per-feature scale.
    PerColumn,
}

/// A dense layer over planned weights (`Derivation::Dense`): `inputs` in,
/// `outputs` out, `activation` of `Var(0)` applied to each.
#[derive(Clone, Debug, PartialEq)]
pub struct DenseT {
    /// Rows: 1, or a sequence's steps, each through the same weights.
    pub rows: usize,
    pub inputs: usize,
    pub outputs: usize,
    pub activation: Expr,
}

/// One step of a causal 1-D convolution in streaming inference: its sizes
/// and where its past columns live in the network's stream buffer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConvStep {
    pub channels: usize,
    pub out_channels: usize,
    pub kernel: usize,
    pub dilation: usize,
    /// Where its part of the stream buffer starts.
    pub stream: usize,
}

impl ConvStep {
    /// Values the stream keeps: the ring's position, then `dilation *
    /// (kernel - 1)` past columns.
    pub fn stream_len(&self) -> usize {
        1 + self.dilation * (self.kernel - 1) * self.channels
    }
}

/// A recurrent layer over planned weights (`Derivation::Gates`): per step,
/// the gate inputs of every column block over `[x; h]` in one product,
/// then the cell's update over the blocks (variables `0..blocks.len()`,
/// each a unit's value in its block) and the previous carries (variables
/// after them).
#[derive(Clone, Debug, PartialEq)]
pub struct RecurT {
    pub inputs: usize,
    pub blocks: Vec<chainrule_spec::plan::GateBlock>,
    /// Steps, hidden size and carries as in `Cell`; its `update`
    /// rewritten over the blocks.
    pub cell: Cell,
    /// Every step's hidden state, or the last one.
    pub sequence: bool,
    /// Streaming (one step a call): where the carries live in the
    /// network's stream buffer, read before the step and written after
    /// it. Otherwise the state starts at zero.
    pub stream: Option<usize>,
}

/// A recurrent cell: sizes and the update of its carries.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    pub steps: usize,
    pub hidden: usize,
    /// Gate blocks of `hidden` units each (RNN 1, GRU 3, LSTM 4).
    pub gates: usize,
    /// Carried vectors, the hidden state first (LSTM also carries `c`).
    pub carries: usize,
    /// The new value of each carry for one unit, over the variables
    /// `0..gates` (the gate inputs from `x`, bias included),
    /// `gates..2 * gates` (from `h`, bias included) and `2 * gates..` (the
    /// previous carries).
    pub update: Vec<Expr>,
}

impl Cell {
    /// Values of all gates of one step.
    pub fn gate_len(&self) -> usize {
        self.gates * self.hidden
    }

    /// Values of all carries of one step.
    pub fn carried(&self) -> usize {
        self.carries * self.hidden
    }

    /// Values kept per step: the carries, then the tape (per unit, the
    /// values of [`Cell::tape`]).
    pub fn record(&self) -> usize {
        self.carried() + self.tape().0.len() * self.hidden
    }

    /// Variables of the update: gate inputs from `x`, from `h`, previous carries.
    pub fn variables(&self) -> usize {
        2 * self.gates + self.carries
    }

    /// For every variable, its gradient given the gradients of the new
    /// carries (variables `variables()..`): the chain rule, symbolically.
    pub fn gradients(&self) -> Vec<Expr> {
        use super::expr::{add, c, mul, var};
        let upstream = self.variables();
        (0..upstream)
            .map(|v| {
                self.update
                    .iter()
                    .enumerate()
                    .fold(c(0.0), |sum, (m, e)| add(sum, mul(var(upstream + m), e.diff(v))))
            })
            .collect()
    }

    /// Whether each gate's input from `x` and from `h` get the same
    /// gradient (they enter the update only through their sum, as in an
    /// RNN or LSTM; a GRU's candidate scales `hw_n` by its reset gate):
    /// then the backward pass computes and keeps one of them.
    pub fn shares_gate_gradients(&self) -> bool {
        let gradients = self.gradients();
        (0..self.gates).all(|k| gradients[k] == gradients[self.gates + k])
    }

    /// Gradient values per step the backward pass keeps: the gate inputs'
    /// from `x`, then (unless they are the same) from `h`.
    pub fn gate_gradients(&self) -> usize {
        if self.shares_gate_gradients() { self.gate_len() } else { 2 * self.gate_len() }
    }

    /// What the forward pass keeps for the backward one, per unit and step
    /// (the tape), and the gradients rewritten to read it: every
    /// transcendental value of the update the gradients use (gate
    /// activations, `tanh(c)`), saved as the forward pass computes it
    /// rather than computed again, and each gate input from `h` the
    /// gradients still read (a GRU's candidate reads `hw_n` through its
    /// reset gate). The gate inputs from `x` are not kept: the backward
    /// pass has them. In the rewritten gradients, tape value `k` is
    /// variable `variables() + carries + k`, after the carries' gradients.
    pub fn tape(&self) -> (Vec<Expr>, Vec<Expr>) {
        use super::expr::var;
        use std::collections::BTreeSet;
        let base = self.variables() + self.carries;
        let reads = |gradients: &[Expr]| gradients.iter().flat_map(Expr::vars).collect::<BTreeSet<usize>>();
        // Outermost first, so that a saved value inside another saved one
        // (a gate inside `tanh(c)`) is replaced where it stands alone.
        let mut saved: Vec<Expr> = Vec::new();
        self.update.iter().for_each(|e| collect_transcendental(e, &mut saved));
        let mut gradients = self.gradients();
        let tape = |gradients: &mut Vec<Expr>, e: &Expr, k: usize| {
            *gradients = gradients.iter().map(|d| d.replace(e, &var(base + k))).collect();
        };
        for (k, e) in saved.iter().enumerate() {
            tape(&mut gradients, e, k);
        }
        let read = reads(&gradients);
        for v in (self.gates..2 * self.gates).filter(|v| read.contains(v)) {
            saved.push(var(v));
            tape(&mut gradients, &var(v), saved.len() - 1);
        }
        // Only what the gradients read is kept, renumbered in order.
        let read = reads(&gradients);
        let kept: Vec<usize> = (0..saved.len()).filter(|k| read.contains(&(base + k))).collect();
        let renumber = |i: usize| match i.checked_sub(base) {
            Some(k) => var(base + kept.iter().position(|&j| j == k).expect("only kept values are read")),
            None => var(i),
        };
        let gradients = gradients.iter().map(|d| d.substitute(&renumber)).collect();
        (kept.into_iter().map(|k| saved[k].clone()).collect(), gradients)
    }
}

/// The distinct values of `e` that cost more than an arithmetic operation
/// to compute, outermost first.
fn collect_transcendental(e: &Expr, out: &mut Vec<Expr>) {
    use super::expr::Unary;
    match e {
        Expr::Unary(op, a) => {
            let costly = matches!(
                op,
                Unary::Exp
                    | Unary::Ln
                    | Unary::Tanh
                    | Unary::Sigmoid
                    | Unary::Softplus
                    | Unary::Erf
                    | Unary::Cosh
                    | Unary::Sinh
            );
            if costly && !out.contains(e) {
                out.push(e.clone());
            }
            collect_transcendental(a, out);
        }
        Expr::Binary(_, a, b) => {
            collect_transcendental(a, out);
            collect_transcendental(b, out);
        }
        _ => {}
    }
}
