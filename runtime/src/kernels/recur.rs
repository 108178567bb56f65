//! The time loop of a recurrent layer, forward and backward; the compiler
//! supplies only the cell: one step's update of every unit, as a closure
//! (differentiated symbolically for the backward pass). Sizes are const
//! parameters, so the per-step values are fixed-size local arrays the
//! compiler can keep in registers, and the closure's loop over units
//! vectorizes. Needs neither `std` nor `alloc` (with `std`, the forward
//! pass uses a transposed copy of `W_hh` in the thread's scratch memory).
//!
//! Both passes walk time in the outer loop and samples in the inner one:
//! a step of one sample waits on that sample's previous step, so taking
//! the samples in turn at each step gives the processor independent work
//! to overlap (a sample at a time, every step waited on the last).
//!
//! Per sample, the forward pass keeps for every step a record of `C + T`
//! values: the new carries (hidden state first, then an LSTM's cell
//! state), then the tape, `T` values the cell saves for the backward pass
//! (its gate activations, so that they are not computed twice). `H` is
//! the hidden size, `G` the values of all gates (`gates * H`), `C` of all
//! carries.

use super::matvec::linear_1;
use crate::Scalar;

/// Runs a recurrent cell over `steps` steps of each of `batch` samples.
///
/// `xw` holds each step's input projections `x_t W_ih^T` (`[batch, steps,
/// G]`), `w_hh` is `[G, H]`, the biases `[G]`. Each step computes `hw_t =
/// h_{t-1} W_hh^T + b_hh`, then calls `cell(x + b_ih, hw, previous
/// carries, new carries, tape)`. The carries start at zero. Records go to
/// `out` (`[batch, steps, C + T]`).
///
/// # Example
/// ```
/// // h_t = tanh(x_t + h_{t-1} w + b): one unit, one gate, one carry;
/// // the tape keeps hw_t.
/// let (xw, w, b) = ([0.5f32, -1.0], [2.0f32], [0.1f32]);
/// let mut out = [0.0f32; 4];
/// chainrule::kernels::recur::<f32, 1, 1, 1, 1>(2, 1, &xw, &w, &[0.0], &b, &mut out, |x, hw, _, new, tape| {
///     new[0] = (x[0] + hw[0]).tanh();
///     tape[0] = hw[0];
/// });
/// let h0 = (0.5f32 + 0.1).tanh();
/// let hw1 = h0 * 2.0 + 0.1;
/// assert_eq!(out, [h0, 0.1, (-1.0 + hw1).tanh(), hw1]);
/// ```
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn recur<S: Scalar, const H: usize, const G: usize, const C: usize, const T: usize>(
    steps: usize,
    batch: usize,
    xw: &[S],
    w_hh: &[S],
    b_ih: &[S],
    b_hh: &[S],
    out: &mut [S],
    cell: impl Fn(&[S; G], &[S; G], &[S; C], &mut [S; C], &mut [S; T]) + Sync,
) {
    let record = C + T;
    assert!(
        C >= H && xw.len() >= batch * steps * G && w_hh.len() >= G * H && out.len() >= batch * steps * record,
        "recur: operands too short for {steps} steps of batch {batch}"
    );
    let (b_ih, b_hh) = (gates::<S, G>(b_ih), gates::<S, G>(b_hh));
    // The recurrent projection `b_hh + W_hh h` of each step. Input-major
    // (each unit of `h` broadcast over a row of all gates, no horizontal
    // sums) from a transposed copy of `W_hh` where the gates fill whole
    // vectors and there is scratch memory to copy into; otherwise dot
    // products along the rows of `W_hh`.
    #[cfg(feature = "std")]
    if G.is_multiple_of(8) {
        return S::with_scratch(H * G, |wt| {
            for (j, row) in w_hh[..G * H].chunks_exact(H).enumerate() {
                for (i, &v) in row.iter().enumerate() {
                    wt[i * G + j] = v;
                }
            }
            let wt = &*wt;
            time_loop::<S, H, G, C, T>(
                steps,
                batch,
                (xw, b_ih, b_hh),
                out,
                #[inline(always)]
                |isa, h| S::accumulate::<H, G>(isa, b_hh, h, wt),
                &cell,
            )
        });
    }
    time_loop::<S, H, G, C, T>(
        steps,
        batch,
        (xw, b_ih, b_hh),
        out,
        #[inline(always)]
        |_, h| {
            let mut hw = [S::ZERO; G];
            linear_1::<S, H, G>(h, w_hh, &mut hw);
            hw.iter_mut().zip(b_hh).for_each(|(v, b)| *v += *b);
            hw
        },
        &cell,
    )
}

