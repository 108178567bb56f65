//! What each operation of the IR means: one file per family holds its
//! builders (the shape rule), its local derivative, the code emitted for
//! it, whether that code runs without `std`, and (in tests) its reference
//! semantics in `f64`. [`rules`] is the one table from an [`Op`] variant to
//! those; reverse mode, emission and the tests reach an op only through it.
//! No layer has a hand-written backward pass: layers lower to these ops.
//!
//! The derivative rules, read together (generated from the table by a
//! test, which fails when it is out of date):
//!
#![doc = include_str!("derivatives.md")]

pub mod attention;
pub mod block;
pub mod conv;
pub mod conv_step;
pub mod cross_entropy;
pub mod dense_t;
pub mod dropout;
pub mod embedding;
#[cfg(test)]
pub mod eval;
pub mod leaf;
pub mod linear;
pub mod log_softmax;
pub mod map;
pub mod pick;
pub mod pool;
pub mod recur;
pub mod recur_t;
pub mod reduce;
pub mod running;
pub mod softmax;

use crate::codegen::Ctx;
use crate::ir::{Graph, NodeId, Op};
use proc_macro2::TokenStream;

/// Builds the gradients of a node's operands: given the graph, the node,
/// the node holding the gradient of its output and which operands need a
/// gradient, new nodes for each wanted one.
pub type Vjp = fn(&mut Graph, NodeId, NodeId, &[bool]) -> Vec<Option<NodeId>>;

