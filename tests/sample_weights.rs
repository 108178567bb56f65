//! Sample weights (`sample_weights: true`): the weighted loss of every
//! loss keyword counts a sample of integer weight `k` exactly as `k`
//! copies of it in the plain loss (the definition of the weighted mean
//! `sum w_i l_i / sum w_i`), its gradient agrees with finite differences
//! in f64, and the trainer and the evaluation use it; bad weights are
//! errors.

use chainrule::metrics::evaluate;
use chainrule::optim::Sgd;
use chainrule::{Dataset, Error, Network, Trainer, Workspace};
use chainrule_suite::{check_weighted_gradients, samples};

/// Integer weights, one of them 0, for the copies check.
const COPIES: [f64; 4] = [2.0, 0.0, 1.0, 3.0];
/// Weights that are not integers, for the gradient check.
const WEIGHTS: [f64; 4] = [0.5, 2.0, 0.0, 1.25];

/// The batch with sample `i` repeated `COPIES[i]` times.
fn copies<T: Copy>(items: &[T]) -> Vec<T> {
    items.iter().zip(COPIES).flat_map(|(&x, k)| std::iter::repeat_n(x, k as usize)).collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * (1.0 + a.abs().max(b.abs()))
}

/// The weighted loss and gradient with `COPIES` equal the plain ones on
/// the copied batch; the weighted gradient with `WEIGHTS` agrees with
/// finite differences.
fn weights_count_as_copies<N: Network<Scalar = f64>>(mut net: N, xs: &[N::Input], ts: &[N::Target]) {
    assert!(N::SAMPLE_WEIGHTS);
    let mut ws = Workspace::new();
    let (mut weighted_grad, mut plain_grad) = (vec![0.0; N::PARAM_LEN], vec![0.0; N::PARAM_LEN]);
    let weighted = net.weighted_loss_and_grad(xs, ts, &COPIES, &mut weighted_grad, &mut ws).unwrap();
    let plain = net.loss_and_grad(&copies(xs), &copies(ts), &mut plain_grad, &mut ws).unwrap();
    let name = std::any::type_name::<N>();
    assert!(close(weighted, plain), "{name} training loss: weighted {weighted}, copies {plain}");
    for (k, (w, p)) in weighted_grad.iter().zip(&plain_grad).enumerate() {
        assert!(close(*w, *p), "gradient {k}: weighted {w}, copies {p}");
    }
    let weighted = net.weighted_loss(xs, ts, &COPIES, &mut ws).unwrap();
    let plain = net.loss(&copies(xs), &copies(ts), &mut ws).unwrap();
    assert!(close(weighted, plain), "loss: weighted {weighted}, copies {plain}");
    check_weighted_gradients(&mut net, xs, ts, &WEIGHTS);
}

macro_rules! net {
    ($name:ident, $output:literal, [$($layer:tt)*], $($loss:tt)*) => {
        chainrule::network! {
            struct $name {
                input: [3],
                layers: [dense(5), tanh, dense($output) $($layer)*],
                loss: $($loss)*,
                regularizer: l2(1e-3),
                scalar: f64,
                sample_weights: true,
            }
        }
    };
}

net!(Mse, 2, [], mse);
net!(Mae, 2, [], mae);
net!(Huber, 2, [], huber(0.5));
net!(Bce, 2, [, sigmoid], binary_cross_entropy);
net!(BceLogits, 2, [], binary_cross_entropy_with_logits);
net!(Hinge, 2, [], hinge);
net!(Closure, 2, [], |y, t| (y - t) * (y - t) * (y - t) * (y - t));
net!(SoftmaxCe, 4, [], softmax_cross_entropy);
net!(Probabilities, 4, [], softmax_cross_entropy(probabilities));
net!(Nll, 4, [, log_softmax], nll);
net!(MulticlassHinge, 4, [], multiclass_hinge);
net!(ClassWeighted, 4, [], softmax_cross_entropy(weights = [0.5, 2.0, 0.0, 3.0]));
net!(ClassWeightedNll, 4, [, log_softmax], nll(weights = [1.0, 0.25, 4.0, 1.0]));

