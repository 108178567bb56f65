//! Max and average pooling over windows of `[batch, channels, height,
//! width]` values, without padding (PyTorch's `MaxPool2d` and `AvgPool2d`
//! with `padding = 0`); global average pooling is an average pool whose
//! window is the whole plane. 1-D pooling is 2-D pooling of height 1.
//!
//! Max pooling routes the gradient to the window's maximum, found again in
//! the backward pass from the saved input rather than stored as indices:
//! the first maximum in row-major order, or the first NaN, as PyTorch picks
//! it. Average pooling spreads the gradient evenly over the window.

use crate::Scalar;

pub use chainrule_spec::Pool2d;

/// Operand lengths for `batch` samples: too short is a compiler bug.
fn check(p: &Pool2d, batch: usize, x: usize, y: usize) {
    assert!(
        x >= batch * p.input_len() && y >= batch * p.output_len(),
        "pooling: operand too short for {p:?} and batch {batch}"
    );
}

/// Calls `f(plane_in, plane_out)` for every channel of every sample,
/// planes split over threads (each output plane is computed whole by one
/// part, so the split does not change it).
#[inline(always)]
fn planes<S: Sync, T: Send>(
    p: &Pool2d,
    batch: usize,
    x: &[S],
    y: &mut [T],
    f: &(dyn Fn(&[S], &mut [T]) + Sync),
) {
    let (hw, ohw) = (p.height * p.width, p.out_h * p.out_w);
    over_planes(batch * p.channels, ohw, y, &|planes, ys| {
        for (xs, ys) in x[planes.start * hw..].chunks_exact(hw).zip(ys.chunks_exact_mut(ohw)) {
            f(xs, ys);
        }
    });
}

/// Calls `f(planes, &mut out[planes])` for ranges of the `count` planes of
/// `plane` values in `out`, over threads.
fn over_planes<T: Send>(
    count: usize,
    plane: usize,
    out: &mut [T],
    f: &(dyn Fn(core::ops::Range<usize>, &mut [T]) + Sync),
) {
    if plane == 0 {
        return;
    }
    crate::threads::ranges_mut(
        &mut out[..count * plane],
        (4096 / plane).max(1) * plane,
        plane,
        &|range, part| f(range.start / plane..range.end / plane, part),
    );
}

/// For one row of outputs `oy` and the outputs `first..first + best.len()`
/// of it: each window's maximum into `best` and, with `at`, its offset
/// in the plane. The window is walked tap by tap, each tap over all the
/// outputs (a loop the compiler vectorizes); a tap replaces the best
/// only if strictly larger, or NaN over a number, so ties keep the
/// first maximum in row-major order and the first NaN wins, as PyTorch.
#[inline(always)]
fn row_max<S: Scalar>(
    p: &Pool2d,
    plane: &[S],
    oy: usize,
    first: usize,
    best: &mut [S],
    mut at: Option<&mut [u32]>,
) {
    let n = best.len();
    let sw = p.stride_w;
    for ki in 0..p.kernel_h {
        let row = oy * p.stride_h + ki;
        for kj in 0..p.kernel_w {
            let start = row * p.width + first * sw + kj;
            let taps = &plane[start..start + (n - 1) * sw + 1];
            let initial = ki == 0 && kj == 0;
            // Index loops with selects rather than branches: the
            // compiler turns them into strided vector loads and blends.
            // `chunks(sw)` puts each window's tap first in a chunk: no
            // index to check.
            match at.as_deref_mut() {
                None => {
                    for (b, tap) in best.iter_mut().zip(taps.chunks(sw)) {
                        let v = tap[0];
                        *b = if initial | replaces(v, *b) { v } else { *b };
                    }
                }
                Some(at) => {
                    let taps = taps.chunks(sw);
                    for (o, ((b, a), tap)) in best.iter_mut().zip(at.iter_mut()).zip(taps).enumerate() {
                        let v = tap[0];
                        let take = initial | replaces(v, *b);
                        *b = if take { v } else { *b };
                        *a = if take { (start + o * sw) as u32 } else { *a };
                    }
                }
            }
        }
    }
}

