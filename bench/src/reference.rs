//! The "as good as hand-written" reference for W1: the same network,
//! 16 -> 32 tanh -> 32 tanh -> 4, written by hand on nalgebra's fixed-size
//! matrices, reading the same flat parameter layout. `tanh` is passed in, so
//! the comparison can use the same elementwise function as chainrule.
//! Inlined, so that inside a frame of `isa::with_isa` it is compiled for
//! that instruction set, as chainrule's generated code is.

use nalgebra::{SMatrixView, SVector};

#[inline(always)]
pub fn w1(params: &[f32], x: &[f32; 16], tanh: impl Fn(f32) -> f32) -> [f32; 4] {
    // Row-major [out, in] weights are column-major [in, out] matrices.
    let w0 = SMatrixView::<f32, 16, 32>::from_slice(&params[0..512]);
    let b0 = SVector::<f32, 32>::from_column_slice(&params[512..544]);
    let w1 = SMatrixView::<f32, 32, 32>::from_slice(&params[544..1568]);
    let b1 = SVector::<f32, 32>::from_column_slice(&params[1568..1600]);
    let w2 = SMatrixView::<f32, 32, 4>::from_slice(&params[1600..1728]);
    let b2 = SVector::<f32, 4>::from_column_slice(&params[1728..1732]);
    let x = SVector::<f32, 16>::from_column_slice(x);
    let h0 = (w0.tr_mul(&x) + b0).map(&tanh);
    let h1 = (w1.tr_mul(&h0) + b1).map(&tanh);
    let y = w2.tr_mul(&h1) + b2;
    [y[0], y[1], y[2], y[3]]
}

/// W2 and W2b trained by hand, as a user could write them in an afternoon:
/// the 784-128-10 ReLU network, softmax cross-entropy, SGD. Parameters in
/// chainrule's layout: `W1` `[128, 784]`, `b1`, `W2` `[10, 128]`, `b2`.
pub mod w2 {
    use nalgebra::{SMatrixView, SMatrixViewMut, SVector};

    const IN: usize = 784;
    const HID: usize = 128;
    const OUT: usize = 10;

    /// `c = alpha a b + beta c` on row-major or transposed slices through
    /// matrixmultiply: `(slice, row stride, column stride)`.
    #[allow(clippy::too_many_arguments)]
    fn sgemm(
        m: usize,
        k: usize,
        n: usize,
        alpha: f32,
        a: (&[f32], isize, isize),
        b: (&[f32], isize, isize),
        beta: f32,
        c: &mut [f32],
        rsc: usize,
    ) {
        assert!(a.0.len() >= m * k && b.0.len() >= k * n && c.len() >= (m - 1) * rsc + n);
        // SAFETY: the strides address m x k, k x n and m x n matrices inside
        // the slices, as asserted.
        unsafe {
            matrixmultiply::sgemm(
                m,
                k,
                n,
                alpha,
                a.0.as_ptr(),
                a.1,
                a.2,
                b.0.as_ptr(),
                b.1,
                b.2,
                beta,
                c.as_mut_ptr(),
                rsc as isize,
                1,
            )
        }
    }

    /// Softmax cross-entropy of each row of `logits` in place: the rows
    /// become `(p - onehot) / batch`, the gradient; returns the mean loss.
    fn softmax_cross_entropy(logits: &mut [f32], targets: &[usize]) -> f32 {
        let scale = 1.0 / targets.len() as f32;
        let mut loss = 0.0;
        for (row, &t) in logits.chunks_exact_mut(OUT).zip(targets) {
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let mut sum = 0.0;
            for v in row.iter_mut() {
                *v = (*v - max).exp();
                sum += *v;
            }
            loss += sum.ln() - row[t].ln();
            for (j, v) in row.iter_mut().enumerate() {
                *v = (*v / sum - f32::from(j == t)) * scale;
            }
        }
        loss * scale
    }

    /// A batch of any size, every product through matrixmultiply into
    /// buffers made once, the update fused into the weight-gradient
    /// products (`beta = 1`, `alpha = -lr`, straight into the weights).
    pub struct Batched {
        h: Vec<f32>,
        logits: Vec<f32>,
        dh: Vec<f32>,
    }

    impl Batched {
        pub fn new(batch: usize) -> Self {
            Batched { h: vec![0.0; batch * HID], logits: vec![0.0; batch * OUT], dh: vec![0.0; batch * HID] }
        }

