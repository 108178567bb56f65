//! Convolution geometries and the definition they are tested against,
//! shared by the batched kernels and the one-sample one.

use super::Conv2d;

/// The definition, one multiply-add at a time.
pub fn naive(c: &Conv2d, x: &[f64], w: &[f64]) -> Vec<f64> {
    let mut y = vec![0.0; c.output_len()];
    for o in 0..c.out_channels {
        for oy in 0..c.out_h {
            for ox in 0..c.out_w {
                let mut sum = 0.0;
                for ch in 0..c.channels {
                    for ki in 0..c.kernel_h {
                        for kj in 0..c.kernel_w {
                            let iy = (oy * c.stride_h + ki * c.dilation_h) as isize - c.pad_top as isize;
                            let ix = (ox * c.stride_w + kj * c.dilation_w) as isize - c.pad_left as isize;
                            if iy < 0 || ix < 0 || iy >= c.height as isize || ix >= c.width as isize {
                                continue;
                            }
                            let xv = x[(ch * c.height + iy as usize) * c.width + ix as usize];
                            sum += w[((o * c.channels + ch) * c.kernel_h + ki) * c.kernel_w + kj] * xv;
                        }
                    }
                }
                y[(o * c.out_h + oy) * c.out_w + ox] = sum;
            }
        }
    }
    y
}

pub fn values(n: usize, seed: u64) -> Vec<f64> {
    let mut state = seed;
    (0..n).map(|_| (crate::kernels::next_u64(&mut state) >> 11) as f64 / (1u64 << 53) as f64 - 0.5).collect()
}

pub fn geometries() -> Vec<Conv2d> {
    let base = Conv2d {
        channels: 2,
        height: 5,
        width: 6,
        out_channels: 3,
        kernel_h: 3,
        kernel_w: 3,
        stride_h: 1,
        stride_w: 1,
        pad_top: 0,
        pad_left: 0,
        dilation_h: 1,
        dilation_w: 1,
        out_h: 3,
        out_w: 4,
    };
    vec![
        base,
        Conv2d { pad_top: 1, pad_left: 1, out_h: 5, out_w: 6, ..base },
        Conv2d { stride_h: 2, stride_w: 2, pad_top: 1, pad_left: 1, out_h: 3, out_w: 3, ..base },
        Conv2d { dilation_h: 2, dilation_w: 2, pad_top: 2, pad_left: 1, out_h: 5, out_w: 4, ..base },
        Conv2d { kernel_h: 1, kernel_w: 1, out_h: 5, out_w: 6, ..base },
        Conv2d { kernel_h: 1, kernel_w: 1, stride_w: 2, out_h: 5, out_w: 3, ..base },
        Conv2d { kernel_h: 2, kernel_w: 4, stride_w: 3, pad_left: 2, out_h: 4, out_w: 3, ..base },
        Conv2d { height: 3, width: 70, kernel_w: 2, out_h: 1, out_w: 69, ..base },
        Conv2d { width: 12, kernel_w: 2, out_channels: 9, pad_left: 1, out_w: 13, ..base },
        Conv2d { width: 28, height: 4, out_channels: 11, pad_left: 1, out_w: 28, out_h: 2, ..base },
        Conv2d { width: 40, out_channels: 5, dilation_w: 2, pad_left: 2, out_w: 40, ..base },
        // A 1-D convolution: height 1.
        Conv2d { height: 1, kernel_h: 1, kernel_w: 5, pad_left: 2, out_h: 1, out_w: 6, ..base },
    ]
}
