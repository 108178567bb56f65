//! The MNIST-format splits the image examples train on: 55,000 training
//! and 5,000 validation images (a seeded split of the training files) and
//! the 10,000 test images, standardized with one mean and deviation over
//! all pixels of the training split, then the same shift and scale for the
//! other two.

use chainrule::Dataset;
use chainrule::data::{Split, Standardizer, mnist};
use std::path::Path;

/// One image and its class.
pub type Images = Dataset<[f32; 784], usize>;

/// `(train, validation, test)` from the IDX files in `dir`.
pub fn standardized_splits(dir: &Path) -> Result<(Images, Images, Images), chainrule::Error> {
    let (mut train, mut validation) = mnist::<f32>(dir, Split::Train)?.split(55_000.0 / 60_000.0, 1)?;
    let mut test = mnist::<f32>(dir, Split::Test)?;
    let standardize = Standardizer::fit_global(&train);
    for split in [&mut train, &mut validation, &mut test] {
        standardize.apply(split);
    }
    Ok((train, validation, test))
}
