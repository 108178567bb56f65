//! The contract between generated networks and the rest of the runtime.
//!
//! `network!` emits a struct and implements [`Network`] for it with every
//! size fixed at compile time. Optimizers, the trainer and the metrics only
//! see this trait and flat slices, never a particular network.

use crate::optim::Update;
use crate::summary::{LayerRow, Summary};
use crate::{Error, Result, Scalar, Workspace};

pub use chainrule_spec::{Init, ParamSpec, Role};

/// What a loss compares an output with: a class index or a vector of values.
/// Generic code (accuracy in the trainer) asks it for a class.
pub trait Target: Copy {
    /// The class index, for classification targets.
    fn class(&self) -> Option<usize> {
        None
    }

    /// Value `k` of a vector target (a label of 0 or 1 for binary
    /// accuracy), `None` past its end or for class targets.
    fn value(&self, k: usize) -> Option<f64> {
        let _ = k;
        None
    }
}

impl Target for usize {
    fn class(&self) -> Option<usize> {
        Some(*self)
    }
}

impl<S: Scalar, const N: usize> Target for [S; N] {
    fn value(&self, k: usize) -> Option<f64> {
        self.get(k).map(|v| v.as_f64())
    }
}

/// A class per step of a `[N, classes]` output (a language model's).
impl<const N: usize> Target for [usize; N] {}

/// The targets of a network with several outputs, one per output in the
/// order the graph lists them. Accuracy is that of the first output whose
/// targets are classes (see [`Network::class_scores`]).
macro_rules! tuple_targets {
    ($($t:ident . $k:tt),+) => {
        impl<$($t: Target),+> Target for ($($t,)+) {
            fn class(&self) -> Option<usize> {
                None$(.or(self.$k.class()))+
            }
        }
    };
}
tuple_targets!(A.0, B.1);
tuple_targets!(A.0, B.1, C.2);
tuple_targets!(A.0, B.1, C.2, D.3);
tuple_targets!(A.0, B.1, C.2, D.3, E.4);
tuple_targets!(A.0, B.1, C.2, D.3, E.4, F.5);
tuple_targets!(A.0, B.1, C.2, D.3, E.4, F.5, G.6);
tuple_targets!(A.0, B.1, C.2, D.3, E.4, F.5, G.6, H.7);

/// A network compiled by `network!`.
///
/// Batched calls take samples as fixed-size arrays (`&[[f32; 784]]`), so a
/// sample can never have the wrong width; the number of samples is free.
/// They reuse a [`Workspace`] and allocate nothing once it has grown to the
/// batch size. Training calls also take a flat gradient buffer with the same
/// layout as [`Network::params`].
///
/// # Example
/// ```
/// use chainrule::{Network, Workspace};
///
/// chainrule::network! {
///     /// y = 2x, learned.
///     struct Doubler {
///         input: [1],
///         layers: [dense(1)],
///         loss: mse,
///     }
/// }
///
/// let mut net = Doubler::new(7);
/// let mut grad = vec![0.0f32; Doubler::PARAM_LEN];
/// let mut ws = Workspace::new();
/// let xs = [[1.0f32], [2.0], [-1.0]];
/// let ts = [[2.0f32], [4.0], [-2.0]];
/// for _ in 0..200 {
///     net.loss_and_grad(&xs, &ts, &mut grad, &mut ws).unwrap();
///     for (p, g) in net.params_mut().iter_mut().zip(&grad) {
///         *p -= 0.1 * g;
///     }
/// }
/// assert!((net.predict(&[3.0])[0] - 6.0).abs() < 1e-3);
/// ```
pub trait Network {
    /// Element type, `f32` or `f64`.
    type Scalar: Scalar;
    /// One input sample: `[Scalar; INPUT_LEN]`, or `[u32; INPUT_LEN]`
    /// for a network reading token ids.
    type Input: Copy;
    /// One output sample: `[Scalar; OUTPUT_LEN]`.
    type Output: Copy + AsRef<[Self::Scalar]> + AsMut<[Self::Scalar]>;
    /// One target: a class index (`usize`) or a vector like the output.
    type Target: Target;

