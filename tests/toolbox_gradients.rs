//! Finite-difference checks (f64) for every activation, elementwise loss and
//! regularizer of the dense toolbox, at ordinary and extreme inputs.

use chainrule::Network;
use chainrule_suite::{check_gradients, samples};

macro_rules! activation_net {
    ($name:ident, $($act:tt)+) => {
        chainrule::network! {
            struct $name { input: [3], layers: [dense(5), $($act)+, dense(2)], loss: mse, scalar: f64 }
        }
    };
}

activation_net!(LeakyRelu, leaky_relu(0.1));
activation_net!(LeakyReluDefault, leaky_relu);
activation_net!(Elu, elu(1.5));
activation_net!(Softplus, softplus);
activation_net!(Gelu, gelu);
activation_net!(GeluTanh, gelu(tanh));
activation_net!(Swish, swish);
activation_net!(Silu, silu);

activation_net!(CustomSwish, activation(|x| x * sigmoid(x)));
activation_net!(CustomPower, activation(|x| (x * x + 1.0).powf(0.75) - powf(x * x + 2.0, -1.5)));
activation_net!(
    CustomMix,
    activation(|x| exp(-x.powi(2)) + max(x, 0.3) * tanh(x) - x.abs().sqrt() / (1.0 + x * x))
);

chainrule::network! {
    struct SoftmaxLayer { input: [3], layers: [dense(4), softmax], loss: mse, scalar: f64 }
}

macro_rules! loss_net {
    ($name:ident, $last:ident, $($loss:tt)+) => {
        chainrule::network! {
            struct $name { input: [3], layers: [dense(4), tanh, dense(2), $last], loss: $($loss)+, scalar: f64 }
        }
    };
}

loss_net!(Mae, identity, mae);
loss_net!(Huber, identity, huber(0.3));
loss_net!(HuberDefault, identity, huber);
loss_net!(Bce, sigmoid, binary_cross_entropy);
loss_net!(BceLogits, identity, binary_cross_entropy_with_logits);
loss_net!(Hinge, identity, hinge);
loss_net!(CustomLoss, sigmoid, |y, t| -(t * ln(y) + (1.0 - t) * (1.0 - y).ln()) + min(y, t).powi(2));

chainrule::network! {
    struct ElasticNet {
        input: [3],
        layers: [dense(4), tanh, dense(2)],
        loss: mse,
        regularizer: l1(0.05) + l2(0.1),
        scalar: f64,
    }
}
chainrule::network! {
    struct WithBiases {
        input: [3],
        layers: [dense(4), tanh, dense(2)],
        loss: mse,
        regularizer: l2(0.1, biases = true),
        scalar: f64,
    }
}

fn inputs(seed: u64, scale: f64) -> Vec<[f64; 3]> {
    samples::<3>(seed, 5, scale)
}

fn targets(seed: u64) -> Vec<[f64; 2]> {
    samples::<2>(seed, 5, 1.0)
}

#[test]
fn activations() {
    check_gradients(&mut LeakyRelu::new(1), &inputs(1, 1.0), &targets(2));
    check_gradients(&mut LeakyReluDefault::new(1), &inputs(1, 1.0), &targets(2));
    check_gradients(&mut Elu::new(2), &inputs(3, 1.0), &targets(4));
    check_gradients(&mut Softplus::new(3), &inputs(5, 1.0), &targets(6));
    check_gradients(&mut Gelu::new(4), &inputs(7, 1.0), &targets(8));
    check_gradients(&mut GeluTanh::new(5), &inputs(9, 1.0), &targets(10));
    check_gradients(&mut Swish::new(6), &inputs(11, 1.0), &targets(12));
    check_gradients(&mut Silu::new(6), &inputs(11, 1.0), &targets(12));
    check_gradients(&mut SoftmaxLayer::new(7), &inputs(13, 1.0), &samples::<4>(14, 5, 1.0));
}

#[test]
fn user_defined_functions() {
    check_gradients(&mut CustomSwish::new(1), &inputs(40, 1.0), &targets(41));
    check_gradients(&mut CustomMix::new(2), &inputs(42, 1.0), &targets(43));
    check_gradients(&mut CustomPower::new(4), &inputs(46, 1.0), &targets(47));
    let probabilities: Vec<[f64; 2]> = samples::<2>(44, 5, 0.4).iter().map(|t| t.map(|v| v + 0.5)).collect();
    check_gradients(&mut CustomLoss::new(3), &inputs(45, 1.0), &probabilities);
}

