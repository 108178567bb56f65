//! The LeNet-style network of the `fashion_cnn` example and benchmark
//! workload W3, and its training recipe (see `fashion_cnn.rs`), shared with
//! the `int8` example.

use crate::images::Images;
use chainrule::Trainer;
use chainrule::optim::{Adam, Schedule};
use chainrule::train::{FitConfig, History, Monitor};
use std::path::Path;

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

/// Epochs of the recipe.
pub const EPOCHS: usize = 15;

/// The images of `dir` standardized, 5,000 training images held out for
/// validation; the network trained from `seed` with the weights of its
/// best validation epoch, its history, and the training and test images.
pub fn train(dir: &Path, seed: u64) -> Result<(LeNet, History, Images, Images), chainrule::Error> {
    let (train, validation, test) = crate::images::standardized_splits(dir)?;
    println!("{} training, {} validation, {} test images", train.len(), validation.len(), test.len());
    let mut net = LeNet::new(seed);
    let mut trainer = Trainer::new(Adam::new(2e-3), 32, seed);
    let config = FitConfig::epochs(EPOCHS)
        .schedule(Schedule::Cosine { epochs: EPOCHS, min_lr: 1e-4 })
        .monitor(Monitor::Accuracy)
        .restore_best(true);
    let history = trainer.fit(&mut net, &train, Some(&validation), &config)?.clone();
    Ok((net, history, train, test))
}