chainrule::network! {
    /// A class per step of a `[3, 4]` output, as a language model's.
    struct Steps { input: [3, 2], layers: [dense(4)], loss: softmax_cross_entropy, scalar: f64, sample_weights: true }
}
chainrule::network! {
    struct WeightedSteps {
        input: [3, 2],
        layers: [dense(4)],
        loss: softmax_cross_entropy(weights = [1.0, 0.5, 2.0, 1.0]),
        scalar: f64,
        sample_weights: true,
    }
}
chainrule::network! {
    /// Two outputs: the same weights weight both losses.
    struct TwoHeads {
        input: [3],
        graph: {
            let h = dense(input, 6);
            let price = dense(tanh(h), 1);
            let class = dense(relu(h), 3);
            (price, class)
        },
        loss: { price: 0.5 * mse, class: softmax_cross_entropy },
        scalar: f64,
        sample_weights: true,
    }
}

fn inputs<const N: usize>(seed: u64) -> Vec<[f64; N]> {
    samples::<N>(seed, 4, 1.0)
}

/// Targets of 0 and 1, for the binary losses.
fn labels(seed: u64) -> Vec<[f64; 2]> {
    samples::<2>(seed, 4, 1.0).into_iter().map(|t| t.map(|v| f64::from(v > 0.0))).collect()
}

#[test]
fn elementwise_losses_count_weights_as_copies() {
    weights_count_as_copies(Mse::new(1), &inputs(1), &inputs(2));
    weights_count_as_copies(Mae::new(2), &inputs(3), &inputs(4));
    weights_count_as_copies(Huber::new(3), &inputs(5), &inputs(6));
    weights_count_as_copies(Bce::new(4), &inputs(7), &labels(8));
    weights_count_as_copies(BceLogits::new(5), &inputs(9), &labels(10));
    let signs: Vec<[f64; 2]> = labels(12).into_iter().map(|t| t.map(|v| 2.0 * v - 1.0)).collect();
    weights_count_as_copies(Hinge::new(6), &inputs(11), &signs);
    weights_count_as_copies(Closure::new(7), &inputs(13), &inputs(14));
}

#[test]
fn class_losses_count_weights_as_copies() {
    let classes = [3usize, 0, 1, 1];
    weights_count_as_copies(SoftmaxCe::new(1), &inputs(21), &classes);
    weights_count_as_copies(Nll::new(2), &inputs(22), &classes);
    weights_count_as_copies(MulticlassHinge::new(3), &inputs(23), &classes);
    weights_count_as_copies(ClassWeighted::new(4), &inputs(24), &classes);
    weights_count_as_copies(ClassWeightedNll::new(5), &inputs(25), &classes);
    let probabilities: Vec<[f64; 4]> = samples::<4>(26, 4, 1.0)
        .into_iter()
        .map(|p| {
            let p = p.map(f64::exp);
            let sum: f64 = p.iter().sum();
            p.map(|v| v / sum)
        })
        .collect();
    weights_count_as_copies(Probabilities::new(6), &inputs(27), &probabilities);
}

#[test]
fn a_class_per_step_and_several_outputs_count_weights_as_copies() {
    let steps = [[0usize, 3, 1], [2, 2, 0], [1, 0, 3], [3, 1, 2]];
    weights_count_as_copies(Steps::new(1), &inputs(31), &steps);
    weights_count_as_copies(WeightedSteps::new(2), &inputs(32), &steps);
    let targets: Vec<([f64; 1], usize)> = inputs::<1>(33).into_iter().zip([2, 0, 1, 2]).collect();
    weights_count_as_copies(TwoHeads::new(3), &inputs(34), &targets);
}

#[test]
fn equal_weights_give_the_plain_mean() {
    let (net, mut ws) = (SoftmaxCe::new(8), Workspace::new());
    let (xs, ts) = (inputs(41), [0usize, 1, 2, 3]);
    let plain = net.loss(&xs, &ts, &mut ws).unwrap();
    let weighted = net.weighted_loss(&xs, &ts, &[0.3; 4], &mut ws).unwrap();
    assert!(close(plain, weighted), "{plain} vs {weighted}");
}

#[test]
fn bad_weights_are_errors_that_say_what_is_wrong() {
    let (mut net, mut ws) = (Mse::new(1), Workspace::new());
    let (xs, ts) = (inputs::<3>(51), inputs::<2>(52));
    let mut grad = vec![0.0; Mse::PARAM_LEN];
    let mut attempt = |weights: &[f64]| {
        net.weighted_loss_and_grad(&xs, &ts, weights, &mut grad, &mut ws).unwrap_err().to_string()
    };
    assert_eq!(attempt(&[1.0; 3]), "the batch has 4 inputs but 3 sample weights");
    assert_eq!(
        attempt(&[1.0, -1.0, 1.0, 1.0]),
        "the weight of sample 1 is -1; a sample weight is a finite number of at least 0"
    );
    assert!(attempt(&[1.0, 1.0, f64::NAN, 1.0]).starts_with("the weight of sample 2 is NaN"));
    assert_eq!(attempt(&[0.0; 4]), "the sample weights of the batch are all 0: no sample counts");
    let data = Dataset::new(vec![[0.0f32]; 2], vec![0usize; 2]).unwrap();
    assert!(matches!(data.clone().with_weights(vec![1.0]), Err(Error::BatchMismatch { .. })));
    assert!(matches!(data.clone().with_weights(vec![f32::INFINITY, 1.0]), Err(Error::SampleWeight { .. })));
    assert!(matches!(data.with_weights(vec![0.0, 0.0]), Err(Error::ZeroSampleWeights)));
}

