//! W2i: batch-1 inference of W2's MLP (784-128-10, ReLU) in `f32` and in
//! int8, compiled in from `bench/models/w2.int8.safetensors`: the target
//! of int8 on CPUs with integer dot products. The time does not depend on
//! the weights' values, so the file quantizes W2's initial weights on
//! random inputs; `bench write-int8` writes it again.

use chainrule::int8::{self, Range};
use chainrule::{Network, Result};
use std::hint::black_box;

use crate::timing::{measure, report};
use crate::{W2, values};

chainrule::network! {
    /// W2's network in int8.
    struct W2Int8 {
        input: [784],
        layers: [dense(128), relu, dense(10)],
        loss: softmax_cross_entropy,
        weights: "models/w2.int8.safetensors",
        quantize: int8,
    }
}

/// The 300 calibration inputs and the 64 timed ones.
fn inputs(count: usize, seed: u64) -> Vec<[f32; 784]> {
    values(784 * count, seed).chunks_exact(784).map(|c| c.try_into().unwrap()).collect()
}

/// Writes the quantized file the workload compiles in.
pub fn write() -> Result<()> {
    int8::calibrate(&W2::new(1), &inputs(300, 7), Range::MinMax)?
        .save(concat!(env!("CARGO_MANIFEST_DIR"), "/models/w2.int8.safetensors"))
}

pub fn run() {
    println!(
        "# chainrule int8 path: {} (this CPU runs up to {}; CHAINRULE_INT8 forces a lower one)",
        int8::active().name(),
        int8::detected().name()
    );
    let (f32_net, int8_net) = (W2::new(1), W2Int8::trained());
    let xs = inputs(64, 11);
    let mut i = 0;
    let mut next = || {
        i = (i + 1) % xs.len();
        &xs[i]
    };
    let ns = |s: f64| s * 1e9;
    let s = measure(1.0, || {
        black_box(int8_net.predict(black_box(next())));
    });
    report("W2i", "chainrule", "ns_per_call", &s, ns);
    let s = measure(1.0, || {
        black_box(f32_net.predict(black_box(next())));
    });
    report("W2i", "chainrule_in_f32", "ns_per_call", &s, ns);
}
