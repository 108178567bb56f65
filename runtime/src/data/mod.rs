//! Datasets in memory and the loaders that fill them.
//!
//! A [`Dataset`] pairs fixed-size input arrays with targets. Loaders check
//! everything they read (column counts, numbers, finiteness, labels) and
//! report the file and line of the first problem instead of panicking.

mod idx;
mod normalize;
mod text;

pub use idx::{Idx, Split, mnist, parse_idx, read_idx, read_idx_dataset};
pub use normalize::Standardizer;
pub use text::{CharText, next_token_windows};

use crate::{Error, Result, Scalar};
use rand::SeedableRng;
use rand::rngs::ChaCha8Rng;
use rand::seq::SliceRandom;
use std::io::Read;
use std::path::Path;

/// Samples and their targets, index by index.
///
/// An input is the network's declared input flattened row-major, the last
/// axis fastest, as PyTorch lays out a tensor: an image `[channels, height,
/// width]` is channel-major (`x[(c * height + row) * width + col]`, all of
/// channel 0 first, not interleaved RGB), a sequence `[time, features]` is
/// time-major (`x[t * features + f]`, step after step), a signal
/// `[channels, length]` channel-major. A network with several inputs takes
/// their flattened parts side by side, in declaration order.
///
/// A dataset may also weight its samples ([`Dataset::with_weights`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset<X, Y> {
    inputs: Vec<X>,
    targets: Vec<Y>,
    weights: Option<Vec<f32>>,
}

impl<X: Copy, Y: Copy> Dataset<X, Y> {
    /// Pairs inputs with targets; fails if their counts differ.
    ///
    /// # Example
    /// ```
    /// let d = chainrule::Dataset::new(vec![[0.0f32; 2]; 3], vec![0usize, 1, 0]).unwrap();
    /// assert_eq!(d.len(), 3);
    /// assert!(chainrule::Dataset::new(vec![[0.0f32; 2]; 3], vec![0usize]).is_err());
    /// ```
    pub fn new(inputs: Vec<X>, targets: Vec<Y>) -> Result<Self> {
        if inputs.len() != targets.len() {
            return Err(Error::BatchMismatch { inputs: inputs.len(), other: targets.len(), what: "targets" });
        }
        Ok(Self { inputs, targets, weights: None })
    }

    /// Weights each sample in the training loss: the trainer then takes the
    /// weighted mean `sum_i w_i l_i / sum_i w_i` of every batch (an integer
    /// weight `k` counts a sample as `k` copies of it), and an evaluation
    /// reports the weighted mean loss; accuracy and the other metrics
    /// count every sample once. The network must be declared with
    /// `sample_weights: true`. Fails unless there is one weight per
    /// sample, each finite and at least 0, not all 0. Splits and subsets
    /// keep each sample's weight.
    ///
    /// # Example
    /// ```
    /// let d = chainrule::Dataset::new(vec![[0.0f32]; 3], vec![0usize, 1, 1]).unwrap();
    /// let d = d.with_weights(vec![2.0, 1.0, 1.0]).unwrap();
    /// assert_eq!(d.weights(), Some(&[2.0f32, 1.0, 1.0][..]));
    /// let d = chainrule::Dataset::new(vec![[0.0f32]; 2], vec![0usize, 1]).unwrap();
    /// assert!(d.with_weights(vec![1.0, -1.0]).is_err());
    /// ```
    pub fn with_weights(mut self, weights: Vec<f32>) -> Result<Self> {
        if weights.len() != self.len() {
            return Err(Error::BatchMismatch {
                inputs: self.len(),
                other: weights.len(),
                what: "sample weights",
            });
        }
        check_weights(weights.iter().map(|&w| f64::from(w)))?;
        self.weights = Some(weights);
        Ok(self)
    }

    /// The sample weights, if the dataset has them.
    pub fn weights(&self) -> Option<&[f32]> {
        self.weights.as_deref()
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.inputs.len()
    }