/// Whether a later tap `v` replaces the best so far `b`: strictly larger,
/// or NaN over a number.
#[inline(always)]
#[allow(clippy::eq_op)]
fn replaces<S: Scalar>(v: S, b: S) -> bool {
    // `|` and `&`, not `||` and `&&`: no branch to mispredict on data.
    (v > b) | ((v != v) & (b == b))
}

/// The common 2x2 window at stride 2, both axes: each row pair of the
/// input gives one row of outputs, read as pairs (`chunks_exact(2)`) so
/// the compiler knows the stride. Same choice of maximum as [`row_max`].
#[inline(always)]
fn max_2x2<S: Scalar>(p: &Pool2d, xs: &[S], ys: &mut [S]) {
    let w = p.width;
    for (oy, out) in ys.chunks_exact_mut(p.out_w).enumerate() {
        let (top, bottom) = xs[2 * oy * w..][..2 * w].split_at(w);
        let pairs = top.chunks_exact(2).zip(bottom.chunks_exact(2));
        for (o, (t, b)) in out.iter_mut().zip(pairs) {
            let mut m = t[0];
            for v in [t[1], b[0], b[1]] {
                m = if replaces(v, m) { v } else { m };
            }
            *o = m;
        }
    }
}

/// Gradient of [`max_2x2`] from the saved output `ys`: in each window the
/// first tap equal to the maximum (or the first NaN when it is NaN) gets
/// the window's gradient. The windows do not overlap, so every input
/// element is written once, without a pass to zero.
#[inline(always)]
fn max_2x2_back<S: Scalar>(p: &Pool2d, gs: &[S], xs: &[S], ys: &[S], dxs: &mut [S]) {
    let (w, ow) = (p.width, p.out_w);
    for oy in 0..p.out_h {
        let (top, bottom) = xs[2 * oy * w..][..2 * w].split_at(w);
        let (dtop, dbottom) = dxs[2 * oy * w..][..2 * w].split_at_mut(w);
        let (t, b, dt, db) = (&top[..2 * ow], &bottom[..2 * ow], &mut dtop[..2 * ow], &mut dbottom[..2 * ow]);
        let (g, m) = (&gs[oy * ow..][..ow], &ys[oy * ow..][..ow]);
        for o in 0..ow {
            // The first of the four taps, in row-major order, that holds
            // the maximum: counted down so the earliest match wins.
            let (m, g) = (m[o], g[o]);
            let mut k = 3u8;
            k = if is_max(b[2 * o], m) { 2 } else { k };
            k = if is_max(t[2 * o + 1], m) { 1 } else { k };
            k = if is_max(t[2 * o], m) { 0 } else { k };
            dt[2 * o] = if k == 0 { g } else { S::ZERO };
            dt[2 * o + 1] = if k == 1 { g } else { S::ZERO };
            db[2 * o] = if k == 2 { g } else { S::ZERO };
            db[2 * o + 1] = if k == 3 { g } else { S::ZERO };
        }
        // An odd last column belongs to no window.
        dtop[2 * ow..].fill(S::ZERO);
        dbottom[2 * ow..].fill(S::ZERO);
    }
    // Nor does an odd last row.
    dxs[2 * p.out_h * w..].fill(S::ZERO);
}

/// Whether tap `v` is the window's maximum `m` (NaN matches NaN).
#[inline(always)]
#[allow(clippy::eq_op)]
fn is_max<S: Scalar>(v: S, m: S) -> bool {
    (v == m) | ((v != v) & (m != m))
}

/// Outputs of one row handled at a time, so the running maxima and their
/// positions fit in fixed arrays on the stack.
const RUN: usize = 64;