/// The forward time loop of [`recur`], with the recurrent projection
/// `project(level, h)` (bias included).
#[inline(always)]
fn time_loop<S: Scalar, const H: usize, const G: usize, const C: usize, const T: usize>(
    steps: usize,
    batch: usize,
    (xw, b_ih, b_hh): (&[S], &[S; G], &[S; G]),
    out: &mut [S],
    project: impl Fn(crate::isa::Isa, &[S; H]) -> [S; G] + Sync,
    cell: &(impl Fn(&[S; G], &[S; G], &[S; C], &mut [S; C], &mut [S; T]) + Sync),
) {
    let record = C + T;
    // Samples over threads: each sample's steps are its own.
    let sample = steps * record;
    // Each part runs in the frame of the instruction-set level: the cell's
    // multiply-adds are fused only where compiled with the level's features
    // (elsewhere a fused multiply-add is a library call).
    crate::threads::ranges_mut(&mut out[..batch * sample], sample, sample, &|range, out| {
        crate::isa::with_isa(
            #[inline(always)]
            |isa| {
                let first = range.start / sample;
                // Step by step, every sample of the part at each step: one
                // sample's step waits on its previous one (the product, then
                // the cell), the next sample's does not, so the processor
                // overlaps them where a sample at a time would wait.
                for t in 0..steps {
                    for (i, records) in out.chunks_exact_mut(sample).enumerate() {
                        let x = &xw[((first + i) * steps + t) * G..][..G];
                        let (before, rest) = records.split_at_mut(t * record);
                        let mut prev = [S::ZERO; C];
                        // From a zero state the projection is the bias.
                        let mut hw = *b_hh;
                        if t > 0 {
                            prev.copy_from_slice(&before[(t - 1) * record..][..C]);
                            hw = project(isa, prev.first_chunk::<H>().expect("the hidden state comes first"));
                        }
                        let mut xb = [S::ZERO; G];
                        xb.iter_mut().zip(x).zip(b_ih).for_each(|((o, x), b)| *o = *x + *b);
                        let (mut new, mut tape) = ([S::ZERO; C], [S::ZERO; T]);
                        cell(&xb, &hw, &prev, &mut new, &mut tape);
                        rest[..C].copy_from_slice(&new);
                        rest[C..record].copy_from_slice(&tape);
                    }
                }
            },
        )
    });
}

/// Backpropagation through time for [`recur`]: walks each sample's steps
/// backwards. `up` is the gradient of the records (`[batch, steps, C +
/// T]`; of the carries only: the tape is the backward pass's own), `rec`
/// the records themselves. Each step calls `cell(x + b_ih, tape, previous
/// carries, gradient of the new carries, dx, dh, gradient of the previous
/// carries)` to get the gradients of the gate inputs from `x` and from
/// `h`; `dh W_hh` flows to the previous hidden state. Writes `[dx, dh]`
/// per step into `back` (`[batch, steps, 2 G]`), or with `shared` (a cell
/// whose `dx` and `dh` are the same) `dx` alone (`[batch, steps, G]`).
#[inline(always)]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
pub fn recur_back<S: Scalar, const H: usize, const G: usize, const C: usize, const T: usize>(
    steps: usize,
    batch: usize,
    shared: bool,
    up: &[S],
    xw: &[S],
    w_hh: &[S],
    b_ih: &[S],
    rec: &[S],
    back: &mut [S],
    cell: impl Fn(&[S; G], &[S; T], &[S; C], &[S; C], &mut [S; G], &mut [S; G], &mut [S; C]) + Sync,
) {
    let record = C + T;
    assert!(
        C >= H
            && up.len() >= batch * steps * record
            && rec.len() >= batch * steps * record
            && xw.len() >= batch * steps * G
            && w_hh.len() >= G * H
            && back.len() >= batch * steps * if shared { G } else { 2 * G },
        "recur_back: operands too short for {steps} steps of batch {batch}"
    );
    let b_ih = gates::<S, G>(b_ih);
    let kept = if shared { G } else { 2 * G };
    let (record_len, back_len) = (steps * record, steps * kept);
    // Samples over threads, as in the forward pass.
    crate::threads::ranges_mut(&mut back[..batch * back_len], back_len, back_len, &|range, back| {
        crate::isa::with_isa(
            #[inline(always)]
            |isa| {
                let first = range.start / back_len;
                // Groups of samples walk back step by step together, for
                // the same overlap as in the forward pass; each sample's
                // carry gradient (sent back from the step after) is kept.
                for (g, backs) in back.chunks_mut(GROUP * back_len).enumerate() {
                    let mut carries = [[S::ZERO; C]; GROUP];
                    for t in (0..steps).rev() {
                        for (i, (backs, carry)) in
                            backs.chunks_exact_mut(back_len).zip(&mut carries).enumerate()
                        {
                            let b = first + g * GROUP + i;
                            let recs = &rec[b * record_len..][..record_len];
                            let tape = gates::<S, T>(&recs[t * record + C..]);
                            let mut prev = [S::ZERO; C];
                            if t > 0 {
                                prev.copy_from_slice(&recs[(t - 1) * record..][..C]);
                            }
                            let u = &up[b * record_len + t * record..][..C];
                            let mut xb = [S::ZERO; G];
                            let x = &xw[(b * steps + t) * G..][..G];
                            xb.iter_mut().zip(x).zip(b_ih).for_each(|((o, x), b)| *o = *x + *b);
                            let mut dnew = *carry;
                            dnew.iter_mut().zip(u).for_each(|(d, u)| *d += *u);
                            let (mut dx, mut dh, mut dprev) = ([S::ZERO; G], [S::ZERO; G], [S::ZERO; C]);
                            cell(&xb, tape, &prev, &dnew, &mut dx, &mut dh, &mut dprev);
                            let step = &mut backs[t * kept..][..kept];
                            step[..G].copy_from_slice(&dx);
                            if !shared {
                                step[G..].copy_from_slice(&dh);
                            }
                            *carry = dprev;
                            // Through the recurrent projection: d h_{t-1} += dh W_hh,
                            // the rows of W_hh weighted by dh.
                            if t > 0 {
                                let acc = through_state::<S, H, G>(isa, &dh, w_hh);
                                carry.iter_mut().zip(&acc).for_each(|(c, a)| *c += *a);
                            }
                        }
                    }
                }
            },
        )
    });
}

