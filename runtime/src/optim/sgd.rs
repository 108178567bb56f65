//! Stochastic gradient descent, with optional momentum (heavy ball or
//! Nesterov), dampening and coupled weight decay, as `torch.optim.SGD`:
//!
//! ```text
//! g = grad + weight_decay * w
//! b = g                                  (first step)
//! b = momentum * b + (1 - dampening) * g (later steps)
//! g = g + momentum * b   (Nesterov)   or   g = b   (heavy ball)
//! w = w - lr * g
//! ```

use super::update::{Rule, Update};
use super::{Optimizer, buffer, check_lengths, invalid};
use crate::{Result, Scalar};

/// SGD; defaults: no momentum, no dampening, no weight decay.
///
/// # Example
/// ```
/// use chainrule::optim::{Optimizer, Sgd};
/// let mut w = [1.0f32, 2.0];
/// Sgd::new(0.5).step(&mut w, &[2.0, -2.0]).unwrap();
/// assert_eq!(w, [0.0, 3.0]);
///
/// let mut sgd = Sgd::new(0.1).momentum(0.9).nesterov(true).weight_decay(1e-4);
/// sgd.step(&mut w, &[1.0, 1.0]).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct Sgd<S = f32> {
    /// Learning rate.
    pub lr: f64,
    /// Momentum factor (0 turns momentum off).
    pub momentum: f64,
    /// Dampening of the gradient's contribution to the momentum buffer.
    pub dampening: f64,
    /// Nesterov momentum (needs `momentum > 0` and `dampening == 0`).
    pub nesterov: bool,
    /// Coupled weight decay: `weight_decay * w` is added to the gradient.
    pub weight_decay: f64,
    steps: u64,
    velocity: Vec<S>,
}

impl<S: Scalar> Sgd<S> {
    /// Plain SGD with learning rate `lr`.
    pub fn new(lr: f64) -> Self {
        Self {
            lr,
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
            weight_decay: 0.0,
            steps: 0,
            velocity: Vec::new(),
        }
    }

    /// Sets the momentum factor.
    pub fn momentum(mut self, momentum: f64) -> Self {
        self.momentum = momentum;
        self
    }

    /// Sets the dampening.
    pub fn dampening(mut self, dampening: f64) -> Self {
        self.dampening = dampening;
        self
    }

    /// Turns Nesterov momentum on or off.
    pub fn nesterov(mut self, nesterov: bool) -> Self {
        self.nesterov = nesterov;
        self
    }

    /// Sets the coupled weight decay.
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        self.weight_decay = weight_decay;
        self
    }
}

impl<S: Scalar> Sgd<S> {
    /// This step's rule, checked; creates the velocity on the first step
    /// with momentum.
    fn rule(&mut self, len: usize) -> Result<Rule<S>> {
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(invalid("Nesterov momentum needs momentum > 0 and no dampening".into()));
        }
        let (lr, wd) = (S::of_f64(self.lr), S::of_f64(self.weight_decay));
        if self.momentum == 0.0 {
            return Ok(Rule::Plain { lr, wd });
        }
        buffer(&mut self.velocity, len, S::ZERO)?;
        let (mu, keep) = (S::of_f64(self.momentum), S::of_f64(1.0 - self.dampening));
        Ok(Rule::Momentum { lr, wd, mu, keep, first: self.steps == 0, nesterov: self.nesterov })
    }
}

impl<S: Scalar> Optimizer<S> for Sgd<S> {
    fn step(&mut self, params: &mut [S], grads: &[S]) -> Result<()> {
        check_lengths(params, grads)?;
        self.rule(params.len())?.run(params, grads, &mut self.velocity);
        self.steps += 1;
        Ok(())
    }

    fn fused(&mut self, len: usize) -> Result<Option<Update<'_, S>>> {
        let rule = self.rule(len)?;
        Ok(Some(Update::new(rule, &mut self.velocity, &mut self.steps)))
    }

    shared_methods!(velocity);
}
