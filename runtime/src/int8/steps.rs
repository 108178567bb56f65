//! The int8 steps besides dense layers: the input's quantization, tables,
//! max pooling, and the output's dequantization. They touch each code once
//! and run as plain loops on every level.

use chainrule_spec::Pool2d;
use chainrule_spec::quant::Quantization;

/// The codes of `x` (see [`Quantization::quantize`]; NaN reads as 0).
#[inline]
pub fn quantize(q: Quantization, x: &[f32], out: &mut [u8]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = q.quantize(v);
    }
}

/// The real values of `codes`.
#[inline]
pub fn dequantize(q: Quantization, codes: &[u8], out: &mut [f32]) {
    for (o, &c) in out.iter_mut().zip(codes) {
        *o = q.dequantize(c);
    }
}

/// An elementwise function as a table from input code to output code.
#[inline]
pub fn table(table: &[u8; 256], x: &[u8], out: &mut [u8]) {
    for (o, &c) in out.iter_mut().zip(x) {
        *o = table[usize::from(c)];
    }
}

/// Max pooling on codes (`[channels, height, width]`, without padding):
/// codes order as the values they stand for.
///
/// # Panics
/// If `x` or `out` is shorter than the geometry says.
#[inline]
pub fn max_pool2d(p: &Pool2d, x: &[u8], out: &mut [u8]) {
    let (h, w, oh, ow) = (p.height, p.width, p.out_h, p.out_w);
    assert!(x.len() >= p.input_len() && out.len() >= p.output_len());
    let windows_2x2 = (p.kernel_h, p.kernel_w, p.stride_h, p.stride_w) == (2, 2, 2, 2);
    for c in 0..p.channels {
        let plane = &x[c * h * w..][..h * w];
        let pooled = &mut out[c * oh * ow..][..oh * ow];
        for (r, row) in pooled.chunks_exact_mut(ow).enumerate() {
            if windows_2x2 {
                // The usual window, in pairs of whole rows: vectorizes.
                let (top, bottom) = (&plane[2 * r * w..][..2 * ow], &plane[(2 * r + 1) * w..][..2 * ow]);
                let pairs = top.chunks_exact(2).zip(bottom.chunks_exact(2));
                for (o, (a, b)) in row.iter_mut().zip(pairs) {
                    *o = a[0].max(a[1]).max(b[0].max(b[1]));
                }
                continue;
            }
            for (col, o) in row.iter_mut().enumerate() {
                let mut best = 0u8;
                for i in 0..p.kernel_h {
                    let window = &plane[(r * p.stride_h + i) * w + col * p.stride_w..][..p.kernel_w];
                    best = window.iter().fold(best, |m, &v| m.max(v));
                }
                *o = best;
            }
        }
    }
}

/// Average pooling on codes (`[channels, height, width]`, without
/// padding): each window's codes summed and divided by its size, rounded
/// to nearest, ties up. The average of codes is the code of the average
/// (one scale and zero point), so the output keeps the input's.
///
/// # Panics
/// If `x` or `out` is shorter than the geometry says.
#[inline]
pub fn avg_pool2d(p: &Pool2d, x: &[u8], out: &mut [u8]) {
    let (h, w, oh, ow) = (p.height, p.width, p.out_h, p.out_w);
    assert!(x.len() >= p.input_len() && out.len() >= p.output_len());
    let window = (p.kernel_h * p.kernel_w) as u32;
    for c in 0..p.channels {
        let plane = &x[c * h * w..][..h * w];
        for (r, row) in out[c * oh * ow..][..oh * ow].chunks_exact_mut(ow).enumerate() {
            for (col, o) in row.iter_mut().enumerate() {
                let mut sum = 0u32;
                for i in 0..p.kernel_h {
                    let codes = &plane[(r * p.stride_h + i) * w + col * p.stride_w..][..p.kernel_w];
                    sum += codes.iter().map(|&v| u32::from(v)).sum::<u32>();
                }
                *o = ((sum + window / 2) / window) as u8;
            }
        }
    }
}
