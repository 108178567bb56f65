//! Token embeddings: each id's row of a `vocab x dim` table, and the
//! gradient of the table, each row the sum of the upstream rows of the
//! positions that read it.
//!
//! Batched generated code checks every id against the vocabulary before
//! any kernel runs and reports an out-of-range one as an error. Batch-1
//! inference has no error to return: there an id outside the table reads a
//! row of zeros, as a padding token would, and never memory past it.

use crate::Scalar;

/// `out[p, :] = table[ids[p], :]` for each of the `n` positions, a row
/// of zeros for an id of `vocab` or more.
///
/// # Example
/// ```
/// let table = [1.0f32, 2.0, 3.0, 4.0]; // 2 tokens, 2 values each
/// let mut out = [9.0f32; 6];
/// chainrule::kernels::embedding(3, 2, &[1, 0, 7], &table, &mut out);
/// assert_eq!(out, [3.0, 4.0, 1.0, 2.0, 0.0, 0.0]);
/// ```
pub fn embedding<S: Scalar>(n: usize, dim: usize, ids: &[u32], table: &[S], out: &mut [S]) {
    for (row, &id) in out[..n * dim].chunks_exact_mut(dim).zip(&ids[..n]) {
        let start = id as usize * dim;
        match table.get(start..start + dim) {
            Some(embedded) => row.copy_from_slice(embedded),
            None => row.fill(S::ZERO),
        }
    }
}

/// Gradient of [`embedding`] with respect to the table: `grad[v, :]` is
/// the sum of `up[p, :]` over the positions `p` whose id is `v`; rows no
/// position reads are zero.
///
/// # Example
/// ```
/// let mut grad = [9.0f32; 4];
/// chainrule::kernels::embedding_back(3, 2, &[1, 0, 1], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &mut grad);
/// assert_eq!(grad, [3.0, 4.0, 6.0, 8.0]);
/// ```
pub fn embedding_back<S: Scalar>(n: usize, dim: usize, ids: &[u32], up: &[S], grad: &mut [S]) {
    grad.fill(S::ZERO);
    for (row, &id) in up[..n * dim].chunks_exact(dim).zip(&ids[..n]) {
        let start = id as usize * dim;
        if let Some(target) = grad.get_mut(start..start + dim) {
            target.iter_mut().zip(row).for_each(|(g, &u)| *g += u);
        }
    }
}
