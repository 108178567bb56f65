//! # Fine-tuning: convolutions learned on MNIST, a new head for Fashion-MNIST
//!
//! Transfer learning in four steps: train a small CNN on MNIST's 55,000
//! digits; read its weights into a network with the same convolutions and
//! a new, larger head for clothing (`weights::load_partial`, which reports
//! what it loaded, skipped and left); freeze the convolutions
//! (`Trainer::freeze`); train only the head on 1,000 Fashion-MNIST
//! images. For comparison the same head is trained on frozen convolutions
//! that never learned anything, and the whole network from scratch on the
//! same 1,000 images.
//!
//! ```sh
//! cargo run --release --example fine_tuning -- path/to/mnist path/to/fashion-mnist [seed]
//! ```

#[path = "shared/failure.rs"]
mod failure;
#[path = "shared/images.rs"]
mod images;

use chainrule::optim::Adam;
use chainrule::{Trainer, metrics, weights};
use std::path::PathBuf;

chainrule::network! {
    /// The convolutions of benchmark W3 and a digit classifier.
    pub struct Digits {
        input: [1, 28, 28],
        layers: [
            conv2d(8, kernel = 3, padding = 1), relu, max_pool2d(2),
            conv2d(16, kernel = 3, padding = 1), relu, max_pool2d(2),
            flatten, dense(10),
        ],
        loss: softmax_cross_entropy,
        init: he_uniform,
    }
}

chainrule::network! {
    /// The same convolutions (same tensor names), a head of two layers.
    pub struct Clothes {
        input: [1, 28, 28],
        layers: [
            conv2d(8, kernel = 3, padding = 1), relu, max_pool2d(2),
            conv2d(16, kernel = 3, padding = 1), relu, max_pool2d(2),
            flatten, dense(64), relu, dense(10),
        ],
        loss: softmax_cross_entropy,
        init: he_uniform,
    }
}

const FEW: usize = 1_000;
const HEAD_EPOCHS: usize = 20;

/// Trains on the few images (the convolutions frozen, or not) and returns
/// the test accuracy.
fn train_on_few(
    mut net: Clothes,
    frozen: bool,
    few: &images::Images,
    test: &images::Images,
    seed: u64,
) -> Result<f64, chainrule::Error> {
    let mut trainer = Trainer::new(Adam::new(2e-3), 32, seed);
    if frozen {
        trainer.freeze("layers.0")?;
        trainer.freeze("layers.3")?;
    }
    for _ in 0..HEAD_EPOCHS {
        trainer.train_epoch(&mut net, few)?;
    }
    Ok(metrics::accuracy(&net, test))
}

fn main() -> Result<(), failure::Failure> {
    let mut args = std::env::args().skip(1);
    let (Some(mnist), Some(fashion)) = (args.next().map(PathBuf::from), args.next().map(PathBuf::from))
    else {
        eprintln!(
            "usage: cargo run --release --example fine_tuning -- <MNIST folder> <Fashion-MNIST folder> [seed]"
        );
        eprintln!(
            "       (in this repository's environment: ../shared/data/mnist ../shared/data/fashion-mnist)"
        );
        std::process::exit(2);
    };
    let seed = match args.next().map(|s| s.parse::<u64>()) {
        None => 42,
        Some(Ok(seed)) => seed,
        Some(Err(e)) => {
            return Err(chainrule::Error::Dataset(format!("the seed must be a whole number: {e}")).into());
        }
    };

    let (digits, _, digits_test) = images::standardized_splits(&mnist)?;
    let mut pretrained = Digits::new(seed);
    let mut trainer = Trainer::new(Adam::new(2e-3), 32, seed);
    for epoch in 1..=2 {
        let loss = trainer.train_epoch(&mut pretrained, &digits)?;
        println!("MNIST epoch {epoch}: training loss {loss:.4}");
    }
    println!("MNIST test accuracy: {:.4}", metrics::accuracy(&pretrained, &digits_test));
    let saved =
        std::env::temp_dir().join(format!("chainrule-fine-tuning-{}.safetensors", std::process::id()));
    weights::save(&pretrained, &saved)?;

    let (clothes, _, clothes_test) = images::standardized_splits(&fashion)?;
    let few = clothes.subset(&(0..FEW).collect::<Vec<_>>());
    let mut transferred = Clothes::new(seed);
    let report = weights::load_partial(&mut transferred, &saved)?;
    std::fs::remove_file(&saved)?;
    println!("{report}");

    let fine_tuned = train_on_few(transferred, true, &few, &clothes_test, seed)?;
    let random_features = train_on_few(Clothes::new(seed), true, &few, &clothes_test, seed)?;
    let scratch = train_on_few(Clothes::new(seed), false, &few, &clothes_test, seed)?;
    println!("Fashion-MNIST test accuracy after {HEAD_EPOCHS} epochs on {FEW} images:");
    println!("  MNIST convolutions, frozen, new head trained: {fine_tuned:.4}");
    println!("  random convolutions, frozen, head trained:    {random_features:.4}");
    println!("  everything trained from scratch:              {scratch:.4}");
    Ok(())
}
