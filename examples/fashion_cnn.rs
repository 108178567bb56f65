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
#[path = "shared/seed.rs"]
mod seed;

use chainrule::metrics;
use chainrule::optim::{Adam, Schedule};
use chainrule::train::{FitConfig, Monitor};
use chainrule::{Network, Trainer};
use std::path::PathBuf;
use std::time::Instant;

chainrule::network! {
    /// One 28x28 grey image in, 10 class scores out.
    pub struct LeNet {
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
        init: he_uniform,
    }
}

const EPOCHS: usize = 15;

fn main() -> Result<(), failure::Failure> {
    let Some(dir) = std::env::args().nth(1).map(PathBuf::from) else {
        eprintln!("usage: cargo run --release --example fashion_cnn -- <directory with the IDX files>");
        eprintln!("       (in this repository's environment: ../shared/data/fashion-mnist)");
        std::process::exit(2);
    };
    let seed = seed::from_args();
    let started = Instant::now();
    let (train, validation, test) = images::standardized_splits(&dir)?;
    println!("{} training, {} validation, {} test images", train.len(), validation.len(), test.len());

    let mut net = LeNet::new(seed);
    let mut trainer = Trainer::new(Adam::new(2e-3), 32, seed);
    let config = FitConfig::epochs(EPOCHS)
        .schedule(Schedule::Cosine { epochs: EPOCHS, min_lr: 1e-4 })
        .monitor(Monitor::Accuracy)
        .restore_best(true);
    let history = trainer.fit(&mut net, &train, Some(&validation), &config)?;
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
