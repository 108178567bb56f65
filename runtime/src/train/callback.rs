//! Hooks into [`crate::Trainer::fit_with`]: code that runs after every
//! epoch (and, if it wants, after every batch), sees the history and can
//! end training, as Keras' callbacks and PyTorch Lightning's hooks do.

use super::History;
use crate::Network;

/// What a hook tells the trainer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Go on training.
    Continue,
    /// End training after this epoch (or batch): the history records it,
    /// and the best weights are restored if the configuration asks.
    Stop,
}

/// Hooks the trainer calls during [`crate::Trainer::fit_with`]. Both have
/// default bodies that continue, so a callback implements what it needs.
/// A closure `FnMut(&N, &History) -> Flow` is an epoch hook.
///
/// # Example
/// ```
/// use chainrule::train::{Flow, FitConfig, History, Progress};
/// use chainrule::{Dataset, Network, Trainer, optim::Sgd};
/// chainrule::network! { struct Line { input: [1], layers: [dense(1)], loss: mse } }
/// let data = Dataset::new(vec![[0.0f32], [1.0]], vec![[1.0f32], [3.0]]).unwrap();
/// let (mut net, mut trainer) = (Line::new(0), Trainer::new(Sgd::new(0.1), 2, 0));
/// let config = FitConfig::epochs(1000).progress(Progress::Silent);
/// // Stop as soon as the training loss is below 0.01.
/// let mut good_enough = |_: &Line, h: &History| {
///     if h.epochs.last().is_some_and(|r| r.train_loss < 0.01) { Flow::Stop } else { Flow::Continue }
/// };
/// let history = trainer.fit_with(&mut net, &data, None, &config, &mut good_enough).unwrap();
/// assert!(history.epochs.len() < 1000 && history.stopped_by_callback);
/// ```
pub trait Callback<N: Network> {
    /// After each epoch, once its record is the last of `history` (and the
    /// best weights and checkpoint are updated).
    fn on_epoch(&mut self, net: &N, history: &History) -> Flow {
        let _ = (net, history);
        Flow::Continue
    }

    /// After each optimizer step: the 1-based epoch, the batch's index in
    /// it and the batch's loss.
    fn on_batch(&mut self, epoch: usize, batch: usize, loss: f64) -> Flow {
        let _ = (epoch, batch, loss);
        Flow::Continue
    }
}

impl<N: Network, F: FnMut(&N, &History) -> Flow> Callback<N> for F {
    fn on_epoch(&mut self, net: &N, history: &History) -> Flow {
        self(net, history)
    }
}

/// The callback of plain [`crate::Trainer::fit`]: none.
pub(super) struct Nothing;

impl<N: Network> Callback<N> for Nothing {}
