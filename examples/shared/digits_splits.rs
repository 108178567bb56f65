//! The 8x8 digits as the `digits` example reads and splits them, so that
//! the examples using its trained weights test on the same held-out digits.

use chainrule::{Dataset, data};

/// The digits shipped in `data/digits`.
pub const SHIPPED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits/digits.csv.gz");

/// Intensities scaled to [0, 1]; 20% held out for testing (seed 1), then
/// 10% of the rest for validation (seed 2): `(train, validation, test)`.
#[allow(clippy::type_complexity)]
pub fn splits(
    path: &str,
) -> Result<(Dataset<[f32; 64], usize>, Dataset<[f32; 64], usize>, Dataset<[f32; 64], usize>), chainrule::Error>
{
    let mut all = data::read_csv(path, 0)?.classification::<f32, 64>()?;
    all.map_inputs(|pixels| pixels.iter_mut().for_each(|p| *p /= 16.0));
    let (rest, test) = all.split(0.8, 1)?;
    let (train, validation) = rest.split(0.9, 2)?;
    Ok((train, validation, test))
}
