//! The mini-batch training loop.

use crate::optim::Optimizer;
use crate::{Dataset, Error, Network, Result, Scalar, Workspace};
use rand::SeedableRng;
use rand::rngs::ChaCha8Rng;
use rand::seq::SliceRandom;

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
    rng: ChaCha8Rng,
    epoch: usize,
    grad: Vec<N::Scalar>,
    ws: Workspace<N::Scalar>,
    order: Vec<usize>,
    batch_inputs: Vec<N::Input>,
    batch_targets: Vec<N::Target>,
}

impl<N: Network, O: Optimizer<N::Scalar>> Trainer<N, O> {
    /// A trainer taking `batch_size` samples per step, shuffling with `seed`.
    pub fn new(optimizer: O, batch_size: usize, seed: u64) -> Self {
        Self {
            optimizer,
            batch_size,
            rng: ChaCha8Rng::seed_from_u64(seed),
            epoch: 0,
            grad: vec![N::Scalar::ZERO; N::PARAM_LEN],
            ws: Workspace::new(),
            order: Vec::new(),
            batch_inputs: Vec::with_capacity(batch_size),
            batch_targets: Vec::with_capacity(batch_size),
        }
    }

    /// Epochs completed so far.
    pub fn epoch(&self) -> usize {
        self.epoch
    }

    /// The workspace, to reuse for evaluation between epochs.
    pub fn workspace(&mut self) -> &mut Workspace<N::Scalar> {
        &mut self.ws
    }

    /// One optimizer step on one mini-batch; returns its loss. A loss that is
    /// not finite leaves the parameters untouched and is an error.
    pub fn step(&mut self, net: &mut N, inputs: &[N::Input], targets: &[N::Target]) -> Result<N::Scalar> {
        let at = (self.epoch + 1, 0);
        descend(net, &mut self.optimizer, &mut self.grad, &mut self.ws, inputs, targets, at)
    }

    /// One pass over `data` in a fresh seeded order; returns the mean
    /// training loss (each batch weighted by its size).
    pub fn train_epoch(&mut self, net: &mut N, data: &Dataset<N::Input, N::Target>) -> Result<f64> {
        if data.is_empty() || self.batch_size == 0 {
            return Err(Error::EmptyBatch);
        }
        self.order.clear();
        self.order.extend(0..data.len());
        self.order.shuffle(&mut self.rng);
        let mut total = 0.0;
        for (batch, chunk) in self.order.chunks(self.batch_size).enumerate() {
            self.batch_inputs.clear();
            self.batch_targets.clear();
            self.batch_inputs.extend(chunk.iter().map(|&i| data.inputs()[i]));
            self.batch_targets.extend(chunk.iter().map(|&i| data.targets()[i]));
            let loss = descend(
                net,
                &mut self.optimizer,
                &mut self.grad,
                &mut self.ws,
                &self.batch_inputs,
                &self.batch_targets,
                (self.epoch + 1, batch),
            )?;
            total += loss.as_f64() * chunk.len() as f64;
        }
        self.epoch += 1;
        Ok(total / data.len() as f64)
    }
}

/// Gradient, finiteness check, update: the body of every training step.
/// `at` is the (epoch, batch) reported if the loss is not finite, in which
/// case the parameters are left as they were.
fn descend<N: Network, O: Optimizer<N::Scalar>>(
    net: &mut N,
    optimizer: &mut O,
    grad: &mut [N::Scalar],
    ws: &mut Workspace<N::Scalar>,
    inputs: &[N::Input],
    targets: &[N::Target],
    at: (usize, usize),
) -> Result<N::Scalar> {
    let loss = net.loss_and_grad(inputs, targets, grad, ws)?;
    if !loss.finite() {
        let (epoch, batch) = at;
        return Err(Error::NonFiniteLoss { loss: loss.as_f64(), epoch, batch });
    }
    optimizer.step(net.params_mut(), grad)?;
    Ok(loss)
}
