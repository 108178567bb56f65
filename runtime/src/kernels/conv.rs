//! 2-D convolution (cross-correlation, as PyTorch's `Conv2d`) on
//! `[batch, channels, height, width]` values. A 1-D convolution is a 2-D
//! one of height 1.
//!
//! Few channels (the first layers of a small network) leave a GEMM little
//! to multiply and much to copy, so there the products are direct where
//! the level has vector kernels (`f32`, unit stride along rows): the
//! forward pass is the one-sample kernel `conv2d_1` per sample; the input
//! gradient, for unit strides, is the same kernel run as the transposed
//! convolution (the gradient convolved with the weights flipped and their
//! channels swapped); the weight gradient is one dot product per weight
//! along the rows of the gradient and of the column matrix, with no
//! packing. Elsewhere, im2col and the GEMM:
//!
//! For each sample, im2col lays the input out as a `[channels * kh * kw,
//! out_h * out_w]` matrix whose column `p` holds the input window of output
//! position `p` (zeros where the window hangs over the padding); then the
//! output is `W [out_channels, channels * kh * kw]` times that matrix. The
//! gradients are the same products turned around: `dW += g col^T`, and
//! `dcol = W^T g` folded back onto the input (col2im, adding where windows
//! overlap). The column matrix lives in a thread-local buffer that only
//! grows, so steady state allocates nothing; a 1x1 convolution with stride
//! 1 and no padding needs no column matrix at all.

use super::gemm::gemm;
use crate::Scalar;

use chainrule_spec::Conv2d;

/// Operand lengths for `batch` samples: too short is a compiler bug.
fn check(c: &Conv2d, batch: usize, x: usize, w: usize, y: usize) {
    assert!(
        x >= batch * c.input_len() && w >= c.out_channels * c.patch_len() && y >= batch * c.output_len(),
        "conv2d: operand too short for {c:?} and batch {batch}"
    );
}

/// Writes the column matrix of one sample `x` into `col`.
fn im2col<S: Scalar>(c: &Conv2d, x: &[S], col: &mut [S]) {
    let (p, hw) = (c.positions(), c.height * c.width);
    let mut row = 0;
    for ch in 0..c.channels {
        let plane = &x[ch * hw..][..hw];
        for ki in 0..c.kernel_h {
            let dy = (ki * c.dilation_h) as isize - c.pad_top as isize;
            let (y_lo, y_hi) = c.valid_rows(dy);
            for kj in 0..c.kernel_w {
                let dx = (kj * c.dilation_w) as isize - c.pad_left as isize;
                let (x_lo, x_hi) = c.valid_columns(dx);
                let out = &mut col[row * p..][..p];
                row += 1;
                for oy in 0..c.out_h {
                    let dst = &mut out[oy * c.out_w..][..c.out_w];
                    if oy < y_lo || oy >= y_hi || x_lo >= x_hi {
                        dst.fill(S::ZERO);
                        continue;
                    }
                    let iy = (oy * c.stride_h) as isize + dy;
                    let src = &plane[iy as usize * c.width..][..c.width];
                    dst[..x_lo].fill(S::ZERO);
                    dst[x_hi..].fill(S::ZERO);
                    let first = (x_lo * c.stride_w) as isize + dx;
                    if c.stride_w == 1 {
                        // Rows are short (an output row's width): a plain
                        // loop beats a call to memmove per row.
                        let first = first as usize;
                        for (d, &v) in dst[x_lo..x_hi].iter_mut().zip(&src[first..]) {
                            *d = v;
                        }
                    } else {
                        for (k, d) in dst[x_lo..x_hi].iter_mut().enumerate() {
                            *d = src[first as usize + k * c.stride_w];
                        }
                    }
                }
            }
        }
    }
}

