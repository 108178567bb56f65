//! Parameter groups: tensors the optimizer skips (frozen) and tensors that
//! step at a multiple of the learning rate, chosen by name, as PyTorch's
//! `requires_grad = False` and optimizer parameter groups do.
//!
//! Every rule here (SGD with or without momentum, AdaGrad, RMSProp, Adam,
//! AdamW) moves a parameter by the learning rate times an amount that does
//! not depend on the rate, and keeps state that does not either. So a
//! multiplier `m` is applied exactly by scaling the step the optimizer took,
//! `p = before + m (stepped - before)`; a frozen tensor gets a zero
//! gradient, its values back, and its optimizer state as it was.

use crate::optim::Optimizer;
use crate::{Error, ParamSpec, Result, Scalar};
use std::ops::Range;

/// Whether `name` is selected by `pattern`: the name itself, a prefix of it
/// at a dot (`layers.0` selects `layers.0.weight`), or a pattern with `*`
/// standing for any run of characters (`layers.*.bias`, `*weight_hh*`).
pub fn matches(pattern: &str, name: &str) -> bool {
    if !pattern.contains('*') {
        return name == pattern || name.strip_prefix(pattern).is_some_and(|rest| rest.starts_with('.'));
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || name.len() < first.len() + last.len() || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

/// The learning-rate multiplier of every parameter (0 for frozen ones) and
/// the buffers a step needs to apply them.
#[derive(Debug, Clone)]
pub struct Groups<S> {
    scale: Vec<S>,
    /// Whether every multiplier is 1, kept so a training step need not scan
    /// `scale` to know it.
    plain: bool,
    frozen: Vec<Range<usize>>,
    before: Vec<S>,
    state: Vec<Vec<S>>,
}

impl<S: Scalar> Groups<S> {
    pub fn new(len: usize) -> Self {
        Self {
            scale: vec![S::ONE; len],
            plain: true,
            frozen: Vec::new(),
            before: Vec::new(),
            state: Vec::new(),
        }
    }

    /// Sets the multiplier of every tensor `pattern` selects; returns how
    /// many it selected, or an error listing the tensors when none.
    pub fn set(&mut self, layout: &[ParamSpec], pattern: &str, multiplier: f64) -> Result<usize> {
        if !(multiplier.is_finite() && multiplier >= 0.0) {
            return Err(Error::Dataset(format!(
                "a learning-rate multiplier must be 0 or more, not {multiplier}"
            )));
        }
        let chosen: Vec<&ParamSpec> = layout.iter().filter(|p| matches(pattern, p.name)).collect();
        if chosen.is_empty() {
            let names: Vec<&str> = layout.iter().map(|p| p.name).collect();
            return Err(Error::Dataset(format!(
                "no parameter tensor matches `{pattern}`; the network's are {}",
                names.join(", ")
            )));
        }
        for p in &chosen {
            self.scale[p.offset..][..p.len()].fill(S::of_f64(multiplier));
        }
        self.frozen = runs(&self.scale);
        self.plain = self.scale.iter().all(|&s| s == S::ONE);
        Ok(chosen.len())
    }

    /// Whether every parameter steps at the optimizer's own rate.
    pub fn is_plain(&self) -> bool {
        self.plain
    }

    /// Before the optimizer's step: the parameters and the optimizer's
    /// state remembered, frozen gradients zeroed. Before the first step,
    /// when the optimizer has no state yet, frozen parameters are zeroed
    /// too (and put back after), so that the state the step creates for
    /// them is a fresh one's: no gradient and no weight decay reach it.
    pub fn before_step<O: Optimizer<S>>(&mut self, params: &mut [S], grads: &mut [S], optimizer: &O) {
        self.before.clear();
        self.before.extend_from_slice(params);
        let (_, buffers) = optimizer.state();
        let fresh = buffers.iter().any(|b| b.len() != params.len());
        for r in &self.frozen {
            grads[r.clone()].fill(S::ZERO);
            if fresh {
                params[r.clone()].fill(S::ZERO);
            }
        }
        self.state.resize_with(buffers.len(), Vec::new);
        for (kept, buffer) in self.state.iter_mut().zip(buffers) {
            kept.clear();
            kept.extend_from_slice(buffer);
        }
    }

    /// After it: each step scaled by its multiplier, frozen tensors and
    /// their optimizer state as they were.
    pub fn after_step<O: Optimizer<S>>(&mut self, params: &mut [S], optimizer: &mut O) -> Result<()> {
        for ((p, &b), &m) in params.iter_mut().zip(&self.before).zip(&self.scale) {
            if m == S::ZERO {
                *p = b;
            } else if m != S::ONE {
                *p = b + m * (*p - b);
            }
        }
        let (steps, buffers) = optimizer.state();
        // Before the first step the buffers did not exist: the frozen
        // entries' state is then a fresh one's (see `before_step`).
        if self.state.len() != buffers.len()
            || self.state.iter().zip(&buffers).any(|(k, b)| k.len() != b.len())
        {
            return Ok(());
        }
        for (kept, now) in self.state.iter_mut().zip(&buffers) {
            // `kept` becomes the new state, with the frozen entries' old values.
            let old = std::mem::take(kept);
            *kept = now.to_vec();
            for r in &self.frozen {
                kept[r.clone()].copy_from_slice(&old[r.clone()]);
            }
        }
        let restored: Vec<&[S]> = self.state.iter().map(Vec::as_slice).collect();
        optimizer.set_state(steps, &restored)
    }
}

/// The maximal runs of zero multipliers.
fn runs<S: Scalar>(scale: &[S]) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = Vec::new();
    for (i, &s) in scale.iter().enumerate() {
        if s == S::ZERO {
            match out.last_mut() {
                Some(r) if r.end == i => r.end = i + 1,
                _ => out.push(i..i + 1),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_select_by_name_prefix_or_wildcard() {
        assert!(matches("layers.0", "layers.0.weight"));
        assert!(!matches("layers.1", "layers.10.weight"));
        assert!(matches("layers.0.weight", "layers.0.weight"));
        assert!(matches("layers.*.bias", "layers.3.bias"));
        assert!(!matches("layers.*.bias", "layers.3.weight"));
        assert!(matches("*weight_hh*", "layers.0.weight_hh_l0"));
        assert!(matches("*", "anything"));
        assert!(!matches("stem", "stem2.weight"));
        assert!(matches("stem", "stem.weight"));
    }

    #[test]
    fn runs_gather_zero_multipliers() {
        assert_eq!(runs(&[1.0f32, 0.0, 0.0, 0.5, 0.0]), vec![1..3, 4..5]);
    }
}
