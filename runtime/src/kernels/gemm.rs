//! The one door to a real matrix multiply: bounds-checked strided GEMM.

use crate::Scalar;

/// One operand of [`gemm`]: storage plus row and column strides.
fn last_index(rows: usize, cols: usize, rs: usize, cs: usize) -> usize {
    if rows == 0 || cols == 0 {
        0
    } else {
        (rows - 1) * rs + (cols - 1) * cs
    }
}

/// `c = alpha * a * b + beta * c` where `a` is `m x k`, `b` is `k x n`, `c`
/// is `m x n`, each given as a slice with a (row stride, column stride).
/// With `beta == 0`, `c` is overwritten without being read.
///
/// # Panics
/// If a stride reaches past the end of its slice (a caller bug).
///
/// # Example
/// ```
/// use chainrule::kernels::gemm;
/// let a = [1.0f32, 2.0, 3.0, 4.0]; // [[1, 2], [3, 4]]
/// let b = [1.0f32, 0.0, 0.0, 1.0]; // identity
/// let mut c = [0.0f32; 4];
/// gemm(2, 2, 2, 1.0, (&a, 2, 1), (&b, 2, 1), 0.0, (&mut c, 2, 1));
/// assert_eq!(c, a);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn gemm<S: Scalar>(
    m: usize,
    k: usize,
    n: usize,
    alpha: S,
    a: (&[S], usize, usize),
    b: (&[S], usize, usize),
    beta: S,
    c: (&mut [S], usize, usize),
) {
    let (a, rsa, csa) = a;
    let (b, rsb, csb) = b;
    let (c, rsc, csc) = c;
    if m == 0 || n == 0 {
        return;
    }
    assert!(
        k == 0 || last_index(m, k, rsa, csa) < a.len(),
        "gemm: a too short"
    );
    assert!(
        k == 0 || last_index(k, n, rsb, csb) < b.len(),
        "gemm: b too short"
    );
    assert!(last_index(m, n, rsc, csc) < c.len(), "gemm: c too short");
    // SAFETY: the assertions above keep every accessed index in bounds, and
    // `c` is a unique borrow, so it cannot alias `a` or `b`.
    unsafe {
        S::gemm_raw(
            m,
            k,
            n,
            alpha,
            a.as_ptr(),
            rsa as isize,
            csa as isize,
            b.as_ptr(),
            rsb as isize,
            csb as isize,
            beta,
            c.as_mut_ptr(),
            rsc as isize,
            csc as isize,
        )
    }
}
