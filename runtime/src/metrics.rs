//! Loss, accuracy and the other measures of a classifier over whole
//! datasets: binary and top-k accuracy, precision, recall and F1 (per
//! class, macro and micro), the confusion matrix. [`Metric`] names those
//! that [`crate::Trainer::fit`] records in its history each epoch.

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
    /// Mean loss (regularizer included), in inference mode; weighted by
    /// the dataset's sample weights if it has them.
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
    Ok(evaluate_with(net, data, batch_size, ws, outputs, &[])?.0)
}

/// [`evaluate`], and the value of each of `metrics` from the same pass.
/// A class metric on targets that are not classes (or binary accuracy on
/// class targets) is an error that names it.
pub fn evaluate_with<N: Network>(
    net: &N,
    data: &Dataset<N::Input, N::Target>,
    batch_size: usize,
    ws: &mut Workspace<N::Scalar>,
    outputs: &mut Vec<N::Output>,
    metrics: &[Metric],
) -> Result<(Evaluation, Vec<f64>)> {
    if data.is_empty() || batch_size == 0 {
        return Err(Error::EmptyBatch);
    }
    let (mut total, mut counted, mut classified) = (0.0, 0.0, true);
    let mut tally = Tally::new(N::class_scores(&N::zero_output()).len(), metrics);
    // Only a dataset with sample weights fills this.
    let mut weights = Vec::new();
    let batches = data.inputs().chunks(batch_size).zip(data.targets().chunks(batch_size));
    for (k, (xs, ts)) in batches.enumerate() {
        match data.weights() {
            Some(all) => {
                let sum = crate::train::batch_weights(&mut weights, all[k * batch_size..][..xs.len()].iter());
                if sum > 0.0 {
                    total += net.weighted_loss(xs, ts, &weights, ws)?.as_f64() * sum;
                    counted += sum;
                }
            }
            None => {
                total += net.loss(xs, ts, ws)?.as_f64() * xs.len() as f64;
                counted += xs.len() as f64;
            }
        }
        outputs.resize(xs.len(), N::zero_output());
        net.predict_batch(xs, outputs, ws)?;
        for (y, t) in outputs.iter().zip(ts) {
            classified &= t.class().is_some();
            tally.add(N::class_scores(y), y.as_ref(), t);
        }
    }
    if counted == 0.0 {
        return Err(Error::ZeroSampleWeights);
    }
    let accuracy = classified.then(|| tally.hits as f64 / tally.classified.max(1) as f64);
    let values = metrics.iter().map(|m| tally.value(m, classified)).collect::<Result<Vec<f64>>>()?;
    Ok((Evaluation { loss: total / counted, accuracy }, values))
}

/// A measure [`crate::Trainer::fit`] can record on the validation data
/// after each epoch (`FitConfig::metrics`), in [`crate::train::EpochRecord::metrics`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Metric {
    /// Fraction of samples whose target class is among the `k` highest scores.
    TopK(usize),
    /// Of the samples predicted as a class, the fraction that are.
    Precision(Average),
    /// Of the samples of a class, the fraction predicted as it.
    Recall(Average),
    /// The harmonic mean of precision and recall.
    F1(Average),
    /// For vector targets of 0/1 labels: the fraction of output values on
    /// the label's side of the threshold (0.5 for probabilities after a
    /// `sigmoid`, 0 for logits), every output value counted.
    BinaryAccuracy {
        /// Outputs above it are predicted 1.
        threshold: f64,
    },
}

/// How per-class scores become one number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Average {
    /// The mean of the classes' scores: every class counts the same.
    Macro,
    /// From the pooled counts: every sample counts the same. For one class
    /// per sample, micro precision, recall and F1 all equal the accuracy.
    Micro,
}

impl Metric {
    /// The column name in the history: `top5_accuracy`, `macro_f1`,
    /// `micro_precision`, `binary_accuracy`.
    pub fn name(&self) -> String {
        let averaged = |a: &Average, what: &str| match a {
            Average::Macro => format!("macro_{what}"),
            Average::Micro => format!("micro_{what}"),
        };
        match self {
            Metric::TopK(k) => format!("top{k}_accuracy"),
            Metric::Precision(a) => averaged(a, "precision"),
            Metric::Recall(a) => averaged(a, "recall"),
            Metric::F1(a) => averaged(a, "f1"),
            Metric::BinaryAccuracy { .. } => "binary_accuracy".into(),
        }
    }
}

