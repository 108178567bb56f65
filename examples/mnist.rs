//! # MNIST: handwritten digits with a two-layer perceptron
//!
//! Trains the 784-128-10 ReLU network of `shared/idx_mlp.rs` with Adam
//! (lr 1e-3, batch 64) for 10 epochs on MNIST's 60,000 training images
//! (5,000 held out to watch for overfitting), shows progress, writes the
//! loss and accuracy curves to `mnist-curves.svg`, and prints the accuracy
//! on the 10,000 test images.
//!
//! ```sh
//! cargo run --release --example mnist -- path/to/mnist [seed]
//! ```
//!
//! The directory holds `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
//! `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte`, each plain or gzipped.

#[path = "shared/failure.rs"]
mod failure;
#[path = "shared/idx_mlp.rs"]
mod idx_mlp;
#[path = "shared/images.rs"]
mod images;
#[path = "shared/seed.rs"]
mod seed;

fn main() -> Result<(), failure::Failure> {
    Ok(idx_mlp::run("mnist", "../shared/data/mnist")?)
}
