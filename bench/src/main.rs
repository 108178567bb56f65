//! The benchmark program. Runs the workloads of the design brief that exist
//! so far, single-threaded and pinned to one core when possible, then the
//! training workloads on every core, and prints one line per measurement:
//!
//! ```text
//! <workload> <implementation> <metric> <median> <low> <high>
//! ```
//!
//! `bench/peers.py` prints the same lines for PyTorch and JAX, and
//! `bench/compare.sh` runs both and prints the ratios. Run alone with
//! `cargo run --release -p chainrule-bench [-- WORKLOAD-PREFIX]`.

mod amp;
mod int8;
mod reference;
mod timing;

use chainrule::isa::Isa;
use chainrule::optim::{Adam, Optimizer, Sgd};
use chainrule::{Network, Trainer, Workspace, kernels};
use std::hint::black_box;
use timing::{measure, report};

chainrule::network! {
    /// W1: a small MLP for batch-1 inference.
    struct W1 { input: [16], layers: [dense(32), tanh, dense(32), tanh, dense(4)], loss: mse }
}

chainrule::network! {
    /// W2: the MNIST MLP, trained by SGD.
    pub(crate) struct W2 { input: [784], layers: [dense(128), relu, dense(10)], loss: softmax_cross_entropy }
}

chainrule::network! {
    /// W3: a LeNet-style CNN on 28x28 images, trained by SGD.
    struct W3 {
        input: [1, 28, 28],
        layers: [
            conv2d(8, kernel = 3, padding = 1),
            relu,
            max_pool2d(2),
            conv2d(16, kernel = 3, padding = 1),
            relu,
            max_pool2d(2),
            flatten,
            dense(10),
        ],
        loss: softmax_cross_entropy,
    }
}

chainrule::network! {
    /// W4: an LSTM over 32 steps of 8 features, its last state to one value.
    struct W4 { input: [32, 8], layers: [lstm(32), dense(1)], loss: mse }
}

chainrule::network! {
    /// W4i_gru: a GRU of the same size as W4's LSTM, for streaming.
    struct W4Gru { input: [32, 8], layers: [gru(32), dense(1)], loss: mse }
}

pub(crate) fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut state = seed;
    (0..n).map(|_| (kernels::next_u64(&mut state) >> 40) as f32 / (1u64 << 24) as f32 - 0.5).collect()
}

fn w1() {
    let net = W1::new(1);
    let inputs: Vec<[f32; 16]> = values(16 * 64, 2).chunks_exact(16).map(|c| c.try_into().unwrap()).collect();
    let mut i = 0;
    let mut next = || {
        i = (i + 1) % inputs.len();
        &inputs[i]
    };
    let ns = |s: f64| s * 1e9;
    let s = measure(1.0, || {
        black_box(net.predict(black_box(next())));
    });
    report("W1", "chainrule", "ns_per_call", &s, ns);
    let params = net.params();
    let s = measure(1.0, || {
        black_box(reference::w1(params, black_box(next()), |v| chainrule::math::tanh(Isa::Portable, v)));
    });
    report("W1", "handwritten_same_math", "ns_per_call", &s, ns);
    // The same hand-written code inside the frame chainrule's generated
    // code runs in (the instruction set chosen at run time). Its tanh does
    // not fuse multiply-adds: nalgebra's loops are not inlined into the
    // frame, and a fused multiply-add outside one is a library call.
    let s = measure(1.0, || {
        let x = black_box(next());
        black_box(chainrule::isa::with_isa(
            #[inline(always)]
            |_| reference::w1(params, x, |v| chainrule::math::tanh(Isa::Portable, v)),
        ));
    });
    report("W1", "handwritten_same_math_same_isa", "ns_per_call", &s, ns);
    let s = measure(1.0, || {
        black_box(reference::w1(params, black_box(next()), f32::tanh));
    });
    report("W1", "handwritten_std_tanh", "ns_per_call", &s, ns);
    // The reference is only a reference if it computes the same thing.
    let x = &inputs[3];
    let (a, b) = (net.predict(x), reference::w1(params, x, |v| chainrule::math::tanh(Isa::Portable, v)));
    assert!(a.iter().zip(&b).all(|(p, q)| (p - q).abs() < 1e-5), "W1 reference disagrees: {a:?} vs {b:?}");
}

/// Resident anonymous memory of this process in bytes (Linux), for the W2
/// memory line: heap and stacks, without the pages of the program's code
/// that a first run of a workload touches.
fn resident_bytes() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("RssAnon:"))?;
    line.split_whitespace().nth(1)?.parse::<f64>().ok().map(|kb| kb * 1024.0)
}

