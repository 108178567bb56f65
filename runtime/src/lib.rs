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
#![deny(missing_docs)]

mod buffer;
pub mod data;
mod error;
pub mod init;
pub mod isa;
pub mod kernels;
pub mod math;
pub mod metrics;
mod network;
pub mod optim;
mod scalar;
pub mod train;
pub mod weights;
mod workspace;

pub use chainrule_macros::network;
pub use data::Dataset;
pub use error::{Error, Result};
pub use network::{Init, Network, ParamSpec, Role, Target};
pub use scalar::Scalar;
pub use train::Trainer;
pub use workspace::Workspace;

/// Items generated code refers to. Not a public API: it changes without notice.
#[doc(hidden)]
pub mod __private {
    pub use crate::buffer::{Buffer, decode_f32, decode_f64};
    pub use crate::init::init_params;
    pub use crate::{Error, Init, Network, ParamSpec, Result, Role, Scalar, Workspace, isa, kernels, math};
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

    /// Immutable counterpart of [`carve`], for the parameter buffer.
    #[inline]
    pub fn carve_ref<T, const N: usize>(mut buf: &[T], lens: [usize; N]) -> [&[T]; N] {
        lens.map(|len| {
            let (head, tail) = buf.split_at(len);
            buf = tail;
            head
        })
    }

    /// A zeroed parameter buffer on the heap, never on the stack, whatever
    /// its size (a 784x1024 layer would overflow a test thread's stack).
    pub fn zeroed_params<S: Scalar, const P: usize>() -> Box<[S; P]> {
        let boxed = vec![S::ZERO; P].into_boxed_slice();
        match boxed.try_into() {
            Ok(array) => array,
            Err(_) => unreachable!("a vector of length P converts to [S; P]"),
        }
    }

    /// The first state of a network's random stream, derived from its seed
    /// so that it differs from the stream that drew the weights.
    pub fn stream_from_seed(seed: u64) -> u64 {
        let mut state = seed ^ 0x6a09_e667_f3bc_c909;
        crate::kernels::next_u64(&mut state)
    }

    /// Copies a caller's parameters into a fresh buffer after checking the length.
    pub fn params_from_slice<S: Scalar, const P: usize>(values: &[S]) -> Result<Box<[S; P]>> {
        if values.len() != P {
            return Err(Error::ParamLength { what: "parameter", expected: P, found: values.len() });
        }
        let mut params = zeroed_params::<S, P>();
        params.copy_from_slice(values);
        Ok(params)
    }

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

    /// Checks that every class-index target addresses an output.
    #[inline]
    pub fn check_classes(targets: &[usize], classes: usize) -> Result<()> {
        match targets.iter().position(|&c| c >= classes) {
            None => Ok(()),
            Some(sample) => Err(Error::ClassOutOfRange { sample, class: targets[sample], classes }),
        }
    }

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