/// A user-defined swish is the built-in one, to the last bit of the loss.
#[test]
fn a_user_defined_swish_equals_the_builtin() {
    let (x, t) = (inputs(46, 1.0), targets(47));
    let mut ws = chainrule::Workspace::new();
    let builtin = Swish::new(5).loss(&x, &t, &mut ws).unwrap();
    let custom = CustomSwish::new(5).loss(&x, &t, &mut ws).unwrap();
    assert_eq!(builtin, custom);
}

/// Large inputs drive every activation into its tails (exp overflow for
/// elu and softplus if written naively; saturation for the rest).
#[test]
fn activations_at_extreme_inputs() {
    check_gradients(&mut Elu::new(2), &inputs(15, 40.0), &targets(16));
    check_gradients(&mut Softplus::new(3), &inputs(17, 40.0), &targets(18));
    check_gradients(&mut Gelu::new(4), &inputs(19, 40.0), &targets(20));
    check_gradients(&mut Swish::new(6), &inputs(21, 40.0), &targets(22));
    check_gradients(&mut SoftmaxLayer::new(7), &inputs(23, 60.0), &samples::<4>(24, 5, 1.0));
}

#[test]
fn elementwise_losses() {
    check_gradients(&mut Mae::new(1), &inputs(25, 1.0), &targets(26));
    check_gradients(&mut Huber::new(2), &inputs(27, 2.0), &samples::<2>(28, 5, 2.0));
    check_gradients(&mut HuberDefault::new(2), &inputs(27, 2.0), &samples::<2>(28, 5, 3.0));
    let probabilities: Vec<[f64; 2]> = samples::<2>(29, 5, 0.5).iter().map(|t| t.map(|v| v + 0.5)).collect();
    check_gradients(&mut Bce::new(3), &inputs(30, 1.0), &probabilities);
    check_gradients(&mut BceLogits::new(4), &inputs(31, 1.0), &probabilities);
    let signs: Vec<[f64; 2]> = samples::<2>(32, 5, 1.0).iter().map(|t| t.map(f64::signum)).collect();
    check_gradients(&mut Hinge::new(5), &inputs(33, 1.0), &signs);
}

#[test]
fn binary_cross_entropy_with_logits_is_finite_for_huge_logits() {
    let mut net = BceLogits::new(4);
    for w in &mut net.params_mut()[BceLogits::LAYOUT[2].offset..] {
        *w *= 500.0;
    }
    check_gradients(&mut net, &inputs(34, 3.0), &[[1.0, 0.0]; 5]);
}

chainrule::network! {
    struct LogSoftmaxNll { input: [3], layers: [dense(5), tanh, dense(4), log_softmax], loss: nll, scalar: f64 }
}
chainrule::network! {
    struct SvmHinge { input: [3], layers: [dense(5), tanh, dense(4)], loss: multiclass_hinge, scalar: f64 }
}
chainrule::network! {
    struct SoftTargets {
        input: [3],
        layers: [dense(5), relu, dense(4)],
        loss: softmax_cross_entropy(probabilities),
        scalar: f64,
    }
}
chainrule::network! {
    struct OneHot { input: [3], layers: [dense(5), relu, dense(4)], loss: softmax_cross_entropy, scalar: f64 }
}
chainrule::network! {
    struct WeightedClasses {
        input: [3],
        layers: [dense(5), relu, dense(4)],
        loss: softmax_cross_entropy(weights = [0.5, 2.0, 0.0, 3.0]),
        scalar: f64,
    }
}
chainrule::network! {
    /// A class per step of a `[3, 4]` output.
    struct WeightedSteps {
        input: [3, 2],
        layers: [dense(4)],
        loss: softmax_cross_entropy(weights = [1.0, 1.0, 1.0, 1.0]),
        scalar: f64,
    }
}
chainrule::network! {
    struct PlainSteps { input: [3, 2], layers: [dense(4)], loss: softmax_cross_entropy, scalar: f64 }
}
chainrule::network! {
    struct WeightedNll {
        input: [3],
        layers: [dense(5), tanh, dense(4), log_softmax],
        loss: nll(weights = [1.0, 0.25, 4.0, 1.0]),
        scalar: f64,
    }
}

