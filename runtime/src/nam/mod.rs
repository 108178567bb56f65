//! Neural Amp Modeler models at audio rate: the kernels that
//! `network! { struct Amp { nam: "amp.nam" } }` compiles a `.nam` file
//! into. The compiler fixes every size (channels, kernel, dilation) as a
//! const parameter and lays the weights out for these kernels in statics;
//! what is left here is the arithmetic, written once.
//!
//! **WaveNet** (NAM's standard architecture). Per layer, with `h` the
//! residual stream (`C` channels), `x` the input audio and `s` the skip sum:
//!
//! ```text
//! z = bias + sum_k W[k] h[t - d (K-1-k)] + m x[t]    dilated causal convolution and mixin
//! a = act(z)        (gated: act(z1) * gate(z2); blended: alpha act(z1) + (1-alpha) z1, alpha = blend(z2))
//! s += a                                           the skip sum, read by the array's head
//! h = h + W1 a + b1                                the residual stream of the next layer
//! ```
//!
//! Each layer array re-channels its input (the audio, or the previous
//! array's residual stream) into `h`, starts `s` from zero (or the previous
//! array's head output), and ends with its head, a causal convolution of
//! `s`. The output is `head_scale` times the last head.
//!
//! **Streaming.** Every convolution reads its input's last `d (K-1)`
//! columns besides the current ones, so each input stream lives in a
//! [`History`]: the past columns and room for the next chunk, in one buffer
//! that slides back when full. A block of any length is processed in
//! chunks of at most [`CHUNK`] samples, layer by layer, so a chunk's
//! columns stay in L1 while every layer passes over them, and the results
//! do not depend on how the audio was cut into blocks.
//!
//! **LSTM**: [`lstm`], one sample at a time.

// Loops over `0..C` index several arrays of the same constant length at
// once; as index loops they unroll and vectorize to whole registers.
#![allow(clippy::needless_range_loop)]

mod activation;
pub mod lstm;
mod signal;
#[cfg(target_arch = "x86_64")]
mod vector;
pub mod wavenet;

pub use activation::apply;
pub use chainrule_spec::nam::{Activation, Gating};
pub use signal::test_signal;
pub use wavenet::{Activations, Conv, History, Layer};

/// The most samples a WaveNet processes layer by layer before moving on:
/// a chunk of 16-channel columns is 4 KiB, which stays in L1 with the
/// weights of a layer.
pub const CHUNK: usize = 64;
