//! Restricted Boltzmann machines and the greedy layer-wise pre-training of
//! a deep belief network.
//!
//! An RBM couples visible units `v` and hidden units `h` through weights
//! `W` (`[hidden, visible]`, the layout of a dense layer's weight, so a
//! trained RBM initializes one directly), with biases `b` (visible) and `c`
//! (hidden). Hidden units are binary: `p(h = 1 | v) = sigmoid(W v + c)`.
//! Visible units are binary (`p(v = 1 | h) = sigmoid(W^T h + b)`) or
//! Gaussian with unit variance (`v | h ~ N(W^T h + b, 1)`, for real-valued
//! input standardized first).
//!
//! Training is contrastive divergence: the gradient of the log-likelihood
//! is approximated by `<v h>_data - <v h>_model`, the model term taken after
//! `k` steps of Gibbs sampling started at the data (CD-k) or at persistent
//! chains that carry over from update to update (persistent CD). As is usual,
//! the hidden units driving a reconstruction are sampled, the statistics use
//! probabilities, and a CD chain reconstructs the visible units by their
//! means; persistent chains sample both.

use crate::kernels::{linear, linear_back_data, linear_back_weight};
use crate::{Error, Network, Result, Role, Scalar};
use rand::rngs::ChaCha8Rng;
use rand::{Rng, RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

/// The kind of the visible units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visible {
    /// Binary units, for inputs in [0, 1] (pixel intensities).
    Binary,
    /// Gaussian units of unit variance, for standardized real inputs.
    Gaussian,
}

/// How contrastive divergence trains an RBM.
#[derive(Clone, Debug, PartialEq)]
pub struct CdConfig {
    /// Gibbs steps per update (the k of CD-k).
    pub k: usize,
    /// Persistent chains instead of chains started at the data.
    pub persistent: bool,
    /// Step size.
    pub learning_rate: f64,
    /// Fraction of the previous update added to the next.
    pub momentum: f64,
    /// L2 penalty on the weights (not the biases).
    pub weight_decay: f64,
    /// Samples per update.
    pub batch_size: usize,
    /// Passes over the data.
    pub epochs: usize,
    /// Seeds the weights, the shuffling and the sampling.
    pub seed: u64,
}

impl Default for CdConfig {
    /// CD-1 with the settings of Hinton's practical guide: learning rate
    /// 0.1, momentum 0.5, weight decay 2e-4, batches of 64, 10 epochs.
    fn default() -> Self {
        Self {
            k: 1,
            persistent: false,
            learning_rate: 0.1,
            momentum: 0.5,
            weight_decay: 2e-4,
            batch_size: 64,
            epochs: 10,
            seed: 0,
        }
    }
}

/// What one epoch of training measured, on the whole training set after
/// the epoch's updates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochReport {
    /// Mean squared difference between the data and its mean-field
    /// reconstruction (one pass up, one pass down).
    pub reconstruction_error: f64,
    /// Mean free energy of the data: lower means more probable.
    pub free_energy: f64,
}

/// A restricted Boltzmann machine.
#[derive(Clone, Debug)]
pub struct Rbm<S> {
    /// Visible units.
    pub visible: usize,
    /// Hidden units.
    pub hidden: usize,
    /// `[hidden, visible]`, row-major.
    pub weights: Vec<S>,
    /// `b`, one per visible unit.
    pub visible_bias: Vec<S>,
    /// `c`, one per hidden unit.
    pub hidden_bias: Vec<S>,
    /// Binary or Gaussian visible units.
    pub kind: Visible,
    velocity: [Vec<S>; 3],
    chains: Vec<S>,
}

