//! Training on several threads gives the same parameters, bit for bit, as
//! on one: every kernel splits its outputs, never a sum, over the threads.
//! Three networks of every trained layer family, a few epochs each with
//! 1, 2 and 3 threads.

use chainrule::optim::{Adam, Sgd};
use chainrule::{Dataset, Network, Trainer};
use chainrule_suite::samples;

chainrule::network! {
    struct Mlp {
        input: [64],
        layers: [dense(256), batch_norm, relu, dropout(0.2), dense(128), tanh, residual[dense(128), gelu], dense(5)],
        loss: softmax_cross_entropy,
        regularizer: l2(1e-4),
    }
}
chainrule::network! {
    struct Cnn {
        input: [2, 14, 14],
        layers: [
            conv2d(8, kernel = 3, padding = 1), batch_norm, relu, max_pool2d(2),
            conv2d(16, kernel = 3), avg_pool2d(2), flatten, dense(5),
        ],
        loss: softmax_cross_entropy,
    }
}
chainrule::network! {
    struct Recurrent { input: [12, 6], layers: [lstm(24, sequence = true), gru(16), dense(3)], loss: mse }
}

/// The parameters after `epochs` epochs of a fresh network on `threads`.
fn trained<N: Network<Scalar = f32>, O: chainrule::optim::Optimizer<f32>>(
    make: &dyn Fn() -> N,
    optimizer: &dyn Fn() -> O,
    data: &Dataset<N::Input, N::Target>,
    threads: usize,
) -> Vec<u32> {
    let mut net = make();
    let mut trainer = Trainer::new(optimizer(), 32, 7).threads(threads);
    for _ in 0..3 {
        trainer.train_epoch(&mut net, data).unwrap();
    }
    net.params().iter().chain(net.state()).map(|v| v.to_bits()).collect()
}

/// The tests take turns: the pool runs one job at a time, and a test whose
/// kernels found it busy would run them on its own thread.
static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn same_bits<N: Network<Scalar = f32>, O: chainrule::optim::Optimizer<f32>>(
    name: &str,
    make: &dyn Fn() -> N,
    optimizer: &dyn Fn() -> O,
    data: &Dataset<N::Input, N::Target>,
) {
    let _turn = TURN.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let one = trained(make, optimizer, data, 1);
    for threads in [2, 3] {
        let before = chainrule::threads::worker_parts();
        let many = trained(make, optimizer, data, threads);
        if chainrule::threads::available() > 1 {
            assert!(
                chainrule::threads::worker_parts() > before,
                "{name}: no part ran on a worker with {threads} threads"
            );
        }
        let differ = one.iter().zip(&many).filter(|(a, b)| a != b).count();
        assert_eq!(
            differ,
            0,
            "{name}: {differ} of {} values differ between 1 and {threads} threads",
            one.len()
        );
    }
}

fn classes(count: usize, classes: usize) -> Vec<usize> {
    (0..count).map(|i| (i * 7 + 3) % classes).collect()
}

#[test]
fn a_dense_network_trains_to_the_same_bits() {
    let inputs: Vec<[f32; 64]> = samples::<64>(1, 96, 1.0).iter().map(|x| x.map(|v| v as f32)).collect();
    let data = Dataset::new(inputs, classes(96, 5)).unwrap();
    same_bits("mlp", &|| Mlp::new(1), &|| Sgd::new(0.05).momentum(0.9), &data);
}

#[test]
fn a_convolutional_network_trains_to_the_same_bits() {
    let inputs: Vec<[f32; 392]> = samples::<392>(2, 64, 1.0).iter().map(|x| x.map(|v| v as f32)).collect();
    let data = Dataset::new(inputs, classes(64, 5)).unwrap();
    same_bits("cnn", &|| Cnn::new(2), &|| Adam::new(1e-3), &data);
}

#[test]
fn a_recurrent_network_trains_to_the_same_bits() {
    let inputs: Vec<[f32; 72]> = samples::<72>(3, 64, 1.0).iter().map(|x| x.map(|v| v as f32)).collect();
    let targets: Vec<[f32; 3]> = samples::<3>(4, 64, 0.5).iter().map(|x| x.map(|v| v as f32)).collect();
    let data = Dataset::new(inputs, targets).unwrap();
    same_bits("recurrent", &|| Recurrent::new(3), &|| Adam::new(1e-3), &data);
}

/// Batched inference splits large batches into chunks over the threads:
/// the same outputs whatever the count.
#[test]
fn batched_inference_gives_the_same_bits() {
    let _turn = TURN.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let net = Cnn::new(4);
    let inputs: Vec<[f32; 392]> = samples::<392>(5, 200, 1.0).iter().map(|x| x.map(|v| v as f32)).collect();
    let outputs = |threads: usize| {
        let mut out = vec![Cnn::zero_output(); inputs.len()];
        chainrule::threads::with(threads, || {
            net.predict_batch(&inputs, &mut out, &mut chainrule::Workspace::new())
        })
        .unwrap();
        out.iter().flatten().map(|v| v.to_bits()).collect::<Vec<u32>>()
    };
    assert_eq!(outputs(1), outputs(2));
    assert_eq!(outputs(1), outputs(3));
}
