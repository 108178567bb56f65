//! Kernels: the numeric work that generated code calls with concrete sizes.
//!
//! Row-major throughout. A batched value of `m` samples with `n` features is
//! an `m x n` matrix stored sample after sample, which is also how
//! `&[[S; n]]` lies in memory. Every kernel validates the lengths it relies on
//! with assertions: generated code computes them from sizes fixed at compile
//! time, so a failing assertion is a bug in the compiler, never bad input.

mod attention;
mod block;
#[cfg(feature = "std")]
mod conv;
pub(crate) mod conv2d_1;
#[cfg(all(test, feature = "std"))]
mod conv_cases;
mod conv_step;
pub(crate) mod dense_t;
mod dropout;
mod embedding;
#[cfg(feature = "std")]
pub(crate) mod gemm;
#[cfg(feature = "std")]
mod linear;
mod log_softmax;
mod loss;
pub(crate) mod matvec;
mod pick;
mod pool;
pub(crate) mod pool_2x2;
mod recur;
mod reduce;
#[cfg(target_arch = "x86_64")]
pub(crate) mod simd;
mod softmax;

pub use crate::isa::fast_path_available;
pub use attention::{Heads, attention_logits, attention_mix};
#[cfg(feature = "std")]
pub use attention::{attention_logits_back, attention_mix_back_probs, attention_mix_back_values};
pub use block::{Block, block, block_back};
pub use chainrule_spec::Conv2d;
#[cfg(feature = "std")]
pub use conv::{conv2d, conv2d_back_data, conv2d_back_weight};
pub use conv_step::conv_step;
pub use conv2d_1::conv2d_1;
pub use dense_t::dense_t;
pub use dropout::{dropout_mask, next_u64};
pub use embedding::{embedding, embedding_back};
#[cfg(feature = "std")]
pub use gemm::gemm;
#[cfg(feature = "std")]
pub use linear::{linear, linear_back_data, linear_back_weight, linear_update};
pub use log_softmax::{log_softmax, log_softmax_back};
pub use loss::{cross_entropy, cross_entropy_back, softmax_cross_entropy, softmax_cross_entropy_back};
pub use matvec::linear_1;
pub use pick::{pick, scatter};
pub use pool::{Pool2d, avg_pool2d, avg_pool2d_back, max_pool2d, max_pool2d_back};
pub use recur::{recur, recur_back, recur_t};
pub use reduce::{LANES, fold_lanes, sum_all, sum_batch, sum_channels, sum_features, update_running};
pub use softmax::{softmax, softmax_back};
