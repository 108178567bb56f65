//! # A deep belief network on MNIST: RBM pre-training, then fine-tuning
//!
//! The 784-256-128 sigmoid stack of the deep-learning lectures, with a
//! 10-way softmax on top. Pre-training trains its two hidden layers one
//! after the other as restricted Boltzmann machines (CD-1, binary units,
//! 5 epochs each) on the training images without their labels; then the
//! whole network is fine-tuned by backpropagation (SGD with momentum,
//! batch 64, 5 epochs). The same network from random initialization gets
//! the same fine-tuning budget. Both test accuracies are printed.
//!
//! ```sh
//! cargo run --release --example dbn_mnist -- path/to/mnist [seed]
//! ```

#[path = "shared/failure.rs"]
mod failure;
#[path = "shared/seed.rs"]
mod seed;
use chainrule::data::{Split, mnist};
use chainrule::optim::Sgd;
use chainrule::rbm::{CdConfig, Visible, pretrain};
use chainrule::{Trainer, metrics};
use std::path::PathBuf;
use std::time::Instant;

chainrule::network! {
    /// 28x28 pixels in [0, 1], two sigmoid layers, 10 class scores.
    pub struct Belief {
        input: [784],
        layers: [dense(256), sigmoid, dense(128), sigmoid, dense(10)],
        loss: softmax_cross_entropy,
    }
}

const FINE_TUNING_EPOCHS: usize = 5;

fn fine_tune(
    net: &mut Belief,
    train: &chainrule::Dataset<[f32; 784], usize>,
) -> Result<(), chainrule::Error> {
    let mut trainer = Trainer::new(Sgd::new(0.1).momentum(0.9), 64, 5);
    for epoch in 1..=FINE_TUNING_EPOCHS {
        let loss = trainer.train_epoch(net, train)?;
        println!("  fine-tuning epoch {epoch}/{FINE_TUNING_EPOCHS}  training loss {loss:.4}");
    }
    Ok(())
}

fn main() -> Result<(), failure::Failure> {
    let Some(dir) = std::env::args().nth(1).map(PathBuf::from) else {
        eprintln!(
            "usage: cargo run --release --example dbn_mnist -- <directory with the MNIST IDX files> [seed]"
        );
        eprintln!("       (in this repository's environment: ../shared/data/mnist)");
        std::process::exit(2);
    };
    let (train, test) = (mnist::<f32>(&dir, Split::Train)?, mnist::<f32>(&dir, Split::Test)?);
    println!(
        "{} training images (labels unused while pre-training), {} test images",
        train.len(),
        test.len()
    );

    let started = Instant::now();
    // The weights' seed (1 unless given); pre-training's sampling follows it.
    let seed = seed::from_args_or(1);
    let mut pretrained = Belief::new(seed);
    let cfg = CdConfig { epochs: 5, learning_rate: 0.05, seed: seed + 1, ..CdConfig::default() };
    let reports = pretrain(&mut pretrained, train.inputs(), 2, Visible::Binary, &cfg)?;
    for (layer, epochs) in reports.iter().enumerate() {
        for (epoch, r) in epochs.iter().enumerate() {
            println!(
                "  RBM {} epoch {}/{}  reconstruction error {:.4}  free energy {:.2}",
                layer + 1,
                epoch + 1,
                epochs.len(),
                r.reconstruction_error,
                r.free_energy
            );
        }
    }
    println!("pre-trained in {:.1?}; fine-tuning", started.elapsed());
    fine_tune(&mut pretrained, &train)?;
    println!("from random initialization, the same fine-tuning");
    let mut random = Belief::new(seed);
    fine_tune(&mut random, &train)?;
    println!("test accuracy, pre-trained: {:.4}", metrics::accuracy(&pretrained, &test));
    println!("test accuracy, random initialization: {:.4}", metrics::accuracy(&random, &test));
    println!("{:.1?} in all", started.elapsed());
    Ok(())
}
