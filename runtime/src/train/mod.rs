//! Training: single steps, epochs, and [`Trainer::fit`], which adds
//! validation, schedules, clipping, early stopping with the best weights
//! restored, a history, progress reporting and checkpoints.
//!
//! Every source of randomness is derived from the trainer's seed and the
//! epoch number (the shuffle) or lives in the network (dropout), so the same
//! seed gives bitwise the same weights, and a run resumed from a checkpoint
//! continues exactly as if it had never stopped.

mod callback;
mod checkpoint;
mod config;
mod groups;
mod history;
mod progress;

pub use callback::{Callback, Flow};
pub(crate) use checkpoint::write_atomically;
pub use config::{EarlyStopping, FitConfig, Monitor, Progress};
use groups::Groups;
pub use groups::matches;
pub use history::{EpochRecord, History};

use crate::metrics::{Evaluation, Metric, evaluate_with};
use crate::optim::{Optimizer, clip_grad_norm};
use crate::{Dataset, Error, Network, Result, Scalar, Workspace};
use progress::Reporter;
use rand::SeedableRng;
use rand::rngs::ChaCha8Rng;
use rand::seq::SliceRandom;
use std::time::Instant;

/// The weights of the best epoch so far, by the monitored quantity.
#[derive(Debug, Clone)]
struct Best<S> {
    epoch: usize,
    value: f64,
    params: Vec<S>,
    state: Vec<S>,
}

/// Batches of fewer samples train on one thread (see [`Trainer::threads`]).
pub const SMALL_BATCH: usize = 8;

/// Trains a network of type `N` with an optimizer `O`: seeded shuffling,
/// mini-batches, and every buffer a step needs kept between steps, so that
/// after the first epoch a step allocates nothing.
///
/// # Example
/// ```
/// use chainrule::{Dataset, Trainer, optim::Sgd};
/// chainrule::network! {
///     struct Line { input: [1], layers: [dense(1)], loss: mse }
/// }
/// let data = Dataset::new(vec![[0.0f32], [1.0], [2.0]], vec![[1.0f32], [3.0], [5.0]]).unwrap();
/// let mut net = Line::new(0);
/// let mut trainer = Trainer::new(Sgd::new(0.1), 3, 0);
/// let first = trainer.train_epoch(&mut net, &data).unwrap();
/// for _ in 0..300 {
///     trainer.train_epoch(&mut net, &data).unwrap();
/// }
/// assert!(trainer.train_epoch(&mut net, &data).unwrap() < first / 100.0);
/// ```
pub struct Trainer<N: Network, O> {
    /// The update rule.
    pub optimizer: O,
    batch_size: usize,
    seed: u64,
    epoch: usize,
    base_lr: Option<f64>,
    history: History,
    best: Option<Best<N::Scalar>>,
    bad_epochs: usize,
    grad: Vec<N::Scalar>,
    ws: Workspace<N::Scalar>,
    order: Vec<usize>,
    batch_inputs: Vec<N::Input>,
    batch_targets: Vec<N::Target>,
    batch_weights: Vec<N::Scalar>,
    outputs: Vec<N::Output>,
    threads: usize,
    groups: Groups<N::Scalar>,
}

impl<N: Network, O: Optimizer<N::Scalar>> Trainer<N, O> {
    /// A trainer taking `batch_size` samples per step, shuffling with `seed`.
    pub fn new(optimizer: O, batch_size: usize, seed: u64) -> Self {
        Self {
            optimizer,
            batch_size,
            seed,
            epoch: 0,
            base_lr: None,
            history: History::default(),
            best: None,
            bad_epochs: 0,
            grad: vec![N::Scalar::ZERO; N::PARAM_LEN],
            ws: Workspace::new(),
            order: Vec::new(),
            batch_inputs: Vec::with_capacity(batch_size),
            batch_targets: Vec::with_capacity(batch_size),
            batch_weights: Vec::new(),
            outputs: Vec::new(),
            threads: 0,
            groups: Groups::new(N::PARAM_LEN),
        }
    }