fn w2(batch: usize, name: &str) {
    // The raw values are made before the first reading, so the memory line
    // counts the batch once (as `inputs`), not also its temporary source.
    let raw = values(784 * batch, 4);
    let before = resident_bytes();
    let mut net = W2::new(3);
    let inputs: Vec<[f32; 784]> = raw.chunks_exact(784).map(|c| c.try_into().unwrap()).collect();
    let targets: Vec<usize> = (0..batch).map(|i| i % 10).collect();
    let mut trainer = Trainer::new(Sgd::new(0.01), batch, 0);
    let s = measure(batch as f64, || {
        trainer.step(&mut net, &inputs, &targets).unwrap();
    });
    report(name, "chainrule", "samples_per_s", &s, |v| 1.0 / v);
    // Batch 1 runs after batch 32 in the same process and reuses its pages,
    // so only the first run says something about memory.
    if let (true, Some(before), Some(after)) = (batch > 1, before, resident_bytes()) {
        // What training needs at the least: parameters, gradients, optimizer
        // state (none for SGD) and one batch of inputs and activations.
        let activations = batch * (784 + 128 + 128 + 10 + 10 + 10);
        let needed = (4 * (2 * W2::PARAM_LEN + activations)) as f64;
        let ratio = (after - before) / needed;
        println!("{name} chainrule memory_vs_needed {ratio:.4} {ratio:.4} {ratio:.4}");
    }
    // The initial weights again (the same seed draws them).
    let start = W2::new(3).params().to_vec();
    let (mut grad, mut ws) = (vec![0.0; W2::PARAM_LEN], Workspace::new());
    // The same steps written by hand (reference.rs), from the same weights.
    let mut by_hand = reference::w2::Batched::new(batch);
    let hand_step = |params: &mut [f32], by_hand: &mut reference::w2::Batched| {
        if batch == 1 {
            reference::w2::step_one(params, &inputs[0], targets[0], 0.01)
        } else {
            by_hand.step(params, inputs.as_flattened(), &targets, 0.01)
        }
    };
    let mut params = start.clone();
    let h = measure(batch as f64, || {
        black_box(hand_step(&mut params, &mut by_hand));
    });
    report(name, "handwritten", "samples_per_s", &h, |v| 1.0 / v);
    // It is a reference only if it takes the same step.
    let mut once = W2::from_params(&start).unwrap();
    once.loss_and_grad(&inputs, &targets, &mut grad, &mut ws).unwrap();
    Sgd::new(0.01).step(once.params_mut(), &grad).unwrap();
    let mut params = start.clone();
    hand_step(&mut params, &mut by_hand);
    let worst = once.params().iter().zip(&params).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
    assert!(worst < 1e-5, "{name}: the hand-written step differs from chainrule's by {worst}");
    if batch > 1 {
        // Useful FLOPs of one step: both forward products, both weight
        // gradients, and the input gradient of the second layer only.
        let flops = 2.0 * batch as f64 * (784.0 * 128.0 * 2.0 + 128.0 * 10.0 * 3.0);
        report(name, "chainrule", "gflops", &s, |v| flops / (v * batch as f64) / 1e9);
    }
}

/// W3: one SGD step of the CNN on a batch of 32 images.
fn w3() {
    const BATCH: usize = 32;
    let mut net = W3::new(5);
    let inputs: Vec<[f32; 784]> =
        values(784 * BATCH, 6).chunks_exact(784).map(|c| c.try_into().unwrap()).collect();
    let targets: Vec<usize> = (0..BATCH).map(|i| i % 10).collect();
    let mut trainer = Trainer::new(Sgd::new(0.01), BATCH, 0);
    let s = measure(BATCH as f64, || {
        trainer.step(&mut net, &inputs, &targets).unwrap();
    });
    report("W3", "chainrule", "samples_per_s", &s, |v| 1.0 / v);
}