impl<S: Scalar> Rbm<S> {
    /// Weights drawn from `N(0, 0.01^2)` (seeded), biases zero.
    pub fn new(visible: usize, hidden: usize, kind: Visible, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let weights = (0..visible * hidden)
            .map(|_| {
                S::of_f64(0.01 * <StandardNormal as Distribution<f64>>::sample(&StandardNormal, &mut rng))
            })
            .collect();
        Self {
            visible,
            hidden,
            weights,
            visible_bias: vec![S::ZERO; visible],
            hidden_bias: vec![S::ZERO; hidden],
            kind,
            velocity: [vec![S::ZERO; visible * hidden], vec![S::ZERO; visible], vec![S::ZERO; hidden]],
            chains: Vec::new(),
        }
    }

    /// `p(h = 1 | v)` for `m` samples.
    pub fn hidden_probabilities(&self, v: &[S], m: usize) -> Vec<S> {
        let mut h = vec![S::ZERO; m * self.hidden];
        linear(m, self.visible, self.hidden, v, &self.weights, &mut h);
        for row in h.chunks_exact_mut(self.hidden) {
            for (x, &c) in row.iter_mut().zip(&self.hidden_bias) {
                *x = crate::math::sigmoid(crate::isa::Isa::Portable, *x + c);
            }
        }
        h
    }

    /// The mean of the visible units given `h`: probabilities for binary
    /// units, `W^T h + b` for Gaussian ones.
    pub fn visible_means(&self, h: &[S], m: usize) -> Vec<S> {
        let mut v = vec![S::ZERO; m * self.visible];
        linear_back_data(m, self.visible, self.hidden, h, &self.weights, &mut v);
        for row in v.chunks_exact_mut(self.visible) {
            for (x, &b) in row.iter_mut().zip(&self.visible_bias) {
                *x = match self.kind {
                    Visible::Binary => crate::math::sigmoid(crate::isa::Isa::Portable, *x + b),
                    Visible::Gaussian => *x + b,
                };
            }
        }
        v
    }

    /// Mean free energy of `m` samples: `F(v) = -b.v - sum_j softplus(c_j + W_j v)`
    /// for binary units, with `|v - b|^2 / 2` in place of `-b.v` for Gaussian ones.
    pub fn free_energy(&self, v: &[S], m: usize) -> f64 {
        let mut pre = vec![S::ZERO; m * self.hidden];
        linear(m, self.visible, self.hidden, v, &self.weights, &mut pre);
        let mut total = 0.0;
        for (x, row) in v.chunks_exact(self.visible).zip(pre.chunks_exact(self.hidden)) {
            let visible_term: f64 = match self.kind {
                Visible::Binary => {
                    -x.iter().zip(&self.visible_bias).map(|(&a, &b)| (a * b).as_f64()).sum::<f64>()
                }
                Visible::Gaussian => x
                    .iter()
                    .zip(&self.visible_bias)
                    .map(|(&a, &b)| (a - b).as_f64().powi(2) / 2.0)
                    .sum::<f64>(),
            };
            let hidden_term: f64 = row
                .iter()
                .zip(&self.hidden_bias)
                .map(|(&p, &c)| crate::math::softplus(crate::isa::Isa::Portable, p + c).as_f64())
                .sum();
            total += visible_term - hidden_term;
        }
        total / m as f64
    }

    /// Mean squared difference between `m` samples and their mean-field
    /// reconstruction.
    pub fn reconstruction_error(&self, v: &[S], m: usize) -> f64 {
        let back = self.visible_means(&self.hidden_probabilities(v, m), m);
        let sum: f64 = v.iter().zip(&back).map(|(&a, &b)| (a - b).as_f64().powi(2)).sum();
        sum / (m * self.visible) as f64
    }

