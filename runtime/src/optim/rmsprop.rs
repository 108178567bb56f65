//! RMSProp, as `torch.optim.RMSprop`: steps divided by a running root mean
//! square of the gradients, optionally centered and with momentum.
//!
//! ```text
//! g = grad + weight_decay * w
//! v = alpha * v + (1 - alpha) * g^2
//! d = sqrt(v) + eps,  or, centered: a = alpha * a + (1 - alpha) * g,  d = sqrt(v - a^2) + eps
//! w = w - lr * g / d,  or, with momentum: b = momentum * b + g / d,  w = w - lr * b
//! ```

use super::{Optimizer, buffer, check_lengths};
use crate::{Result, Scalar};

/// RMSProp; defaults as PyTorch: `lr = 0.01`, `alpha = 0.99`, `eps = 1e-8`,
/// no weight decay, no momentum, not centered.
///
/// # Example
/// ```
/// use chainrule::optim::{Optimizer, RmsProp};
/// let mut w = [0.0f64];
/// RmsProp::new(0.1).step(&mut w, &[1.0]).unwrap();
/// assert!((w[0] + 0.1 / 0.01f64.sqrt()).abs() < 1e-6); // v = 0.01 g^2
/// ```
#[derive(Debug, Clone)]
pub struct RmsProp<S = f32> {
    /// Learning rate.
    pub lr: f64,
    /// Smoothing constant of the running mean square.
    pub alpha: f64,
    /// Added to the denominator for stability.
    pub eps: f64,
    /// Coupled weight decay.
    pub weight_decay: f64,
    /// Momentum factor (0 turns it off).
    pub momentum: f64,
    /// Normalize by the variance estimate rather than the mean square.
    pub centered: bool,
    steps: u64,
    square_avg: Vec<S>,
    grad_avg: Vec<S>,
    velocity: Vec<S>,
}

impl<S: Scalar> Default for RmsProp<S> {
    fn default() -> Self {
        Self::new(0.01)
    }
}

impl<S: Scalar> RmsProp<S> {
    /// RMSProp with learning rate `lr` and the other defaults.
    pub fn new(lr: f64) -> Self {
        Self {
            lr,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
            steps: 0,
            square_avg: Vec::new(),
            grad_avg: Vec::new(),
            velocity: Vec::new(),
        }
    }

    /// Sets the smoothing constant.
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }

    /// Sets the momentum factor.
    pub fn momentum(mut self, momentum: f64) -> Self {
        self.momentum = momentum;
        self
    }

    /// Turns centering on or off.
    pub fn centered(mut self, centered: bool) -> Self {
        self.centered = centered;
        self
    }

    /// Sets the coupled weight decay.
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        self.weight_decay = weight_decay;
        self
    }
}

impl<S: Scalar> Optimizer<S> for RmsProp<S> {
    fn step(&mut self, params: &mut [S], grads: &[S]) -> Result<()> {
        check_lengths(params, grads)?;
        let n = params.len();
        buffer(&mut self.square_avg, n, S::ZERO)?;
        buffer(&mut self.grad_avg, if self.centered { n } else { 0 }, S::ZERO)?;
        buffer(&mut self.velocity, if self.momentum > 0.0 { n } else { 0 }, S::ZERO)?;
        let (lr, wd, eps) = (S::of_f64(self.lr), S::of_f64(self.weight_decay), S::of_f64(self.eps));
        let (alpha, rest, mu) =
            (S::of_f64(self.alpha), S::of_f64(1.0 - self.alpha), S::of_f64(self.momentum));
        for i in 0..n {
            let g = grads[i] + wd * params[i];
            let v = &mut self.square_avg[i];
            *v = alpha * *v + rest * g * g;
            let denom = if self.centered {
                let a = &mut self.grad_avg[i];
                *a = alpha * *a + rest * g;
                (*v - *a * *a).sqrt() + eps
            } else {
                v.sqrt() + eps
            };
            if self.momentum > 0.0 {
                let b = &mut self.velocity[i];
                *b = mu * *b + g / denom;
                params[i] -= lr * *b;
            } else {
                params[i] -= lr * g / denom;
            }
        }
        self.steps += 1;
        Ok(())
    }

    shared_methods!(square_avg, grad_avg, velocity);
}