/// Adds the column matrix `col` back onto one sample's input gradient `dx`
/// (the transpose of [`im2col`]).
fn col2im_add<S: Scalar>(c: &Conv2d, col: &[S], dx: &mut [S]) {
    let (p, hw) = (c.positions(), c.height * c.width);
    let mut row = 0;
    for ch in 0..c.channels {
        let plane = &mut dx[ch * hw..][..hw];
        for ki in 0..c.kernel_h {
            let dy = (ki * c.dilation_h) as isize - c.pad_top as isize;
            let (y_lo, y_hi) = c.valid_rows(dy);
            for kj in 0..c.kernel_w {
                let dx_off = (kj * c.dilation_w) as isize - c.pad_left as isize;
                let (x_lo, x_hi) = c.valid_columns(dx_off);
                let src_row = &col[row * p..][..p];
                row += 1;
                if x_lo >= x_hi {
                    continue;
                }
                for oy in y_lo..y_hi {
                    let iy = ((oy * c.stride_h) as isize + dy) as usize;
                    let dst = &mut plane[iy * c.width..][..c.width];
                    let src = &src_row[oy * c.out_w..][..c.out_w];
                    let first = ((x_lo * c.stride_w) as isize + dx_off) as usize;
                    for (k, &v) in src[x_lo..x_hi].iter().enumerate() {
                        dst[first + k * c.stride_w] += v;
                    }
                }
            }
        }
    }
}

/// Forward: `y[b, o, :, :] = sum over c, kernel of w[o, c, ki, kj] * x[b, c, ..]`
/// (no bias; the layer adds it separately).
///
/// # Example
/// ```
/// use chainrule::kernels::{Conv2d, conv2d};
/// // One 3x3 input, a 2x2 kernel of ones: each output sums a window.
/// let c = Conv2d { channels: 1, height: 3, width: 3, out_channels: 1, kernel_h: 2, kernel_w: 2,
///     stride_h: 1, stride_w: 1, pad_top: 0, pad_left: 0, dilation_h: 1, dilation_w: 1,
///     out_h: 2, out_w: 2 };
/// let x = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0];
/// let mut y = [0.0f32; 4];
/// conv2d(&c, 1, &x, &[1.0; 4], &mut y);
/// assert_eq!(y, [12.0, 16.0, 24.0, 28.0]);
/// ```
pub fn conv2d<S: Scalar>(c: &Conv2d, batch: usize, x: &[S], w: &[S], y: &mut [S]) {
    check(c, batch, x.len(), w.len(), y.len());
    let (k, p, o) = (c.patch_len(), c.positions(), c.out_channels);
    // Samples over threads: each output is one sample's product, the same
    // whatever the split.
    let (x, y) = (&x[..batch * c.input_len()], &mut y[..batch * c.output_len()]);
    crate::threads::ranges_mut(y, c.output_len(), c.output_len(), &|range, ys| {
        let first = range.start / c.output_len();
        let xs = &x[first * c.input_len()..];
        if direct(c) && each_direct(c, xs, w, ys) {
            return;
        }
        let samples = xs.chunks_exact(c.input_len()).zip(ys.chunks_exact_mut(c.output_len()));
        if c.is_pointwise() {
            for (xs, ys) in samples {
                gemm(o, k, p, S::ONE, (w, k, 1), (xs, p, 1), S::ZERO, (ys, p, 1));
            }
            return;
        }
        S::with_scratch(k * p, |col| {
            for (xs, ys) in samples {
                im2col(c, xs, col);
                gemm(o, k, p, S::ONE, (w, k, 1), (&*col, p, 1), S::ZERO, (ys, p, 1));
            }
        });
    });
}