    /// One contrastive-divergence update on a batch of `m` samples `v0`.
    /// `uniform` gives the draws in [0, 1) that sample binary units (a unit
    /// is on when its draw is below its probability) and `normal` the
    /// standard normal noise of Gaussian units; passing fixed draws makes an
    /// update computable by hand.
    pub fn cd_step(
        &mut self,
        v0: &[S],
        m: usize,
        cfg: &CdConfig,
        uniform: &mut impl FnMut() -> f64,
        normal: &mut impl FnMut() -> f64,
    ) {
        let sample = |p: &[S], uniform: &mut dyn FnMut() -> f64| -> Vec<S> {
            p.iter().map(|&q| if uniform() < q.as_f64() { S::ONE } else { S::ZERO }).collect()
        };
        let p0 = self.hidden_probabilities(v0, m);
        // The negative chain: from the data (CD) or the persistent chains.
        let (mut vk, mut h) = if cfg.persistent {
            if self.chains.len() != v0.len() {
                self.chains = v0.to_vec();
            }
            let chains = self.chains.clone();
            let p = self.hidden_probabilities(&chains, m);
            (chains, sample(&p, uniform))
        } else {
            (v0.to_vec(), sample(&p0, uniform))
        };
        let mut pk = p0.clone();
        for step in 0..cfg.k.max(1) {
            let means = self.visible_means(&h, m);
            vk = match (cfg.persistent, self.kind) {
                (false, _) => means,
                (true, Visible::Binary) => sample(&means, uniform),
                (true, Visible::Gaussian) => means.iter().map(|&x| x + S::of_f64(normal())).collect(),
            };
            pk = self.hidden_probabilities(&vk, m);
            if step + 1 < cfg.k.max(1) {
                h = sample(&pk, uniform);
            }
        }
        if cfg.persistent {
            self.chains.clone_from(&vk);
        }
        // <v h>_data - <v h>_model, per sample.
        let (mut positive, mut negative) =
            (vec![S::ZERO; self.weights.len()], vec![S::ZERO; self.weights.len()]);
        linear_back_weight(m, self.visible, self.hidden, &p0, v0, &mut positive);
        linear_back_weight(m, self.visible, self.hidden, &pk, &vk, &mut negative);
        let (lr, mu, wd, per) = (cfg.learning_rate, cfg.momentum, cfg.weight_decay, 1.0 / m as f64);
        let step = |velocity: &mut S, value: &mut S, gradient: f64, decay: f64| {
            let g = gradient * per - decay * value.as_f64();
            *velocity = S::of_f64(mu * velocity.as_f64() + lr * g);
            *value += *velocity;
        };
        let [vw, vb, vc] = &mut self.velocity;
        for (i, w) in self.weights.iter_mut().enumerate() {
            step(&mut vw[i], w, (positive[i] - negative[i]).as_f64(), wd);
        }
        let column_sums = |x: &[S], n: usize| -> Vec<f64> {
            let mut sums = vec![0.0; n];
            for row in x.chunks_exact(n) {
                sums.iter_mut().zip(row).for_each(|(s, &v)| *s += v.as_f64());
            }
            sums
        };
        let (dv0, dvk) = (column_sums(v0, self.visible), column_sums(&vk, self.visible));
        for (i, b) in self.visible_bias.iter_mut().enumerate() {
            step(&mut vb[i], b, dv0[i] - dvk[i], 0.0);
        }
        let (dh0, dhk) = (column_sums(&p0, self.hidden), column_sums(&pk, self.hidden));
        for (j, c) in self.hidden_bias.iter_mut().enumerate() {
            step(&mut vc[j], c, dh0[j] - dhk[j], 0.0);
        }
    }

