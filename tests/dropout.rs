//! Dropout: inverted, active only in training, seeded, and the mask of the
//! forward pass reused by the backward pass.

use chainrule::{Network, Workspace};
use chainrule_suite::{check_gradients, samples};

chainrule::network! {
    struct WithDropout { input: [3], layers: [dense(6), tanh, dropout(0.4), dense(2)], loss: mse, scalar: f64 }
}
chainrule::network! {
    struct WithoutDropout { input: [3], layers: [dense(6), tanh, dense(2)], loss: mse, scalar: f64 }
}
chainrule::network! {
    /// Every output unit is a bias alone behind dropout, so each unit's
    /// gradient shows its mask.
    struct Probe { input: [1], layers: [dense(2000), dropout(0.3)], loss: mse, scalar: f64 }
}

#[test]
fn gradients_use_the_mask_of_the_forward_pass() {
    let mut net = WithDropout::new(1);
    check_gradients(&mut net, &samples::<3>(1, 6, 1.0), &samples::<2>(2, 6, 1.0));
}

#[test]
fn inference_is_untouched() {
    let with = WithDropout::new(3);
    let without = WithoutDropout::from_params(with.params()).unwrap();
    let (x, t) = (samples::<3>(4, 5, 1.0), samples::<2>(5, 5, 1.0));
    let mut ws = Workspace::new();
    assert_eq!(with.predict(&x[0]), without.predict(&x[0]));
    assert_eq!(with.loss(&x, &t, &mut ws).unwrap(), without.loss(&x, &t, &mut ws).unwrap());
    let (mut a, mut b) = (vec![WithDropout::zero_output(); 5], vec![WithoutDropout::zero_output(); 5]);
    with.predict_batch(&x, &mut a, &mut ws).unwrap();
    without.predict_batch(&x, &mut b, &mut ws).unwrap();
    assert_eq!(a, b);
}

/// Bias gradients of `Probe` are `2 z m^2 / n` with `z = w x + b - t`: zero
/// where the mask dropped the unit, `1 / (1 - p)^2` times the undropped
/// gradient where it kept it.
#[test]
fn masks_drop_a_fraction_p_and_scale_the_rest() {
    let mut net = Probe::new(6);
    let n = 2000;
    let (x, t) = ([[0.7]], [[0.0; 2000]]);
    let mut grad = vec![0.0; Probe::PARAM_LEN];
    net.loss_and_grad(&x, &t, &mut grad, &mut Workspace::new()).unwrap();
    let bias = Probe::LAYOUT[1];
    let weights = Probe::LAYOUT[0].slice(net.params());
    let (mut dropped, mut kept) = (0, 0);
    for (j, &g) in bias.slice(&grad).iter().enumerate() {
        let z = weights[j] * 0.7; // biases start at zero
        let undropped = 2.0 * z / n as f64;
        if g == 0.0 {
            dropped += 1;
        } else {
            kept += 1;
            assert!((g / undropped - 1.0 / (0.7f64 * 0.7)).abs() < 1e-9, "scale of a kept unit");
        }
    }
    assert_eq!(dropped + kept, n);
    assert!((520..680).contains(&dropped), "about 30% of 2000 dropped, got {dropped}");
}

#[test]
fn masks_are_seeded_and_change_from_step_to_step() {
    let (x, t) = (samples::<3>(7, 4, 1.0), samples::<2>(8, 4, 1.0));
    let mut ws = Workspace::new();
    let mut grads = |net: &mut WithDropout| {
        let mut g = vec![0.0; WithDropout::PARAM_LEN];
        net.loss_and_grad(&x, &t, &mut g, &mut ws).unwrap();
        g
    };
    let (mut a, mut b) = (WithDropout::new(9), WithDropout::new(9));
    let start = a.rng_state();
    let (first, second) = (grads(&mut a), grads(&mut a));
    assert_ne!(first, second, "each step draws a new mask");
    assert_eq!(first, grads(&mut b), "the same seed gives the same masks");
    a.set_rng_state(start);
    assert_eq!(first, grads(&mut a), "restoring the state replays the mask");
}
