//! One step of a causal 1-D convolution in streaming inference: the
//! current input column and the `dilation * (kernel - 1)` before it, kept
//! in a ring in the network's stream buffer.

use crate::Scalar;

/// `out[o] = sum_{j, k} w[o, j, k] x(t - dilation (kernel - 1 - k))[j]`,
/// `w` in PyTorch's `[out, channels, kernel]` layout, then `x` joins the
/// past. `slot` is the layer's part of the stream buffer: the ring's
/// position (the oldest column's index, as a whole number: exact in
/// either float type for the lengths the compiler allows), then the past
/// columns; all zeros is an empty past, as a causal padding's zeros.
#[allow(clippy::too_many_arguments)]
pub fn conv_step<S: Scalar>(
    x: &[S],
    w: &[S],
    channels: usize,
    out_channels: usize,
    kernel: usize,
    dilation: usize,
    slot: &mut [S],
    out: &mut [S],
) {
    let reach = dilation * (kernel - 1);
    let (position, ring) = slot.split_at_mut(1);
    let oldest = if reach == 0 { 0 } else { position[0].as_f64() as usize % reach };
    // The input column `lag` steps back (0: the current one).
    let column = |lag: usize| -> &[S] {
        if lag == 0 {
            &x[..channels]
        } else {
            let at = (oldest + reach - lag) % reach;
            &ring[at * channels..][..channels]
        }
    };
    for (o, y) in out.iter_mut().enumerate().take(out_channels) {
        let mut sum = S::ZERO;
        for tap in 0..kernel {
            let past = column(dilation * (kernel - 1 - tap));
            for (j, &v) in past.iter().enumerate() {
                sum += w[(o * channels + j) * kernel + tap] * v;
            }
        }
        *y = sum;
    }
    if reach > 0 {
        ring[oldest * channels..][..channels].copy_from_slice(&x[..channels]);
        position[0] = S::of_f64(((oldest + 1) % reach) as f64);
    }
}