    /// Number of input features.
    const INPUT_LEN: usize;
    /// Number of output features.
    const OUTPUT_LEN: usize;
    /// Number of trainable parameters (length of the flat buffer).
    const PARAM_LEN: usize;
    /// Where each parameter tensor lives in the flat buffer.
    const LAYOUT: &'static [ParamSpec];
    /// Number of state values that are saved with the network but not
    /// trained (running statistics).
    const STATE_LEN: usize;
    /// Where each state tensor lives in the state buffer.
    const STATE_LAYOUT: &'static [ParamSpec];
    /// Every value the network computes, with its layer as declared, its
    /// shape and its parameter count: the rows of [`Network::summary`].
    const LAYERS: &'static [LayerRow] = &[];
    /// The steps of its int8 form (see [`crate::int8`]), or why it has
    /// none: a layer int8 does not run, named.
    const INT8: core::result::Result<&'static [crate::int8::Step], &'static str> =
        Err("the network declares no int8 steps");
    /// The training workspace's size: `(values per sample, fixed values)`.
    const TRAINING_WORKSPACE: (usize, usize) = (0, 0);

    /// A table of the layers with their output shapes and parameter
    /// counts, the total, and the memory training in batches of
    /// `batch_size` takes (Keras' `model.summary()`); print it with `{}`.
    fn summary(batch_size: usize) -> Summary
    where
        Self: Sized,
    {
        Summary::of::<Self>(batch_size)
    }

    /// The flat parameter buffer.
    fn params(&self) -> &[Self::Scalar];

    /// The flat parameter buffer, for optimizers and weight loading.
    ///
    /// Batch-1 inference reads an inference copy of the weights, laid out
    /// for its kernels; after changing parameters here, [`Network::relayout`]
    /// brings that copy up to date (the trainer and weight loading do it).
    /// Until then `predict` stays correct but computes from the parameters,
    /// more slowly, and `step` re-lays the copy itself.
    fn params_mut(&mut self) -> &mut [Self::Scalar];

    /// Re-derives the inference copy of the weights from the parameters
    /// (see [`Network::params_mut`]). A network without one does nothing.
    fn relayout(&mut self) {}

    /// The computational graph as text: the forward pass and loss, then the
    /// backward equations the compiler derived, each an upstream gradient
    /// times a local derivative. Shown before fusions, as the chain rule
    /// produces them.
    fn describe() -> &'static str;

    /// The same graph in Graphviz DOT (`dot -Tsvg`), forward and backward
    /// values in two clusters.
    fn graph_dot() -> &'static str;

    /// The non-trainable state (running statistics): used by inference,
    /// updated by training, saved with the weights.
    fn state(&self) -> &[Self::Scalar];

    /// The non-trainable state, for loading saved networks.
    fn state_mut(&mut self) -> &mut [Self::Scalar];

    /// The state of the network's random stream (dropout masks). Training
    /// advances it; saving and restoring it makes runs resumable.
    fn rng_state(&self) -> u64;

    /// Sets the state of the random stream.
    fn set_rng_state(&mut self, state: u64);

    /// An output filled with zeros, to size buffers for [`Network::predict_batch`].
    fn zero_output() -> Self::Output;

    /// The class scores in an output, which accuracy compares with a class
    /// target: the whole output, or for a network with several outputs the
    /// first whose targets are classes.
    fn class_scores(output: &Self::Output) -> &[Self::Scalar] {
        output.as_ref()
    }

    /// Batch-1 inference on fixed-size arrays: no allocation, no workspace.
    fn predict(&self, input: &Self::Input) -> Self::Output;

    /// Inference on a batch; `outputs` must have one slot per input.
    fn predict_batch(
        &self,
        inputs: &[Self::Input],
        outputs: &mut [Self::Output],
        ws: &mut Workspace<Self::Scalar>,
    ) -> Result<()>;

    /// Mean loss of a batch (plus the regularizer), without gradients.
    fn loss(
        &self,
        inputs: &[Self::Input],
        targets: &[Self::Target],
        ws: &mut Workspace<Self::Scalar>,
    ) -> Result<Self::Scalar>;

