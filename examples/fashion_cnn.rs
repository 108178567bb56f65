//! # Fashion-MNIST with a small convolutional network
//!
//! The LeNet-style network of benchmark workload W3: two 3x3 convolutions
//! (8 then 16 channels, zero padding 1 so each keeps its input's size),
//! each followed by ReLU and 2x2 max pooling (28 -> 14 -> 7), then one
//! dense layer from the 16x7x7 features to the 10 classes. The shapes are
//! checked by the macro: change a padding or a pool and the `dense` layer's
//! input size follows, or the declaration fails to compile at the layer
//! that no longer fits.
//!
//! Recipe: pixels standardized, Adam from 2e-3 down a cosine to 1e-4 over
//! 15 epochs, batch 32, 5,000 training images held out for validation and
//! the best validation epoch kept. Writes `fashion_cnn-curves.svg` and
//! prints the test accuracy.
//!
//! Training runs on every core (`CHAINRULE_THREADS=1` for one). The run is
//! the same, bit for bit, whatever the thread count: the example prints a
//! fingerprint of the trained parameters to show it.
//!
//! ```sh
//! cargo run --release --example fashion_cnn -- ../shared/data/fashion-mnist [seed]
//! ```
//!
//! The seed (42 by default) draws the initial weights and the order of
//! the batches.

#[path = "shared/failure.rs"]
mod failure;
#[path = "shared/images.rs"]
mod images;
#[path = "shared/lenet.rs"]
mod lenet;
#[path = "shared/seed.rs"]
mod seed;

use chainrule::Network;
use chainrule::metrics;
use std::path::PathBuf;
use std::time::Instant;

fn main() -> Result<(), failure::Failure> {
    let Some(dir) = std::env::args().nth(1).map(PathBuf::from) else {
        eprintln!("usage: cargo run --release --example fashion_cnn -- <directory with the IDX files>");
        eprintln!("       (in this repository's environment: ../shared/data/fashion-mnist)");
        std::process::exit(2);
    };
    let seed = seed::from_args();
    let started = Instant::now();
    let (net, history, _, test) = lenet::train(&dir, seed)?;
    history.plot("fashion_cnn-curves.svg", "fashion_cnn: conv 8, conv 16, dense 10; Adam, batch 32")?;
    history.write_csv("fashion_cnn-history.csv")?;
    let best = history.best_epoch.unwrap_or(history.epochs.len());
    println!(
        "curves written to fashion_cnn-curves.svg; weights of epoch {best} kept; {:.1?} in all",
        started.elapsed()
    );
    println!("test accuracy: {:.4}", metrics::accuracy(&net, &test));
    println!(
        "trained on {} threads; parameters fingerprint {:016x}",
        chainrule::threads::current(),
        fingerprint(net.params())
    );
    Ok(())
}

/// FNV-1a over the parameters' bits: equal runs print equal fingerprints.
fn fingerprint(params: &[f32]) -> u64 {
    params
        .iter()
        .flat_map(|p| p.to_bits().to_le_bytes())
        .fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}
