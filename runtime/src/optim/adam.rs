//! Adam and AdamW, as `torch.optim.Adam` and `torch.optim.AdamW`:
//!
//! ```text
//! w = w * (1 - lr * weight_decay)            (AdamW: decoupled decay)
//! g = grad + weight_decay * w                (Adam: coupled decay)
//! m = beta1 * m + (1 - beta1) * g
//! v = beta2 * v + (1 - beta2) * g^2
//! w = w - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
//! ```

use super::{Optimizer, buffer, check_lengths};
use crate::{Result, Scalar};

/// Adam (coupled weight decay) or AdamW (decoupled). Defaults as PyTorch:
/// `lr = 1e-3`, `beta1 = 0.9`, `beta2 = 0.999`, `eps = 1e-8`; weight decay 0
/// for [`Adam::new`], 0.01 for [`Adam::adamw`].
///
/// # Example
/// ```
/// use chainrule::optim::{Adam, Optimizer};
/// let mut w = [1.0f64, -1.0];
/// Adam::new(0.1).step(&mut w, &[3.0, -0.5]).unwrap();
/// // The first step moves every weight by about lr, whatever its gradient.
/// assert!((w[0] - 0.9).abs() < 1e-6 && (w[1] + 0.9).abs() < 1e-6);
/// ```
#[derive(Debug, Clone)]
pub struct Adam<S = f32> {
    /// Learning rate.
    pub lr: f64,
    /// Decay of the first-moment estimate.
    pub beta1: f64,
    /// Decay of the second-moment estimate.
    pub beta2: f64,
    /// Added to the denominator for stability.
    pub eps: f64,
    /// Weight decay: added to the gradient (Adam) or applied directly to
    /// the weights (AdamW).
    pub weight_decay: f64,
    /// Decoupled weight decay (AdamW).
    pub decoupled: bool,
    steps: u64,
    m: Vec<S>,
    v: Vec<S>,
}

impl<S: Scalar> Default for Adam<S> {
    fn default() -> Self {
        Self::new(1e-3)
    }
}

impl<S: Scalar> Adam<S> {
    /// Adam with learning rate `lr` and no weight decay.
    pub fn new(lr: f64) -> Self {
        Self {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled: false,
            steps: 0,
            m: Vec::new(),
            v: Vec::new(),
        }
    }

    /// AdamW with learning rate `lr` and decoupled weight decay 0.01.
    pub fn adamw(lr: f64) -> Self {
        Self { weight_decay: 0.01, decoupled: true, ..Self::new(lr) }
    }

    /// Sets both moment decays.
    pub fn betas(mut self, beta1: f64, beta2: f64) -> Self {
        (self.beta1, self.beta2) = (beta1, beta2);
        self
    }

    /// Sets eps.
    pub fn eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }

    /// Sets the weight decay (coupled for Adam, decoupled for AdamW).
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        self.weight_decay = weight_decay;
        self
    }
}

impl<S: Scalar> Optimizer<S> for Adam<S> {
    fn step(&mut self, params: &mut [S], grads: &[S]) -> Result<()> {
        check_lengths(params, grads)?;
        buffer(&mut self.m, params.len(), S::ZERO)?;
        buffer(&mut self.v, params.len(), S::ZERO)?;
        self.steps += 1;
        let t = self.steps as i32;
        let (bc1, bc2) = (1.0 - self.beta1.powi(t), 1.0 - self.beta2.powi(t));
        let step_size = S::of_f64(self.lr / bc1);
        let inv_sqrt_bc2 = S::of_f64(1.0 / bc2.sqrt());
        let (b1, b2) = (S::of_f64(self.beta1), S::of_f64(self.beta2));
        let (r1, r2, eps) = (S::of_f64(1.0 - self.beta1), S::of_f64(1.0 - self.beta2), S::of_f64(self.eps));
        let (coupled, shrink) = if self.decoupled {
            (S::ZERO, S::of_f64(1.0 - self.lr * self.weight_decay))
        } else {
            (S::of_f64(self.weight_decay), S::ONE)
        };
        let c = Coefficients { shrink, coupled, b1, b2, r1, r2, step_size, inv_sqrt_bc2, eps };
        let fast = crate::kernels::fast_path_available();
        let (m, v) = (crate::threads::Disjoint::new(&mut self.m), crate::threads::Disjoint::new(&mut self.v));
        // Elementwise: the same update whatever the split over threads.
        crate::threads::ranges_mut(params, 16 * 1024, 16, &|range, params| {
            let grads = &grads[range.clone()];
            // SAFETY: `ranges_mut` hands out disjoint ranges.
            let (m, v) = unsafe { (m.range(range.clone()), v.range(range)) };
            #[cfg(target_arch = "x86_64")]
            if fast {
                // SAFETY: the CPU supports AVX2 and FMA.
                return unsafe { update_avx2(params, grads, m, v, &c) };
            }
            update(params, grads, m, v, &c);
        });
        Ok(())
    }

    shared_methods!(m, v);
}

/// The per-step constants of the update.
struct Coefficients<S> {
    shrink: S,
    coupled: S,
    b1: S,
    b2: S,
    r1: S,
    r2: S,
    step_size: S,
    inv_sqrt_bc2: S,
    eps: S,
}

/// The elementwise update. Inlined into each caller, so the AVX2 entry gets
/// 8-wide square roots and divisions and the baseline one 4-wide.
#[inline(always)]
fn update<S: Scalar>(params: &mut [S], grads: &[S], m: &mut [S], v: &mut [S], c: &Coefficients<S>) {
    for (((p, &g), m), v) in params.iter_mut().zip(grads).zip(m).zip(v) {
        *p *= c.shrink;
        let g = g + c.coupled * *p;
        *m = c.b1 * *m + c.r1 * g;
        *v = c.b2 * *v + c.r2 * g * g;
        *p -= c.step_size * *m / (v.sqrt() * c.inv_sqrt_bc2 + c.eps);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn update_avx2<S: Scalar>(
    params: &mut [S],
    grads: &[S],
    m: &mut [S],
    v: &mut [S],
    c: &Coefficients<S>,
) {
    update(params, grads, m, v, c);
}
