//! IR operations. Each file holds one family: the builder that computes the
//! output shape, the local derivative (`vjp`: given the gradient of the
//! output, build the gradient of each operand as new graph nodes), and the
//! code emitted for it. Reverse-mode differentiation only ever calls `vjp`;
//! no layer has a hand-written backward pass.
//!
//! The rules, read together:
//!
//! | op | forward | gradient of operands, from upstream `g` |
//! |----|---------|------------------------------------------|
//! | `Linear(x, W)` | `x W^T` | `dx = g W`, `dW = g^T x` |
//! | `Map(f)(a, b..)` | `f(a, b..)` elementwise | `da = g * df/da`, summed over broadcast dims |
//! | `SumBatch(x)` | sum over samples | `g` copied to every sample |
//! | `SumFeatures(x)` | sum over each sample's features | `g` copied to every feature |
//! | `SumAll(x)` | sum of everything | `g` copied to every element |
//! | `SumChannels(x)` | sum over samples and positions, per channel | `g` copied to every position |
//! | `Conv(x, W)` | cross-correlation with stride, padding, dilation | `dx = ConvBackData(g, W)` (transposed convolution), `dW = ConvBackWeight(g, x)` |
//! | `MaxPool(x)` | window maxima `y` | `MaxPoolBack(g, x, y)`: `g` to each window's maximum |
//! | `AvgPool(x)` | window means | `AvgPoolBack(g)`: `g / window` to every element of the window |
//! | `SumRows(x)` | sum over samples and leading positions, per last-axis feature | `g` copied to every row |
//! | `Block(x)` | a shifted sub-block of `[rows, cols]` | `BlockBack(g)`: `g` in place, zeros elsewhere |
//! | `Recur(xw, W_hh, b_ih, b_hh)` | a recurrent cell over time | `RecurBack`: BPTT, the cell's update differentiated symbolically |
//! | `Pick(y, t)` | `y[t]` per sample | `Scatter`: `g` at `t`, 0 elsewhere |
//! | `LogSoftmax(x)` | `ls = x - logsumexp(x)` | `g - exp(ls) sum(g)` |
//! | `Softmax(x)` | `p = softmax(x)` | `p * (g - sum(g p))` |
//! | `CrossEntropy(p, t)` | `-mean ln p[t]` | `-g / (batch p[t])` at `t`, else 0 |
//! | `SoftmaxCrossEntropy(z, t)` | fused, stable | `g (p - onehot t) / batch` |

pub mod block;
pub mod conv;
pub mod cross_entropy;
pub mod dropout;
pub mod linear;
pub mod log_softmax;
pub mod map;
pub mod pick;
pub mod pool;
pub mod recur;
pub mod reduce;
pub mod running;
pub mod softmax;

use crate::emit::body::Ctx;
use crate::ir::expr::Expr;
use crate::ir::{Graph, NodeId};
use chainrule_spec::{Block, Conv2d, Pool2d};
use proc_macro2::TokenStream;

#[derive(Clone, Debug)]
pub enum Op {
    /// The network input (batched).
    Input,
    /// Training targets (class indices or values, see `Lowered::target`).
    Target,
    /// Parameter tensor `k` of the flat buffer.
    Param(usize),
    /// State tensor `k` (running statistics): read, never differentiated.
    State(usize),
    /// Moves state operand 0 toward statistic operand 1 (a side effect).
    UpdateRunning {
        momentum: f64,
        unbiased: bool,
        /// Values per sample behind each statistic (positions of a
        /// channel), for the unbiased correction.
        per_sample: usize,
    },
    Linear,
    LinearBackData,
    LinearBackWeight,
    Map(Expr),
    SumBatch,
    SumFeatures,
    SumAll,
    /// Sum over samples and positions of each channel: the operand is
    /// `[channels, ..]` per sample, the result `[channels]`.
    SumChannels,
    Conv(Conv2d),
    ConvBackData(Conv2d),
    ConvBackWeight(Conv2d),
    MaxPool(Pool2d),
    MaxPoolBack(Pool2d),
    AvgPool(Pool2d),
    AvgPoolBack(Pool2d),
    /// Sum over samples and every leading position: `[.., n]` to `[n]`.
    SumRows,
    Block(Block),
    BlockBack(Block),
    Recur(Box<recur::Cell>),
    RecurBack(Box<recur::Cell>),
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

impl Op {
    pub fn name(&self) -> &'static str {
        match self {
            Op::Input => "input",
            Op::Target => "target",
            Op::Param(_) => "param",
            Op::State(_) => "state",
            Op::UpdateRunning { .. } => "update_running",
            Op::Linear => "linear",
            Op::LinearBackData => "linear_back_data",
            Op::LinearBackWeight => "linear_back_weight",
            Op::Map(_) => "map",
            Op::SumBatch => "sum_batch",
            Op::SumFeatures => "sum_features",
            Op::SumAll => "sum_all",
            Op::SumChannels => "sum_channels",
            Op::Conv(_) => "conv",
            Op::ConvBackData(_) => "conv_back_data",
            Op::ConvBackWeight(_) => "conv_back_weight",
            Op::MaxPool(_) => "max_pool",
            Op::MaxPoolBack(_) => "max_pool_back",
            Op::AvgPool(_) => "avg_pool",
            Op::AvgPoolBack(_) => "avg_pool_back",
            Op::SumRows => "sum_rows",
            Op::Block(_) => "block",
            Op::BlockBack(_) => "block_back",
            Op::Recur(_) => "recur",
            Op::RecurBack(_) => "recur_back",
            Op::Pick => "pick",
            Op::Scatter => "scatter",
            Op::LogSoftmax => "log_softmax",
            Op::LogSoftmaxBack => "log_softmax_back",
            Op::DropoutMask(_) => "dropout_mask",
            Op::Softmax => "softmax",
            Op::SoftmaxBack => "softmax_back",
            Op::CrossEntropy => "cross_entropy",
            Op::CrossEntropyBack => "cross_entropy_back",
            Op::SoftmaxCrossEntropy => "softmax_cross_entropy",
            Op::SoftmaxCrossEntropyBack => "softmax_cross_entropy_back",
        }
    }
}

