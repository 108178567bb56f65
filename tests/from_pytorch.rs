//! A model trained by PyTorch (DistributedDataParallel, 2 processes),
//! compiled in with `weights:`, classifies the held-out digits exactly as
//! PyTorch did.

#[path = "../examples/shared/pytorch_digits.rs"]
mod pytorch_digits;

use chainrule::{Network, metrics};

#[test]
fn the_compiled_model_scores_what_pytorch_measured() {
    let test = pytorch_digits::test_split().unwrap();
    let ours = metrics::accuracy(&pytorch_digits::PytorchDigits::trained(), &test);
    let theirs = pytorch_digits::pytorch_accuracy().unwrap();
    // PyTorch wrote its accuracy to 6 decimals; the same predictions give the same count.
    assert!((ours - theirs).abs() < 1e-5, "compiled in {ours}, PyTorch {theirs}");
    assert!(ours > 0.85);
    assert_eq!(pytorch_digits::PytorchDigits::LAYOUT[0].name, "layers.0.weight");
}