/// W2, W3 and W4 again on every core (`chainrule_threads`): the same
/// steps, split over the pool of `chainrule::threads`.
fn threaded(cores: usize, only: &dyn Fn(&str) -> bool) {
    chainrule::threads::set(cores);
    if only("W2") {
        let inputs: Vec<[f32; 784]> =
            values(784 * 32, 4).chunks_exact(784).map(|c| c.try_into().unwrap()).collect();
        let targets: Vec<usize> = (0..32).map(|i| i % 10).collect();
        let mut net = W2::new(3);
        train("W2", "samples_per_s", &mut net, &inputs, &targets, Sgd::new(0.01));
    }
    if only("W3") {
        let inputs: Vec<[f32; 784]> =
            values(784 * 32, 6).chunks_exact(784).map(|c| c.try_into().unwrap()).collect();
        let targets: Vec<usize> = (0..32).map(|i| i % 10).collect();
        let mut net = W3::new(5);
        train("W3", "samples_per_s", &mut net, &inputs, &targets, Sgd::new(0.01));
    }
    if only("W4") {
        let inputs: Vec<[f32; 256]> =
            values(256 * 16, 8).chunks_exact(256).map(|c| c.try_into().unwrap()).collect();
        let targets: Vec<[f32; 1]> = values(16, 9).into_iter().map(|v| [v]).collect();
        let mut net = W4::new(7);
        train("W4", "sequences_per_s", &mut net, &inputs, &targets, Adam::new(1e-3));
    }
    chainrule::threads::set(1);
}

/// Measures training steps of `net` on one batch with `optimizer`.
fn train<N: Network<Scalar = f32>>(
    name: &str,
    metric: &str,
    net: &mut N,
    inputs: &[N::Input],
    targets: &[N::Target],
    optimizer: impl Optimizer<f32>,
) {
    let mut trainer = Trainer::new(optimizer, inputs.len(), 0);
    let s = measure(inputs.len() as f64, || {
        trainer.step(net, inputs, targets).unwrap();
    });
    report(name, "chainrule_threads", metric, &s, |v| 1.0 / v);
}

/// W3i: batch-1 inference of W3's network.
fn w3i() {
    let net = W3::new(5);
    let inputs: Vec<[f32; 784]> =
        values(784 * 16, 11).chunks_exact(784).map(|c| c.try_into().unwrap()).collect();
    let mut i = 0;
    let s = measure(1.0, || {
        i = (i + 1) % inputs.len();
        black_box(net.predict(black_box(&inputs[i])));
    });
    report("W3i", "chainrule", "ns_per_call", &s, |v| v * 1e9);
}

/// W4 and W4b: one Adam step on a batch of 16 sequences, or of one.
fn w4(batch: usize, name: &str) {
    let mut net = W4::new(7);
    let inputs: Vec<[f32; 256]> =
        values(256 * batch, 8).chunks_exact(256).map(|c| c.try_into().unwrap()).collect();
    let targets: Vec<[f32; 1]> = values(batch, 9).into_iter().map(|v| [v]).collect();
    let mut trainer = Trainer::new(Adam::new(1e-3), batch, 0);
    let s = measure(batch as f64, || {
        trainer.step(&mut net, &inputs, &targets).unwrap();
    });
    report(name, "chainrule", "sequences_per_s", &s, |v| 1.0 / v);
}

/// W4i: one streaming step of the LSTM (8 features in, 32 hidden units).
fn w4i() {
    let mut net = W4::new(7);
    let inputs: Vec<[f32; 8]> = values(8 * 64, 10).chunks_exact(8).map(|c| c.try_into().unwrap()).collect();
    let mut i = 0;
    let s = measure(1.0, || {
        i = (i + 1) % inputs.len();
        black_box(net.step(black_box(&inputs[i])));
    });
    report("W4i", "chainrule", "ns_per_step", &s, |v| v * 1e9);
    let mut gru = W4Gru::new(7);
    let s = measure(1.0, || {
        i = (i + 1) % inputs.len();
        black_box(gru.step(black_box(&inputs[i])));
    });
    report("W4i_gru", "chainrule", "ns_per_step", &s, |v| v * 1e9);
}

