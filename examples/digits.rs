//! # Digits: a classifier trained on real handwriting
//!
//! The UCI 8x8 digits (shipped in `data/digits`) are 1,797 scanned digits,
//! each 64 pixel intensities from 0 to 16. This example:
//!
//! 1. reads the gzipped CSV and scales the pixels to [0, 1];
//! 2. splits it, seeded, into training (72%), validation (8%) and test (20%);
//! 3. declares a 64-64-10 network with tanh and softmax cross-entropy, whose
//!    shapes and gradients the `network!` macro works out at compile time;
//! 4. trains it with mini-batch SGD, printing the loss and the validation
//!    accuracy after every epoch;
//! 5. reports the accuracy on the test split, which training never saw;
//! 6. saves the trained weights to `digits.safetensors` (PyTorch
//!    `state_dict` names; the `embed` example compiles a copy in).
//!
//! Run with `cargo run --release --example digits [path/to/digits.csv.gz [seed]]`
//! (the seed of the initial weights, 7 unless given).

#[path = "shared/digits_splits.rs"]
mod digits_splits;
#[path = "shared/failure.rs"]
mod failure;
#[path = "shared/seed.rs"]
mod seed;
use chainrule::optim::Sgd;
use chainrule::{Trainer, metrics, weights};
use std::time::Instant;

chainrule::network! {
    /// Handwritten digits: 8x8 pixels in, 10 class scores out.
    pub struct Digits {
        input: [64],
        layers: [dense(64), tanh, dense(10)],
        loss: softmax_cross_entropy,
        regularizer: l2(1e-4),
    }
}

const EPOCHS: usize = 40;

fn main() -> Result<(), failure::Failure> {
    let path = std::env::args().nth(1).unwrap_or_else(|| digits_splits::SHIPPED.to_string());
    let (train, validation, test) = digits_splits::splits(&path)?;
    println!(
        "{} digits: {} for training, {} for validation, {} for testing",
        train.len() + validation.len() + test.len(),
        train.len(),
        validation.len(),
        test.len()
    );

    let mut net = Digits::new(seed::from_args_or(7));
    let mut trainer = Trainer::new(Sgd::new(0.1), 32, 3);
    let start = Instant::now();
    for epoch in 1..=EPOCHS {
        let loss = trainer.train_epoch(&mut net, &train)?;
        let accuracy = metrics::accuracy(&net, &validation);
        println!("epoch {epoch:>2}/{EPOCHS}  training loss {loss:.4}  validation accuracy {accuracy:.4}");
    }
    println!("trained in {:.2?}", start.elapsed());
    println!("test accuracy: {:.4}", metrics::accuracy(&net, &test));
    weights::save(&net, "digits.safetensors")?;
    println!("weights saved to digits.safetensors");
    Ok(())
}
