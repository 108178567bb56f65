//! Training and batched inference on several threads allocate nothing
//! once warmed up, on any
//! thread: the pool's workers are started once and handed jobs through
//! atomics, and each keeps its own scratch buffers, which only grow. The
//! allocator here counts every thread's allocations, so this binary holds
//! one test.

use chainrule::optim::Adam;
use chainrule::{Dataset, Network, Trainer, Workspace, metrics};
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator; counting is one atomic add.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

chainrule::network! {
    struct Mlp { input: [64], layers: [dense(256), batch_norm, relu, dense(128), tanh, dense(10)], loss: softmax_cross_entropy }
}
chainrule::network! {
    struct Cnn {
        input: [1, 12, 12],
        layers: [conv2d(8, kernel = 3, padding = 1), relu, max_pool2d(2), conv2d(8, kernel = 3), flatten, dense(10)],
        loss: softmax_cross_entropy,
    }
}
chainrule::network! {
    struct Lstm { input: [16, 8], layers: [lstm(32), dense(10)], loss: softmax_cross_entropy }
}

/// Allocations on every thread during one more epoch, after two, and
/// during batched inference, evaluation and the accuracy.
fn steady<N: Network<Scalar = f32, Target = usize> + Sync>(
    mut net: N,
    inputs: Vec<N::Input>,
    targets: Vec<usize>,
) -> usize
where
    N::Input: Sync,
{
    let data = Dataset::new(inputs, targets).unwrap();
    let mut trainer = Trainer::new(Adam::new(1e-3), 32, 1).threads(2);
    trainer.train_epoch(&mut net, &data).unwrap();
    trainer.train_epoch(&mut net, &data).unwrap();
    let (mut ws, mut outputs, mut batch_outputs) =
        (Workspace::new(), vec![N::zero_output(); data.len()], Vec::new());
    let inference =
        |net: &N, ws: &mut Workspace<f32>, outputs: &mut [N::Output], batch: &mut Vec<N::Output>| {
            chainrule::threads::with(2, || {
                net.predict_batch(data.inputs(), outputs, ws).unwrap();
                black_box(metrics::evaluate(net, &data, 200, ws, batch).unwrap());
                black_box(metrics::accuracy(net, &data));
            })
        };
    inference(&net, &mut ws, &mut outputs, &mut batch_outputs);
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    black_box(trainer.train_epoch(&mut net, &data).unwrap());
    inference(&net, &mut ws, &mut outputs, &mut batch_outputs);
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

#[test]
fn training_and_inference_on_several_threads_do_not_allocate() {
    // More samples than a chunk of batched inference, so it splits too.
    let classes: Vec<usize> = (0..400).map(|i| i % 10).collect();
    let mlp = steady(Mlp::new(1), (0..400).map(|i| [i as f32 / 400.0; 64]).collect(), classes.clone());
    assert_eq!(mlp, 0, "dense network");
    let cnn = steady(Cnn::new(2), (0..400).map(|i| [i as f32 / 400.0; 144]).collect(), classes.clone());
    assert_eq!(cnn, 0, "convolutional network");
    let lstm = steady(Lstm::new(3), (0..400).map(|i| [i as f32 / 400.0; 128]).collect(), classes);
    assert_eq!(lstm, 0, "recurrent network");
    if chainrule::threads::available() > 1 {
        assert!(chainrule::threads::worker_parts() > 0, "the workers took part");
    }
    // The counter works: a real allocation is seen.
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    drop(black_box(vec![1u8; 10]));
    assert_eq!(ALLOCATIONS.load(Ordering::Relaxed) - before, 1);
}
