//! The time loop of a recurrent layer, forward and backward; the compiler
//! supplies only the cell: one step's update of every unit, as a closure
//! (differentiated symbolically for the backward pass). Sizes are const
//! parameters, so the per-step values are fixed-size local arrays the
//! compiler can keep in registers, and the closure's loop over units
//! vectorizes. Needs neither `std` nor `alloc`.
//!
//! Per sample, the forward pass keeps for every step a record of `C + G`
//! values: the new carries (hidden state first, then an LSTM's cell
//! state), then `hw_t = h_{t-1} W_hh^T + b_hh`. `H` is the hidden size,
//! `G` the values of all gates (`gates * H`), `C` of all carries.

use super::matvec::linear_1;
use crate::Scalar;

/// Runs a recurrent cell over `steps` steps of each of `batch` samples.
///
/// `xw` holds each step's input projections `x_t W_ih^T` (`[batch, steps,
/// G]`), `w_hh` is `[G, H]`, the biases `[G]`. Each step computes `hw_t`,
/// then calls `cell(x + b_ih, hw, previous carries, new carries)`.
/// The carries start at zero. Records go to `out` (`[batch, steps, C + G]`).
///
/// # Example
/// ```
/// // h_t = tanh(x_t + h_{t-1} w + b): one unit, one gate, one carry.
/// let (xw, w, b) = ([0.5f32, -1.0], [2.0f32], [0.1f32]);
/// let mut out = [0.0f32; 4];
/// chainrule::kernels::recur::<f32, 1, 1, 1>(2, 1, &xw, &w, &[0.0], &b, &mut out, |x, hw, _, new| {
///     new[0] = (x[0] + hw[0]).tanh();
/// });
/// let h0 = (0.5f32 + 0.1).tanh();
/// let hw1 = h0 * 2.0 + 0.1;
/// assert_eq!(out, [h0, 0.1, (-1.0 + hw1).tanh(), hw1]);
/// ```
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn recur<S: Scalar, const H: usize, const G: usize, const C: usize>(
    steps: usize,
    batch: usize,
    xw: &[S],
    w_hh: &[S],
    b_ih: &[S],
    b_hh: &[S],
    out: &mut [S],
    cell: impl Fn(&[S; G], &[S; G], &[S; C], &mut [S; C]) + Sync,
) {
    let record = C + G;
    assert!(
        C >= H && xw.len() >= batch * steps * G && w_hh.len() >= G * H && out.len() >= batch * steps * record,
        "recur: operands too short for {steps} steps of batch {batch}"
    );
    let (b_ih, b_hh) = (gates::<S, G>(b_ih), gates::<S, G>(b_hh));
    // Samples over threads: each sample's steps are its own.
    let sample = steps * record;
    // Each part runs in the frame of the instruction-set level: the cell's
    // multiply-adds are fused only where compiled with the level's features
    // (elsewhere a fused multiply-add is a library call).
    crate::threads::ranges_mut(&mut out[..batch * sample], sample, sample, &|range, out| {
        crate::isa::with_isa(
            #[inline(always)]
            |_| {
                let xs = &xw[range.start / sample * steps * G..];
                for (xs, records) in xs.chunks_exact(steps * G).zip(out.chunks_exact_mut(sample)) {
                    let mut prev = [S::ZERO; C];
                    for (t, (x, rec)) in xs.chunks_exact(G).zip(records.chunks_exact_mut(record)).enumerate()
                    {
                        // The recurrent projection; from a zero state it is the bias.
                        let mut hw = *b_hh;
                        if t > 0 {
                            let h = prev.first_chunk::<H>().expect("the hidden state comes first");
                            linear_1::<S, H, G>(h, w_hh, &mut hw);
                            hw.iter_mut().zip(b_hh).for_each(|(v, b)| *v += *b);
                        }
                        let mut xb = [S::ZERO; G];
                        xb.iter_mut().zip(x).zip(b_ih).for_each(|((o, x), b)| *o = *x + *b);
                        let mut new = [S::ZERO; C];
                        cell(&xb, &hw, &prev, &mut new);
                        rec[..C].copy_from_slice(&new);
                        rec[C..].copy_from_slice(&hw);
                        prev = new;
                    }
                }
            },
        )
    });
}

