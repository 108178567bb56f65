//! # Shipping a trained model: weights compiled into the binary
//!
//! `examples/models/digits.safetensors` holds the weights the `digits`
//! example trained and saved. Here the same declaration names that file
//! with `weights:`; the macro reads it at compile time, checks every tensor
//! against the network (a mismatch is a compile error naming the tensor),
//! and bakes the values into static data. `Digits::trained()` reads them
//! in place: no file to ship, nothing parsed or copied at run time, and
//! `predict` allocates nothing.
//!
//! The example classifies the first digits of the test split that `digits`
//! held out and prints each with its prediction, then does the same with
//! the int8 form of the network (`examples/models/digits.int8.safetensors`,
//! written by the `int8` example; `quantize: int8`) and prints the bytes
//! each form's weights take in the binary: what a microcontroller's flash
//! holds (`embedded: true` compiles either without `std`, as the
//! `chainrule-embedded` crate does).
//!
//! ```sh
//! cargo run --release --example embed
//! ```

#[path = "shared/digits_splits.rs"]
mod digits_splits;
#[path = "shared/failure.rs"]
mod failure;
#[path = "shared/trained_digits.rs"]
mod trained_digits;

use chainrule::{Network, metrics};
use trained_digits::{Digits, DigitsInt8};

/// A digit as 8 rows of shades.
fn picture(pixels: &[f32; 64]) -> String {
    let shades = [' ', '.', ':', 'o', '@'];
    pixels
        .chunks(8)
        .map(|row| row.iter().map(|&p| shades[((p * 4.0).round() as usize).min(4)]).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

fn main() -> Result<(), failure::Failure> {
    let net = Digits::trained();
    // The test split of the `digits` example.
    let (_, _, test) = digits_splits::splits(digits_splits::SHIPPED)?;
    let mut correct = 0;
    for (pixels, &label) in test.inputs().iter().zip(test.targets()).take(5) {
        let guess = metrics::argmax(&net.predict(pixels));
        correct += usize::from(guess == label);
        println!("{}\nlabel {label}, predicted {guess}\n", picture(pixels));
    }
    println!(
        "{correct} of 5 right; test accuracy of the compiled-in model: {:.4}",
        metrics::accuracy(&net, &test)
    );
    let int8 = DigitsInt8::trained();
    let right =
        test.inputs().iter().zip(test.targets()).filter(|(x, t)| metrics::argmax(&int8.predict(x)) == **t);
    println!("test accuracy of its int8 form: {:.4}", right.count() as f64 / test.len() as f64);
    println!(
        "flash for the weights: {} bytes in f32, {} bytes in int8",
        std::mem::size_of_val(net.params()),
        DigitsInt8::WEIGHT_BYTES
    );
    Ok(())
}
