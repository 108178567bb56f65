//! # chainrule
//!
//! Neural networks declared in Rust source and compiled, at build time, into
//! fixed-size Rust code. The [`network!`] macro checks every shape, derives
//! the backward pass by the chain rule and emits forward and backward
//! functions; this crate supplies what every network shares: kernels,
//! optimizers, the training loop, data loading and metrics.
//!
//! ```
//! use chainrule::{Dataset, Network, Trainer, metrics, optim::Sgd};
//!
//! chainrule::network! {
//!     /// The two-layer perceptron that learns XOR.
//!     pub struct Xor {
//!         input: [2],
//!         layers: [dense(8), tanh, dense(2)],
//!         loss: softmax_cross_entropy,
//!     }
//! }
//!
//! let xs = vec![[0.0f32, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
//! let data = Dataset::new(xs, vec![0usize, 1, 1, 0]).unwrap();
//! let mut net = Xor::new(3);
//! let mut trainer = Trainer::new(Sgd::new(0.5), 4, 0);
//! for _ in 0..500 {
//!     trainer.train_epoch(&mut net, &data).unwrap();
//! }
//! assert_eq!(metrics::accuracy(&net, &data), 1.0);
//! assert_eq!(metrics::argmax(&net.predict(&[1.0, 0.0])), 1);
//! ```
//!
//! The declaration language is documented on [`network!`].
//!
//! Without its default `std` feature the crate is `#![no_std]` without
//! `alloc`: the math, the batch-1 kernels and what `embedded: true`
//! declarations (inference only, weights compiled in) generate code for.
#![deny(missing_docs)]
#![cfg_attr(not(feature = "std"), no_std)]

mod aligned;
#[cfg(feature = "std")]
mod buffer;
#[cfg(feature = "std")]
pub mod data;
mod decode;
#[cfg(feature = "std")]
mod error;
#[cfg(feature = "std")]
pub mod init;
pub mod int8;
pub mod isa;
pub mod kernels;
pub mod math;
#[cfg(feature = "std")]
pub mod metrics;
#[cfg(feature = "std")]
pub mod nam;
#[cfg(feature = "std")]
mod network;
#[cfg(feature = "std")]
pub mod optim;
#[cfg(feature = "std")]
mod process;
#[cfg(feature = "std")]
pub mod rbm;
mod scalar;
#[cfg(feature = "std")]
pub mod summary;
pub mod threads;
#[cfg(feature = "std")]
pub mod train;
#[cfg(feature = "std")]
pub mod weights;
#[cfg(feature = "std")]
mod workspace;

pub use chainrule_macros::network;
#[cfg(feature = "std")]
pub use data::Dataset;
#[cfg(feature = "std")]
pub use error::{Error, Result};
#[cfg(feature = "std")]
pub use network::{Init, Network, ParamSpec, Role, Target};
#[cfg(feature = "std")]
pub use process::Process;
pub use scalar::Scalar;
#[cfg(feature = "std")]
pub use train::Trainer;
#[cfg(feature = "std")]
pub use workspace::Workspace;

/// Items generated code refers to. Not a public API: it changes without notice.
#[doc(hidden)]
pub mod __private {
    pub use crate::aligned::Aligned;
    #[cfg(feature = "std")]
    pub use crate::buffer::Buffer;
    pub use crate::decode::{decode_f32, decode_f64};
    #[cfg(feature = "std")]
    pub use crate::init::init_params;
    #[cfg(feature = "std")]
    pub use crate::optim::Update;
    #[cfg(feature = "std")]
    pub use crate::summary::LayerRow;
    #[cfg(feature = "std")]
    pub use crate::{Error, Init, Network, ParamSpec, Result, Role, Workspace};
    #[cfg(feature = "std")]
    pub use crate::{Process, nam};
    pub use crate::{Scalar, int8, isa, kernels, math};
    pub use chainrule_spec::plan::{Derivation, GateBlock, PlanSpec, Side, relayout};
    pub use core::result::Result::{Err, Ok};

    /// Splits `buf` into consecutive disjoint slices of the given lengths,
    /// so generated code can hold every activation slot mutably at once.
    #[inline]
    pub fn carve<T, const N: usize>(mut buf: &mut [T], lens: [usize; N]) -> [&mut [T]; N] {
        lens.map(|len| {
            let (head, tail) = core::mem::take(&mut buf).split_at_mut(len);
            buf = tail;
            head
        })
    }

    /// The `N` values at `offset` of a network output, as an array: one of
    /// several outputs. Generated code passes sizes that agree, so the
    /// failing branch is unreachable and compiled out.
    #[inline]
    pub fn part<S, const N: usize>(values: &[S], offset: usize) -> &[S; N] {
        match values.get(offset..offset + N).and_then(|p| p.try_into().ok()) {
            Some(part) => part,
            None => unreachable!("an output part lies within the output"),
        }
    }

    /// Immutable counterpart of [`carve`], for the parameter buffer.
    #[inline]
    pub fn carve_ref<T, const N: usize>(mut buf: &[T], lens: [usize; N]) -> [&[T]; N] {
        lens.map(|len| {
            let (head, tail) = buf.split_at(len);
            buf = tail;
            head
        })
    }

    /// Samples per chunk of batched inference.
    pub const CHUNK: usize = 64;

