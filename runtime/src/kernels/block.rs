//! Rectangular pieces of `[rows, cols]` per-sample values: a recurrent
//! layer's last hidden state or its hidden-state sequence out of all it
//! keeps per time step, the previous step's state (a block shifted down one
//! row, zeros first), or one half of a two-part gradient.

use crate::Scalar;

pub use chainrule_spec::Block;

/// Operand lengths for `batch` samples: too short is a compiler bug.
fn check(b: &Block, batch: usize, src: usize, dst: usize) {
    assert!(
        b.col_offset + b.cols <= b.src_cols
            && src >= batch * b.src_rows * b.src_cols
            && dst >= batch * b.rows * b.cols,
        "block: operand too short for {b:?} and batch {batch}"
    );
}

/// Copies the block out of each sample.
///
/// # Example
/// ```
/// use chainrule::kernels::{Block, block};
/// // The last row's first two columns of a 2x3 value.
/// let b = Block { src_rows: 2, src_cols: 3, row_offset: 1, col_offset: 0, rows: 1, cols: 2 };
/// let mut out = [0.0f32; 2];
/// block(&b, 1, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &mut out);
/// assert_eq!(out, [4.0, 5.0]);
/// ```
pub fn block<S: Scalar>(b: &Block, batch: usize, src: &[S], dst: &mut [S]) {
    check(b, batch, src.len(), dst.len());
    let (from, to) = (b.src_rows * b.src_cols, b.rows * b.cols);
    if to == 0 {
        return;
    }
    // Samples over threads: a sample's values were most likely made by the
    // thread that takes the same samples here (kernels split samples
    // alike), so they are copied from its own cache.
    crate::threads::ranges_mut(&mut dst[..batch * to], SPLIT.next_multiple_of(to), to, &|range, dst| {
        let src = &src[range.start / to * from..];
        for (s, d) in src.chunks_exact(from).zip(dst.chunks_exact_mut(to)) {
            for (r, out) in d.chunks_exact_mut(b.cols).enumerate() {
                match b.source_row(r) {
                    Some(row) => out.copy_from_slice(&s[row * b.src_cols + b.col_offset..][..b.cols]),
                    None => out.fill(S::ZERO),
                }
            }
        }
    });
}

/// Values written, at least, by each part of a split over threads.
const SPLIT: usize = 8 * 1024;

/// Gradient of [`block`]: the block's gradient in its place, zeros elsewhere.
pub fn block_back<S: Scalar>(b: &Block, batch: usize, g: &[S], dsrc: &mut [S]) {
    check(b, batch, dsrc.len(), g.len());
    let (from, to) = (b.src_rows * b.src_cols, b.rows * b.cols);
    if from == 0 {
        return;
    }
    if to == 0 {
        dsrc[..batch * from].fill(S::ZERO);
        return;
    }
    // Samples over threads, as in `block`.
    crate::threads::ranges_mut(
        &mut dsrc[..batch * from],
        SPLIT.next_multiple_of(from),
        from,
        &|range, dsrc| {
            let g = &g[range.start / from * to..];
            for (d, gs) in dsrc.chunks_exact_mut(from).zip(g.chunks_exact(to)) {
                d.fill(S::ZERO);
                for (r, row_grad) in gs.chunks_exact(b.cols).enumerate() {
                    if let Some(row) = b.source_row(r) {
                        d[row * b.src_cols + b.col_offset..][..b.cols].copy_from_slice(row_grad);
                    }
                }
            }
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A block shifted down one row (the previous time step's state) and
    /// its gradient: the adjoint identity `<g, block(x)> = <block_back(g), x>`.
    #[test]
    fn shifted_block_and_its_gradient() {
        let b = Block { src_rows: 3, src_cols: 4, row_offset: -1, col_offset: 1, rows: 3, cols: 2 };
        let x: Vec<f64> = (0..24).map(f64::from).collect();
        let mut y = vec![f64::NAN; 12];
        block(&b, 2, &x, &mut y);
        assert_eq!(&y[..6], &[0.0, 0.0, 1.0, 2.0, 5.0, 6.0]);
        let g: Vec<f64> = (0..12).map(|i| f64::from(i) * 0.5 - 2.0).collect();
        let mut dx = vec![f64::NAN; 24];
        block_back(&b, 2, &g, &mut dx);
        let forward: f64 = y.iter().zip(&g).map(|(a, b)| a * b).sum();
        let back: f64 = dx.iter().zip(&x).map(|(a, b)| a * b).sum();
        assert_eq!(forward, back);
    }
}
