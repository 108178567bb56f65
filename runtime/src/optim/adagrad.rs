//! AdaGrad, as `torch.optim.Adagrad`: each parameter's step shrinks with
//! the square root of its accumulated squared gradients.
//!
//! ```text
//! g = grad + weight_decay * w
//! lr_t = lr / (1 + (t - 1) * lr_decay)
//! s = s + g^2
//! w = w - lr_t * g / (sqrt(s) + eps)
//! ```

use super::{Optimizer, buffer, check_lengths};
use crate::{Result, Scalar};

/// AdaGrad; defaults as PyTorch: `lr = 0.01`, `lr_decay = 0`,
/// `weight_decay = 0`, `initial_accumulator = 0`, `eps = 1e-10`.
///
/// # Example
/// ```
/// use chainrule::optim::{AdaGrad, Optimizer};
/// let mut w = [1.0f64];
/// AdaGrad::default().step(&mut w, &[4.0]).unwrap();
/// assert!((w[0] - (1.0 - 0.01)).abs() < 1e-12); // g / sqrt(g^2) = 1
/// ```
#[derive(Debug, Clone)]
pub struct AdaGrad<S = f32> {
    /// Learning rate.
    pub lr: f64,
    /// Decay of the learning rate per step.
    pub lr_decay: f64,
    /// Coupled weight decay.
    pub weight_decay: f64,
    /// Starting value of the accumulator.
    pub initial_accumulator: f64,
    /// Added to the denominator for stability.
    pub eps: f64,
    steps: u64,
    sum: Vec<S>,
}

impl<S: Scalar> Default for AdaGrad<S> {
    fn default() -> Self {
        Self::new(0.01)
    }
}

impl<S: Scalar> AdaGrad<S> {
    /// AdaGrad with learning rate `lr` and the other defaults.
    pub fn new(lr: f64) -> Self {
        Self {
            lr,
            lr_decay: 0.0,
            weight_decay: 0.0,
            initial_accumulator: 0.0,
            eps: 1e-10,
            steps: 0,
            sum: Vec::new(),
        }
    }

    /// Sets the learning-rate decay.
    pub fn lr_decay(mut self, lr_decay: f64) -> Self {
        self.lr_decay = lr_decay;
        self
    }

    /// Sets the coupled weight decay.
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    /// Sets the accumulator's starting value.
    pub fn initial_accumulator(mut self, value: f64) -> Self {
        self.initial_accumulator = value;
        self
    }
}

impl<S: Scalar> Optimizer<S> for AdaGrad<S> {
    fn step(&mut self, params: &mut [S], grads: &[S]) -> Result<()> {
        check_lengths(params, grads)?;
        buffer(&mut self.sum, params.len(), S::of_f64(self.initial_accumulator))?;
        self.steps += 1;
        let lr = S::of_f64(self.lr / (1.0 + (self.steps - 1) as f64 * self.lr_decay));
        let (wd, eps) = (S::of_f64(self.weight_decay), S::of_f64(self.eps));
        for ((p, &g), s) in params.iter_mut().zip(grads).zip(&mut self.sum) {
            let g = g + wd * *p;
            *s += g * g;
            *p -= lr * g / (s.sqrt() + eps);
        }
        Ok(())
    }

    shared_methods!(sum);
}
