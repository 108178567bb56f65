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

impl<S: Scalar> Optimizer<S> for Sgd<S> {
    fn step(&mut self, params: &mut [S], grads: &[S]) -> Result<()> {
        check_lengths(params, grads)?;
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(invalid("Nesterov momentum needs momentum > 0 and no dampening".into()));
        }
        let (lr, wd) = (S::of_f64(self.lr), S::of_f64(self.weight_decay));
        let fast = crate::kernels::fast_path_available();
        if self.momentum == 0.0 {
            crate::threads::ranges_mut(params, PART, 16, &|range, params| {
                let grads = &grads[range];
                #[cfg(target_arch = "x86_64")]
                if fast {
                    // SAFETY: the CPU supports AVX2 and FMA.
                    return unsafe { plain_avx2(params, grads, lr, wd) };
                }
                plain(params, grads, lr, wd);
            });
            self.steps += 1;
            return Ok(());
        }
        buffer(&mut self.velocity, params.len(), S::ZERO)?;
        let (mu, keep) = (S::of_f64(self.momentum), S::of_f64(1.0 - self.dampening));
        let c = Momentum { lr, wd, mu, keep, first: self.steps == 0, nesterov: self.nesterov };
        let velocity = crate::threads::Disjoint::new(&mut self.velocity);
        crate::threads::ranges_mut(params, PART, 16, &|range, params| {
            // SAFETY: `ranges_mut` hands out disjoint ranges.
            let (grads, velocity) = (&grads[range.clone()], unsafe { velocity.range(range) });
            #[cfg(target_arch = "x86_64")]
            if fast {
                // SAFETY: the CPU supports AVX2 and FMA.
                return unsafe { momentum_avx2(params, grads, velocity, &c) };
            }
            momentum(params, grads, velocity, &c);
        });
        self.steps += 1;
        Ok(())
    }

    shared_methods!(velocity);
}

/// Parameters per part when the update is split over threads.
const PART: usize = 16 * 1024;

/// The per-step constants of the update with momentum.
struct Momentum<S> {
    lr: S,
    wd: S,
    mu: S,
    keep: S,
    first: bool,
    nesterov: bool,
}

/// `b = mu b + (1 - dampening) g` (or `g` at the first step), then `w -=
/// lr b` (Nesterov: `w -= lr (g + mu b)`), with `g` including the weight decay.
#[inline(always)]
fn momentum<S: Scalar>(params: &mut [S], grads: &[S], velocity: &mut [S], c: &Momentum<S>) {
    for ((p, &g), b) in params.iter_mut().zip(grads).zip(velocity) {
        let g = g + c.wd * *p;
        *b = if c.first { g } else { c.mu * *b + c.keep * g };
        let update = if c.nesterov { g + c.mu * *b } else { *b };
        *p -= c.lr * update;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn momentum_avx2<S: Scalar>(params: &mut [S], grads: &[S], velocity: &mut [S], c: &Momentum<S>) {
    momentum(params, grads, velocity, c);
}

/// `w -= lr * (g + wd * w)`, inlined into each caller so the AVX2 entry
/// gets 8-wide vectors.
#[inline(always)]
fn plain<S: Scalar>(params: &mut [S], grads: &[S], lr: S, wd: S) {
    for (p, &g) in params.iter_mut().zip(grads) {
        *p -= lr * (g + wd * *p);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn plain_avx2<S: Scalar>(params: &mut [S], grads: &[S], lr: S, wd: S) {
    plain(params, grads, lr, wd);
}