/// The GEMM limit on the W2 shapes: forward (32x784 by 784x128) and the
/// weight gradient (128x32 by 32x784), with chainrule's GEMM, with
/// matrixmultiply and with the `gemm` crate (each on its widest path that
/// stable Rust builds); the fastest crate is the limit here.
fn sgemm_reference() {
    let (a, b) = (values(128 * 784, 5), values(784 * 128, 6));
    let mut c = vec![0.0f32; 128 * 784];
    let shapes = [(32usize, 784usize, 128usize), (128, 32, 784)];
    let flops: f64 = shapes.iter().map(|&(m, k, n)| 2.0 * (m * k * n) as f64).sum();
    let ours = measure(1.0, || {
        for &(m, k, n) in &shapes {
            kernels::gemm(m, k, n, 1.0, (&a, k, 1), (&b, n, 1), 0.0, (&mut c, n, 1));
        }
        black_box(&c);
    });
    report("SGEMM_W2", "chainrule", "gflops", &ours, |v| flops / v / 1e9);
    let theirs = measure(1.0, || {
        for &(m, k, n) in &shapes {
            // SAFETY: every operand is a dense row-major matrix within its slice.
            unsafe {
                matrixmultiply::sgemm(
                    m,
                    k,
                    n,
                    1.0,
                    a.as_ptr(),
                    k as isize,
                    1,
                    b.as_ptr(),
                    n as isize,
                    1,
                    0.0,
                    c.as_mut_ptr(),
                    n as isize,
                    1,
                )
            };
        }
        black_box(&c);
    });
    report("SGEMM_W2", "matrixmultiply", "gflops", &theirs, |v| flops / v / 1e9);
    // The `gemm` crate, one thread. Its AVX-512 kernels need nightly Rust;
    // on stable its widest path is AVX2 + FMA.
    let crate_gemm = measure(1.0, || {
        for &(m, k, n) in &shapes {
            // SAFETY: every operand is a dense row-major matrix within its slice.
            unsafe {
                gemm::gemm(
                    m,
                    n,
                    k,
                    c.as_mut_ptr(),
                    1,
                    n as isize,
                    false,
                    a.as_ptr(),
                    1,
                    k as isize,
                    b.as_ptr(),
                    1,
                    n as isize,
                    0.0,
                    1.0,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                )
            };
        }
        black_box(&c);
    });
    report("SGEMM_W2", "gemm_crate", "gflops", &crate_gemm, |v| flops / v / 1e9);
}

fn w5() {
    let n = 1 << 20;
    let mut params = values(n, 7);
    let grads = values(n, 8);
    let mut adam = Adam::new(1e-3);
    let s = measure(n as f64, || adam.step(&mut params, &grads).unwrap());
    report("W5", "chainrule", "ns_per_param", &s, |v| v * 1e9);
}

fn main() {
    // The pool starts on every core before this thread pins itself to the
    // first: its workers take the others.
    let cores = chainrule::threads::available();
    chainrule::threads::run(cores, &|_| ());
    let pinned = pin_to_core(0);
    chainrule::threads::set(1);
    // A comment line the ratio script reads: which instruction-set path ran.
    println!(
        "# chainrule path: {} (this CPU runs up to {}; CHAINRULE_ISA forces a lower one), {} core, one thread; {} threads on the _threads lines",
        chainrule::isa::active().name(),
        chainrule::isa::detected().name(),
        if pinned { "pinned to one" } else { "not pinned to a" },
        cores,
    );
    // An optional argument picks workloads by prefix: `bench W2` runs W2 and W2b.
    let only = std::env::args().nth(1).unwrap_or_default();
    if only == "write-int8" {
        if let Err(e) = int8::write() {
            eprintln!("{e}");
            std::process::exit(1);
        }
        return;
    }
    let run = |name: &str| name.starts_with(only.as_str());
    if run("W1") {
        w1();
    }
    if run("W2") {
        w2(32, "W2");
    }
    if run("W2b") {
        w2(1, "W2b");
    }
    if run("W2i") {
        int8::run();
    }
    if run("W3") {
        w3();
    }
    if run("W3i") {
        w3i();
    }
    if run("W4") {
        w4(16, "W4");
    }
    if run("W4b") {
        w4(1, "W4b");
    }
    if run("W4i") {
        w4i();
    }
    if run("SGEMM") {
        sgemm_reference();
    }
    if run("W5") {
        w5();
    }
    if run("NAM") {
        amp::run();
    }
    if cores > 1 {
        threaded(cores, &|name| run(name));
    }
}

/// Pins this thread to `core` (Linux); false where that is not possible.
fn pin_to_core(core: usize) -> bool {
    #[cfg(target_os = "linux")]
    {
        // sched_setaffinity(0, size, mask) through the C library, to avoid a
        // dependency for one call.
        unsafe extern "C" {
            fn sched_setaffinity(pid: i32, size: usize, mask: *const u64) -> i32;
        }
        let mut mask = [0u64; 16];
        mask[core / 64] |= 1 << (core % 64);
        // SAFETY: the mask outlives the call and its size is passed.
        unsafe { sched_setaffinity(0, std::mem::size_of_val(&mask), mask.as_ptr()) == 0 }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = core;
        false
    }
}
