//! Learning-rate schedules, evaluated per epoch from a base rate. The
//! closed forms equal PyTorch's schedulers (`StepLR`, `ExponentialLR`,
//! `CosineAnnealingLR`, `LinearLR`, and `SequentialLR` for a warm-up
//! followed by another schedule); the tests compare them.

/// How the learning rate changes from epoch to epoch (epoch 0 first).
///
/// # Example
/// ```
/// use chainrule::optim::Schedule;
/// let s = Schedule::Step { every: 2, gamma: 0.5 };
/// assert_eq!((0..5).map(|e| s.lr(1.0, e)).collect::<Vec<_>>(), [1.0, 1.0, 0.5, 0.5, 0.25]);
/// let w = Schedule::warmup(2, 0.1, Schedule::Constant);
/// assert_eq!([w.lr(1.0, 0), w.lr(1.0, 1), w.lr(1.0, 2)], [0.1, 0.55, 1.0]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    /// The base rate throughout.
    Constant,
    /// Multiplied by `gamma` every `every` epochs.
    Step {
        /// Epochs between decays.
        every: usize,
        /// Decay factor.
        gamma: f64,
    },
    /// Multiplied by `gamma` every epoch.
    Exponential {
        /// Decay factor.
        gamma: f64,
    },
    /// Half a cosine from the base rate down to `min_lr` over `epochs`
    /// epochs (and back up after, as PyTorch's closed form).
    Cosine {
        /// Epochs from the base rate to `min_lr`.
        epochs: usize,
        /// The lowest rate.
        min_lr: f64,
    },
    /// Linear warm-up from `start_factor` times the base rate to the base
    /// rate over `epochs` epochs, then `then` counted from the warm-up's end.
    Warmup {
        /// Length of the warm-up.
        epochs: usize,
        /// Fraction of the base rate at epoch 0.
        start_factor: f64,
        /// The schedule after the warm-up.
        then: Box<Schedule>,
    },
}

impl Schedule {
    /// A linear warm-up followed by `then`.
    pub fn warmup(epochs: usize, start_factor: f64, then: Schedule) -> Self {
        Schedule::Warmup { epochs, start_factor, then: Box::new(then) }
    }

    /// The learning rate for `epoch` (0-based) given the base rate.
    pub fn lr(&self, base: f64, epoch: usize) -> f64 {
        match self {
            Schedule::Constant => base,
            Schedule::Step { every, gamma } => base * gamma.powi((epoch / (*every).max(1)) as i32),
            Schedule::Exponential { gamma } => base * gamma.powi(epoch as i32),
            Schedule::Cosine { epochs, min_lr } => {
                let phase = std::f64::consts::PI * epoch as f64 / (*epochs).max(1) as f64;
                min_lr + (base - min_lr) * (1.0 + phase.cos()) / 2.0
            }
            Schedule::Warmup { epochs, start_factor, then } => {
                if epoch < *epochs {
                    base * (start_factor + (1.0 - start_factor) * epoch as f64 / *epochs as f64)
                } else {
                    then.lr(base, epoch - epochs)
                }
            }
        }
    }
}

/// Scales `grads` down so their global L2 norm is at most `max_norm`, as
/// `torch.nn.utils.clip_grad_norm_` (which divides by `norm + 1e-6`);
/// returns the norm before clipping. A NaN or infinite norm is returned
/// unchanged, for the caller to treat as divergence.
///
/// # Example
/// ```
/// let mut g = [3.0f32, 4.0];
/// let norm = chainrule::optim::clip_grad_norm(&mut g, 1.0);
/// assert_eq!(norm, 5.0);
/// assert!((g[0] - 0.6).abs() < 1e-6 && (g[1] - 0.8).abs() < 1e-6);
/// ```
pub fn clip_grad_norm<S: crate::Scalar>(grads: &mut [S], max_norm: f64) -> f64 {
    let norm = grads.iter().map(|g| g.as_f64() * g.as_f64()).sum::<f64>().sqrt();
    let coef = max_norm / (norm + 1e-6);
    if coef < 1.0 {
        let coef = S::of_f64(coef);
        grads.iter_mut().for_each(|g| *g *= coef);
    }
    norm
}
