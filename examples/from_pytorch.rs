//! # A model trained by PyTorch, compiled in
//!
//! When a model outgrows one machine, PyTorch trains it (here with
//! DistributedDataParallel, `examples/pytorch/train_digits_ddp.py`), saves
//! its `state_dict` as safetensors, and chainrule compiles the file into
//! the program that runs it: no file to ship, every tensor's name and
//! shape checked at compile time. This example classifies the digits the
//! script held out and compares with the accuracy PyTorch measured.
//!
//! ```sh
//! cargo run --release --example from_pytorch
//! ```

#[path = "shared/failure.rs"]
mod failure;
#[path = "shared/pytorch_digits.rs"]
mod pytorch_digits;

use chainrule::metrics;
use pytorch_digits::PytorchDigits;

fn main() -> Result<(), failure::Failure> {
    let test = pytorch_digits::test_split()?;
    let net = PytorchDigits::trained();
    let ours = metrics::accuracy(&net, &test);
    let theirs = pytorch_digits::pytorch_accuracy().map_err(|e| chainrule::Error::Dataset(e.to_string()))?;
    println!("{} held-out digits: test accuracy {ours:.4} compiled in, {theirs:.4} in PyTorch", test.len());
    Ok(())
}
