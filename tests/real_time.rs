//! Inference on any input value: NaN and infinities go in, values come out
//! (NaN where the math says so), with no panic, for every kind of layer and
//! both the batch-1 and streaming paths, on every instruction-set level.

use chainrule::{Network, Workspace};
use chainrule_suite::on_every_level;

chainrule::network! {
    struct Dense { input: [4], layers: [dense(8), batch_norm, tanh, dense(3), softmax], loss: mse }
}
chainrule::network! {
    struct Conv {
        input: [1, 6, 6],
        layers: [conv2d(2, kernel = 3, padding = 1), relu, max_pool2d(2), avg_pool2d(3), flatten, dense(2)],
        loss: mse,
    }
}
chainrule::network! {
    struct Recurrent { input: [3, 2], layers: [lstm(4, sequence = true), gru(3), dense(2)], loss: mse }
}

const SPECIALS: [f32; 5] = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, f32::MAX, -0.0];

/// Every special value in every position, with another special value
/// next to it.
fn inputs<const N: usize>() -> Vec<[f32; N]> {
    let mut all = Vec::new();
    for (i, &special) in SPECIALS.iter().enumerate() {
        for at in 0..N {
            let mut x = [0.5f32; N];
            x[at] = special;
            x[(at + i + 1) % N] = SPECIALS[(i + 1) % SPECIALS.len()];
            all.push(x);
        }
    }
    all
}

/// Batch-1 and batched inference on every input; where both are finite
/// they agree (the kernels sum in different orders, and with `f32::MAX` in
/// the input, overflow can depend on that order). Returns how many
/// batch-1 outputs are NaN.
fn run<N: Network<Scalar = f32, Input = [f32; I]>, const I: usize>(net: &N) -> usize {
    let xs = inputs::<I>();
    let mut outputs = vec![N::zero_output(); xs.len()];
    net.predict_batch(&xs, &mut outputs, &mut Workspace::new()).unwrap();
    let mut nan = 0;
    for (x, batched) in xs.iter().zip(&outputs) {
        let single = net.predict(x);
        for (a, b) in single.as_ref().iter().zip(batched.as_ref()) {
            let both_finite = a.is_finite() && b.is_finite();
            assert!(!both_finite || (a - b).abs() <= 1e-4 * a.abs().max(1.0), "{a} vs {b}");
            nan += usize::from(a.is_nan());
        }
    }
    nan
}

#[test]
fn special_values_never_panic() {
    // NaN propagates: some outputs must be NaN, or the inputs never reached them.
    on_every_level(|level| {
        assert!(run(&Dense::new(1)) > 0, "{level:?}");
        assert!(run(&Conv::new(2)) > 0, "{level:?}");
        assert!(run(&Recurrent::new(3)) > 0, "{level:?}");
    });
}

#[test]
fn streaming_survives_special_values_and_recovers_after_reset() {
    on_every_level(|level| {
        let mut net = Recurrent::new(4);
        for &special in &SPECIALS {
            let out = net.step(&[special, 1.0]);
            assert_eq!(out.len(), 2);
        }
        net.reset();
        let clean = net.step(&[0.25, -0.5]);
        assert!(clean.iter().all(|v| v.is_finite()), "{level:?}: reset clears the NaN state: {clean:?}");
    });
}
