//! Updates applied where the gradient is computed.
//!
//! A batch-1 step of a large dense layer is bound by memory, not
//! arithmetic: computing the weight gradient writes a matrix as large as
//! the weight, and the optimizer then reads it back with the weight and
//! writes the weight. When the rule needs nothing but the element's own
//! gradient (SGD, with or without momentum), the kernel that computes a
//! weight's gradient can apply it at once ([`Network::train_step`]): the
//! gradient never reaches memory, and the weight is read and written once.
//!
//! Every fused update computes each element exactly as the optimizer's own
//! step would from the materialized gradient, so a fused step and a plain
//! one give the same bits (`tests/fused_update.rs`).
//!
//! [`Network::train_step`]: crate::Network::train_step

use crate::Scalar;

/// One element's update from its gradient `g` (and, with momentum, its
/// velocity `b`), the constants of one step: what SGD does.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Rule<S> {
    /// `w -= lr (g + wd w)`.
    Plain { lr: S, wd: S },
    /// `b = mu b + keep g` (or `g` at the first step), then `w -= lr b`
    /// (Nesterov: `w -= lr (g + mu b)`), with `g` including the decay.
    Momentum { lr: S, wd: S, mu: S, keep: S, first: bool, nesterov: bool },
}

impl<S: Scalar> Rule<S> {
    /// Whether the rule keeps a velocity per parameter.
    pub(crate) fn has_velocity(&self) -> bool {
        matches!(self, Rule::Momentum { .. })
    }

    /// Updates `params` from `grads` (and `velocity`, as long as they are,
    /// when the rule has one). Inlined into each caller so that a frame
    /// compiled for wide vectors vectorizes it; the constants are tested
    /// outside the loops.
    #[inline(always)]
    pub(crate) fn apply(&self, params: &mut [S], grads: &[S], velocity: &mut [S]) {
        self.apply_mapped(params, grads, velocity, |g| g);
    }

    /// [`Rule::apply`] with the gradient of each parameter computed from
    /// the value beside it in `from` (a gradient row made on the fly:
    /// `|x| g * x`), so that it is never stored.
    #[inline(always)]
    pub(crate) fn apply_mapped(
        &self,
        params: &mut [S],
        from: &[S],
        velocity: &mut [S],
        grad: impl Fn(S) -> S,
    ) {
        match *self {
            Rule::Plain { lr, wd } => {
                for (p, &x) in params.iter_mut().zip(from) {
                    *p -= lr * (grad(x) + wd * *p);
                }
            }
            Rule::Momentum { lr, wd, mu, keep, first, nesterov } => {
                // Plain loops, one per case: an iterator's `for_each` may
                // stay a function of its own, compiled without the
                // caller's instruction set.
                let each = params.iter_mut().zip(from).zip(velocity);
                match (first, nesterov) {
                    (true, false) => {
                        for ((p, &x), b) in each {
                            let g = grad(x) + wd * *p;
                            *b = g;
                            *p -= lr * *b;
                        }
                    }
                    (true, true) => {
                        for ((p, &x), b) in each {
                            let g = grad(x) + wd * *p;
                            *b = g;
                            *p -= lr * (g + mu * *b);
                        }
                    }
                    (false, false) => {
                        for ((p, &x), b) in each {
                            let g = grad(x) + wd * *p;
                            *b = mu * *b + keep * g;
                            *p -= lr * *b;
                        }
                    }
                    (false, true) => {
                        for ((p, &x), b) in each {
                            let g = grad(x) + wd * *p;
                            *b = mu * *b + keep * g;
                            *p -= lr * (g + mu * *b);
                        }
                    }
                }
            }
        }
    }

    /// [`Rule::apply`] over the threads of [`crate::threads`], in parts of
    /// whole cache lines, each in a frame compiled for the active level.
    pub(crate) fn run(&self, params: &mut [S], grads: &[S], velocity: &mut [S]) {
        let velocity = crate::threads::Disjoint::new(velocity);
        let has_velocity = self.has_velocity();
        crate::threads::ranges_mut(params, PART, 16, &|range, params| {
            let grads = &grads[range.clone()];
            // SAFETY: `ranges_mut` hands out disjoint ranges.
            let velocity = if has_velocity { unsafe { velocity.range(range) } } else { &mut [] };
            crate::isa::with_isa(
                #[inline(always)]
                |_| self.apply(params, grads, velocity),
            );
        });
    }
}

/// Parameters per part when an update is split over threads.
const PART: usize = 16 * 1024;

/// An optimizer's step, handed to [`Network::train_step`] so the generated
/// code can apply it inside the backward pass: to a weight as its gradient
/// is computed ([`Update::part`]), to the other parameters from their
/// gradients ([`Update::apply`]). From [`Optimizer::fused`].
///
/// [`Network::train_step`]: crate::Network::train_step
/// [`Optimizer::fused`]: super::Optimizer::fused
pub struct Update<'a, S> {
    rule: Rule<S>,
    velocity: &'a mut [S],
    steps: &'a mut u64,
}

/// The update of one parameter tensor, for the kernel that computes its
/// gradient.
#[doc(hidden)]
pub struct Part<'a, S> {
    pub(crate) rule: Rule<S>,
    /// The tensor's velocity, or empty when the rule has none.
    pub(crate) velocity: &'a mut [S],
}

impl<'a, S: Scalar> Update<'a, S> {
    /// An update by `rule`, with a velocity for every parameter when the
    /// rule has one; `steps` counts the step once it is done.
    pub(crate) fn new(rule: Rule<S>, velocity: &'a mut [S], steps: &'a mut u64) -> Self {
        Self { rule, velocity, steps }
    }

    /// Updates parameters `offset..offset + params.len()` of the network
    /// from their gradients.
    pub fn apply(&mut self, offset: usize, params: &mut [S], grads: &[S]) {
        assert_eq!(params.len(), grads.len(), "an update needs a gradient per parameter");
        let part = self.part(offset, params.len());
        part.rule.run(params, grads, part.velocity);
    }

    /// The update of parameters `offset..offset + len`, for a kernel that
    /// applies it as it computes their gradient.
    #[doc(hidden)]
    pub fn part(&mut self, offset: usize, len: usize) -> Part<'_, S> {
        let velocity: &mut [S] =
            if self.rule.has_velocity() { &mut self.velocity[offset..offset + len] } else { &mut [] };
        Part { rule: self.rule, velocity }
    }

    /// Counts the step: call once every parameter has been updated.
    pub fn finish(self) {
        *self.steps += 1;
    }
}

impl<S: Scalar> Part<'_, S> {
    /// Updates `params`, which lie at `at` of this tensor, from gradients
    /// `grad(x)` of the values beside them in `from`.
    #[inline(always)]
    pub(crate) fn apply_mapped_at(&mut self, at: usize, params: &mut [S], from: &[S], grad: impl Fn(S) -> S) {
        let velocity: &mut [S] =
            if self.rule.has_velocity() { &mut self.velocity[at..at + params.len()] } else { &mut [] };
        self.rule.apply_mapped(params, from, velocity, grad);
    }
}