        /// One SGD step on the rows of `x` (`[batch, 784]`); returns the loss.
        pub fn step(&mut self, params: &mut [f32], x: &[f32], targets: &[usize], lr: f32) -> f32 {
            let b = targets.len();
            let (w1, rest) = params.split_at_mut(HID * IN);
            let (b1, rest) = rest.split_at_mut(HID);
            let (w2, b2) = rest.split_at_mut(OUT * HID);
            let (h, logits, dh) =
                (&mut self.h[..b * HID], &mut self.logits[..b * OUT], &mut self.dh[..b * HID]);
            // h = relu(x W1^T + b1)
            sgemm(b, IN, HID, 1.0, (x, IN as isize, 1), (w1, 1, IN as isize), 0.0, h, HID);
            for row in h.chunks_exact_mut(HID) {
                row.iter_mut().zip(b1.iter()).for_each(|(v, bias)| *v = (*v + bias).max(0.0));
            }
            // logits = h W2^T + b2, then their gradient in place
            sgemm(b, HID, OUT, 1.0, (h, HID as isize, 1), (w2, 1, HID as isize), 0.0, logits, OUT);
            for row in logits.chunks_exact_mut(OUT) {
                row.iter_mut().zip(b2.iter()).for_each(|(v, bias)| *v += bias);
            }
            let loss = softmax_cross_entropy(logits, targets);
            // dh = dlogits W2, through the ReLU (before W2 changes)
            sgemm(b, OUT, HID, 1.0, (logits, OUT as isize, 1), (w2, HID as isize, 1), 0.0, dh, HID);
            dh.iter_mut().zip(h.iter()).for_each(|(d, &v)| *d = if v > 0.0 { *d } else { 0.0 });
            // W2 -= lr dlogits^T h, b2 -= lr sum(dlogits)
            sgemm(OUT, b, HID, -lr, (logits, 1, OUT as isize), (h, HID as isize, 1), 1.0, w2, HID);
            for row in logits.chunks_exact(OUT) {
                b2.iter_mut().zip(row).for_each(|(bias, g)| *bias -= lr * g);
            }
            // W1 -= lr dh^T x, b1 -= lr sum(dh)
            sgemm(HID, b, IN, -lr, (dh, 1, HID as isize), (x, IN as isize, 1), 1.0, w1, IN);
            for row in dh.chunks_exact(HID) {
                b1.iter_mut().zip(row).for_each(|(bias, g)| *bias -= lr * g);
            }
            loss
        }
    }

    /// Batch 1 on nalgebra's fixed-size vectors and views of the
    /// parameters (a row-major `[out, in]` weight is a column-major
    /// `[in, out]` matrix), the update a rank-one `ger` into the weights.
    pub fn step_one(params: &mut [f32], x: &[f32; IN], target: usize, lr: f32) -> f32 {
        let (w1, rest) = params.split_at_mut(HID * IN);
        let (b1, rest) = rest.split_at_mut(HID);
        let (w2, b2) = rest.split_at_mut(OUT * HID);
        let x = SVector::<f32, IN>::from_column_slice(x);
        let h = (SMatrixView::<f32, IN, HID>::from_slice(w1).tr_mul(&x)
            + SVector::<f32, HID>::from_column_slice(b1))
        .map(|v| v.max(0.0));
        let mut logits: [f32; OUT] = (SMatrixView::<f32, HID, OUT>::from_slice(w2).tr_mul(&h)
            + SVector::<f32, OUT>::from_column_slice(b2))
        .into();
        let loss = softmax_cross_entropy(&mut logits, &[target]);
        let dlogits = SVector::<f32, OUT>::from(logits);
        let mut w2 = SMatrixViewMut::<f32, HID, OUT>::from_slice(w2);
        let dh = (&w2 * dlogits).zip_map(&h, |d, v| if v > 0.0 { d } else { 0.0 });
        w2.ger(-lr, &h, &dlogits, 1.0);
        b2.iter_mut().zip(dlogits.iter()).for_each(|(bias, g)| *bias -= lr * g);
        SMatrixViewMut::<f32, IN, HID>::from_slice(w1).ger(-lr, &x, &dh, 1.0);
        b1.iter_mut().zip(dh.iter()).for_each(|(bias, g)| *bias -= lr * g);
        loss
    }
}
