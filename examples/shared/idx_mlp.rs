//! The MLP of the `mnist` and `fashion_mnist` examples, and its training
//! run: one declaration, one recipe, two datasets in the same IDX format.
//! Pixels are standardized (one mean and deviation for all of them) and
//! weights start He-uniform, which suits ReLU.

use crate::images::Images;
use chainrule::Trainer;
use chainrule::metrics;
use chainrule::optim::Adam;
use chainrule::train::{FitConfig, History, Monitor};
use std::path::{Path, PathBuf};
use std::time::Instant;

chainrule::network! {
    /// 28x28 grey images in, 10 class scores out.
    pub struct Mlp {
        input: [784],
        layers: [dense(128), relu, dense(10)],
        loss: softmax_cross_entropy,
        init: he_uniform,
    }
}

/// Trains on `dir`'s training files (5,000 held out for validation), prints
/// progress and the test accuracy, writes the curves to `<name>-curves.svg`.
/// An optional second argument is the seed (42 by default) of the initial
/// weights and of the order of the batches.
#[allow(dead_code)] // the `int8` example trains with `train` alone
pub fn run(name: &str, usage_dir: &str) -> Result<(), chainrule::Error> {
    let Some(dir) = std::env::args().nth(1).map(PathBuf::from) else {
        eprintln!("usage: cargo run --release --example {name} -- <directory with the IDX files> [seed]");
        eprintln!("       (in this repository's environment: {usage_dir})");
        std::process::exit(2);
    };
    let seed = crate::seed::from_args();
    let started = Instant::now();
    let (net, history, test) = train(name, &dir, seed)?;
    let picture = format!("{name}-curves.svg");
    history.plot(&picture, &format!("{name}: MLP 784-128-10, Adam 1e-3, batch 64"))?;
    history.write_csv(format!("{name}-history.csv"))?;
    let best = history.best_epoch.unwrap_or(history.epochs.len());
    println!("curves written to {picture}; weights of epoch {best} kept; {:.1?} in all", started.elapsed());
    println!("test accuracy: {:.4}", metrics::accuracy(&net, &test));
    Ok(())
}

/// The images of `dir` standardized, 5,000 training images held out for
/// validation; the network trained from `seed` with the weights of its
/// best validation epoch, the history, and the test images.
pub fn train(name: &str, dir: &Path, seed: u64) -> Result<(Mlp, History, Images), chainrule::Error> {
    let (train, validation, test) = crate::images::standardized_splits(dir)?;
    println!("{name}: {} training, {} validation, {} test images", train.len(), validation.len(), test.len());
    let mut net = Mlp::new(seed);
    let mut trainer = Trainer::new(Adam::new(1e-3), 64, seed);
    // Keep the epoch that did best on the held-out validation images.
    let config = FitConfig::epochs(10).monitor(Monitor::Accuracy).restore_best(true);
    let history = trainer.fit(&mut net, &train, Some(&validation), &config)?.clone();
    Ok((net, history, test))
}
