//! 2-D convolution of one sample, directly: for each output channel and
//! each tap of the kernel, a scaled input row added into an output row, the
//! rows' overlap with the padding clipped once per tap. No column matrix,
//! no packing, so it needs neither `std` nor `alloc`; the geometry is a
//! constant where generated code calls it, so the loops are fixed-size.

use super::dense_t::mul_add;
use crate::Scalar;
use crate::isa::Isa;
use chainrule_spec::Conv2d;

/// Rows of output accumulated in registers at a time, per output channel.
const TILE: usize = 64;

/// `y = x * w` (cross-correlation, no bias) for one sample `x` of
/// `[channels, height, width]`, weights `[out_channels, channels, kh, kw]`.
///
/// # Example
/// ```
/// use chainrule::isa::Isa;
/// use chainrule::kernels::{Conv2d, conv2d_1};
/// let c = Conv2d { channels: 1, height: 1, width: 4, out_channels: 1, kernel_h: 1, kernel_w: 2,
///                  stride_h: 1, stride_w: 1, pad_top: 0, pad_left: 0, dilation_h: 1, dilation_w: 1,
///                  out_h: 1, out_w: 3 };
/// let mut y = [0.0f32; 3];
/// conv2d_1(Isa::Portable, &c, &[1.0, 2.0, 3.0, 4.0], &[1.0, 10.0], &mut y);
/// assert_eq!(y, [21.0, 32.0, 43.0]);
/// ```
#[inline(always)]
pub fn conv2d_1<S: Scalar>(isa: Isa, c: &Conv2d, x: &[S], w: &[S], y: &mut [S]) {
    assert!(
        x.len() >= c.input_len() && w.len() >= c.out_channels * c.patch_len() && y.len() >= c.output_len(),
        "conv2d_1: operand too short for {c:?}"
    );
    let (plane, out_plane) = (c.height * c.width, c.positions());
    // Bands of whole rows when rows are short, pieces of one row otherwise,
    // each accumulated in a local array.
    let (band_rows, band_cols) = if c.out_w <= TILE { (TILE / c.out_w, c.out_w) } else { (1, TILE) };
    for (oc, out) in y[..c.output_len()].chunks_exact_mut(out_plane).enumerate() {
        let kernels = &w[oc * c.patch_len()..][..c.patch_len()];
        for band in (0..c.out_h).step_by(band_rows) {
            let rows = band_rows.min(c.out_h - band);
            for first in (0..c.out_w).step_by(band_cols) {
                let cols = band_cols.min(c.out_w - first);
                let mut acc = [S::ZERO; TILE];
                for (ch, taps) in kernels.chunks_exact(c.kernel_h * c.kernel_w).enumerate() {
                    let input = &x[ch * plane..][..plane];
                    for ki in 0..c.kernel_h {
                        let dy = (ki * c.dilation_h) as isize - c.pad_top as isize;
                        let (y_lo, y_hi) = c.valid_rows(dy);
                        for kj in 0..c.kernel_w {
                            let weight = taps[ki * c.kernel_w + kj];
                            let dx = (kj * c.dilation_w) as isize - c.pad_left as isize;
                            let (x_lo, x_hi) = c.valid_columns(dx);
                            let (x_lo, x_hi) = (x_lo.max(first), x_hi.min(first + cols));
                            for oy in y_lo.max(band)..y_hi.min(band + rows) {
                                let iy = ((oy * c.stride_h) as isize + dy) as usize;
                                let row = &input[iy * c.width..][..c.width];
                                let acc_row = &mut acc[(oy - band) * cols..][..cols];
                                if c.stride_w == 1 && x_lo < x_hi {
                                    let start = (x_lo as isize + dx) as usize;
                                    let span = x_hi - x_lo;
                                    let inputs = &row[start..][..span];
                                    for (a, &v) in acc_row[x_lo - first..][..span].iter_mut().zip(inputs) {
                                        *a = mul_add(isa, weight, v, *a);
                                    }
                                } else {
                                    for ox in x_lo..x_hi {
                                        let ix = ((ox * c.stride_w) as isize + dx) as usize;
                                        let a = &mut acc_row[ox - first];
                                        *a = mul_add(isa, weight, row[ix], *a);
                                    }
                                }
                            }
                        }
                    }
                }
                for r in 0..rows {
                    out[(band + r) * c.out_w + first..][..cols].copy_from_slice(&acc[r * cols..][..cols]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against the definition, for strides, padding, dilation and rows
    /// wider than a band, on every level this CPU runs.
    #[test]
    fn matches_the_definition() {
        let base = Conv2d {
            channels: 2,
            height: 5,
            width: 6,
            out_channels: 3,
            kernel_h: 3,
            kernel_w: 2,
            stride_h: 1,
            stride_w: 1,
            pad_top: 0,
            pad_left: 0,
            dilation_h: 1,
            dilation_w: 1,
            out_h: 3,
            out_w: 5,
        };
        let geometries = [
            base,
            Conv2d { pad_top: 1, pad_left: 1, out_h: 5, out_w: 7, ..base },
            Conv2d { stride_h: 2, stride_w: 2, pad_top: 1, pad_left: 1, out_h: 3, out_w: 4, ..base },
            Conv2d { dilation_h: 2, dilation_w: 2, pad_top: 2, pad_left: 1, out_h: 5, out_w: 6, ..base },
            Conv2d { height: 3, width: 70, out_h: 1, out_w: 69, ..base },
        ];
        for c in geometries {
            let x: Vec<f64> = (0..c.input_len()).map(|i| ((i * 5 % 11) as f64 - 5.0) / 3.0).collect();
            let w: Vec<f64> =
                (0..c.out_channels * c.patch_len()).map(|i| ((i * 3 % 7) as f64 - 3.0) / 2.0).collect();
            let mut exact = vec![0.0; c.output_len()];
            for oc in 0..c.out_channels {
                for (oy, ox) in (0..c.out_h).flat_map(|oy| (0..c.out_w).map(move |ox| (oy, ox))) {
                    let mut sum = 0.0;
                    for ch in 0..c.channels {
                        for ki in 0..c.kernel_h {
                            for kj in 0..c.kernel_w {
                                let iy = (oy * c.stride_h + ki * c.dilation_h) as isize - c.pad_top as isize;
                                let ix = (ox * c.stride_w + kj * c.dilation_w) as isize - c.pad_left as isize;
                                if (0..c.height as isize).contains(&iy) && (0..c.width as isize).contains(&ix)
                                {
                                    let wi = ((oc * c.channels + ch) * c.kernel_h + ki) * c.kernel_w + kj;
                                    sum += w[wi] * x[(ch * c.height + iy as usize) * c.width + ix as usize];
                                }
                            }
                        }
                    }
                    exact[(oc * c.out_h + oy) * c.out_w + ox] = sum;
                }
            }
            for isa in Isa::ALL.into_iter().filter(|&isa| isa <= crate::isa::detected()) {
                let mut y = vec![f64::NAN; c.output_len()];
                conv2d_1(isa, &c, &x, &w, &mut y);
                for (a, b) in y.iter().zip(&exact) {
                    assert!((a - b).abs() < 1e-12, "{c:?} {isa:?}: {a} vs {b}");
                }
            }
        }
    }
}
