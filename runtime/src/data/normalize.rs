//! Standardization: inputs shifted and scaled to mean 0 and standard
//! deviation 1, with statistics taken from the training split only and then
//! applied unchanged to validation and test data. Per feature for tabular
//! data; with one mean and deviation over all features for images, whose
//! border pixels are almost always 0: scaling those by their own tiny
//! deviation would turn a stray ink dot into a huge input.

use super::Dataset;
use crate::Scalar;

/// Per-feature mean and standard deviation of a training set.
///
/// # Example
/// ```
/// use chainrule::{Dataset, data::Standardizer};
/// let mut train = Dataset::new(vec![[1.0f32, 10.0], [3.0, 10.0]], vec![0usize, 1]).unwrap();
/// let s = Standardizer::fit(&train);
/// s.apply(&mut train);
/// assert_eq!(train.inputs(), &[[-1.0, 0.0], [1.0, 0.0]]); // a constant feature becomes 0
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Standardizer {
    /// Mean of each feature.
    pub mean: Vec<f64>,
    /// Standard deviation of each feature (population); 1 where it is 0,
    /// so constant features map to 0 instead of NaN.
    pub std: Vec<f64>,
}

impl Standardizer {
    /// Statistics of `data`'s inputs, accumulated in f64.
    pub fn fit<S: Scalar, const N: usize, Y: Copy>(data: &Dataset<[S; N], Y>) -> Self {
        let count = data.len().max(1) as f64;
        let mut mean = vec![0.0; N];
        for x in data.inputs() {
            mean.iter_mut().zip(x).for_each(|(m, v)| *m += v.as_f64());
        }
        mean.iter_mut().for_each(|m| *m /= count);
        let mut var = vec![0.0; N];
        for x in data.inputs() {
            var.iter_mut().zip(x).zip(&mean).for_each(|((s, v), m)| *s += (v.as_f64() - m).powi(2));
        }
        let std =
            var.into_iter().map(|v| (v / count).sqrt()).map(|s| if s > 0.0 { s } else { 1.0 }).collect();
        Self { mean, std }
    }

    /// One mean and deviation over every value of every input, repeated for
    /// each of the `N` features (the usual normalization of images).
    ///
    /// # Example
    /// ```
    /// use chainrule::{Dataset, data::Standardizer};
    /// let train = Dataset::new(vec![[0.0f32, 2.0], [0.0, 2.0]], vec![0usize, 1]).unwrap();
    /// let s = Standardizer::fit_global(&train);
    /// assert_eq!((s.mean, s.std), (vec![1.0, 1.0], vec![1.0, 1.0]));
    /// ```
    pub fn fit_global<S: Scalar, const N: usize, Y: Copy>(data: &Dataset<[S; N], Y>) -> Self {
        let count = (data.len() * N).max(1) as f64;
        let values = || data.inputs().iter().flatten().map(|v| v.as_f64());
        let mean = values().sum::<f64>() / count;
        let std = (values().map(|v| (v - mean).powi(2)).sum::<f64>() / count).sqrt();
        let std = if std > 0.0 { std } else { 1.0 };
        Self { mean: vec![mean; N], std: vec![std; N] }
    }

    /// Applies `(x - mean) / std` to every input of `data`.
    pub fn apply<S: Scalar, const N: usize, Y: Copy>(&self, data: &mut Dataset<[S; N], Y>) {
        data.map_inputs(|x| {
            for ((v, m), s) in x.iter_mut().zip(&self.mean).zip(&self.std) {
                *v = S::of_f64((v.as_f64() - m) / s);
            }
        });
    }
}
