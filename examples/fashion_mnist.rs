//! # Fashion-MNIST: clothing images with a two-layer perceptron
//!
//! The same network and recipe as the `mnist` example (784-128-10 ReLU,
//! Adam lr 1e-3, batch 64, 10 epochs) on Zalando's Fashion-MNIST, a harder
//! drop-in replacement for MNIST: T-shirts, trousers, pullovers, dresses,
//! coats, sandals, shirts, sneakers, bags and ankle boots. Writes
//! `fashion_mnist-curves.svg` and prints the test accuracy.
//!
//! ```sh
//! cargo run --release --example fashion_mnist -- path/to/fashion-mnist [seed]
//! ```

#[path = "shared/failure.rs"]
mod failure;
#[path = "shared/idx_mlp.rs"]
mod idx_mlp;
#[path = "shared/images.rs"]
mod images;
#[path = "shared/seed.rs"]
mod seed;

fn main() -> Result<(), failure::Failure> {
    Ok(idx_mlp::run("fashion_mnist", "../shared/data/fashion-mnist")?)
}
