//! The digits classifier PyTorch trained with DistributedDataParallel
//! (`examples/pytorch/train_digits_ddp.py`), compiled in, and the split it
//! was tested on.

use chainrule::{Dataset, data};

chainrule::network! {
    /// `nn.Sequential(nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 10))` as
    /// `layers`, trained by PyTorch; its weights are static data.
    pub struct PytorchDigits {
        input: [64],
        layers: [dense(64), tanh, dense(10)],
        loss: softmax_cross_entropy,
        weights: "examples/models/digits_pytorch.safetensors",
    }
}

pub const FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/models/digits_pytorch.safetensors");

/// The rows the script held out: the last 20% of the shipped CSV, in order.
pub fn test_split() -> Result<Dataset<[f32; 64], usize>, chainrule::Error> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits/digits.csv.gz");
    let mut all = data::read_csv(path, 0)?.classification::<f32, 64>()?;
    all.map_inputs(|pixels| pixels.iter_mut().for_each(|p| *p /= 16.0));
    let cut = (0.8 * all.len() as f64).round() as usize;
    Ok(all.subset(&(cut..all.len()).collect::<Vec<_>>()))
}

/// The test accuracy PyTorch measured, from the file's metadata.
pub fn pytorch_accuracy() -> Result<f64, Box<dyn std::error::Error>> {
    let bytes = std::fs::read(FILE)?;
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes)?;
    let value = meta
        .metadata()
        .as_ref()
        .and_then(|m| m.get("test_accuracy"))
        .ok_or("no test_accuracy in the file")?;
    Ok(value.parse()?)
}
