//! Plain stochastic gradient descent: `w <- w - lr * g`.

use super::{Optimizer, check_lengths};
use crate::{Result, Scalar};

/// Plain SGD with a fixed learning rate.
///
/// # Example
/// ```
/// use chainrule::optim::{Optimizer, Sgd};
/// let mut w = [1.0f32, 2.0];
/// Sgd::new(0.5).step(&mut w, &[2.0, -2.0]).unwrap();
/// assert_eq!(w, [0.0, 3.0]);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Sgd {
    /// Learning rate.
    pub lr: f64,
}

impl Sgd {
    /// SGD with learning rate `lr`.
    pub fn new(lr: f64) -> Self {
        Self { lr }
    }
}

impl<S: Scalar> Optimizer<S> for Sgd {
    fn step(&mut self, params: &mut [S], grads: &[S]) -> Result<()> {
        check_lengths(params, grads)?;
        let lr = S::of_f64(self.lr);
        for (p, &g) in params.iter_mut().zip(grads) {
            *p -= lr * g;
        }
        Ok(())
    }
}
