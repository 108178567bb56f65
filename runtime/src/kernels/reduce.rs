//! Reductions: the backward pass of a broadcast is a sum.

use crate::Scalar;

/// `out[j] = sum over samples r of g[r, j]`, for `g` of `m x n`.
/// It is the gradient of a bias added to every sample.
///
/// # Example
/// ```
/// let mut out = [0.0f32; 2];
/// chainrule::kernels::sum_batch(3, 2, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &mut out);
/// assert_eq!(out, [9.0, 12.0]);
/// ```
pub fn sum_batch<S: Scalar>(m: usize, n: usize, g: &[S], out: &mut [S]) {
    let out = &mut out[..n];
    out.fill(S::ZERO);
    for row in g[..m * n].chunks_exact(n) {
        for (o, &v) in out.iter_mut().zip(row) {
            *o += v;
        }
    }
}

/// `out[r] = sum over features j of x[r, j]`, for `x` of `m x n`: the
/// gradient of a per-sample value broadcast over that sample's features.
///
/// # Example
/// ```
/// let mut out = [0.0f32; 2];
/// chainrule::kernels::sum_features(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &mut out);
/// assert_eq!(out, [6.0, 15.0]);
/// ```
pub fn sum_features<S: Scalar>(m: usize, n: usize, x: &[S], out: &mut [S]) {
    for (row, o) in x[..m * n].chunks_exact(n).zip(&mut out[..m]) {
        *o = sum(row);
    }
}

/// The sum of `x` in sixteen running partial sums (element `i` in sum `i %
/// 16`), added pairwise at the end: independent additions that fill vector
/// lanes, where one running sum would wait on each addition in turn. The
/// order is fixed, so the result is too.
#[inline(always)]
fn sum<S: Scalar>(x: &[S]) -> S {
    let mut partial = [S::ZERO; LANES];
    let (whole, rest) = x.as_chunks::<LANES>();
    for chunk in whole {
        for (p, &v) in partial.iter_mut().zip(chunk) {
            *p += v;
        }
    }
    for (p, &v) in partial.iter_mut().zip(rest) {
        *p += v;
    }
    fold_lanes(partial)
}

/// How many running sums a long sum keeps: element `i` goes to sum
/// `i % LANES`, so the additions vectorize, and the order is fixed.
pub const LANES: usize = 16;

/// The total of [`LANES`] running sums, added in halves (the order every
/// sum of this module uses, so a loop that keeps its own running sums,
/// as a generated bias gradient does, gets the same bits).
///
/// # Example
/// ```
/// let mut lanes = [0.0f32; chainrule::kernels::LANES];
/// lanes[0] = 1.5;
/// lanes[15] = 2.0;
/// assert_eq!(chainrule::kernels::fold_lanes(lanes), 3.5);
/// ```
pub fn fold_lanes<S: Scalar>(mut partial: [S; LANES]) -> S {
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for i in 0..width {
            partial[i] += partial[i + width];
        }
    }
    partial[0]
}

/// `out[c] = sum over samples r and positions p of x[r, c, p]`, for `x`
/// of `m x channels x spatial`: the gradient of a per-channel value (a
/// convolution's bias, a batch norm statistic) broadcast over the batch
/// and every position of its channel.
///
/// # Example
/// ```
/// let mut out = [0.0f32; 2];
/// // Two samples, two channels of two positions each.
/// chainrule::kernels::sum_channels(2, 2, 2, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], &mut out);
/// assert_eq!(out, [14.0, 22.0]);
/// ```
pub fn sum_channels<S: Scalar>(m: usize, channels: usize, spatial: usize, x: &[S], out: &mut [S]) {
    let out = &mut out[..channels];
    out.fill(S::ZERO);
    for sample in x[..m * channels * spatial].chunks_exact(channels * spatial) {
        for (o, plane) in out.iter_mut().zip(sample.chunks_exact(spatial)) {
            *o += sum(plane);
        }
    }
}

/// Sum of every element.
///
/// # Example
/// ```
/// assert_eq!(chainrule::kernels::sum_all(&[1.0f64, 2.0, 3.5]), 6.5);
/// ```
pub fn sum_all<S: Scalar>(x: &[S]) -> S {
    sum(x)
}

/// Exponential moving average of a batch statistic, as PyTorch's batch
/// norm keeps it: `running = (1 - momentum) running + momentum stat`. With
/// `unbiased`, a variance over `m` samples is first scaled by `m / (m - 1)`
/// (not for a single sample, where it is 0 anyway).
///
/// # Example
/// ```
/// let mut running = [1.0f32, 0.0];
/// chainrule::kernels::update_running(&mut running, &[3.0, 2.0], 0.5, false, 4);
/// assert_eq!(running, [2.0, 1.0]);
/// ```
pub fn update_running<S: Scalar>(running: &mut [S], stat: &[S], momentum: f64, unbiased: bool, m: usize) {
    let correction = if unbiased && m > 1 { m as f64 / (m - 1) as f64 } else { 1.0 };
    let (keep, take) = (S::of_f64(1.0 - momentum), S::of_f64(momentum * correction));
    for (r, &s) in running.iter_mut().zip(stat) {
        *r = keep * *r + take * s;
    }
}
