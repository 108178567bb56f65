//! Optimizers: update rules over flat parameter and gradient slices. They
//! know nothing about networks, so one implementation serves every layout.
//!
//! Every rule follows PyTorch's `torch.optim` step for step (same defaults,
//! same order of operations; the tests compare trajectories with PyTorch).
//! State buffers are allocated, and written, on the first step; later steps
//! allocate nothing.

/// The [`Optimizer`] methods every rule implements alike, for a struct with
/// `lr` and `steps` fields and the listed per-parameter buffers, which
/// checkpoints save and restore in this order.
macro_rules! shared_methods {
    ($($buffer:ident),+) => {
        fn learning_rate(&self) -> f64 {
            self.lr
        }

        fn set_learning_rate(&mut self, lr: f64) {
            self.lr = lr;
        }

        fn steps(&self) -> u64 {
            self.steps
        }

        fn state(&self) -> (u64, Vec<&[S]>) {
            (self.steps, vec![$(&self.$buffer),+])
        }

        fn set_state(&mut self, steps: u64, buffers: &[&[S]]) -> Result<()> {
            super::restore(&mut [$(&mut self.$buffer),+], buffers)?;
            self.steps = steps;
            Ok(())
        }
    };
}

mod adagrad;
mod adam;
mod rmsprop;
mod schedule;
mod sgd;
pub(crate) mod update;

pub use adagrad::AdaGrad;
pub use adam::Adam;
pub use rmsprop::RmsProp;
pub use schedule::{Schedule, clip_grad_norm};
pub use sgd::Sgd;
#[doc(hidden)]
pub use update::Part;
pub use update::Update;

use crate::{Error, Result, Scalar};

/// An update rule `params <- f(params, grads, state)`.
pub trait Optimizer<S: Scalar> {
    /// Applies one step. Fails if the slices differ in length, or differ
    /// from the length of an earlier step, or if the settings are invalid.
    fn step(&mut self, params: &mut [S], grads: &[S]) -> Result<()>;

    /// This step as an [`Update`] that a network applies inside its
    /// backward pass ([`crate::Network::train_step`]), for rules that need
    /// nothing but each parameter's own gradient (SGD); `None` for the
    /// others, which the trainer gives the whole gradient through
    /// [`Optimizer::step`]. `len` is the parameter count. Fails where
    /// `step` would, on invalid settings or a changed length.
    fn fused(&mut self, len: usize) -> Result<Option<Update<'_, S>>> {
        let _ = len;
        Ok(None)
    }

    /// The learning rate the next step uses.
    fn learning_rate(&self) -> f64;

    /// Changes the learning rate (schedules call this between steps).
    fn set_learning_rate(&mut self, lr: f64);

    /// Steps taken so far.
    fn steps(&self) -> u64;

    /// Internal state for checkpoints: the step count and every
    /// per-parameter buffer, in a fixed order (empty before the first step).
    fn state(&self) -> (u64, Vec<&[S]>);

    /// Restores what [`Optimizer::state`] returned; fails if the buffers do
    /// not have the count and lengths this optimizer uses.
    fn set_state(&mut self, steps: u64, buffers: &[&[S]]) -> Result<()>;
}

/// Shared check: both buffers must describe the same parameters.
pub(crate) fn check_lengths<S>(params: &[S], grads: &[S]) -> Result<()> {
    if params.len() == grads.len() {
        Ok(())
    } else {
        Err(Error::ParamLength { what: "gradient", expected: params.len(), found: grads.len() })
    }
}

/// A per-parameter buffer: created (and every page written) at the first
/// step, then checked to keep its length.
pub(crate) fn buffer<S: Scalar>(buf: &mut Vec<S>, len: usize, initial: S) -> Result<()> {
    if buf.is_empty() && len > 0 {
        buf.reserve_exact(len);
        buf.resize(len, initial);
        return Ok(());
    }
    if buf.len() == len {
        Ok(())
    } else {
        Err(Error::ParamLength { what: "parameter", expected: buf.len(), found: len })
    }
}

/// Restores buffers from a checkpoint, checking count and lengths.
pub(crate) fn restore<S: Scalar>(targets: &mut [&mut Vec<S>], sources: &[&[S]]) -> Result<()> {
    if targets.len() != sources.len() {
        return Err(Error::Dataset(format!(
            "optimizer state has {} buffers, this optimizer uses {}",
            sources.len(),
            targets.len()
        )));
    }
    for (t, s) in targets.iter_mut().zip(sources) {
        t.clear();
        t.extend_from_slice(s);
    }
    Ok(())
}

/// The error for settings a rule cannot use.
pub(crate) fn invalid(message: String) -> Error {
    Error::Dataset(message)
}