    /// True when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.inputs.is_empty()
    }

    /// All inputs.
    pub fn inputs(&self) -> &[X] {
        &self.inputs
    }

    /// All targets.
    pub fn targets(&self) -> &[Y] {
        &self.targets
    }

    /// Shuffles with `seed`, then puts the first `round(fraction * len)`
    /// samples in the first part and the rest in the second. Use it for
    /// train / validation / test splits.
    ///
    /// # Example
    /// ```
    /// let d = chainrule::Dataset::new((0..10).map(|i| [i as f32]).collect(), vec![0usize; 10]).unwrap();
    /// let (train, test) = d.split(0.8, 1).unwrap();
    /// assert_eq!((train.len(), test.len()), (8, 2));
    /// ```
    pub fn split(&self, fraction: f64, seed: u64) -> Result<(Self, Self)> {
        if !(0.0..=1.0).contains(&fraction) {
            return Err(Error::Dataset(format!("split fraction {fraction} is not within [0, 1]")));
        }
        let mut order: Vec<usize> = (0..self.len()).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        let cut = (fraction * self.len() as f64).round() as usize;
        Ok((self.subset(&order[..cut]), self.subset(&order[cut..])))
    }

    /// Shuffles with `seed` once and cuts three parts: the first
    /// `round(train * len)` samples, the next `round(validation * len)`,
    /// and the rest (the test set). The fractions must be within [0, 1]
    /// and sum to at most 1.
    ///
    /// # Example
    /// ```
    /// let d = chainrule::Dataset::new((0..10).map(|i| [i as f32]).collect(), vec![0usize; 10]).unwrap();
    /// let (train, validation, test) = d.split3(0.6, 0.2, 1).unwrap();
    /// assert_eq!((train.len(), validation.len(), test.len()), (6, 2, 2));
    /// assert!(d.split3(0.8, 0.3, 1).is_err());
    /// ```
    pub fn split3(&self, train: f64, validation: f64, seed: u64) -> Result<(Self, Self, Self)> {
        let valid = |f: f64| (0.0..=1.0).contains(&f);
        if !valid(train) || !valid(validation) || train + validation > 1.0 + 1e-12 {
            return Err(Error::Dataset(format!(
                "split fractions {train} and {validation} must be within [0, 1] and sum to at most 1"
            )));
        }
        let mut order: Vec<usize> = (0..self.len()).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        let first = (train * self.len() as f64).round() as usize;
        let second = ((train + validation) * self.len() as f64).round().min(self.len() as f64) as usize;
        Ok((self.subset(&order[..first]), self.subset(&order[first..second]), self.subset(&order[second..])))
    }

    /// The samples at `indices`, in that order.
    ///
    /// # Panics
    /// If an index is out of range.
    pub fn subset(&self, indices: &[usize]) -> Self {
        Self {
            inputs: indices.iter().map(|&i| self.inputs[i]).collect(),
            targets: indices.iter().map(|&i| self.targets[i]).collect(),
            weights: self.weights.as_ref().map(|w| indices.iter().map(|&i| w[i]).collect()),
        }
    }

    /// Applies `f` to every input, for normalization.
    pub fn map_inputs(&mut self, mut f: impl FnMut(&mut X)) {
        self.inputs.iter_mut().for_each(&mut f);
    }
}

/// Sample weights are finite, at least 0, and not all 0 (their weighted
/// mean would be 0/0).
pub(crate) fn check_weights(weights: impl Iterator<Item = f64>) -> Result<()> {
    let mut any = false;
    for (sample, weight) in weights.enumerate() {
        if !(weight.is_finite() && weight >= 0.0) {
            return Err(Error::SampleWeight { sample, weight });
        }
        any |= weight > 0.0;
    }
    if any { Ok(()) } else { Err(Error::ZeroSampleWeights) }
}

/// A numeric table read from CSV: `rows x columns` values, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Values per row.
    pub columns: usize,
    /// All values, row after row.
    pub values: Vec<f64>,
}

