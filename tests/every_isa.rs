//! Every instruction-set level this CPU runs (AVX-512, AVX2 + FMA, the
//! portable code) computes what the network computes in `f64`, within
//! 1e-5: batch-1 `predict` on the planned weights, `predict` on the
//! parameters (after `params_mut`, before the weights are laid out again),
//! batched `predict_batch`, and streaming `step`, for every family of
//! layers. Each network is declared twice, in `f32` and in `f64`, and the
//! `f64` twin gets the same parameters and statistics.

use chainrule::Network;
use chainrule::Workspace;
use chainrule::isa::Isa;
use chainrule_suite::{on_every_level, samples};

/// Building a network in generic code (`new` and `from_params` are
/// inherent functions of each generated type).
trait Build: Network + Sized {
    fn build(seed: u64) -> Self;
    fn with(params: &[Self::Scalar]) -> Self;
}

/// The network in `f32` and its `f64` twin.
macro_rules! twins {
    ($f32:ident, $f64:ident, { $($body:tt)* }) => {
        chainrule::network! { struct $f32 { $($body)* } }
        chainrule::network! { struct $f64 { $($body)* scalar: f64, } }
        twins!(@build $f32);
        twins!(@build $f64);
    };
    (@build $net:ident) => {
        impl Build for $net {
            fn build(seed: u64) -> Self {
                $net::new(seed)
            }
            fn with(params: &[Self::Scalar]) -> Self {
                $net::from_params(params).unwrap()
            }
        }
    };
}

twins!(Mlp, Mlp64, {
    input: [16],
    layers: [
        dense(32), tanh, dense(24), batch_norm, sigmoid, dropout(0.3),
        residual[dense(24), gelu, dense(24)], layer_norm, dense(9), softplus, dense(4), softmax,
    ],
    loss: mse,
});
twins!(Cnn, Cnn64, {
    input: [2, 12, 12],
    layers: [
        conv2d(5, kernel = 3, padding = 1), batch_norm, relu, max_pool2d(2),
        conv2d(6, kernel = 3, stride = 2), tanh, avg_pool2d(2), flatten, dense(5),
    ],
    loss: mse,
});
twins!(Signal, Signal64, {
    input: [3, 40],
    layers: [conv1d(4, kernel = 5, padding = same), tanh, max_pool1d(2), conv1d(3, kernel = 3, dilation = 2), flatten, dense(3)],
    loss: mse,
});
twins!(Recurrent, Recurrent64, {
    input: [6, 5],
    layers: [lstm(20, sequence = true), rnn(9, sequence = true), gru(17), dense(3)],
    loss: mse,
});
twins!(Wide, Wide64, {
    input: [8, 3],
    layers: [lstm(40), dense(2)],
    loss: mse,
});

/// The `f64` twin of `net`: the same parameters and running statistics.
fn twin<A: Network<Scalar = f32>, B: Build<Scalar = f64>>(net: &A) -> B {
    let params: Vec<f64> = net.params().iter().map(|&v| f64::from(v)).collect();
    let mut twin = B::with(&params);
    twin.state_mut().iter_mut().zip(net.state()).for_each(|(t, &v)| *t = f64::from(v));
    twin
}

/// Running statistics away from their initial zeros and ones, so batch
/// norm computes something.
fn set_statistics<N: Network<Scalar = f32>>(net: &mut N) {
    net.state_mut().iter_mut().enumerate().for_each(|(i, v)| *v = 0.6 + (i % 5) as f32 * 0.2);
}

fn close(level: Isa, what: &str, ours: &[f32], reference: &[f64]) {
    for (k, (&a, &b)) in ours.iter().zip(reference).enumerate() {
        assert!((f64::from(a) - b).abs() <= 1e-5, "{level:?}, {what}, output {k}: {a} vs f64 {b}");
    }
}

/// Batch-1 on the planned weights, batch-1 on the parameters and batched,
/// against the `f64` twin, on every level.
fn check<A, B, const I: usize, const O: usize>(seed: u64)
where
    A: Build<Scalar = f32, Input = [f32; I], Output = [f32; O]>,
    B: Build<Scalar = f64, Input = [f64; I], Output = [f64; O]>,
{
    let mut net = A::build(seed);
    set_statistics(&mut net);
    let reference: B = twin(&net);
    let inputs64 = samples::<I>(seed, 6, 1.0);
    let inputs: Vec<[f32; I]> = inputs64.iter().map(|x| x.map(|v| v as f32)).collect();
    let expected: Vec<[f64; O]> = inputs64.iter().map(|x| reference.predict(x)).collect();
    let mut stale = A::with(net.params());
    stale.state_mut().copy_from_slice(net.state());
    // Through `params_mut` the weights are not laid out again until the
    // next training step or `relayout`: `predict` reads the parameters.
    let _ = stale.params_mut();
    let name = std::any::type_name::<A>();
    on_every_level(|level| {
        let mut batched = vec![[0.0f32; O]; inputs.len()];
        net.predict_batch(&inputs, &mut batched, &mut Workspace::new()).unwrap();
        for ((x, want), batch) in inputs.iter().zip(&expected).zip(&batched) {
            close(level, &format!("{name} predict"), &net.predict(x), want);
            close(level, &format!("{name} predict on the parameters"), &stale.predict(x), want);
            close(level, &format!("{name} predict_batch"), batch, want);
        }
    });
}

#[test]
fn every_level_matches_the_f64_reference() {
    check::<Mlp, Mlp64, 16, 4>(1);
    check::<Cnn, Cnn64, 288, 5>(2);
    check::<Signal, Signal64, 120, 3>(3);
    check::<Recurrent, Recurrent64, 30, 3>(4);
    check::<Wide, Wide64, 24, 2>(5);
}

/// Streaming, step by step, against the `f64` twin's steps, on every
/// level; and the whole sequence's `predict` equals the last step.
#[test]
fn streaming_matches_the_f64_reference_on_every_level() {
    let net = Recurrent::new(6);
    let reference: Recurrent64 = twin(&net);
    let steps64 = samples::<5>(7, 6, 1.0);
    on_every_level(|level| {
        let (mut ours, mut theirs) = (Recurrent::with(net.params()), Recurrent64::with(reference.params()));
        let mut last = [0.0f32; 3];
        for x in &steps64 {
            last = ours.step(&x.map(|v| v as f32));
            close(level, "step", &last, &theirs.step(x));
        }
        let sequence: Vec<f32> = steps64.iter().flatten().map(|&v| v as f32).collect();
        let whole = ours.predict(&sequence.try_into().unwrap());
        for (a, b) in whole.iter().zip(&last) {
            assert!((a - b).abs() <= 1e-6, "{level:?}: predict {a} vs the last step {b}");
        }
    });
}