    /// Trains on `data` (`visible` values per sample, flat) for
    /// `cfg.epochs` epochs of shuffled batches; reports each epoch.
    pub fn train(&mut self, data: &[S], cfg: &CdConfig) -> Result<Vec<EpochReport>> {
        let n = data.len() / self.visible.max(1);
        if n == 0 || data.len() != n * self.visible || cfg.batch_size == 0 {
            return Err(Error::Dataset(format!(
                "an RBM of {} visible units needs whole samples and a batch size above 0",
                self.visible
            )));
        }
        if let Some(bad) = data.iter().position(|v| !v.finite()) {
            return Err(Error::Dataset(format!("value {bad} of the RBM's data is not finite")));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let mut reports = Vec::with_capacity(cfg.epochs);
        let mut order: Vec<usize> = (0..n).collect();
        let mut batch = Vec::with_capacity(cfg.batch_size * self.visible);
        for _ in 0..cfg.epochs {
            // Fisher-Yates with the seeded generator.
            for i in (1..n).rev() {
                order.swap(i, rng.random_range(0..=i));
            }
            for chunk in order.chunks(cfg.batch_size) {
                batch.clear();
                for &i in chunk {
                    batch.extend_from_slice(&data[i * self.visible..][..self.visible]);
                }
                let (mut u, mut z) =
                    (ChaCha8Rng::seed_from_u64(rng.next_u64()), ChaCha8Rng::seed_from_u64(rng.next_u64()));
                self.cd_step(&batch, chunk.len(), cfg, &mut || u.random::<f64>(), &mut || {
                    <StandardNormal as Distribution<f64>>::sample(&StandardNormal, &mut z)
                });
            }
            reports.push(EpochReport {
                reconstruction_error: self.reconstruction_error(data, n),
                free_energy: self.free_energy(data, n),
            });
        }
        Ok(reports)
    }
}

/// Greedy layer-wise pre-training of a deep belief network: the first
/// `layers` dense layers of `net` (weight `[out, in]` then bias `[out]` in
/// its layout, each reading the previous one's output) are trained one after
/// the other as RBMs, the first on `inputs` with visible units of kind
/// `first`, each next one (binary) on the hidden probabilities of the one
/// before. Their weights and hidden biases replace the layers' parameters;
/// the network is then fine-tuned as usual. Returns each layer's reports.
pub fn pretrain<N: Network>(
    net: &mut N,
    inputs: &[N::Input],
    layers: usize,
    first: Visible,
    cfg: &CdConfig,
) -> Result<Vec<Vec<EpochReport>>>
where
    N::Input: AsRef<[N::Scalar]>,
{
    let dense = dense_layers::<N>();
    if layers > dense.len() {
        return Err(Error::Dataset(format!(
            "the network has {} dense layers in a chain from its input; cannot pre-train {layers}",
            dense.len()
        )));
    }
    let mut data: Vec<N::Scalar> = inputs.iter().flat_map(|x| x.as_ref().iter().copied()).collect();
    let n = inputs.len();
    let mut reports = Vec::new();
    for (i, &(weight, bias, out, inp)) in dense.iter().take(layers).enumerate() {
        let kind = if i == 0 { first } else { Visible::Binary };
        let layer_cfg = CdConfig { seed: cfg.seed.wrapping_add(i as u64), ..cfg.clone() };
        let mut rbm = Rbm::new(inp, out, kind, layer_cfg.seed);
        reports.push(rbm.train(&data, &layer_cfg)?);
        let params = net.params_mut();
        params[weight..][..out * inp].copy_from_slice(&rbm.weights);
        params[bias..][..out].copy_from_slice(&rbm.hidden_bias);
        data = rbm.hidden_probabilities(&data, n);
    }
    net.relayout();
    Ok(reports)
}

/// `(weight offset, bias offset, out, in)` of the dense layers that form a
/// chain from the network's input, in order.
fn dense_layers<N: Network>() -> Vec<(usize, usize, usize, usize)> {
    let mut found = Vec::new();
    let mut width = N::INPUT_LEN;
    let layout = N::LAYOUT;
    for (w, b) in layout.iter().zip(layout.iter().skip(1)) {
        let dense = w.role == Role::Weight
            && b.role == Role::Bias
            && w.shape.len() == 2
            && b.shape == [w.shape[0]]
            && w.shape[1] == width;
        if dense {
            found.push((w.offset, b.offset, w.shape[0], w.shape[1]));
            width = w.shape[0];
        }
    }
    found
}
