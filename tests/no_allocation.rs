//! A steady-state training step and every inference call allocate nothing,
//! batch-1 inference and streaming on every instruction-set level.
//! A counting global allocator proves it: it counts the allocations made by
//! the current thread, so other test threads cannot disturb the count.

use chainrule::optim::Sgd;
use chainrule::{Dataset, Network, Trainer, Workspace};
use chainrule_suite::on_every_level;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; counting touches only a
// thread-local `Cell` initialized without allocating.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|a| a.set(a.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|a| a.set(a.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

/// The tests take turns. The thread pool runs one job at a time, and a
/// kernel that finds it busy (another test training at that moment) runs
/// every part on its own thread, whose buffers then grow for parts it
/// does not run otherwise: an allocation that says nothing about the
/// steady state of one training run.
static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn turn() -> std::sync::MutexGuard<'static, ()> {
    TURN.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

chainrule::network! {
    struct Mlp {
        input: [64],
        layers: [dense(32), tanh, dropout(0.2), dense(16), batch_norm, relu, dense(10)],
        loss: softmax_cross_entropy,
        regularizer: l2(1e-4),
    }
}

chainrule::network! {
    struct Reg { input: [4], layers: [dense(8), sigmoid, dense(2)], loss: mse }
}

#[test]
fn steady_state_training_and_inference_do_not_allocate() {
    let _turn = turn();
    let inputs: Vec<[f32; 64]> = (0..96).map(|i| [i as f32 / 96.0; 64]).collect();
    let targets: Vec<usize> = (0..96).map(|i| i % 10).collect();
    let data = Dataset::new(inputs.clone(), targets.clone()).unwrap();
    let mut net = Mlp::new(1);
    let mut trainer = Trainer::new(Sgd::new(0.01), 32, 7);
    trainer.train_epoch(&mut net, &data).unwrap(); // warm-up: buffers grow here

    assert_eq!(
        allocations_during(|| {
            black_box(trainer.train_epoch(&mut net, &data).unwrap());
        }),
        0,
        "epoch"
    );
    let step = allocations_during(|| {
        for _ in 0..5 {
            trainer.step(&mut net, &inputs[..32], &targets[..32]).unwrap();
        }
    });
    assert_eq!(step, 0, "training step");

    let mut ws = Workspace::new();
    let mut outputs = vec![Mlp::zero_output(); 32];
    // Warm-up: the workspace grows to what the largest call needs.
    net.predict_batch(&inputs[..32], &mut outputs, &mut ws).unwrap();
    net.loss(&inputs[..32], &targets[..32], &mut ws).unwrap();
    on_every_level(|level| {
        let single = allocations_during(|| {
            black_box(net.predict(&inputs[0]));
        });
        assert_eq!(single, 0, "batch-1 inference, {level:?}");
    });
    let batched = allocations_during(|| net.predict_batch(&inputs[..32], &mut outputs, &mut ws).unwrap());
    assert_eq!(batched, 0, "batched inference");
    assert_eq!(
        allocations_during(|| {
            black_box(net.loss(&inputs[..32], &targets[..32], &mut ws).unwrap());
        }),
        0
    );

    let mut reg = Reg::new(2);
    let mut grad = vec![0.0; Reg::PARAM_LEN];
    let (x, t) = ([[0.1f32; 4]; 8], [[0.5f32; 2]; 8]);
    reg.loss_and_grad(&x, &t, &mut grad, &mut ws).unwrap();
    assert_eq!(
        allocations_during(|| {
            black_box(reg.loss_and_grad(&x, &t, &mut grad, &mut ws).unwrap());
        }),
        0
    );

    // The counter works: a real allocation is seen.
    assert_eq!(allocations_during(|| drop(black_box(vec![1u8; 10]))), 1);
}

chainrule::network! {
    struct Cnn {
        input: [1, 12, 12],
        layers: [
            conv2d(4, kernel = 3, padding = 1),
            batch_norm,
            relu,
            max_pool2d(2),
            conv2d(8, kernel = 3),
            avg_pool2d(2),
            flatten,
            dense(10),
        ],
        loss: softmax_cross_entropy,
    }
}

/// Convolutions keep their column matrices in a thread-local buffer that
/// only grows: after one warm-up call, nothing is allocated.
#[test]
fn convolutional_training_and_inference_do_not_allocate() {
    let _turn = turn();
    let inputs: Vec<[f32; 144]> =
        (0..16).map(|i| core::array::from_fn(|j| ((i * 7 + j) % 13) as f32 / 13.0)).collect();
    let targets: Vec<usize> = (0..16).map(|i| i % 10).collect();
    let mut net = Cnn::new(3);
    let mut trainer = Trainer::new(Sgd::new(0.01), 8, 1);
    trainer.step(&mut net, &inputs[..8], &targets[..8]).unwrap();
    let step = allocations_during(|| {
        black_box(trainer.step(&mut net, &inputs[8..], &targets[8..]).unwrap());
    });
    assert_eq!(step, 0, "training step");
    let mut ws = Workspace::new();
    let mut outputs = vec![Cnn::zero_output(); 16];
    net.predict_batch(&inputs, &mut outputs, &mut ws).unwrap();
    black_box(net.predict(&inputs[0]));
    let batched = allocations_during(|| net.predict_batch(&inputs, &mut outputs, &mut ws).unwrap());
    assert_eq!(batched, 0, "batched inference");
    on_every_level(|level| {
        let single = allocations_during(|| {
            black_box(net.predict(&inputs[1]));
        });
        assert_eq!(single, 0, "batch-1 inference, {level:?}");
    });
}

