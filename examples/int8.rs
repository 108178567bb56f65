//! int8 inference, measured: trained networks quantized after training
//! (`chainrule::int8::calibrate`, on 300 training inputs), their test
//! accuracy against `f32`, the bytes of their weights, and the time of a
//! batch-1 prediction of each.
//!
//! 1. `digits`: the 8x8 digits network of `examples/models/digits.safetensors`
//!    (what the `digits` example trains), quantized and written to
//!    `digits.int8.safetensors`; the copy of that file in `examples/models`
//!    is compiled in below (`quantize: int8`) and must predict as the
//!    calibrated network does, bit for bit.
//! 2. With an MNIST folder: the `mnist` example's MLP, trained (seed 42),
//!    then quantized.
//! 3. With a Fashion-MNIST folder too: the `fashion_cnn` example's CNN,
//!    trained (seed 42, about 45 s), then quantized.
//!
//! ```sh
//! cargo run --release --example int8 -- [path/to/mnist [path/to/fashion-mnist]]
//! ```

#[path = "shared/digits_splits.rs"]
mod digits_splits;
#[path = "shared/failure.rs"]
mod failure;
#[path = "shared/idx_mlp.rs"]
mod idx_mlp;
#[path = "shared/images.rs"]
mod images;
#[path = "shared/lenet.rs"]
mod lenet;
#[path = "shared/seed.rs"]
mod seed;
#[path = "shared/trained_digits.rs"]
mod trained_digits;

use chainrule::int8::{self, Quantized, Range};
use chainrule::{Dataset, Network, metrics};
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;
use trained_digits::{Digits, DigitsInt8};

/// Inputs the calibration sees: the first of the training split.
const CALIBRATION: usize = 300;

fn main() -> Result<(), failure::Failure> {
    println!("int8 kernels: {} (f32 kernels: {})", int8::active().name(), chainrule::isa::active().name());
    digits()?;
    if let Some(dir) = std::env::args().nth(1).map(PathBuf::from) {
        mnist(&dir)?;
    }
    if let Some(dir) = std::env::args().nth(2).map(PathBuf::from) {
        fashion_cnn(&dir)?;
    }
    Ok(())
}

fn digits() -> Result<(), failure::Failure> {
    let (train, _, test) = digits_splits::splits(digits_splits::SHIPPED)?;
    let net = Digits::trained();
    let mut quantized = int8::calibrate(&net, &train.inputs()[..CALIBRATION], Range::MinMax)?;
    quantized.save("digits.int8.safetensors")?;
    report("digits", &net, &mut quantized, &test);
    // The file compiled in predicts as the calibrated network.
    let compiled = DigitsInt8::trained();
    let mut scores = [0.0f32; 10];
    let same = test.inputs().iter().all(|x| {
        quantized.predict(x, &mut scores);
        compiled.predict(x) == scores
    });
    println!(
        "  compiled in (examples/models/digits.int8.safetensors, {} bytes): {}",
        DigitsInt8::WEIGHT_BYTES,
        if same { "predicts as calibrated, bit for bit" } else { "differs from this calibration" }
    );
    let f32_ns = nanoseconds(test.inputs(), |x| net.predict(x));
    let int8_ns = nanoseconds(test.inputs(), |x| compiled.predict(x));
    println!(
        "  batch-1 predict, compiled in: f32 {f32_ns:.0} ns, int8 {int8_ns:.0} ns ({:.2}x)",
        f32_ns / int8_ns
    );
    Ok(())
}

fn mnist(dir: &std::path::Path) -> Result<(), failure::Failure> {
    let (net, _, test) = idx_mlp::train("mnist", dir, 42)?;
    let (train, _, _) = images::standardized_splits(dir)?;
    quantize_and_time("mnist MLP", "mnist.int8.safetensors", &net, &train, &test)
}

fn fashion_cnn(dir: &std::path::Path) -> Result<(), failure::Failure> {
    let (net, _, train, test) = lenet::train(dir, 42)?;
    quantize_and_time("fashion_cnn", "fashion_cnn.int8.safetensors", &net, &train, &test)
}

/// Calibrates on the first training images, writes the file, reports the
/// accuracies and times a batch-1 prediction of each (int8 run by the
/// executor, which runs the compiled code's kernels on the same numbers).
fn quantize_and_time<N>(
    name: &str,
    file: &str,
    net: &N,
    train: &images::Images,
    test: &images::Images,
) -> Result<(), failure::Failure>
where
    N: Network<Scalar = f32, Input = [f32; 784], Target = usize, Output = [f32; 10]> + Sync,
{
    let mut quantized = int8::calibrate(net, &train.inputs()[..CALIBRATION], Range::MinMax)?;
    quantized.save(file)?;
    report(name, net, &mut quantized, test);
    let mut scores = [0.0f32; 10];
    let f32_ns = nanoseconds(test.inputs(), |x| net.predict(x));
    let int8_ns = nanoseconds(test.inputs(), |x| {
        quantized.predict(x, &mut scores);
        scores
    });
    println!(
        "  batch-1 predict, run from {file}: f32 {f32_ns:.0} ns, int8 {int8_ns:.0} ns ({:.2}x)",
        f32_ns / int8_ns
    );
    Ok(())
}

/// Test accuracy of both and the bytes of their weights.
fn report<N, const I: usize>(name: &str, net: &N, quantized: &mut Quantized, test: &Dataset<[f32; I], usize>)
where
    N: Network<Input = [f32; I], Target = usize> + Sync,
{
    let (f32_accuracy, int8_accuracy) = (metrics::accuracy(net, test), quantized.accuracy(test));
    println!(
        "{name}: test accuracy f32 {f32_accuracy:.4}, int8 {int8_accuracy:.4} ({:+.2} points); weights {} bytes in f32, {} in int8",
        100.0 * (int8_accuracy - f32_accuracy),
        N::PARAM_LEN * 4,
        quantized.weight_bytes()
    );
}

/// The median over 5 rounds of the mean time of one call of `f` on each
/// of `inputs`.
fn nanoseconds<X, Y>(inputs: &[X], mut f: impl FnMut(&X) -> Y) -> f64 {
    let mut rounds: Vec<f64> = (0..5)
        .map(|_| {
            let started = Instant::now();
            for x in inputs {
                black_box(f(black_box(x)));
            }
            started.elapsed().as_nanos() as f64 / inputs.len() as f64
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[2]
}