    /// Freezes the parameter tensors `pattern` selects: the optimizer
    /// skips them, and their values and optimizer state stay as they are,
    /// as PyTorch's `requires_grad = False`. A pattern is a tensor's name,
    /// a layer's (`layers.0`, `stem`: every tensor under it), or has `*`
    /// for any run of characters (`layers.*.weight`). Returns the number of
    /// tensors selected; a pattern that selects none is an error listing the
    /// network's tensors. Not saved in checkpoints: set it again on resuming.
    ///
    /// # Example
    /// ```
    /// use chainrule::{Dataset, Network, Trainer, optim::Adam};
    /// chainrule::network! { struct Net { input: [2], layers: [dense(4), tanh, dense(1)], loss: mse } }
    /// let data = Dataset::new(vec![[1.0f32, 0.5]], vec![[2.0f32]]).unwrap();
    /// let mut net = Net::new(1);
    /// let body = net.params()[..12].to_vec();
    /// let mut trainer = Trainer::new(Adam::new(1e-2), 1, 0);
    /// assert_eq!(trainer.freeze("layers.0").unwrap(), 2); // weight and bias
    /// trainer.train_epoch(&mut net, &data).unwrap();
    /// assert_eq!(&net.params()[..12], &body[..]); // only the head moved
    /// ```
    pub fn freeze(&mut self, pattern: &str) -> Result<usize> {
        self.groups.set(N::LAYOUT, pattern, 0.0)
    }

    /// Lets the tensors `pattern` selects train again, at the optimizer's
    /// own rate.
    pub fn unfreeze(&mut self, pattern: &str) -> Result<usize> {
        self.groups.set(N::LAYOUT, pattern, 1.0)
    }

    /// Trains the tensors `pattern` selects at `multiplier` times the
    /// optimizer's learning rate (and its schedule), as a PyTorch parameter
    /// group with its own `lr`: every rule here moves a parameter by the
    /// rate times an amount independent of it, so the step is scaled.
    /// 0 freezes.
    pub fn lr_multiplier(&mut self, pattern: &str, multiplier: f64) -> Result<usize> {
        self.groups.set(N::LAYOUT, pattern, multiplier)
    }

    /// Trains on `threads` threads (at least 1); by default every core
    /// ([`crate::threads`]). The parameters after every step are the same,
    /// bit for bit, whatever the count. Batches of fewer than
    /// [`SMALL_BATCH`] samples train on one thread: their kernels are too
    /// small to split, and the optimizer's update split over cores would
    /// move the parameters between the cores' caches every step.
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// The threads a step on `batch` samples runs on.
    fn threads_for(&self, batch: usize) -> usize {
        match (batch < SMALL_BATCH, self.threads) {
            (true, _) => 1,
            (false, 0) => crate::threads::current(),
            (false, n) => n,
        }
    }

    /// Epochs completed so far.
    pub fn epoch(&self) -> usize {
        self.epoch
    }

    /// What [`Trainer::fit`] recorded so far.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// The workspace, to reuse for evaluation between epochs.
    pub fn workspace(&mut self) -> &mut Workspace<N::Scalar> {
        &mut self.ws
    }

    /// One optimizer step on one mini-batch; returns its loss. A loss that is
    /// not finite leaves the parameters untouched and is an error. Batch-1
    /// inference computes from the parameters until [`Network::relayout`]
    /// (which `train_epoch` and `fit` call) brings its copy up to date.
    pub fn step(&mut self, net: &mut N, inputs: &[N::Input], targets: &[N::Target]) -> Result<N::Scalar> {
        let at = (self.epoch + 1, 0);
        crate::threads::with(self.threads_for(inputs.len()), || {
            let buffers = (&mut self.grad[..], &mut self.ws, &mut self.groups);
            descend(net, &mut self.optimizer, buffers, (inputs, targets, None), None, at)
        })
    }