/// Backpropagation through time for [`recur`]: walks each sample's steps
/// backwards. `up` is the gradient of the records (`[batch, steps, C +
/// G]`), `rec` the records themselves. Each step calls `cell(x + b_ih,
/// hw, previous carries, gradient of the new carries, dx, dh, gradient of
/// the previous carries)` to get the gradients of the gate inputs from `x`
/// and from `h`; the upstream gradient of the kept `hw` adds to `dh`, and
/// `dh W_hh` flows to the previous hidden state. Writes `[dx, dh]` per
/// step into `back` (`[batch, steps, 2 G]`).
#[inline(always)]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
pub fn recur_back<S: Scalar, const H: usize, const G: usize, const C: usize>(
    steps: usize,
    batch: usize,
    up: &[S],
    xw: &[S],
    w_hh: &[S],
    b_ih: &[S],
    rec: &[S],
    back: &mut [S],
    cell: impl Fn(&[S; G], &[S; G], &[S; C], &[S; C], &mut [S; G], &mut [S; G], &mut [S; C]) + Sync,
) {
    let record = C + G;
    assert!(
        C >= H
            && up.len() >= batch * steps * record
            && rec.len() >= batch * steps * record
            && xw.len() >= batch * steps * G
            && w_hh.len() >= G * H
            && back.len() >= batch * steps * 2 * G,
        "recur_back: operands too short for {steps} steps of batch {batch}"
    );
    let b_ih = gates::<S, G>(b_ih);
    let (w_rows, _) = w_hh[..G * H].as_chunks::<H>();
    let (record_len, back_len) = (steps * record, steps * 2 * G);
    // Samples over threads, as in the forward pass.
    crate::threads::ranges_mut(&mut back[..batch * back_len], back_len, back_len, &|range, back| {
        crate::isa::with_isa(
            #[inline(always)]
            |_| {
                let first = range.start / back_len;
                for (i, backs) in back.chunks_exact_mut(back_len).enumerate() {
                    let b = first + i;
                    let (ups, recs) =
                        (&up[b * record_len..][..record_len], &rec[b * record_len..][..record_len]);
                    let xs = &xw[b * steps * G..][..steps * G];
                    // The gradient of the carries, sent back from the step after.
                    let mut carry = [S::ZERO; C];
                    for t in (0..steps).rev() {
                        let hw = gates::<S, G>(&recs[t * record + C..]);
                        let mut prev = [S::ZERO; C];
                        if t > 0 {
                            prev.copy_from_slice(&recs[(t - 1) * record..][..C]);
                        }
                        let u = &ups[t * record..][..record];
                        let mut xb = [S::ZERO; G];
                        xb.iter_mut().zip(&xs[t * G..][..G]).zip(b_ih).for_each(|((o, x), b)| *o = *x + *b);
                        let mut dnew = carry;
                        dnew.iter_mut().zip(&u[..C]).for_each(|(d, u)| *d += *u);
                        let (mut dx, mut dh, mut dprev) = ([S::ZERO; G], [S::ZERO; G], [S::ZERO; C]);
                        cell(&xb, hw, &prev, &dnew, &mut dx, &mut dh, &mut dprev);
                        dh.iter_mut().zip(&u[C..]).for_each(|(d, u)| *d += *u);
                        let step = &mut backs[t * 2 * G..][..2 * G];
                        step[..G].copy_from_slice(&dx);
                        step[G..].copy_from_slice(&dh);
                        carry = dprev;
                        // Through the recurrent projection: d h_{t-1} += dh W_hh, a
                        // sum of rows of W_hh in a fixed-size accumulator.
                        if t > 0 {
                            let mut acc = [S::ZERO; H];
                            for (g, row) in dh.iter().zip(w_rows) {
                                acc.iter_mut().zip(row).for_each(|(a, v)| *a += *g * *v);
                            }
                            carry.iter_mut().zip(&acc).for_each(|(c, a)| *c += *a);
                        }
                    }
                }
            },
        )
    });
}

/// A recurrent layer on one sample from its planned weights
/// (`chainrule_spec::plan::Derivation::Gates`): per step, every gate's
/// input over `[x_t; h]` in one input-major product into `CP` accumulators
/// (the bias row their start), then `cell(gates, previous carries, new
/// carries)`. `I` inputs, `H` hidden units, `IH = I + H`, `C` carried
/// values (the hidden state first). The carries start from `carries` and end in it (zeros for a
/// whole sequence, the kept state for a stream). With `sequence`, every
/// step's hidden state goes to `out` (`steps * H` values), otherwise the
/// last one (`H`). Call it with the level [`crate::isa::with_isa`] passes.
///
/// # Example
/// ```
/// use chainrule::isa::Isa;
/// // h_t = tanh(x_t w + h_{t-1} u + b), one unit: rows x, h, bias.
/// let plan = [0.5f32, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
///             2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
///             0.1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
/// let mut carries = [0.0f32];
/// let mut out = [0.0f32; 2];
/// chainrule::kernels::recur_t::<f32, 1, 1, 2, 8, 1>(Isa::Portable, 2, &[1.0, -1.0], &plan, &mut carries, &mut out, true,
///     |gates, _, new| new[0] = gates[0].tanh());
/// let h0 = (0.5f32 + 0.1).tanh();
/// assert_eq!(out, [h0, (-0.5 + 2.0 * h0 + 0.1).tanh()]);
/// assert_eq!(carries[0], out[1]);
/// ```
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn recur_t<
    S: Scalar,
    const I: usize,
    const H: usize,
    const IH: usize,
    const CP: usize,
    const C: usize,