/// Gradient of each operand of node `id` given the gradient `upstream` of its
/// output; `wants[i]` says whether operand `i` needs one. An operation that
/// only appears in backward graphs has no derivative: asking is a bug.
pub fn vjp(
    g: &mut Graph,
    id: NodeId,
    upstream: NodeId,
    wants: &[bool],
) -> Result<Vec<Option<NodeId>>, String> {
    Ok(match g.node(id).op {
        Op::Input | Op::Target | Op::Param(_) | Op::State(_) | Op::DropoutMask(_) => vec![],
        Op::Linear => linear::vjp(g, id, upstream, wants),
        Op::Map(_) => map::vjp(g, id, upstream, wants),
        Op::SumBatch | Op::SumFeatures | Op::SumAll | Op::SumChannels | Op::SumRows => {
            reduce::vjp(g, id, upstream)
        }
        Op::Block(_) => block::vjp(g, id, upstream),
        Op::Recur(_) => recur::vjp(g, id, upstream, wants),
        Op::Conv(_) => conv::vjp(g, id, upstream, wants),
        Op::MaxPool(_) | Op::AvgPool(_) => pool::vjp(g, id, upstream),
        Op::Pick => pick::vjp(g, id, upstream),
        Op::LogSoftmax => log_softmax::vjp(g, id, upstream),
        Op::Softmax => softmax::vjp(g, id, upstream),
        Op::CrossEntropy | Op::SoftmaxCrossEntropy => cross_entropy::vjp(g, id, upstream),
        ref op => {
            return Err(format!(
                "`{}` has no derivative; higher-order gradients are not supported",
                op.name()
            ));
        }
    })
}

/// The statements computing node `id`; leaves emit nothing.
pub fn emit(ctx: &Ctx, g: &Graph, id: NodeId) -> TokenStream {
    match &g.node(id).op {
        Op::Input | Op::Target | Op::Param(_) | Op::State(_) => TokenStream::new(),
        Op::UpdateRunning { .. } => running::emit(ctx, g, id),
        Op::Linear | Op::LinearBackData | Op::LinearBackWeight => linear::emit(ctx, g, id),
        Op::Map(_) => map::emit(ctx, g, id),
        Op::SumBatch | Op::SumFeatures | Op::SumAll | Op::SumChannels | Op::SumRows => {
            reduce::emit(ctx, g, id)
        }
        Op::Block(_) | Op::BlockBack(_) => block::emit(ctx, g, id),
        Op::Recur(_) | Op::RecurBack(_) => recur::emit(ctx, g, id),
        Op::Conv(_) | Op::ConvBackData(_) | Op::ConvBackWeight(_) => conv::emit(ctx, g, id),
        Op::MaxPool(_) | Op::MaxPoolBack(_) | Op::AvgPool(_) | Op::AvgPoolBack(_) => pool::emit(ctx, g, id),
        Op::Pick | Op::Scatter => pick::emit(ctx, g, id),
        Op::LogSoftmax | Op::LogSoftmaxBack => log_softmax::emit(ctx, g, id),
        Op::DropoutMask(_) => dropout::emit(ctx, g, id),
        Op::Softmax | Op::SoftmaxBack => softmax::emit(ctx, g, id),
        Op::CrossEntropy | Op::CrossEntropyBack | Op::SoftmaxCrossEntropy | Op::SoftmaxCrossEntropyBack => {
            cross_entropy::emit(ctx, g, id)
        }
    }
}