/// Max pooling: each output is the largest element of its window (NaN if
/// the window holds one).
///
/// # Example
/// ```
/// use chainrule::kernels::{Pool2d, max_pool2d};
/// let p = Pool2d { channels: 1, height: 2, width: 4, kernel_h: 2, kernel_w: 2,
///     stride_h: 2, stride_w: 2, out_h: 1, out_w: 2 };
/// let mut y = [0.0f32; 2];
/// max_pool2d(&p, 1, &[1.0, 5.0, 2.0, 0.0, 3.0, 4.0, -1.0, 7.0], &mut y);
/// assert_eq!(y, [5.0, 7.0]);
/// ```
pub fn max_pool2d<S: Scalar>(p: &Pool2d, batch: usize, x: &[S], y: &mut [S]) {
    check(p, batch, x.len(), y.len());
    planes(p, batch, x, y, &|xs, ys| {
        crate::isa::with_isa(
            #[inline(always)]
            |isa| {
                if p.is_2x2() {
                    if !S::max_2x2(isa, p, xs, ys) {
                        max_2x2(p, xs, ys);
                    }
                    return;
                }
                for (oy, out) in ys.chunks_exact_mut(p.out_w).enumerate() {
                    for (r, run) in out.chunks_mut(RUN).enumerate() {
                        row_max(p, xs, oy, r * RUN, run, None);
                    }
                }
            },
        )
    });
}

/// Gradient of [`max_pool2d`]: each output's gradient goes to its window's
/// maximum in `x` (added up where windows overlap), zero elsewhere. `y` is
/// the forward output, which locates the maximum of a 2x2 window at stride
/// 2 directly; other windows find it again tap by tap.
pub fn max_pool2d_back<S: Scalar>(p: &Pool2d, batch: usize, g: &[S], x: &[S], y: &[S], dx: &mut [S]) {
    check(p, batch, x.len(), g.len());
    check(p, batch, dx.len(), y.len());
    assert!(p.height * p.width <= u32::MAX as usize, "pooling: plane too large");
    let (hw, ohw) = (p.height * p.width, p.out_h * p.out_w);
    over_planes(batch * p.channels, hw, dx, &|range, dx| {
        let planes = x[range.start * hw..]
            .chunks_exact(hw)
            .zip(dx.chunks_exact_mut(hw))
            .zip(g[range.start * ohw..].chunks_exact(ohw).zip(y[range.start * ohw..].chunks_exact(ohw)));
        crate::isa::with_isa(
            #[inline(always)]
            |isa| {
                let (mut best, mut at) = ([S::ZERO; RUN], [0u32; RUN]);
                for ((xs, dxs), (gs, ys)) in planes {
                    if p.is_2x2() {
                        if !S::max_2x2_back(isa, p, gs, xs, ys, dxs) {
                            max_2x2_back(p, gs, xs, ys, dxs);
                        }
                        continue;
                    }
                    dxs.fill(S::ZERO);
                    for (oy, grads) in gs.chunks_exact(p.out_w).enumerate() {
                        for (r, run) in grads.chunks(RUN).enumerate() {
                            let n = run.len();
                            row_max(p, xs, oy, r * RUN, &mut best[..n], Some(&mut at[..n]));
                            for (&a, &gv) in at[..n].iter().zip(run) {
                                dxs[a as usize] += gv;
                            }
                        }
                    }
                }
            },
        );
    });
}

/// Average pooling: each output is the mean of its window.
///
/// # Example
/// ```
/// use chainrule::kernels::{Pool2d, avg_pool2d};
/// let p = Pool2d { channels: 1, height: 2, width: 4, kernel_h: 2, kernel_w: 2,
///     stride_h: 2, stride_w: 2, out_h: 1, out_w: 2 };
/// let mut y = [0.0f32; 2];
/// avg_pool2d(&p, 1, &[1.0, 5.0, 2.0, 0.0, 3.0, 4.0, -1.0, 7.0], &mut y);
/// assert_eq!(y, [3.25, 2.0]);
/// ```
pub fn avg_pool2d<S: Scalar>(p: &Pool2d, batch: usize, x: &[S], y: &mut [S]) {
    check(p, batch, x.len(), y.len());
    let scale = S::ONE / S::of_f64((p.kernel_h * p.kernel_w) as f64);
    planes(p, batch, x, y, &|xs, ys| {
        for oy in 0..p.out_h {
            for ox in 0..p.out_w {
                let start = p.origin(oy, ox);
                let mut sum = S::ZERO;
                for ki in 0..p.kernel_h {
                    sum += xs[start + ki * p.width..][..p.kernel_w].iter().fold(S::ZERO, |s, &v| s + v);
                }
                ys[oy * p.out_w + ox] = sum * scale;
            }
        }
    });
}