    /// One pass over `data` in this epoch's seeded order; returns the mean
    /// training loss (each batch weighted by its size, or by its summed
    /// sample weights when `data` has them: see [`Dataset::with_weights`];
    /// a batch whose weights are all 0 takes no step).
    pub fn train_epoch(&mut self, net: &mut N, data: &Dataset<N::Input, N::Target>) -> Result<f64> {
        Ok(self.run_epoch(net, data, None, &Reporter::silent(), 1, &mut callback::Nothing)?.0)
    }

    fn run_epoch(
        &mut self,
        net: &mut N,
        data: &Dataset<N::Input, N::Target>,
        clip: Option<f64>,
        progress: &Reporter,
        epochs: usize,
        callback: &mut dyn Callback<N>,
    ) -> Result<(f64, Flow)> {
        if data.is_empty() || self.batch_size == 0 {
            return Err(Error::EmptyBatch);
        }
        if data.weights().is_some() && !N::SAMPLE_WEIGHTS {
            return Err(Error::NotWeighted { network: std::any::type_name::<N>() });
        }
        self.order.clear();
        self.order.extend(0..data.len());
        self.order.shuffle(&mut shuffle_rng(self.seed, self.epoch));
        progress.start_epoch(
            self.epoch + 1,
            epochs.max(self.epoch + 1),
            data.len().div_ceil(self.batch_size),
        );
        let (mut total, mut seen, mut flow) = (0.0, 0.0, Flow::Continue);
        for (batch, chunk) in self.order.chunks(self.batch_size).enumerate() {
            self.batch_inputs.clear();
            self.batch_targets.clear();
            self.batch_inputs.extend(chunk.iter().map(|&i| data.inputs()[i]));
            self.batch_targets.extend(chunk.iter().map(|&i| data.targets()[i]));
            let counted = match data.weights() {
                Some(weights) => batch_weights(&mut self.batch_weights, chunk.iter().map(|&i| &weights[i])),
                None => chunk.len() as f64,
            };
            if counted == 0.0 {
                continue;
            }
            let weights = data.weights().map(|_| &self.batch_weights[..]);
            let step = crate::threads::with(self.threads_for(chunk.len()), || {
                descend(
                    net,
                    &mut self.optimizer,
                    (&mut self.grad[..], &mut self.ws, &mut self.groups),
                    (&self.batch_inputs, &self.batch_targets, weights),
                    clip,
                    (self.epoch + 1, batch),
                )
            });
            let loss = match step {
                Ok(loss) => loss,
                Err(e) => {
                    net.relayout();
                    return Err(e);
                }
            };
            total += loss.as_f64() * counted;
            seen += counted;
            progress.batch(loss.as_f64());
            flow = callback.on_batch(self.epoch + 1, batch, loss.as_f64());
            if flow == Flow::Stop {
                break;
            }
        }
        // Batch-1 inference reads the weights as they are now.
        net.relayout();
        if seen == 0.0 {
            return Err(Error::ZeroSampleWeights);
        }
        self.epoch += 1;
        Ok((total / seen, flow))
    }

    /// Trains until `config.epochs` epochs are complete (continuing from
    /// where a resumed trainer stopped), evaluating on `validation` after
    /// each epoch. A NaN or infinite loss or gradient stops training with an
    /// error after putting back the best weights so far.
    pub fn fit(
        &mut self,
        net: &mut N,
        train: &Dataset<N::Input, N::Target>,
        validation: Option<&Dataset<N::Input, N::Target>>,
        config: &FitConfig,
    ) -> Result<&History> {
        self.fit_with(net, train, validation, config, &mut callback::Nothing)
    }