#[test]
fn class_losses() {
    let classes = [3, 0, 1, 2, 2];
    check_gradients(&mut LogSoftmaxNll::new(1), &inputs(50, 1.0), &classes);
    check_gradients(&mut SvmHinge::new(2), &inputs(51, 1.0), &classes);
    check_gradients(&mut WeightedClasses::new(4), &inputs(55, 1.0), &classes);
    check_gradients(&mut WeightedNll::new(5), &inputs(56, 1.0), &classes);
    // Equal weights are the plain mean; a class of weight 0 does not count.
    let mut ws = chainrule::Workspace::new();
    let (x, net) = (inputs(57, 1.0), WeightedClasses::new(6));
    let plain = OneHot::from_params(net.params()).unwrap();
    let counted = [0usize, 1, 3, 3, 0];
    let weighted = net.loss(&x, &counted, &mut ws).unwrap();
    let per_sample: Vec<f64> =
        x.iter().zip(&counted).map(|(x, t)| plain.loss(&[*x], &[*t], &mut ws).unwrap()).collect();
    let w = [0.5, 2.0, 0.0, 3.0];
    let expected = per_sample.iter().zip(&counted).map(|(l, &t)| w[t] * l).sum::<f64>()
        / counted.iter().map(|&t| w[t]).sum::<f64>();
    assert!((weighted - expected).abs() < 1e-12, "{weighted} against {expected}");
    let with_ignored = net.loss(&x, &[0usize, 1, 2, 3, 0], &mut ws).unwrap();
    let without = net.loss(&[x[0], x[1], x[3], x[4]], &[0usize, 1, 3, 0], &mut ws).unwrap();
    assert!((with_ignored - without).abs() < 1e-12, "a class of weight 0 is left out of the mean");
    // With a class per step, equal weights give the plain mean over every step.
    let steps: Vec<[f64; 6]> = samples::<6>(58, 5, 1.0);
    let per_step = [[0usize, 3, 1], [2, 2, 0], [1, 0, 3], [3, 1, 2], [0, 0, 1]];
    let weighted_steps = WeightedSteps::new(7);
    let plain_steps = PlainSteps::from_params(weighted_steps.params()).unwrap();
    let (a, b) = (
        weighted_steps.loss(&steps, &per_step, &mut ws).unwrap(),
        plain_steps.loss(&steps, &per_step, &mut ws).unwrap(),
    );
    assert!((a - b).abs() < 1e-12, "{a} against {b}");
    check_gradients(&mut WeightedSteps::new(8), &steps, &per_step);
    let soft: Vec<[f64; 4]> = samples::<4>(52, 5, 1.0)
        .iter()
        .map(|v| {
            let e = v.map(f64::exp);
            let total: f64 = e.iter().sum();
            e.map(|x| x / total)
        })
        .collect();
    check_gradients(&mut SoftTargets::new(3), &inputs(53, 1.0), &soft);
    check_gradients(&mut SoftTargets::new(3), &inputs(54, 60.0), &soft);
}

/// One-hot probability targets give exactly the class-index loss.
#[test]
fn one_hot_targets_match_class_indices() {
    let mut params = vec![0.0; OneHot::PARAM_LEN];
    params.copy_from_slice(OneHot::new(4).params());
    let (hard, soft) = (OneHot::from_params(&params).unwrap(), SoftTargets::from_params(&params).unwrap());
    let classes = [3usize, 0, 1, 2, 2];
    let one_hot: Vec<[f64; 4]> =
        classes.iter().map(|&c| std::array::from_fn(|j| f64::from(u8::from(j == c)))).collect();
    let mut ws = chainrule::Workspace::new();
    let x = inputs(55, 1.0);
    let (a, b) = (hard.loss(&x, &classes, &mut ws).unwrap(), soft.loss(&x, &one_hot, &mut ws).unwrap());
    assert!((a - b).abs() < 1e-14, "{a} vs {b}");
}

#[test]
fn regularizers() {
    check_gradients(&mut ElasticNet::new(8), &inputs(35, 1.0), &targets(36));
    check_gradients(&mut WithBiases::new(9), &inputs(37, 1.0), &targets(38));
}

#[test]
fn biases_are_penalized_only_on_request() {
    use chainrule::Workspace;
    // All-zero weights and data: the data loss is 0 and its gradient too,
    // so what remains is the penalty alone.
    let mut params = vec![0.0; WithBiases::PARAM_LEN];
    let bias = WithBiases::LAYOUT[1];
    params[bias.offset] = 2.0;
    let mut net = WithBiases::from_params(&params).unwrap();
    let mut grad = vec![0.0; WithBiases::PARAM_LEN];
    let loss = net.loss_and_grad(&[[0.0; 3]], &[[0.0, 0.0]], &mut grad, &mut Workspace::new()).unwrap();
    // tanh(2) reaches the output only through zero weights; the penalty is
    // 0.1 / 2 * 2^2 and its gradient 0.1 * 2.
    assert!((loss - 0.2).abs() < 1e-12, "{loss}");
    assert!((grad[bias.offset] - 0.2).abs() < 1e-12);
    let mut plain = ElasticNet::from_params(&params).unwrap();
    let loss = plain.loss_and_grad(&[[0.0; 3]], &[[0.0, 0.0]], &mut grad, &mut Workspace::new()).unwrap();
    assert_eq!(loss, 0.0, "biases are not penalized by default");
}