    /// Mean loss of a batch (plus the regularizer) and its gradient with
    /// respect to every parameter, written (not added) into `grad`.
    ///
    /// Takes `&mut self` because training-mode layers may update state that
    /// is not a parameter (running statistics, random masks).
    fn loss_and_grad(
        &mut self,
        inputs: &[Self::Input],
        targets: &[Self::Target],
        grad: &mut [Self::Scalar],
        ws: &mut Workspace<Self::Scalar>,
    ) -> Result<Self::Scalar>;

    /// Whether the network was declared with `sample_weights: true`, and so
    /// implements [`Network::weighted_loss`] and
    /// [`Network::weighted_loss_and_grad`].
    const SAMPLE_WEIGHTS: bool = false;

    /// [`Network::loss`] with sample `i`'s loss weighted by `weights[i]`:
    /// `sum_i w_i l_i / sum_i w_i` (plus the regularizer), `l_i` the
    /// sample's loss as the unweighted mean defines it (its elements'
    /// mean for an elementwise loss, its steps' with a class per step; with
    /// class weights each step counts with the product of both weights).
    /// Weights of 1 give the plain mean; an integer weight `k` counts a
    /// sample as `k` copies would. Every output's loss takes the same
    /// weights. Each weight must be finite and at least 0, not all 0.
    ///
    /// An error for a network declared without `sample_weights: true`.
    fn weighted_loss(
        &self,
        inputs: &[Self::Input],
        targets: &[Self::Target],
        weights: &[Self::Scalar],
        ws: &mut Workspace<Self::Scalar>,
    ) -> Result<Self::Scalar> {
        let _ = (inputs, targets, weights, ws);
        Err(Error::NotWeighted { network: core::any::type_name::<Self>() })
    }

    /// [`Network::loss_and_grad`] of the weighted loss of
    /// [`Network::weighted_loss`], computed in training mode.
    ///
    /// # Example
    /// ```
    /// use chainrule::{Network, Workspace};
    /// chainrule::network! {
    ///     struct Line { input: [1], layers: [dense(1)], loss: mse, sample_weights: true }
    /// }
    /// let mut net = Line::new(3);
    /// let mut ws = Workspace::new();
    /// let mut grad = [0.0f32; 2];
    /// let (x, t) = ([[1.0f32], [2.0]], [[0.5f32], [-1.0]]);
    /// // A weight of 2 counts the first sample twice.
    /// let weighted = net.weighted_loss_and_grad(&x, &t, &[2.0, 1.0], &mut grad, &mut ws).unwrap();
    /// let copies = net.loss(&[x[0], x[0], x[1]], &[t[0], t[0], t[1]], &mut ws).unwrap();
    /// assert!((weighted - copies).abs() < 1e-6);
    /// ```
    fn weighted_loss_and_grad(
        &mut self,
        inputs: &[Self::Input],
        targets: &[Self::Target],
        weights: &[Self::Scalar],
        grad: &mut [Self::Scalar],
        ws: &mut Workspace<Self::Scalar>,
    ) -> Result<Self::Scalar> {
        let _ = (inputs, targets, weights, grad, ws);
        Err(Error::NotWeighted { network: core::any::type_name::<Self>() })
    }

    /// One optimizer step: the loss of a batch, its gradient and `update`
    /// applied to every parameter. Generated code applies the update to a
    /// dense layer's weight as it computes the weight's gradient, so that
    /// gradient is never stored (the step is bound by memory at small
    /// batches); other parameters get theirs from `grad`, as
    /// [`Network::loss_and_grad`] writes it. The parameters end bitwise as
    /// `loss_and_grad` followed by the optimizer's step would leave them.
    ///
    /// A loss that is not finite is returned before any parameter changes.
    /// Call [`crate::optim::Update::finish`] after a successful step.
    /// Like [`Network::params_mut`], marks the inference copy stale.
    fn train_step(
        &mut self,
        inputs: &[Self::Input],
        targets: &[Self::Target],
        grad: &mut [Self::Scalar],
        update: &mut Update<'_, Self::Scalar>,
        ws: &mut Workspace<Self::Scalar>,
    ) -> Result<Self::Scalar> {
        let loss = self.loss_and_grad(inputs, targets, grad, ws)?;
        if loss.finite() {
            update.apply(0, self.params_mut(), grad);
        }
        Ok(loss)
    }
}