    /// [`Trainer::fit`] with hooks after every epoch and batch, which can
    /// end training ([`Callback`]; a closure `|net, history| Flow::..` is an
    /// epoch hook). A stop asked for mid-epoch ends that epoch there: it
    /// is evaluated and recorded (its loss the mean over the batches run).
    pub fn fit_with(
        &mut self,
        net: &mut N,
        train: &Dataset<N::Input, N::Target>,
        validation: Option<&Dataset<N::Input, N::Target>>,
        config: &FitConfig,
        callback: &mut dyn Callback<N>,
    ) -> Result<&History> {
        let base = *self.base_lr.get_or_insert(self.optimizer.learning_rate());
        let worst = if config.monitor == Monitor::Accuracy { f64::NEG_INFINITY } else { f64::INFINITY };
        if self.best.is_none() {
            self.best = Some(Best {
                epoch: 0,
                value: worst,
                params: net.params().to_vec(),
                state: net.state().to_vec(),
            });
        }
        let progress = Reporter::new(config.progress);
        while self.epoch < config.epochs {
            let started = Instant::now();
            let lr = config.schedule.lr(base, self.epoch);
            self.optimizer.set_learning_rate(lr);
            let run = self.run_epoch(net, train, config.clip_norm, &progress, config.epochs, callback);
            let (train_loss, mut flow) = match run {
                Ok(done) => done,
                Err(e) => {
                    progress.finish();
                    self.restore_best(net);
                    return Err(e);
                }
            };
            let evaluation = match validation {
                Some(v) => Some(evaluate_with(
                    net,
                    v,
                    config.eval_batch_size,
                    &mut self.ws,
                    &mut self.outputs,
                    &config.metrics,
                )?),
                None => None,
            };
            let metrics = match &evaluation {
                Some((_, values)) => {
                    config.metrics.iter().map(Metric::name).zip(values.iter().copied()).collect()
                }
                None => Vec::new(),
            };
            let evaluation = evaluation.map(|(e, _)| e);
            let record = EpochRecord {
                epoch: self.epoch,
                learning_rate: lr,
                train_loss,
                validation_loss: evaluation.map(|e| e.loss),
                validation_accuracy: evaluation.and_then(|e| e.accuracy),
                seconds: started.elapsed().as_secs_f64(),
                metrics,
            };
            progress.end_epoch(&record, config.epochs);
            self.history.epochs.push(record);
            self.track_best(net, train_loss, evaluation, config)?;
            if let Some(path) = &config.checkpoint {
                self.save_checkpoint(net, path)?;
            }
            if flow == Flow::Continue {
                flow = callback.on_epoch(net, &self.history);
            }
            if flow == Flow::Stop {
                self.history.stopped_by_callback = true;
                break;
            }
            if config.early_stopping.is_some_and(|e| self.bad_epochs >= e.patience.max(1)) {
                self.history.stopped_early = true;
                break;
            }
        }
        progress.finish();
        if config.restore_best {
            self.restore_best(net);
        }
        Ok(&self.history)
    }

    /// Updates the best epoch from this epoch's monitored value.
    fn track_best(
        &mut self,
        net: &N,
        train_loss: f64,
        evaluation: Option<Evaluation>,
        config: &FitConfig,
    ) -> Result<()> {
        let value = match (config.monitor, evaluation) {
            (Monitor::Loss, Some(e)) => e.loss,
            (Monitor::Loss, None) => train_loss,
            (Monitor::Accuracy, Some(Evaluation { accuracy: Some(a), .. })) => a,
            (Monitor::Accuracy, _) => {
                return Err(Error::Dataset(
                    "monitoring accuracy needs validation data with class targets".into(),
                ));
            }
        };
        let min_delta = config.early_stopping.map_or(0.0, |e| e.min_delta);
        let best = self.best.as_ref().map_or(f64::NAN, |b| b.value);
        let improved = match config.monitor {
            Monitor::Loss => value < best - min_delta,
            Monitor::Accuracy => value > best + min_delta,
        };
        if improved || !best.is_finite() {
            self.best = Some(Best {
                epoch: self.epoch,
                value,
                params: net.params().to_vec(),
                state: net.state().to_vec(),
            });
            self.history.best_epoch = Some(self.epoch);
            self.bad_epochs = 0;
        } else {
            self.bad_epochs += 1;
        }
        Ok(())
    }

