//! What `Trainer::fit` should do, with defaults that suit most runs.

use crate::metrics::Metric;
use crate::optim::Schedule;
use std::path::PathBuf;

/// The quantity that decides which epoch is best.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Monitor {
    /// Validation loss (lower is better); the training loss without validation data.
    Loss,
    /// Validation accuracy (higher is better); needs class targets.
    Accuracy,
}

/// Stop when the monitored quantity has not improved by more than
/// `min_delta` for `patience` epochs in a row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EarlyStopping {
    /// Epochs without improvement tolerated.
    pub patience: usize,
    /// The smallest change that counts as an improvement.
    pub min_delta: f64,
}

/// How training reports progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// A bar when standard error is a terminal, lines otherwise.
    Auto,
    /// A progress bar per epoch.
    Bar,
    /// One line per epoch on standard error.
    Lines,
    /// Nothing.
    Silent,
}

/// Settings of [`crate::Trainer::fit`].
///
/// # Example
/// ```
/// use chainrule::train::{EarlyStopping, FitConfig, Monitor};
/// use chainrule::optim::Schedule;
/// let config = FitConfig::epochs(30)
///     .schedule(Schedule::Cosine { epochs: 30, min_lr: 0.0 })
///     .clip_norm(5.0)
///     .early_stopping(EarlyStopping { patience: 4, min_delta: 1e-4 })
///     .monitor(Monitor::Accuracy);
/// assert!(config.restore_best);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FitConfig {
    /// Total epochs (a resumed trainer continues up to this count).
    pub epochs: usize,
    /// Learning rate per epoch, from the optimizer's initial rate.
    pub schedule: Schedule,
    /// Clip the gradient's global norm to this before each step.
    pub clip_norm: Option<f64>,
    /// Stop early when the monitored quantity stalls.
    pub early_stopping: Option<EarlyStopping>,
    /// Which quantity decides the best epoch.
    pub monitor: Monitor,
    /// Put the best epoch's weights back at the end (on by default with
    /// early stopping).
    pub restore_best: bool,
    /// Samples per evaluation batch.
    pub eval_batch_size: usize,
    /// Write a checkpoint here after every epoch.
    pub checkpoint: Option<PathBuf>,
    /// How to report progress.
    pub progress: Progress,
    /// Measures recorded on the validation data after each epoch, besides
    /// its loss and accuracy ([`crate::train::EpochRecord::metrics`]).
    pub metrics: Vec<Metric>,
}

impl FitConfig {
    /// `epochs` epochs at a constant rate, monitoring the loss, with
    /// automatic progress reporting.
    pub fn epochs(epochs: usize) -> Self {
        Self {
            epochs,
            schedule: Schedule::Constant,
            clip_norm: None,
            early_stopping: None,
            monitor: Monitor::Loss,
            restore_best: false,
            eval_batch_size: 256,
            checkpoint: None,
            progress: Progress::Auto,
            metrics: Vec::new(),
        }
    }

    /// Records these measures of the validation data after each epoch.
    pub fn metrics(mut self, metrics: impl Into<Vec<Metric>>) -> Self {
        self.metrics = metrics.into();
        self
    }

    /// Sets the learning-rate schedule.
    pub fn schedule(mut self, schedule: Schedule) -> Self {
        self.schedule = schedule;
        self
    }

    /// Clips gradients to a global norm.
    pub fn clip_norm(mut self, max_norm: f64) -> Self {
        self.clip_norm = Some(max_norm);
        self
    }

    /// Turns early stopping on, and restoring the best weights with it.
    pub fn early_stopping(mut self, early: EarlyStopping) -> Self {
        self.early_stopping = Some(early);
        self.restore_best = true;
        self
    }

    /// Chooses the monitored quantity.
    pub fn monitor(mut self, monitor: Monitor) -> Self {
        self.monitor = monitor;
        self
    }

    /// Restores the best weights at the end, or not.
    pub fn restore_best(mut self, restore: bool) -> Self {
        self.restore_best = restore;
        self
    }

    /// Writes a checkpoint to `path` after every epoch.
    pub fn checkpoint(mut self, path: impl Into<PathBuf>) -> Self {
        self.checkpoint = Some(path.into());
        self
    }

    /// Chooses how progress is reported.
    pub fn progress(mut self, progress: Progress) -> Self {
        self.progress = progress;
        self
    }
}