/// How reverse mode treats an op.
#[derive(Clone, Copy)]
pub enum Derivative {
    /// Gradients stop here: the input, targets, parameters, state, random
    /// masks (constants with respect to every parameter).
    Leaf,
    /// The local derivative, as a formula for the reader (the derivative
    /// table, which a test renders) and as the code that builds it.
    #[cfg_attr(not(test), allow(dead_code))]
    Vjp { formula: &'static str, build: Vjp },
    /// An adjoint, found only in backward graphs: differentiating it again
    /// (a higher-order gradient) is not supported.
    BackwardOnly,
    /// A side effect without a value (running statistics): nothing flows
    /// back through it.
    Effect,
    /// Batch-1 inference from planned weights, found only in inference
    /// graphs, which are never differentiated; a test holds its value to
    /// the operations it stands for.
    InferenceOnly,
}

/// Everything about one op.
pub struct Rules {
    /// The name descriptions show: `linear_back_data`.
    pub name: &'static str,
    /// What it computes, for the derivative table and the description of
    /// adjoints.
    pub forward: &'static str,
    pub derivative: Derivative,
    /// The statements computing a node of this op.
    pub emit: fn(&Ctx, &Graph, NodeId) -> TokenStream,
    /// Whether its batch-1 code runs on the runtime without its `std`
    /// feature (`embedded: true`).
    pub without_std: fn(&Graph, NodeId) -> bool,
    /// The node's value in `f64` from its operands' values: the reference
    /// the derivative tests hold the rules to.
    #[cfg(test)]
    pub eval: fn(&eval::Values, &Graph, NodeId) -> Vec<f64>,
}

/// For `without_std`: code that calls only kernels the runtime has without `std`.
pub fn always(_: &Graph, _: NodeId) -> bool {
    true
}

/// For `without_std`: code that needs the packed matrix multiply or other
/// kernels of the `std` build.
pub fn never(_: &Graph, _: NodeId) -> bool {
    false
}

/// The one table: the rules of every op.
pub fn rules(op: &Op) -> &'static Rules {
    match op {
        Op::Input => &leaf::INPUT,
        Op::Target(_) => &leaf::TARGET,
        Op::SampleWeight => &leaf::SAMPLE_WEIGHT,
        Op::Param(_) => &leaf::PARAM,
        Op::State(_) => &leaf::STATE,
        Op::Plan(_) => &leaf::PLAN,
        Op::Constant(_) => &leaf::CONSTANT,
        Op::UpdateRunning { .. } => &running::UPDATE_RUNNING,
        Op::Linear => &linear::LINEAR,
        Op::LinearBackData => &linear::LINEAR_BACK_DATA,
        Op::LinearBackWeight => &linear::LINEAR_BACK_WEIGHT,
        Op::LinearUpdate(_) => &linear::LINEAR_UPDATE,
        Op::Map(_) => &map::MAP,
        Op::SumBatch => &reduce::SUM_BATCH,
        Op::SumFeatures => &reduce::SUM_FEATURES,
        Op::SumAll => &reduce::SUM_ALL,
        Op::SumChannels => &reduce::SUM_CHANNELS,
        Op::SumRows => &reduce::SUM_ROWS,
        Op::SumLast => &reduce::SUM_LAST,
        Op::Conv(_) => &conv::CONV,
        Op::ConvBackData(_) => &conv::CONV_BACK_DATA,
        Op::ConvBackWeight(_) => &conv::CONV_BACK_WEIGHT,
        Op::MaxPool(_) => &pool::MAX_POOL,
        Op::MaxPoolBack(_) => &pool::MAX_POOL_BACK,
        Op::AvgPool(_) => &pool::AVG_POOL,
        Op::AvgPoolBack(_) => &pool::AVG_POOL_BACK,
        Op::Block(_) => &block::BLOCK,
        Op::BlockBack(_) => &block::BLOCK_BACK,
        Op::Recur(_) => &recur::RECUR,
        Op::RecurBack(_) => &recur::RECUR_BACK,
        Op::DenseT(_) => &dense_t::DENSE_T,
        Op::RecurT(_) => &recur_t::RECUR_T,
        Op::ConvStep(_) => &conv_step::CONV_STEP,
        Op::AttentionLogits(_) => &attention::LOGITS,
        Op::AttentionLogitsBack(_) => &attention::LOGITS_BACK,
        Op::AttentionMix(_) => &attention::MIX,
        Op::AttentionMixBackProbs(_) => &attention::MIX_BACK_PROBS,
        Op::AttentionMixBackValues(_) => &attention::MIX_BACK_VALUES,
        Op::Embedding => &embedding::EMBEDDING,
        Op::EmbeddingBack => &embedding::EMBEDDING_BACK,
        Op::Pick => &pick::PICK,
        Op::Scatter => &pick::SCATTER,
        Op::LogSoftmax => &log_softmax::LOG_SOFTMAX,
        Op::LogSoftmaxBack => &log_softmax::LOG_SOFTMAX_BACK,
        Op::DropoutMask(_) => &dropout::DROPOUT_MASK,
        Op::Softmax => &softmax::SOFTMAX,
        Op::SoftmaxBack => &softmax::SOFTMAX_BACK,
        Op::CrossEntropy => &cross_entropy::CROSS_ENTROPY,
        Op::CrossEntropyBack => &cross_entropy::CROSS_ENTROPY_BACK,
        Op::SoftmaxCrossEntropy => &cross_entropy::SOFTMAX_CROSS_ENTROPY,
        Op::SoftmaxCrossEntropyBack => &cross_entropy::SOFTMAX_CROSS_ENTROPY_BACK,
    }
}

/// The rows of a value read along its last axis, and that axis' length:
/// the samples for a flat value, every step of every sample for a
/// `[t, c]` one (softmax and class losses act on each row).
pub fn last_axis_rows(ctx: &Ctx, shape: &crate::ir::Shape) -> (TokenStream, usize) {
    let n = shape.dims.last().copied().unwrap_or(1);
    let (rows, lead) = (ctx.rows(), shape.len() / n.max(1));
    match lead {
        1 => (rows, n),
        lead => (quote::quote!(#rows * #lead), n),
    }
}

/// The op's name, for descriptions and messages.
pub fn name(op: &Op) -> &'static str {
    rules(op).name
}

/// The statements computing node `id`; leaves emit nothing.
pub fn emit(ctx: &Ctx, g: &Graph, id: NodeId) -> TokenStream {
    (rules(&g.node(id).op).emit)(ctx, g, id)
}

/// For leaves and side effects, which emit nothing of their own.
pub fn nothing(_: &Ctx, _: &Graph, _: NodeId) -> TokenStream {
    TokenStream::new()
}

#[cfg(test)]
mod tests;