/// Gradient of [`avg_pool2d`]: each output's gradient, divided by the
/// window size, added to every element of its window.
pub fn avg_pool2d_back<S: Scalar>(p: &Pool2d, batch: usize, g: &[S], dx: &mut [S]) {
    check(p, batch, dx.len(), g.len());
    let scale = S::ONE / S::of_f64((p.kernel_h * p.kernel_w) as f64);
    let (hw, ohw) = (p.height * p.width, p.out_h * p.out_w);
    over_planes(batch * p.channels, hw, dx, &|range, dx| {
        for (dxs, gs) in dx.chunks_exact_mut(hw).zip(g[range.start * ohw..].chunks_exact(ohw)) {
            dxs.fill(S::ZERO);
            for oy in 0..p.out_h {
                for ox in 0..p.out_w {
                    let (start, share) = (p.origin(oy, ox), gs[oy * p.out_w + ox] * scale);
                    for ki in 0..p.kernel_h {
                        dxs[start + ki * p.width..][..p.kernel_w].iter_mut().for_each(|d| *d += share);
                    }
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Pool2d = Pool2d {
        channels: 2,
        height: 5,
        width: 5,
        kernel_h: 3,
        kernel_w: 2,
        stride_h: 2,
        stride_w: 1,
        out_h: 2,
        out_w: 4,
    };

    fn values(n: usize, seed: u64) -> Vec<f64> {
        let mut state = seed;
        (0..n)
            .map(|_| (crate::kernels::next_u64(&mut state) >> 11) as f64 / (1u64 << 53) as f64 - 0.5)
            .collect()
    }

    /// Overlapping windows (stride 1 across) and a row left out (height 5,
    /// windows at rows 0 and 2): the adjoint identity of the linear average
    /// pool, and max pooling's gradient summing to the upstream total.
    #[test]
    fn gradients_are_consistent_with_the_forward() {
        let batch = 2;
        let x = values(batch * P.input_len(), 1);
        let g = values(batch * P.output_len(), 2);
        let mut y = vec![0.0; g.len()];
        avg_pool2d(&P, batch, &x, &mut y);
        let mut dx = vec![f64::NAN; x.len()];
        avg_pool2d_back(&P, batch, &g, &mut dx);
        let forward: f64 = y.iter().zip(&g).map(|(a, b)| a * b).sum();
        let back: f64 = dx.iter().zip(&x).map(|(a, b)| a * b).sum();
        assert!((forward - back).abs() < 1e-12);

        max_pool2d(&P, batch, &x, &mut y);
        max_pool2d_back(&P, batch, &g, &x, &y, &mut dx);
        // max is piecewise linear: <g, max(x)> = <dx, x>.
        let forward: f64 = y.iter().zip(&g).map(|(a, b)| a * b).sum();
        let back: f64 = dx.iter().zip(&x).map(|(a, b)| a * b).sum();
        assert!((forward - back).abs() < 1e-12);
    }

    #[test]
    fn max_picks_the_first_of_equals_and_propagates_nan() {
        let p = Pool2d {
            channels: 1,
            height: 1,
            width: 4,
            kernel_h: 1,
            kernel_w: 4,
            stride_h: 1,
            stride_w: 1,
            out_h: 1,
            out_w: 1,
        };
        let mut dx = [0.0; 4];
        max_pool2d_back(&p, 1, &[1.0], &[2.0, 3.0, 3.0, 1.0], &[3.0], &mut dx);
        assert_eq!(dx, [0.0, 1.0, 0.0, 0.0]);
        let mut y = [0.0];
        max_pool2d(&p, 1, &[2.0, f64::NAN, 9.0, 1.0], &mut y);
        assert!(y[0].is_nan());
        max_pool2d_back(&p, 1, &[1.0], &[2.0, f64::NAN, 9.0, f64::NAN], &[f64::NAN], &mut dx);
        assert_eq!(dx, [0.0, 1.0, 0.0, 0.0]);
    }
}