>(
    isa: crate::isa::Isa,
    steps: usize,
    x: &[S],
    plan: &[S],
    carries: &mut [S; C],
    out: &mut [S],
    sequence: bool,
    mut cell: impl FnMut(&[S; CP], &[S; C], &mut [S; C]),
) {
    assert!(
        C >= H
            && x.len() >= steps * I
            && plan.len() >= (I + H + 1) * CP
            && out.len() >= if sequence { steps * H } else { H },
        "recur_t: operands too short for {steps} steps"
    );
    let (input_rows, rest) = plan[..(I + H + 1) * CP].split_at(I * CP);
    let (state_rows, bias) = rest.split_at(H * CP);
    let bias = bias.first_chunk::<CP>().expect("checked above");
    let mut prev = *carries;
    for (t, xt) in x[..steps * I].chunks_exact(I).enumerate() {
        let xt = xt.first_chunk::<I>().expect("chunks of I");
        let h = prev.first_chunk::<H>().expect("the hidden state comes first");
        let gates = S::accumulate::<I, CP>(isa, bias, xt, input_rows);
        let gates = S::accumulate::<H, CP>(isa, &gates, h, state_rows);
        let mut new = [S::ZERO; C];
        cell(&gates, &prev, &mut new);
        if sequence {
            out[t * H..][..H].copy_from_slice(&new[..H]);
        }
        prev = new;
    }
    if !sequence {
        out[..H].copy_from_slice(&prev[..H]);
    }
    *carries = prev;
}

/// The first `G` values of `values` as an array (checked by the callers' asserts).
#[inline(always)]
fn gates<S: Scalar, const G: usize>(values: &[S]) -> &[S; G] {
    values.first_chunk::<G>().expect("the caller checked the length")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-unit tanh RNN over three steps, forward and backward, against
    /// the recurrence written out.
    #[test]
    fn an_rnn_unit_by_hand() {
        let (xw, w, b_ih, b_hh) = ([0.3f64, -0.2, 0.5], [0.7f64], [0.1f64], [-0.05f64]);
        let mut out = [0.0f64; 6];
        let step =
            |x: &[f64; 1], hw: &[f64; 1], _: &[f64; 1], new: &mut [f64; 1]| new[0] = (x[0] + hw[0]).tanh();
        recur::<f64, 1, 1, 1>(3, 1, &xw, &w, &b_ih, &b_hh, &mut out, step);
        let mut h = 0.0f64;
        for t in 0..3 {
            let hw = h * 0.7 - 0.05;
            h = (xw[t] + 0.1 + hw).tanh();
            assert_eq!((out[2 * t], out[2 * t + 1]), (h, hw));
        }
        // d(sum of hidden states)/d(gate inputs), by the cell's derivative.
        let up = [1.0, 0.0, 1.0, 0.0, 1.0, 0.0];
        let mut back = [0.0f64; 6];
        let cell_back = |x: &[f64; 1],
                         hw: &[f64; 1],
                         _: &[f64; 1],
                         dnew: &[f64; 1],
                         dx: &mut [f64; 1],
                         dh: &mut [f64; 1],
                         dprev: &mut [f64; 1]| {
            let y = (x[0] + hw[0]).tanh();
            dx[0] = dnew[0] * (1.0 - y * y);
            dh[0] = dx[0];
            dprev[0] = 0.0;
        };
        recur_back::<f64, 1, 1, 1>(3, 1, &up, &xw, &w, &b_ih, &out, &mut back, cell_back);
        let d2 = 1.0 - out[4] * out[4];
        let d1 = (1.0 + d2 * 0.7) * (1.0 - out[2] * out[2]);
        assert!((back[4] - d2).abs() < 1e-15 && (back[2] - d1).abs() < 1e-15);
        assert_eq!(back[4], back[5], "the x and h gate inputs enter the sum alike");
    }
}