chainrule::network! {
    struct Stream { input: [16, 8], layers: [lstm(32), dense(1)], loss: mse }
}

/// A streaming step allocates nothing, and neither does training a
/// recurrent network once warmed up.
#[test]
fn streaming_steps_and_recurrent_training_do_not_allocate() {
    let _turn = turn();
    let mut net = Stream::new(5);
    let x = [0.25f32; 8];
    net.step(&x);
    on_every_level(|level| {
        let steps = allocations_during(|| {
            for _ in 0..10 {
                black_box(net.step(&x));
            }
        });
        assert_eq!(steps, 0, "streaming steps, {level:?}");
        let sequence = allocations_during(|| {
            black_box(net.predict(&[0.1f32; 128]));
        });
        assert_eq!(sequence, 0, "a whole sequence, batch-1, {level:?}");
    });
    let inputs = vec![[0.1f32; 128]; 4];
    let targets = vec![[0.5f32]; 4];
    let mut trainer = Trainer::new(Sgd::new(0.01), 4, 1);
    trainer.step(&mut net, &inputs, &targets).unwrap();
    let step = allocations_during(|| {
        black_box(trainer.step(&mut net, &inputs, &targets).unwrap());
    });
    assert_eq!(step, 0, "recurrent training step");
}

chainrule::network! {
    /// Gated, blended and plain layers (tests/fixtures/nam).
    struct Amp { nam: "tests/fixtures/nam/gated.nam" }
}

chainrule::network! {
    struct AmpLstm { nam: "data/nam/lstm.nam" }
}

/// A compiled amp model allocates only in `new`: processing blocks of any
/// length, and resetting (which runs the prewarm), allocate nothing.
#[test]
fn amp_models_process_and_reset_without_allocating() {
    let _turn = turn();
    let (mut amp, mut lstm) = (Amp::new(), AmpLstm::new());
    let input = chainrule::nam::test_signal(3000);
    let mut output = vec![0.0f32; input.len()];
    on_every_level(|level| {
        let processed = allocations_during(|| {
            for block in [1, 64, 2048, 7] {
                for (x, y) in input.chunks(block).zip(output.chunks_mut(block)) {
                    amp.process(x, y);
                    lstm.process(x, y);
                }
            }
            amp.reset();
            lstm.reset();
            amp.reset_unwarmed();
        });
        assert_eq!(processed, 0, "amp models, {level:?}");
    });
}

chainrule::network! {
    struct CausalSignal {
        input: [1, 256],
        layers: [conv1d(8, kernel = 3, dilation = 16, padding = causal), tanh, conv1d(1, kernel = 2, dilation = 2, padding = causal)],
        loss: mse,
    }
}

/// Streaming a causal convolutional network allocates nothing.
#[test]
fn streaming_causal_convolutions_does_not_allocate() {
    let _turn = turn();
    let mut net = CausalSignal::new(3);
    net.step(&[0.5]);
    on_every_level(|level| {
        let steps = allocations_during(|| {
            for i in 0..300 {
                black_box(net.step(&[i as f32 * 0.01]));
            }
        });
        assert_eq!(steps, 0, "causal convolution steps, {level:?}");
    });
}

chainrule::network! {
    /// The digits network in int8, compiled in.
    struct DigitsInt8 {
        input: [64],
        layers: [dense(64), tanh, dense(10)],
        loss: softmax_cross_entropy,
        weights: "examples/models/digits.int8.safetensors",
        quantize: int8,
    }
}

chainrule::network! {
    /// A small CNN in int8, compiled in.
    struct CnnInt8 {
        input: [1, 8, 8],
        layers: [conv2d(8, kernel = 3, padding = 1), relu, max_pool2d(2), conv2d(8, kernel = 3, padding = 1), relu, flatten, dense(10)],
        loss: softmax_cross_entropy,
        weights: "tests/fixtures/weights/digits_cnn.int8.safetensors",
        quantize: int8,
    }
}

#[test]
fn int8_inference_does_not_allocate_on_any_level() {
    let _turn = turn();
    let (dense, cnn) = (DigitsInt8::trained(), CnnInt8::trained());
    let xs = [[0.25f32; 64]; 6];
    let mut ys = [[0.0f32; 10]; 6];
    for level in chainrule::int8::Level::ALL.into_iter().filter(|l| l.runs_here()) {
        chainrule::int8::set_limit(level);
        let n = allocations_during(|| {
            black_box(dense.predict(black_box(&xs[0])));
            black_box(cnn.predict(black_box(&xs[1])));
            dense.predict_batch(&xs, &mut ys);
            cnn.predict_batch(&xs, &mut ys);
        });
        assert_eq!(n, 0, "int8 inference allocated on {}", level.name());
    }
    chainrule::int8::set_limit(chainrule::int8::Level::Avx512Vnni);
}
