//! The element types a network can be declared over: `f32` (the default) and
//! `f64` (for gradient checks and when precision matters more than speed).

/// A floating-point element type of a network.
///
/// Everything nalgebra needs comes from [`nalgebra::RealField`]; this trait
/// adds conversions under names that cannot collide with the supertraits'
/// methods, and the entry point to a real GEMM for batched products.
pub trait Scalar: nalgebra::RealField + Copy + Default + core::fmt::Debug + 'static {
    /// Additive identity.
    const ZERO: Self;
    /// Multiplicative identity.
    const ONE: Self;

    /// True unless NaN or infinite.
    fn finite(self) -> bool;

    /// Converts from `f64`, rounding to nearest for `f32`.
    fn of_f64(value: f64) -> Self;

    /// Converts to `f64` without loss.
    fn as_f64(self) -> f64;

    /// `C = alpha * A * B + beta * C` on strided raw storage, as the
    /// `matrixmultiply` crate defines it. When `beta` is zero, `C` is not read.
    ///
    /// # Safety
    /// Every index `i * rs + j * cs` within the stated dimensions must lie
    /// inside the allocation behind the matching pointer; `c` must not alias
    /// `a` or `b`. [`crate::kernels::gemm`] checks this for slices.
    #[allow(clippy::too_many_arguments)]
    unsafe fn gemm_raw(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: *const Self,
        rsa: isize,
        csa: isize,
        b: *const Self,
        rsb: isize,
        csb: isize,
        beta: Self,
        c: *mut Self,
        rsc: isize,
        csc: isize,
    );
}

impl Scalar for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;

    fn finite(self) -> bool {
        self.is_finite()
    }

    fn of_f64(value: f64) -> Self {
        value as f32
    }

    fn as_f64(self) -> f64 {
        f64::from(self)
    }

    unsafe fn gemm_raw(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: *const Self,
        rsa: isize,
        csa: isize,
        b: *const Self,
        rsb: isize,
        csb: isize,
        beta: Self,
        c: *mut Self,
        rsc: isize,
        csc: isize,
    ) {
        // SAFETY: forwarded contract, see the trait method.
        unsafe {
            matrixmultiply::sgemm(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc)
        }
    }
}

impl Scalar for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;

    fn finite(self) -> bool {
        self.is_finite()
    }

    fn of_f64(value: f64) -> Self {
        value
    }

    fn as_f64(self) -> f64 {
        self
    }

    unsafe fn gemm_raw(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: *const Self,
        rsa: isize,
        csa: isize,
        b: *const Self,
        rsb: isize,
        csb: isize,
        beta: Self,
        c: *mut Self,
        rsc: isize,
        csc: isize,
    ) {
        // SAFETY: forwarded contract, see the trait method.
        unsafe {
            matrixmultiply::dgemm(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc)
        }
    }
}
