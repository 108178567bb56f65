//! Optimizers: update rules over flat parameter and gradient slices. They
//! know nothing about networks, so one implementation serves every layout.

mod sgd;

pub use sgd::Sgd;

use crate::{Error, Result, Scalar};

/// An update rule `params <- f(params, grads, state)`.
pub trait Optimizer<S: Scalar> {
    /// Applies one step. Fails if the two slices differ in length.
    fn step(&mut self, params: &mut [S], grads: &[S]) -> Result<()>;
}

/// Shared check: both buffers must describe the same parameters.
pub(crate) fn check_lengths<S>(params: &[S], grads: &[S]) -> Result<()> {
    if params.len() == grads.len() {
        Ok(())
    } else {
        Err(Error::ParamLength { what: "gradient", expected: params.len(), found: grads.len() })
    }
}
