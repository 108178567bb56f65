//! What every lesson shares: where figures go, how big a run is, the
//! digits data, seeded draws, and a dense chain's hidden activations.

use chainrule::{Dataset, ParamSpec, Role, data};
use std::error::Error;
use std::path::PathBuf;

/// A lesson's result, or why it could not run.
pub type Outcome<T> = Result<T, Box<dyn Error>>;

/// Where a lesson writes its figure and how large it runs: `quick` is the
/// size the tests check the lessons' claims at (seconds in a debug build).
pub struct Ctx {
    pub out: PathBuf,
    pub quick: bool,
}

impl Ctx {
    /// The full-size setting or the quick one.
    pub fn size<T>(&self, full: T, quick: T) -> T {
        if self.quick { quick } else { full }
    }

    /// The path of a figure, its folder created.
    pub fn figure(&self, name: &str) -> Outcome<PathBuf> {
        std::fs::create_dir_all(&self.out)?;
        Ok(self.out.join(name))
    }
}

/// The UCI 8x8 digits shipped with the repository, pixels scaled to
/// [0, 1]: 60% training, 20% validation, 20% test, split with a fixed seed.
pub struct Digits {
    pub train: Dataset<[f32; 64], usize>,
    pub validation: Dataset<[f32; 64], usize>,
    pub test: Dataset<[f32; 64], usize>,
}

pub fn digits() -> Outcome<Digits> {
    let mut all = data::read_csv("data/digits/digits.csv.gz", 0)?.classification::<f32, 64>()?;
    all.map_inputs(|pixels| pixels.iter_mut().for_each(|p| *p /= 16.0));
    let (train, rest) = all.split(0.6, 1)?;
    let (validation, test) = rest.split(0.5, 2)?;
    Ok(Digits { train, validation, test })
}

/// The seeded draws (splitmix64) the other examples use, with normal
/// draws for the lessons that draw weights themselves.
#[path = "../shared/random.rs"]
mod random;
pub use random::Random;

/// The outputs of every dense layer of a chain `dense, act, dense, act, ...,
/// dense` for one input, each after `act` (the last one's before it): the
/// forward pass written out by hand from the parameters and their layout,
/// to look inside a network the compiled code runs as one function.
pub fn dense_activations(
    params: &[f32],
    layout: &[ParamSpec],
    input: &[f32],
    act: impl Fn(f32) -> f32,
) -> Vec<Vec<f32>> {
    let weights = layout.iter().filter(|p| p.role == Role::Weight);
    let mut layers: Vec<Vec<f32>> = Vec::new();
    let count = weights.clone().count();
    for (k, w) in weights.enumerate() {
        let bias = layout.iter().find(|p| p.role == Role::Bias && p.offset == w.offset + w.len());
        let (outs, ins) = (w.shape[0], w.shape[1]);
        let x = layers.last().map_or(input, Vec::as_slice);
        let y = (0..outs)
            .map(|o| {
                let row = &params[w.offset + o * ins..][..ins];
                let z = row.iter().zip(x).map(|(a, b)| a * b).sum::<f32>()
                    + bias.map_or(0.0, |b| params[b.offset + o]);
                if k + 1 < count { act(z) } else { z }
            })
            .collect();
        layers.push(y);
    }
    layers
}

/// Mean and population standard deviation.
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    (mean, (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt())
}

/// The Euclidean norm of the gradient of each named tensor.
pub fn tensor_norms<S: Into<f64> + Copy>(grad: &[S], layout: &[ParamSpec], role: Role) -> Vec<(String, f64)> {
    layout
        .iter()
        .filter(|p| p.role == role)
        .map(|p| {
            let squares: f64 = grad[p.offset..][..p.len()].iter().map(|&g| g.into().powi(2)).sum();
            (p.name.to_string(), squares.sqrt())
        })
        .collect()
}