/// What one pass over a dataset counts for the metrics. Allocates only
/// for what was asked (a plain evaluation allocates nothing).
struct Tally {
    /// Samples with a class target, and those whose top score is it.
    classified: usize,
    hits: usize,
    /// For precision, recall and F1.
    confusion: Option<ConfusionMatrix>,
    /// Per `TopK` metric (in order): samples whose class was in the top k.
    top: Vec<(usize, usize)>,
    /// Per `BinaryAccuracy` metric: (threshold, right, counted).
    binary: Vec<(f64, usize, usize)>,
}

impl Tally {
    fn new(classes: usize, metrics: &[Metric]) -> Self {
        let needs_matrix =
            metrics.iter().any(|m| matches!(m, Metric::Precision(_) | Metric::Recall(_) | Metric::F1(_)));
        Self {
            classified: 0,
            hits: 0,
            confusion: needs_matrix.then(|| ConfusionMatrix { classes, counts: vec![0; classes * classes] }),
            top: metrics
                .iter()
                .filter_map(|m| if let Metric::TopK(k) = m { Some((*k, 0)) } else { None })
                .collect(),
            binary: metrics
                .iter()
                .filter_map(|m| {
                    if let Metric::BinaryAccuracy { threshold } = m { Some((*threshold, 0, 0)) } else { None }
                })
                .collect(),
        }
    }

    fn add<S: Scalar, T: Target>(&mut self, scores: &[S], output: &[S], target: &T) {
        if let Some(c) = target.class().filter(|&c| c < scores.len()) {
            let predicted = argmax(scores);
            self.classified += 1;
            self.hits += usize::from(predicted == c);
            if let Some(m) = &mut self.confusion {
                m.counts[c * m.classes + predicted] += 1;
            }
            for (k, hits) in &mut self.top {
                *hits += usize::from(rank(scores, c) < *k);
            }
        }
        for (threshold, right, counted) in &mut self.binary {
            for (j, y) in output.iter().enumerate() {
                if let Some(label) = target.value(j) {
                    *right += usize::from((y.as_f64() > *threshold) == (label > 0.5));
                    *counted += 1;
                }
            }
        }
    }

    fn value(&self, metric: &Metric, classified: bool) -> Result<f64> {
        let needs = |ok: bool, what: &str| {
            if ok {
                Ok(())
            } else {
                Err(Error::Dataset(format!("the metric `{}` needs {what} targets", metric.name())))
            }
        };
        match metric {
            Metric::BinaryAccuracy { threshold } => {
                let &(_, right, counted) =
                    self.binary.iter().find(|b| b.0 == *threshold).ok_or(Error::EmptyBatch)?;
                needs(counted > 0, "vector (0/1 label)")?;
                Ok(right as f64 / counted as f64)
            }
            Metric::TopK(k) => {
                needs(classified, "class")?;
                let hits = self.top.iter().find(|t| t.0 == *k).map_or(0, |t| t.1);
                Ok(hits as f64 / self.classified.max(1) as f64)
            }
            Metric::Precision(a) | Metric::Recall(a) | Metric::F1(a) => {
                needs(classified, "class")?;
                let score = match metric {
                    Metric::Precision(_) => ConfusionMatrix::precision,
                    Metric::Recall(_) => ConfusionMatrix::recall,
                    _ => ConfusionMatrix::f1,
                };
                Ok(self.confusion.as_ref().map_or(0.0, |m| m.averaged(*a, score)))
            }
        }
    }
}

/// How many scores beat class `c`'s (ties go to the lower index, as in
/// [`argmax`]): 0 when it is the top one.
fn rank<S: Scalar>(scores: &[S], c: usize) -> usize {
    let own = scores[c];
    scores.iter().enumerate().filter(|&(j, &s)| s > own || (s == own && j < c)).count()
}