/// Gradient with respect to the input: `dx = W^T g`, folded back by col2im.
pub fn conv2d_back_data<S: Scalar>(c: &Conv2d, batch: usize, g: &[S], w: &[S], dx: &mut [S]) {
    check(c, batch, dx.len(), w.len(), g.len());
    let (k, p, o) = (c.patch_len(), c.positions(), c.out_channels);
    let (g, dx) = (&g[..batch * c.output_len()], &mut dx[..batch * c.input_len()]);
    if let Some(t) = transposed(c).filter(direct) {
        // The weights flipped and their channels swapped, once for all
        // samples, in this thread's scratch memory (the parts only read it).
        let done = S::with_scratch(w.len(), |flipped| {
            flip(c, w, flipped);
            let flipped = &*flipped;
            let done = core::sync::atomic::AtomicBool::new(true);
            crate::threads::ranges_mut(dx, c.input_len(), c.input_len(), &|range, dxs| {
                let gs = &g[range.start / c.input_len() * c.output_len()..];
                if !each_direct(&t, gs, flipped, dxs) {
                    done.store(false, core::sync::atomic::Ordering::Relaxed);
                }
            });
            done.into_inner()
        });
        if done {
            return;
        }
    }
    crate::threads::ranges_mut(dx, c.input_len(), c.input_len(), &|range, dxs| {
        let first = range.start / c.input_len();
        let gs = &g[first * c.output_len()..];
        let samples = gs.chunks_exact(c.output_len()).zip(dxs.chunks_exact_mut(c.input_len()));
        if c.is_pointwise() {
            for (gs, dxs) in samples {
                gemm(k, o, p, S::ONE, (w, 1, k), (gs, p, 1), S::ZERO, (dxs, p, 1));
            }
            return;
        }
        S::with_scratch(k * p, |col| {
            for (gs, dxs) in samples {
                gemm(k, o, p, S::ONE, (w, 1, k), (gs, p, 1), S::ZERO, (&mut *col, p, 1));
                dxs.fill(S::ZERO);
                col2im_add(c, col, dxs);
            }
        });
    });
}

/// Gradient with respect to the weight, summed over the batch: `dW = sum_b
/// g_b col_b^T`. Each sample's product goes to a partial sum of its own
/// (samples over threads), then the partials are added in sample order:
/// the same sum whatever the thread count.
pub fn conv2d_back_weight<S: Scalar>(c: &Conv2d, batch: usize, g: &[S], x: &[S], dw: &mut [S]) {
    check(c, batch, x.len(), dw.len(), g.len());
    let (k, p, o) = (c.patch_len(), c.positions(), c.out_channels);
    let dw = &mut dw[..o * k];
    if batch == 0 {
        dw.fill(S::ZERO);
        return;
    }
    let (g, x) = (&g[..batch * c.output_len()], &x[..batch * c.input_len()]);
    S::with_partials(batch * o * k, |partials| {
        crate::threads::ranges_mut(partials, o * k, o * k, &|range, parts| {
            let first = range.start / (o * k);
            let samples = g[first * c.output_len()..]
                .chunks_exact(c.output_len())
                .zip(x[first * c.input_len()..].chunks_exact(c.input_len()))
                .zip(parts.chunks_exact_mut(o * k));
            if c.is_pointwise() {
                for ((gs, xs), part) in samples {
                    gemm(o, p, k, S::ONE, (gs, p, 1), (xs, 1, p), S::ZERO, (part, k, 1));
                }
                return;
            }
            S::with_scratch(k * p, |col| {
                for ((gs, xs), part) in samples {
                    im2col(c, xs, col);
                    // `g col^T` is a dot product of two contiguous rows per
                    // weight; a GEMM would first transpose both into panels.
                    if !S::dot_rows(o, p, k, gs, col, part) {
                        gemm(o, p, k, S::ONE, (gs, p, 1), (&*col, 1, p), S::ZERO, (part, k, 1));
                    }
                }
            });
        });
        let partials = &*partials;
        crate::threads::ranges_mut(dw, 1024, 16, &|range, out| {
            out.copy_from_slice(&partials[range.clone()]);
            for part in partials.chunks_exact(o * k).skip(1) {
                out.iter_mut().zip(&part[range.clone()]).for_each(|(d, &v)| *d += v);
            }
        });
    });
}

/// Whether the direct kernels suit `c`: few input channels, where a
/// GEMM's packing costs more than its register tile saves.
fn direct(c: &Conv2d) -> bool {
    c.channels <= DIRECT_CHANNELS
}

/// Input channels up to which convolutions run direct.
const DIRECT_CHANNELS: usize = 16;

/// `conv2d_1` on each sample of `xs` into `ys`, in the level's frame;
/// false (nothing written) where the level has no vector kernel for `c`.
fn each_direct<S: Scalar>(c: &Conv2d, xs: &[S], w: &[S], ys: &mut [S]) -> bool {
    crate::isa::with_isa(
        #[inline(always)]
        |isa| {
            for (xs, ys) in xs.chunks_exact(c.input_len()).zip(ys.chunks_exact_mut(c.output_len())) {
                if !S::conv2d_1(isa, c, xs, w, ys) {
                    return false;
                }
            }
            true
        },
    )
}

