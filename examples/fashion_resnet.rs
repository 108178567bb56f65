//! # Fashion-MNIST with a small residual network
//!
//! A ResNet-style network in the graph form: a 3x3 stem of 16 channels,
//! then two residual blocks that each halve the image and double the
//! channels (28 -> 14 -> 7; 16 -> 32 -> 64). A block is two 3x3
//! convolutions with batch norm, the first of stride 2; since it changes
//! the shape, its shortcut is a projection, a 1x1 convolution of stride 2
//! with batch norm, added before the last ReLU. Global average pooling and
//! one dense layer give the 10 class scores.
//!
//! Recipe: pixels standardized, Adam from 2e-3 down a cosine to 1e-4 over
//! 15 epochs, batch 64, 5,000 training images held out for validation and
//! the best validation epoch kept. Each epoch sees the training images
//! augmented afresh: each mirrored left to right with probability 1/2 (a
//! garment's mirror image is the same garment). Writes
//! `fashion_resnet-curves.svg` and prints the test accuracy.
//!
//! ```sh
//! cargo run --release --example fashion_resnet -- ../shared/data/fashion-mnist [seed]
//! ```
//!
//! The seed (42 by default) draws the initial weights and the order of
//! the batches.

#[path = "shared/failure.rs"]
mod failure;
#[path = "shared/images.rs"]
mod images;
#[path = "shared/random.rs"]
mod random;
#[path = "shared/seed.rs"]
mod seed;

use chainrule::Trainer;
use chainrule::metrics;
use chainrule::optim::{Adam, Schedule};
use chainrule::train::{FitConfig, Monitor, Progress};
use random::Random;
use std::path::PathBuf;
use std::time::Instant;

chainrule::network! {
    /// One 28x28 grey image in, 10 class scores out.
    pub struct ResNet {
        input: [1, 28, 28],
        graph: {
            let stem = relu(batch_norm(conv2d(input, 16, kernel = 3, padding = 1)));
            // 16 x 28 x 28 -> 32 x 14 x 14, with a projection shortcut.
            let a = layers(stem, [
                conv2d(32, kernel = 3, stride = 2, padding = 1), batch_norm, relu,
                conv2d(32, kernel = 3, padding = 1), batch_norm,
            ]);
            let a_skip = batch_norm(conv2d(stem, 32, kernel = 1, stride = 2));
            let h = relu(a + a_skip);
            // 32 x 14 x 14 -> 64 x 7 x 7, likewise.
            let b = layers(h, [
                conv2d(64, kernel = 3, stride = 2, padding = 1), batch_norm, relu,
                conv2d(64, kernel = 3, padding = 1), batch_norm,
            ]);
            let b_skip = batch_norm(conv2d(h, 64, kernel = 1, stride = 2));
            dense(global_avg_pool(relu(b + b_skip)), 10)
        },
        loss: softmax_cross_entropy,
        init: he_uniform,
    }
}

const EPOCHS: usize = 15;
const SIDE: usize = 28;

fn main() -> Result<(), failure::Failure> {
    let Some(dir) = std::env::args().nth(1).map(PathBuf::from) else {
        eprintln!("usage: cargo run --release --example fashion_resnet -- <directory with the IDX files>");
        eprintln!("       (in this repository's environment: ../shared/data/fashion-mnist)");
        std::process::exit(2);
    };
    let seed = seed::from_args();
    let started = Instant::now();
    let (train, validation, test) = images::standardized_splits(&dir)?;
    println!("{} training, {} validation, {} test images", train.len(), validation.len(), test.len());

    let mut net = ResNet::new(seed);
    let mut trainer = Trainer::new(Adam::new(2e-3), 64, seed);
    // One epoch a call, each on a fresh augmentation; the trainer carries
    // the schedule, the history and the best weights across calls.
    let mut random = Random(seed);
    for epoch in 1..=EPOCHS {
        let mut augmented = train.clone();
        augmented.map_inputs(|image| augment(image, &mut random));
        let config = FitConfig::epochs(epoch)
            .schedule(Schedule::Cosine { epochs: EPOCHS, min_lr: 1e-4 })
            .monitor(Monitor::Accuracy)
            .restore_best(epoch == EPOCHS)
            .progress(Progress::Silent);
        let history = trainer.fit(&mut net, &augmented, Some(&validation), &config)?;
        if let Some(e) = history.epochs.last() {
            println!(
                "epoch {epoch:>2}/{EPOCHS}  lr {:.2e}  train loss {:.4}  validation accuracy {:.4}  ({:.1} s)",
                e.learning_rate,
                e.train_loss,
                e.validation_accuracy.unwrap_or(f64::NAN),
                e.seconds
            );
        }
    }
    let history = trainer.history();
    history.plot(
        "fashion_resnet-curves.svg",
        "fashion_resnet: stem 16, blocks 32 and 64 with projections; Adam, batch 64",
    )?;
    let best = history.best_epoch.unwrap_or(history.epochs.len());
    println!(
        "curves written to fashion_resnet-curves.svg; weights of epoch {best} kept; {:.1?} in all",
        started.elapsed()
    );
    println!("test accuracy: {:.4}", metrics::accuracy(&net, &test));
    Ok(())
}

/// Mirrors `image` left to right with probability 1/2.
fn augment(image: &mut [f32; SIDE * SIDE], random: &mut Random) {
    if random.next().is_multiple_of(2) {
        image.chunks_exact_mut(SIDE).for_each(<[f32]>::reverse);
    }
}