    fn restore_best(&self, net: &mut N) {
        if let Some(best) = &self.best {
            net.params_mut().copy_from_slice(&best.params);
            net.state_mut().copy_from_slice(&best.state);
            net.relayout();
        }
    }
}

/// The shuffle generator of one epoch, derived from the seed and the epoch
/// so that resuming at any epoch needs no generator state.
fn shuffle_rng(seed: u64, epoch: usize) -> ChaCha8Rng {
    let mut state = seed ^ (epoch as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    ChaCha8Rng::seed_from_u64(crate::kernels::next_u64(&mut state))
}

/// What a step writes besides the network: the gradient, the workspace and
/// the parameter groups' scratch.
type StepBuffers<'a, S> = (&'a mut [S], &'a mut Workspace<S>, &'a mut Groups<S>);

/// A step's batch: inputs, targets, and sample weights if it has them.
type Batch<'a, N> =
    (&'a [<N as Network>::Input], &'a [<N as Network>::Target], Option<&'a [<N as Network>::Scalar]>);

/// A batch's sample weights in the network's scalar type, into `into`;
/// returns their sum.
pub(crate) fn batch_weights<'a, S: Scalar>(into: &mut Vec<S>, weights: impl Iterator<Item = &'a f32>) -> f64 {
    into.clear();
    into.extend(weights.map(|&w| S::of_f64(f64::from(w))));
    into.iter().map(|w| w.as_f64()).sum()
}

/// Gradient, finiteness checks, optional clipping, update: the body of
/// every training step. `at` is the (epoch, batch) reported on failure, in
/// which case the parameters are left as they were.
fn descend<N: Network, O: Optimizer<N::Scalar>>(
    net: &mut N,
    optimizer: &mut O,
    (grad, ws, groups): StepBuffers<'_, N::Scalar>,
    (inputs, targets, weights): Batch<'_, N>,
    clip: Option<f64>,
    at: (usize, usize),
) -> Result<N::Scalar> {
    let (epoch, batch) = at;
    // Without clipping (which needs the whole gradient first), a rule that
    // needs only each parameter's own gradient runs inside the backward pass.
    // Parameter groups scale or undo the optimizer's whole step, so it
    // must be taken apart from the backward pass.
    if clip.is_none()
        && weights.is_none()
        && groups.is_plain()
        && let Some(mut update) = optimizer.fused(N::PARAM_LEN)?
    {
        let loss = net.train_step(inputs, targets, grad, &mut update, ws)?;
        if !loss.finite() {
            return Err(Error::NonFiniteLoss { loss: loss.as_f64(), epoch, batch });
        }
        update.finish();
        return Ok(loss);
    }
    let loss = match weights {
        Some(weights) => net.weighted_loss_and_grad(inputs, targets, weights, grad, ws)?,
        None => net.loss_and_grad(inputs, targets, grad, ws)?,
    };
    if !loss.finite() {
        return Err(Error::NonFiniteLoss { loss: loss.as_f64(), epoch, batch });
    }
    if let Some(max_norm) = clip {
        let norm = clip_grad_norm(grad, max_norm);
        if !norm.is_finite() {
            return Err(Error::NonFiniteGradient { norm, epoch, batch });
        }
    }
    if groups.is_plain() {
        optimizer.step(net.params_mut(), grad)?;
    } else {
        groups.before_step(net.params_mut(), grad, optimizer);
        optimizer.step(net.params_mut(), grad)?;
        groups.after_step(net.params_mut(), optimizer)?;
    }
    Ok(loss)
}