chainrule::network! {
    struct Unweighted { input: [3], layers: [dense(2)], loss: mse, scalar: f64 }
}

#[test]
fn a_network_declared_without_sample_weights_says_how_to_get_them() {
    let mut net = Unweighted::new(1);
    let mut ws = Workspace::new();
    let message = net.weighted_loss(&inputs(61), &inputs(62), &[1.0; 4], &mut ws).unwrap_err().to_string();
    assert!(message.ends_with("Unweighted cannot weight samples: declare it with `sample_weights: true`"));
    let data = Dataset::new(inputs(61), inputs(62)).unwrap().with_weights(vec![1.0; 4]).unwrap();
    let mut trainer = Trainer::new(Sgd::new(0.1), 2, 0);
    let before = net.params().to_vec();
    assert!(matches!(trainer.train_epoch(&mut net, &data), Err(Error::NotWeighted { .. })));
    assert_eq!(net.params(), &before[..]);
}

chainrule::network! {
    struct Line { input: [3], layers: [dense(4), tanh, dense(2)], loss: mse, scalar: f64, sample_weights: true }
}

/// `COPIES` as dataset weights.
fn weighted(xs: Vec<[f64; 3]>, ts: Vec<[f64; 2]>) -> Dataset<[f64; 3], [f64; 2]> {
    Dataset::new(xs, ts).unwrap().with_weights(COPIES.map(|w| w as f32).to_vec()).unwrap()
}

#[test]
fn training_on_weights_is_training_on_copies() {
    let (xs, ts) = (inputs::<3>(71), inputs::<2>(72));
    let data = weighted(xs.clone(), ts.clone());
    let copied = Dataset::new(copies(&xs), copies(&ts)).unwrap();
    // One batch holds every sample, so the order does not matter.
    let (mut a, mut b) = (Line::new(5), Line::new(5));
    let mut on_weights = Trainer::new(Sgd::new(0.1), 6, 0);
    let mut on_copies = Trainer::new(Sgd::new(0.1), 6, 0);
    for _ in 0..20 {
        let (wl, cl) =
            (on_weights.train_epoch(&mut a, &data).unwrap(), on_copies.train_epoch(&mut b, &copied).unwrap());
        assert!(close(wl, cl), "epoch loss: weighted {wl}, copies {cl}");
    }
    for (k, (p, q)) in a.params().iter().zip(b.params()).enumerate() {
        assert!((p - q).abs() < 1e-12, "parameter {k}: weighted {p}, copies {q}");
    }
    // The evaluation's loss is the weighted mean too.
    let (mut ws, mut outputs) = (Workspace::new(), Vec::new());
    let weighted_eval = evaluate(&a, &data, 3, &mut ws, &mut outputs).unwrap();
    let copied_eval = evaluate(&a, &copied, 3, &mut ws, &mut outputs).unwrap();
    assert!(close(weighted_eval.loss, copied_eval.loss), "{weighted_eval:?} vs {copied_eval:?}");
}

#[test]
fn a_batch_whose_weights_are_all_zero_takes_no_step() {
    let (xs, ts) = (inputs::<3>(81), inputs::<2>(82));
    // Batches of one: the sample of weight 0 is skipped.
    let data =
        Dataset::new(xs[..2].to_vec(), ts[..2].to_vec()).unwrap().with_weights(vec![0.0, 1.0]).unwrap();
    let only = Dataset::new(xs[1..2].to_vec(), ts[1..2].to_vec()).unwrap();
    let (mut a, mut b) = (Line::new(6), Line::new(6));
    let loss = Trainer::new(Sgd::new(0.1), 1, 0).train_epoch(&mut a, &data).unwrap();
    let expected = Trainer::new(Sgd::new(0.1), 1, 0).train_epoch(&mut b, &only).unwrap();
    assert_eq!(loss, expected);
    assert_eq!(a.params(), b.params());
}