/// Samples of one part that walk back through time together.
const GROUP: usize = 8;

/// `dh W_hh` (`[G]` by `[G, H]`): the gradient a step's gate inputs send
/// to the previous hidden state, on the level's input-major kernel when
/// its rows fill whole vectors.
#[inline(always)]
fn through_state<S: Scalar, const H: usize, const G: usize>(
    isa: crate::isa::Isa,
    dh: &[S; G],
    w_hh: &[S],
) -> [S; H] {
    if H.is_multiple_of(8) {
        S::accumulate::<G, H>(isa, &[S::ZERO; H], dh, w_hh)
    } else {
        super::dense_t::accumulate::<S, G, H>(isa, &[S::ZERO; H], dh, w_hh)
    }
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

/// The first `N` values of `values` as an array (checked by the callers' asserts).
#[inline(always)]
fn gates<S: Scalar, const N: usize>(values: &[S]) -> &[S; N] {
    values.first_chunk::<N>().expect("the caller checked the length")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-unit tanh RNN over three steps, forward and backward, against
    /// the recurrence written out; the tape keeps the activation, which
    /// the backward pass reads instead of computing it again.
    #[test]
    fn an_rnn_unit_by_hand() {
        let (xw, w, b_ih, b_hh) = ([0.3f64, -0.2, 0.5], [0.7f64], [0.1f64], [-0.05f64]);
        let mut out = [0.0f64; 6];
        let step = |x: &[f64; 1], hw: &[f64; 1], _: &[f64; 1], new: &mut [f64; 1], tape: &mut [f64; 1]| {
            tape[0] = (x[0] + hw[0]).tanh();
            new[0] = tape[0];
        };
        recur::<f64, 1, 1, 1, 1>(3, 1, &xw, &w, &b_ih, &b_hh, &mut out, step);
        let mut h = 0.0f64;
        for t in 0..3 {
            let hw = h * 0.7 - 0.05;
            h = (xw[t] + 0.1 + hw).tanh();
            assert_eq!((out[2 * t], out[2 * t + 1]), (h, h));
        }
        // d(sum of hidden states)/d(gate inputs), by the cell's derivative.
        // The tape's upstream gradient is not the backward pass's business.
        let up = [1.0, 9.0, 1.0, 9.0, 1.0, 9.0];
        let mut back = [0.0f64; 6];
        let cell_back = |_: &[f64; 1],
                         tape: &[f64; 1],
                         _: &[f64; 1],
                         dnew: &[f64; 1],
                         dx: &mut [f64; 1],
                         dh: &mut [f64; 1],
                         dprev: &mut [f64; 1]| {
            let y = tape[0];
            dx[0] = dnew[0] * (1.0 - y * y);
            dh[0] = dx[0];
            dprev[0] = 0.0;
        };
        recur_back::<f64, 1, 1, 1, 1>(3, 1, false, &up, &xw, &w, &b_ih, &out, &mut back, cell_back);
        let d2 = 1.0 - out[4] * out[4];
        let d1 = (1.0 + d2 * 0.7) * (1.0 - out[2] * out[2]);
        assert!((back[4] - d2).abs() < 1e-15 && (back[2] - d1).abs() < 1e-15);
        assert_eq!(back[4], back[5], "the x and h gate inputs enter the sum alike");
        // Kept once, the same values.
        let mut shared = [0.0f64; 3];
        recur_back::<f64, 1, 1, 1, 1>(3, 1, true, &up, &xw, &w, &b_ih, &out, &mut shared, cell_back);
        assert_eq!(shared, [back[0], back[2], back[4]]);
    }
}
