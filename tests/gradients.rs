//! Gradients of generated networks against central finite differences in
//! f64, for every layer, loss and regularizer, at ordinary and extreme inputs.

use chainrule::{Network, Workspace};
use chainrule_suite::{check_gradients, samples};

chainrule::network! {
    struct SigmoidMse { input: [3], layers: [dense(4), sigmoid, dense(2)], loss: mse, scalar: f64 }
}
chainrule::network! {
    struct TanhMse { input: [3], layers: [dense(5), tanh, dense(2), tanh], loss: mse, scalar: f64 }
}
chainrule::network! {
    struct ReluMse { input: [4], layers: [dense(6), relu, dense(3), identity], loss: mse, scalar: f64 }
}
chainrule::network! {
    struct TanhCe { input: [4], layers: [dense(6), tanh, dense(3)], loss: softmax_cross_entropy, scalar: f64 }
}
chainrule::network! {
    struct DeepReluCe {
        input: [5],
        layers: [dense(7), relu, dense(6), sigmoid, dense(5), tanh, dense(4)],
        loss: softmax_cross_entropy,
        scalar: f64,
    }
}
chainrule::network! {
    struct L2Ce {
        input: [4],
        layers: [dense(5), relu, dense(3)],
        loss: softmax_cross_entropy,
        regularizer: l2(0.3),
        scalar: f64,
    }
}
chainrule::network! {
    struct L2Mse { input: [2], layers: [dense(3), tanh, dense(2)], loss: mse, regularizer: l2(1e-2), scalar: f64 }
}
chainrule::network! {
    /// A single dense layer: the perceptron in matrix form.
    struct Linear { input: [3], layers: [dense(2)], loss: mse, scalar: f64 }
}

#[test]
fn sigmoid_and_mse() {
    check_gradients(&mut SigmoidMse::new(1), &samples::<3>(1, 5, 1.0), &samples::<2>(2, 5, 1.0));
}

#[test]
fn tanh_twice_and_mse() {
    check_gradients(&mut TanhMse::new(2), &samples::<3>(3, 4, 1.0), &samples::<2>(4, 4, 0.9));
}

#[test]
fn relu_identity_and_mse() {
    check_gradients(&mut ReluMse::new(3), &samples::<4>(5, 6, 1.0), &samples::<3>(6, 6, 1.0));
}

#[test]
fn tanh_and_softmax_cross_entropy() {
    check_gradients(&mut TanhCe::new(4), &samples::<4>(7, 5, 1.0), &[0, 2, 1, 1, 0]);
}

#[test]
fn deep_mixed_network_and_softmax_cross_entropy() {
    check_gradients(&mut DeepReluCe::new(5), &samples::<5>(8, 7, 2.0), &[3, 0, 1, 2, 3, 3, 0]);
}

#[test]
fn l2_regularizer_with_cross_entropy_and_mse() {
    check_gradients(&mut L2Ce::new(6), &samples::<4>(9, 3, 1.0), &[2, 0, 1]);
    check_gradients(&mut L2Mse::new(7), &samples::<2>(10, 3, 1.0), &samples::<2>(11, 3, 1.0));
}

#[test]
fn single_dense_layer() {
    check_gradients(&mut Linear::new(8), &samples::<3>(12, 4, 1.0), &samples::<2>(13, 4, 1.0));
}

#[test]
fn a_batch_of_one() {
    check_gradients(&mut TanhCe::new(9), &samples::<4>(14, 1, 1.0), &[2]);
}

/// tanh saturates at +-30: the gradient through it must be (nearly) zero,
/// finite, and still agree with finite differences.
#[test]
fn saturated_tanh() {
    let mut net = TanhMse::new(10);
    check_gradients(&mut net, &samples::<3>(15, 3, 30.0), &samples::<2>(16, 3, 0.5));
}

/// Logits around +-100 overflow a naive softmax; the fused loss and its
/// gradient must stay finite and exact.
#[test]
fn softmax_cross_entropy_at_huge_logits() {
    let mut net = TanhCe::new(11);
    // Scale the output layer so logits reach about +-100.
    let w2 = TanhCe::LAYOUT[2];
    for w in &mut net.params_mut()[w2.offset..w2.offset + w2.len()] {
        *w *= 60.0;
    }
    let inputs = samples::<4>(17, 4, 3.0);
    let mut out = [TanhCe::zero_output(); 4];
    net.predict_batch(&inputs, &mut out, &mut Workspace::new()).unwrap();
    let largest = out.iter().flatten().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(largest > 50.0, "logits should be large, got {largest}");
    check_gradients(&mut net, &inputs, &[0, 1, 2, 0]);
}

/// At a pre-activation of exactly 0, ReLU passes no gradient (PyTorch's
/// convention): with all-zero parameters nothing reaches the first layer.
#[test]
fn relu_at_zero_passes_no_gradient() {
    let mut net = ReluMse::from_params(&vec![0.0; ReluMse::PARAM_LEN]).unwrap();
    let mut grad = vec![1.0; ReluMse::PARAM_LEN];
    net.loss_and_grad(&samples::<4>(18, 3, 1.0), &samples::<3>(19, 3, 1.0), &mut grad, &mut Workspace::new())
        .unwrap();
    let first = &ReluMse::LAYOUT[..2];
    for spec in first {
        assert!(spec.slice(&grad).iter().all(|&g| g == 0.0), "{} got gradient", spec.name);
    }
    let last_bias = ReluMse::LAYOUT[3];
    assert!(last_bias.slice(&grad).iter().any(|&g| g != 0.0), "the output bias still learns");
}