/// Fraction of output values of a network with 0/1 label targets on the
/// label's side of `threshold`: 0.5 for probabilities (a `sigmoid` output
/// with `binary_cross_entropy`), 0 for logits
/// (`binary_cross_entropy_with_logits`). Every output value counts, so a
/// network with several labels per sample is scored label by label.
///
/// # Example
/// ```
/// use chainrule::{Dataset, metrics};
/// chainrule::network! { struct Positive { input: [1], layers: [dense(1)], loss: binary_cross_entropy_with_logits } }
/// let net = Positive::from_params(&[1.0, 0.0]).unwrap(); // the logit is the input
/// let data = Dataset::new(vec![[2.0f32], [-1.0], [0.5]], vec![[1.0f32], [0.0], [0.0]]).unwrap();
/// assert_eq!(metrics::binary_accuracy(&net, &data, 0.0), 2.0 / 3.0);
/// ```
pub fn binary_accuracy<N: Network>(net: &N, data: &Dataset<N::Input, N::Target>, threshold: f64) -> f64 {
    let mut tally = Tally::new(0, &[Metric::BinaryAccuracy { threshold }]);
    for (x, t) in data.inputs().iter().zip(data.targets()) {
        let y = net.predict(x);
        tally.add(&[] as &[N::Scalar], y.as_ref(), t);
    }
    let (_, right, counted) = tally.binary[0];
    right as f64 / counted.max(1) as f64
}

/// Fraction of samples whose target class is among the `k` highest scores
/// (batch-1 inference). `k = 1` is [`accuracy`].
///
/// # Example
/// ```
/// use chainrule::{Dataset, metrics};
/// chainrule::network! { struct Three { input: [1], layers: [dense(3)], loss: softmax_cross_entropy } }
/// // Scores (0, x, 2x): class 2 first for a positive input, then class 1.
/// let net = Three::from_params(&[0.0, 1.0, 2.0, 0.0, 0.0, 0.0]).unwrap();
/// let data = Dataset::new(vec![[1.0f32], [1.0]], vec![1usize, 0]).unwrap();
/// assert_eq!(metrics::top_k_accuracy(&net, &data, 1), 0.0);
/// assert_eq!(metrics::top_k_accuracy(&net, &data, 2), 0.5);
/// ```
pub fn top_k_accuracy<N: Network<Target = usize>>(net: &N, data: &Dataset<N::Input, usize>, k: usize) -> f64 {
    let hits = data
        .inputs()
        .iter()
        .zip(data.targets())
        .filter(|&(x, &t)| {
            let y = net.predict(x);
            let scores = N::class_scores(&y);
            t < scores.len() && rank(scores, t) < k
        })
        .count();
    hits as f64 / data.len().max(1) as f64
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

    /// Of the samples predicted as class `c`, the fraction that are; 0 when
    /// none is (scikit-learn's `zero_division=0`).
    pub fn precision(&self, c: usize) -> f64 {
        let predicted: usize = (0..self.classes).map(|t| self.get(t, c)).sum();
        ratio(self.get(c, c), predicted)
    }

    /// Of the samples of class `c`, the fraction predicted as `c`; 0 when
    /// there are none.
    pub fn recall(&self, c: usize) -> f64 {
        let actual: usize = (0..self.classes).map(|p| self.get(c, p)).sum();
        ratio(self.get(c, c), actual)
    }

    /// The harmonic mean of class `c`'s precision and recall; 0 when both are.
    pub fn f1(&self, c: usize) -> f64 {
        let (p, r) = (self.precision(c), self.recall(c));
        if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) }
    }

    /// A per-class score averaged: the mean over classes (macro) or, for
    /// micro, from the pooled counts, where precision, recall and F1 all
    /// equal the accuracy (each sample has one true and one predicted class).
    pub fn averaged(&self, average: Average, score: fn(&Self, usize) -> f64) -> f64 {
        match average {
            Average::Macro => {
                (0..self.classes).map(|c| score(self, c)).sum::<f64>() / self.classes.max(1) as f64
            }
            Average::Micro => self.accuracy(),
        }
    }

    /// Precision, recall, F1 and support of every class, then their macro
    /// and micro averages, as a table (scikit-learn's classification report).
    pub fn report(&self) -> String {
        let mut out =
            format!("{:>9} {:>9} {:>9} {:>9} {:>9}\n", "class", "precision", "recall", "f1", "support");
        for c in 0..self.classes {
            let support: usize = (0..self.classes).map(|p| self.get(c, p)).sum();
            out += &format!(
                "{c:>9} {:>9.4} {:>9.4} {:>9.4} {support:>9}\n",
                self.precision(c),
                self.recall(c),
                self.f1(c)
            );
        }
        let total: usize = self.counts.iter().sum();
        for (name, a) in [("macro", Average::Macro), ("micro", Average::Micro)] {
            out += &format!(
                "{name:>9} {:>9.4} {:>9.4} {:>9.4} {total:>9}\n",
                self.averaged(a, Self::precision),
                self.averaged(a, Self::recall),
                self.averaged(a, Self::f1)
            );
        }
        out
    }
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 / whole as f64 }
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
