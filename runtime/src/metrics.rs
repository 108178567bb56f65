//! Loss and accuracy over whole datasets.

use crate::{Dataset, Error, Network, Result, Scalar, Workspace};

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
/// batch-1 path, so it needs no workspace and allocates nothing.
pub fn accuracy<N: Network<Target = usize>>(net: &N, data: &Dataset<N::Input, usize>) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    let hits = data
        .inputs()
        .iter()
        .zip(data.targets())
        .filter(|&(x, &t)| argmax(net.predict(x).as_ref()) == t)
        .count();
    hits as f64 / data.len() as f64
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
