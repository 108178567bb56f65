//! `layer_norm`: finite-difference checks (f64) on flat features and on
//! sequences whose steps and features are equally many, at ordinary and
//! large inputs; a constant row normalizes to the shift; streaming runs
//! through it step by step as the whole sequence does.

use chainrule::Network;
use chainrule_suite::{check_gradients, samples};

chainrule::network! {
    struct Flat { input: [3], layers: [dense(5), layer_norm, tanh, dense(2)], loss: mse, scalar: f64 }
}
chainrule::network! {
    /// Four steps of four features: per-step statistics, per-feature scale.
    struct Steps {
        input: [4, 3],
        layers: [lstm(4, sequence = true), layer_norm(eps = 1e-3), flatten, dense(2)],
        loss: mse,
        scalar: f64,
    }
}
chainrule::network! {
    struct Streamed {
        input: [6, 3],
        layers: [gru(4, sequence = true), layer_norm, lstm(3), dense(2)],
        loss: mse,
        scalar: f64,
    }
}

/// Parameters with scale and shift away from their ones and zeros.
fn varied<N: Network<Scalar = f64>>(net: &mut N, seed: u64) {
    let noise = chainrule_suite::values(seed, N::PARAM_LEN, 0.5);
    for (p, n) in net.params_mut().iter_mut().zip(noise) {
        *p += n;
    }
}

#[test]
fn gradients_match_finite_differences() {
    let mut flat = Flat::new(1);
    varied(&mut flat, 2);
    check_gradients(&mut flat, &samples::<3>(3, 5, 1.0), &samples::<2>(4, 5, 1.0));
    check_gradients(&mut flat, &samples::<3>(5, 5, 30.0), &samples::<2>(6, 5, 1.0));
    let mut steps = Steps::new(7);
    varied(&mut steps, 8);
    check_gradients(&mut steps, &samples::<12>(9, 4, 1.0), &samples::<2>(10, 4, 1.0));
}

#[test]
fn a_constant_row_normalizes_to_the_shift() {
    chainrule::network! {
        struct Alone { input: [4], layers: [layer_norm], loss: mse, scalar: f64 }
    }
    let params = [2.0, 3.0, 4.0, 5.0, 0.5, -0.5, 1.5, 0.0];
    let net = Alone::from_params(&params).unwrap();
    assert_eq!(net.predict(&[7.0; 4]), [0.5, -0.5, 1.5, 0.0]);
    // (x - 2.5) / sqrt(1.25 + 1e-5), scaled and shifted.
    let y = net.predict(&[1.0, 2.0, 3.0, 4.0]);
    let sd = (1.25f64 + 1e-5).sqrt();
    for (i, x) in [1.0, 2.0, 3.0, 4.0].iter().enumerate() {
        assert!((y[i] - ((x - 2.5) / sd * params[i] + params[4 + i])).abs() < 1e-12);
    }
}

#[test]
fn streaming_runs_through_it_as_the_whole_sequence() {
    let mut net = Streamed::new(11);
    let sequence = samples::<18>(12, 1, 1.0)[0];
    let mut last = [0.0; 2];
    for step in sequence.chunks_exact(3) {
        last = net.step(step.try_into().unwrap());
    }
    let whole = net.predict(&sequence);
    assert!(last.iter().zip(&whole).all(|(a, b)| (a - b).abs() < 1e-12), "{last:?} vs {whole:?}");
}