    /// A slice handed out like a [`Workspace`]'s memory: generated bodies
    /// take their slots from it in order.
    pub struct Slots<'a, S>(&'a mut [S]);

    impl<'a, S> Slots<'a, S> {
        /// The next `len` values.
        pub fn take(&mut self, len: usize) -> &'a mut [S] {
            let (head, tail) = core::mem::take(&mut self.0).split_at_mut(len);
            self.0 = tail;
            head
        }
    }

    /// What [`predict_chunks`] runs on each chunk.
    #[cfg(feature = "std")]
    pub type ChunkBody<'f, S, I, O> = &'f (dyn Fn(&[I], &mut [O], &mut Slots<'_, S>) + Sync);

    #[cfg(feature = "std")]
    /// Batched inference in chunks of [`CHUNK`] samples over the threads of
    /// [`crate::threads`]: `body(inputs, outputs, slots)` for each chunk,
    /// with `per_chunk` workspace values of its own.
    pub fn predict_chunks<S: Scalar, I: Sync, O: Send>(
        inputs: &[I],
        outputs: &mut [O],
        ws: &mut Workspace<S>,
        per_chunk: usize,
        body: ChunkBody<'_, S, I, O>,
    ) {
        let chunks = inputs.len().div_ceil(CHUNK);
        let memory = crate::threads::Disjoint::new(ws.take(chunks * per_chunk));
        let outputs = crate::threads::Disjoint::new(&mut outputs[..inputs.len()]);
        crate::threads::run(chunks, &|c| {
            let samples = c * CHUNK..((c + 1) * CHUNK).min(inputs.len());
            // SAFETY: chunks are disjoint, and so are their outputs and
            // workspace shares.
            let (outputs, memory) =
                unsafe { (outputs.range(samples.clone()), memory.range(c * per_chunk..(c + 1) * per_chunk)) };
            body(&inputs[samples], outputs, &mut Slots(memory));
        });
    }

    #[cfg(feature = "std")]
    /// A zeroed parameter buffer on the heap, never on the stack, whatever
    /// its size (a 784x1024 layer would overflow a test thread's stack),
    /// from the start of a cache line.
    pub fn zeroed_params<S: Scalar, const P: usize>() -> Box<Aligned<[S; P]>> {
        let mut boxed = Box::<Aligned<[S; P]>>::new_uninit();
        let first = boxed.as_mut_ptr().cast::<S>();
        for i in 0..P {
            // SAFETY: `Aligned` is `repr(C)` around `[S; P]`, which holds
            // `P` values from its start.
            unsafe { first.add(i).write(S::ZERO) };
        }
        // SAFETY: every value was written above.
        unsafe { boxed.assume_init() }
    }

    #[cfg(feature = "std")]
    /// The first state of a network's random stream, derived from its seed
    /// so that it differs from the stream that drew the weights.
    pub fn stream_from_seed(seed: u64) -> u64 {
        let mut state = seed ^ 0x6a09_e667_f3bc_c909;
        crate::kernels::next_u64(&mut state)
    }

    #[cfg(feature = "std")]
    /// Copies a caller's parameters into a fresh buffer after checking the length.
    pub fn params_from_slice<S: Scalar, const P: usize>(values: &[S]) -> Result<Box<Aligned<[S; P]>>> {
        if values.len() != P {
            return Err(Error::ParamLength { what: "parameter", expected: P, found: values.len() });
        }
        let mut params = zeroed_params::<S, P>();
        params.copy_from_slice(values);
        Ok(params)
    }

    #[cfg(feature = "std")]
    /// Number of samples in a batch whose inputs and `other` (targets or
    /// output slots) must pair up; an empty batch is an error.
    #[inline]
    pub fn batch_len<X, Y>(inputs: &[X], other: &[Y], what: &'static str) -> Result<usize> {
        if inputs.is_empty() {
            return Err(Error::EmptyBatch);
        }
        if inputs.len() != other.len() {
            return Err(Error::BatchMismatch { inputs: inputs.len(), other: other.len(), what });
        }
        Ok(inputs.len())
    }

    #[cfg(feature = "std")]
    /// Checks that every class-index target addresses an output; there
    /// are `steps` targets a sample (one per step of a `[steps, classes]`
    /// output, or 1).
    #[inline]
    pub fn check_classes(
        targets: impl IntoIterator<Item = usize>,
        steps: usize,
        classes: usize,
    ) -> Result<()> {
        match targets.into_iter().enumerate().find(|&(_, c)| c >= classes) {
            None => Ok(()),
            Some((at, class)) => Err(Error::ClassOutOfRange { sample: at / steps, class, classes }),
        }
    }

    #[cfg(feature = "std")]
    /// Checks that every token id of a batch (`per_sample` ids a sample)
    /// is below `vocab`.
    #[inline]
    pub fn check_tokens(ids: &[u32], per_sample: usize, vocab: usize) -> Result<()> {
        match ids.iter().position(|&id| id as usize >= vocab) {
            None => Ok(()),
            Some(at) => Err(Error::TokenOutOfRange {
                sample: at / per_sample,
                position: at % per_sample,
                token: ids[at],
                vocab,
            }),
        }
    }

    #[cfg(feature = "std")]
    /// Checks a batch's sample weights: one per sample, each finite and at
    /// least 0, not all 0.
    #[inline]
    pub fn check_sample_weights<S: Scalar>(weights: &[S], batch: usize) -> Result<&[S]> {
        if weights.len() != batch {
            return Err(Error::BatchMismatch { inputs: batch, other: weights.len(), what: "sample weights" });
        }
        crate::data::check_weights(weights.iter().map(|w| w.as_f64()))?;
        Ok(weights)
    }

    #[cfg(feature = "std")]
    /// Checks the length of a caller's gradient buffer.
    #[inline]
    pub fn check_grad_len<S>(grad: &[S], expected: usize) -> Result<()> {
        if grad.len() == expected {
            Ok(())
        } else {
            Err(Error::ParamLength { what: "gradient", expected, found: grad.len() })
        }
    }
}
