//! Loss and accuracy over whole datasets.

use crate::network::Target;
use crate::{Dataset, Error, Network, Result, Scalar, Workspace};
use std::fmt;

/// Index of the largest value (the first one on ties); `0` for an empty slice.
///
/// # Example
/// ```
/// assert_eq!(chainrule::metrics::argmax(&[0.1f32, 0.7, 0.2]), 1);
/// ```
pub fn argmax<S: Scalar>(values: &[S]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

/// Fraction of samples whose largest output is the target class. Runs the
/// batch-1 path, samples split over the threads of [`crate::threads`], so
/// it needs no workspace and allocates nothing.
pub fn accuracy<N: Network<Target = usize> + Sync>(net: &N, data: &Dataset<N::Input, usize>) -> f64
where
    N::Input: Sync,
{
    if data.is_empty() {
        return 0.0;
    }
    let hits = std::sync::atomic::AtomicUsize::new(0);
    crate::threads::ranges(data.len(), 256, 1, &|range| {
        let right = data.inputs()[range.clone()]
            .iter()
            .zip(&data.targets()[range])
            .filter(|&(x, &t)| argmax(net.predict(x).as_ref()) == t)
            .count();
        hits.fetch_add(right, std::sync::atomic::Ordering::Relaxed);
    });
    hits.into_inner() as f64 / data.len() as f64
}

/// Mean loss over a dataset, evaluated in batches of `batch_size`.
pub fn mean_loss<N: Network>(
    net: &N,
    data: &Dataset<N::Input, N::Target>,
    batch_size: usize,
    ws: &mut Workspace<N::Scalar>,
) -> Result<f64> {
    if data.is_empty() || batch_size == 0 {
        return Err(Error::EmptyBatch);
    }
    let mut total = 0.0;
    for (xs, ts) in data.inputs().chunks(batch_size).zip(data.targets().chunks(batch_size)) {
        total += net.loss(xs, ts, ws)?.as_f64() * xs.len() as f64;
    }
    Ok(total / data.len() as f64)
}

/// Loss and, for class targets, accuracy of a network on a dataset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    /// Mean loss (regularizer included), in inference mode.
    pub loss: f64,
    /// Fraction of correct classes, when the targets are class indices.
    pub accuracy: Option<f64>,
}

/// Evaluates in batches of `batch_size` (inference mode: no dropout,
/// running statistics), reusing `outputs` as the batch output buffer.
pub fn evaluate<N: Network>(
    net: &N,
    data: &Dataset<N::Input, N::Target>,
    batch_size: usize,
    ws: &mut Workspace<N::Scalar>,
    outputs: &mut Vec<N::Output>,
) -> Result<Evaluation> {
    if data.is_empty() || batch_size == 0 {
        return Err(Error::EmptyBatch);
    }
    let (mut total, mut hits, mut classified) = (0.0, 0usize, true);
    for (xs, ts) in data.inputs().chunks(batch_size).zip(data.targets().chunks(batch_size)) {
        total += net.loss(xs, ts, ws)?.as_f64() * xs.len() as f64;
        outputs.resize(xs.len(), N::zero_output());
        net.predict_batch(xs, outputs, ws)?;
        for (y, t) in outputs.iter().zip(ts) {
            match t.class() {
                Some(c) => hits += usize::from(argmax(N::class_scores(y)) == c),
                None => classified = false,
            }
        }
    }
    let n = data.len() as f64;
    Ok(Evaluation { loss: total / n, accuracy: classified.then(|| hits as f64 / n) })
}

/// Counts of (true class, predicted class) pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfusionMatrix {
    /// Number of classes.
    pub classes: usize,
    /// `counts[true * classes + predicted]`.
    pub counts: Vec<usize>,
}

impl ConfusionMatrix {
    /// How often class `truth` was predicted as `predicted`.
    pub fn get(&self, truth: usize, predicted: usize) -> usize {
        self.counts[truth * self.classes + predicted]
    }

    /// Fraction on the diagonal.
    pub fn accuracy(&self) -> f64 {
        let total: usize = self.counts.iter().sum();
        let right: usize = (0..self.classes).map(|c| self.get(c, c)).sum();
        right as f64 / total.max(1) as f64
    }
}

impl fmt::Display for ConfusionMatrix {
    /// Rows are true classes, columns predictions.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "true\\pred")?;
        (0..self.classes).try_for_each(|c| write!(f, "{c:>6}"))?;
        for t in 0..self.classes {
            write!(f, "\n{t:>9}")?;
            (0..self.classes).try_for_each(|p| write!(f, "{:>6}", self.get(t, p)))?;
        }
        Ok(())
    }
}

/// The confusion matrix of a classifier on `data` (batch-1 inference).
///
/// # Example
/// ```
/// use chainrule::{Dataset, Network, metrics};
/// chainrule::network! { struct Two { input: [1], layers: [dense(2)], loss: softmax_cross_entropy } }
/// // Weights that send positive inputs to class 1, others to class 0.
/// let net = Two::from_params(&[-1.0, 1.0, 0.0, 0.0]).unwrap();
/// let data = Dataset::new(vec![[1.0f32], [-1.0], [2.0]], vec![1usize, 1, 1]).unwrap();
/// let m = metrics::confusion_matrix(&net, &data);
/// assert_eq!((m.get(1, 1), m.get(1, 0)), (2, 1));
/// ```
pub fn confusion_matrix<N: Network<Target = usize>>(
    net: &N,
    data: &Dataset<N::Input, usize>,
) -> ConfusionMatrix {
    let classes = N::OUTPUT_LEN;
    let mut counts = vec![0; classes * classes];
    for (x, &t) in data.inputs().iter().zip(data.targets()) {
        if t < classes {
            counts[t * classes + argmax(net.predict(x).as_ref())] += 1;
        }
    }
    ConfusionMatrix { classes, counts }
}