/// The convolution whose output is `c`'s input gradient: the gradient
/// convolved with `c`'s weights flipped in both directions, input and
/// output channels swapped, and the padding that reaches every input
/// position (`kernel - 1 - padding`). Unit strides and dilations only.
fn transposed(c: &Conv2d) -> Option<Conv2d> {
    let unit = c.stride_h == 1 && c.stride_w == 1 && c.dilation_h == 1 && c.dilation_w == 1;
    // Built only when it exists: a padding past the kernel would underflow.
    (unit && c.pad_top < c.kernel_h && c.pad_left < c.kernel_w).then(|| Conv2d {
        channels: c.out_channels,
        height: c.out_h,
        width: c.out_w,
        out_channels: c.channels,
        kernel_h: c.kernel_h,
        kernel_w: c.kernel_w,
        stride_h: 1,
        stride_w: 1,
        pad_top: c.kernel_h - 1 - c.pad_top,
        pad_left: c.kernel_w - 1 - c.pad_left,
        dilation_h: 1,
        dilation_w: 1,
        out_h: c.height,
        out_w: c.width,
    })
}

/// `flipped[ch, o, i, j] = w[o, ch, kh - 1 - i, kw - 1 - j]`: the weights of
/// [`transposed`].
fn flip<S: Scalar>(c: &Conv2d, w: &[S], flipped: &mut [S]) {
    let (kh, kw) = (c.kernel_h, c.kernel_w);
    for o in 0..c.out_channels {
        for ch in 0..c.channels {
            let from = &w[(o * c.channels + ch) * kh * kw..][..kh * kw];
            let to = &mut flipped[(ch * c.out_channels + o) * kh * kw..][..kh * kw];
            for (t, f) in to.iter_mut().zip(from.iter().rev()) {
                *t = *f;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::kernels::conv_cases::{geometries, naive, values};

    #[test]
    fn forward_matches_the_definition() {
        for c in geometries() {
            let batch = 2;
            let x = values(batch * c.input_len(), 1);
            let w = values(c.out_channels * c.patch_len(), 2);
            let mut y = vec![f64::NAN; batch * c.output_len()];
            conv2d(&c, batch, &x, &w, &mut y);
            for b in 0..batch {
                let expected = naive(&c, &x[b * c.input_len()..][..c.input_len()], &w);
                let got = &y[b * c.output_len()..][..c.output_len()];
                for (e, g) in expected.iter().zip(got) {
                    assert!((e - g).abs() < 1e-12, "{c:?}: {e} vs {g}");
                }
            }
        }
    }

    /// The gradients are the adjoints of the forward map: for random `g`,
    /// `<g, conv(x, w)>` equals `<dx, x>` and `<dw, w>` (the forward is
    /// linear in each operand).
    #[test]
    fn gradients_are_the_adjoints() {
        for c in geometries() {
            let batch = 3;
            let x = values(batch * c.input_len(), 3);
            let w = values(c.out_channels * c.patch_len(), 4);
            let g = values(batch * c.output_len(), 5);
            let mut y = vec![0.0; g.len()];
            conv2d(&c, batch, &x, &w, &mut y);
            let forward: f64 = y.iter().zip(&g).map(|(a, b)| a * b).sum();
            let mut dx = vec![f64::NAN; x.len()];
            conv2d_back_data(&c, batch, &g, &w, &mut dx);
            let by_x: f64 = dx.iter().zip(&x).map(|(a, b)| a * b).sum();
            let mut dw = vec![f64::NAN; w.len()];
            conv2d_back_weight(&c, batch, &g, &x, &mut dw);
            let by_w: f64 = dw.iter().zip(&w).map(|(a, b)| a * b).sum();
            assert!((forward - by_x).abs() < 1e-10, "{c:?}: data gradient {forward} vs {by_x}");
            assert!((forward - by_w).abs() < 1e-10, "{c:?}: weight gradient {forward} vs {by_w}");
        }
    }
}