impl Table {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.values.len().checked_div(self.columns).unwrap_or(0)
    }

    /// Splits each row into `N` features (all but the last column) and a
    /// class label (the last column, a non-negative integer).
    ///
    /// # Example
    /// ```
    /// let t = chainrule::data::Table { columns: 3, values: vec![0.5, 1.0, 2.0, 0.0, 0.0, 0.0] };
    /// let d = t.classification::<f32, 2>().unwrap();
    /// assert_eq!(d.targets(), &[2, 0]);
    /// assert!(t.classification::<f32, 3>().is_err());
    /// ```
    pub fn classification<S: Scalar, const N: usize>(&self) -> Result<Dataset<[S; N], usize>> {
        if self.columns != N + 1 {
            return Err(Error::Dataset(format!(
                "the table has {} columns but {N} features and one label make {}",
                self.columns,
                N + 1
            )));
        }
        let mut inputs = Vec::with_capacity(self.rows());
        let mut targets = Vec::with_capacity(self.rows());
        for (i, row) in self.values.chunks_exact(self.columns).enumerate() {
            let label = row[N];
            if label < 0.0 || label.fract() != 0.0 || label > u32::MAX as f64 {
                return Err(Error::Dataset(format!("row {}: label {label} is not a class index", i + 1)));
            }
            inputs.push(core::array::from_fn(|j| S::of_f64(row[j])));
            targets.push(label as usize);
        }
        Dataset::new(inputs, targets)
    }
}

/// Reads a file whole, decompressing it when it starts with the gzip magic.
pub fn read_maybe_gzip(path: &Path) -> Result<Vec<u8>> {
    let io = |source| Error::Io { path: path.to_owned(), source };
    let raw = std::fs::read(path).map_err(io)?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        // A few kilobytes of gzip can claim gigabytes: stop at a bound
        // rather than let a damaged or hostile file exhaust memory.
        let mut out = Vec::new();
        let mut decoder = flate2::read::GzDecoder::new(&raw[..]).take(MAX_DECOMPRESSED + 1);
        decoder.read_to_end(&mut out).map_err(io)?;
        if out.len() as u64 > MAX_DECOMPRESSED {
            return Err(Error::Malformed {
                path: path.to_owned(),
                line: 0,
                message: format!("decompresses to more than {MAX_DECOMPRESSED} bytes"),
            });
        }
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// The most a gzip file may decompress to: 1 GiB, twenty times the largest
/// dataset this crate ships readers for (MNIST's training images, 47 MB).
pub const MAX_DECOMPRESSED: u64 = 1 << 30;

/// Reads a CSV of numbers (plain or gzip), skipping `header_lines` first
/// lines. Every row must have the same number of columns and every value
/// must be a finite number.
pub fn read_csv(path: impl AsRef<Path>, header_lines: usize) -> Result<Table> {
    let path = path.as_ref();
    let bytes = read_maybe_gzip(path)?;
    let malformed = |line: usize, message: String| Error::Malformed { path: path.to_owned(), line, message };
    let text = std::str::from_utf8(&bytes).map_err(|e| malformed(0, format!("not UTF-8 text ({e})")))?;
    let mut columns = 0;
    let mut values = Vec::new();
    for (index, line) in text.lines().enumerate().skip(header_lines) {
        let line_no = index + 1;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let before = values.len();
        for field in line.split(',') {
            let field = field.trim();
            let v: f64 =
                field.parse().map_err(|_| malformed(line_no, format!("`{field}` is not a number")))?;
            if !v.is_finite() {
                return Err(malformed(line_no, format!("`{field}` is not a finite number")));
            }
            values.push(v);
        }
        let width = values.len() - before;
        if columns == 0 {
            columns = width;
        } else if width != columns {
            return Err(malformed(line_no, format!("{width} columns, expected {columns}")));
        }
    }
    if columns == 0 {
        return Err(malformed(0, "no data rows".into()));
    }
    Ok(Table { columns, values })
}
