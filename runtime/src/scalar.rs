//! The element types a network can be declared over: `f32` (the default) and
//! `f64` (for gradient checks and when precision matters more than speed).

/// A floating-point element type of a network.
///
/// Everything nalgebra needs comes from [`nalgebra::RealField`]; this trait
/// adds constants and conversions under names that cannot collide with the
/// supertraits' methods, and the entry point to the GEMM kernel.
pub trait Scalar: nalgebra::RealField + Copy + Default + core::fmt::Debug + 'static {
    /// Additive identity.
    const ZERO: Self;
    /// Multiplicative identity.
    const ONE: Self;

    /// True unless NaN or infinite.
    fn finite(self) -> bool;

    /// `self * a + b` with one rounding. Inside code compiled for FMA it is
    /// one instruction; elsewhere a (slow) exact software routine, so hot
    /// loops without FMA use `mul` and `add` instead.
    fn fused_mul_add(self, a: Self, b: Self) -> Self;

    /// The error function (through `libm`; `std` has none).
    fn erf(self) -> Self;

    /// Converts from `f64`, rounding to nearest for `f32`.
    fn of_f64(value: f64) -> Self;

    /// Converts to `f64` without loss.
    fn as_f64(self) -> f64;

    /// The multiply behind [`crate::kernels::gemm`], on validated arguments.
    #[doc(hidden)]
    fn gemm(problem: &crate::kernels::gemm::Problem<'_, Self>);
}

macro_rules! impl_scalar {
    ($t:ty, $erf:path) => {
        impl Scalar for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;

            fn finite(self) -> bool {
                self.is_finite()
            }

            #[inline(always)]
            fn fused_mul_add(self, a: Self, b: Self) -> Self {
                <$t>::mul_add(self, a, b)
            }

            fn erf(self) -> Self {
                $erf(self)
            }

            fn of_f64(value: f64) -> Self {
                value as $t
            }

            fn as_f64(self) -> f64 {
                self.into()
            }

            fn gemm(problem: &crate::kernels::gemm::Problem<'_, Self>) {
                <Self as crate::kernels::gemm::GemmScalar>::dispatch(problem);
            }
        }
    };
}

impl_scalar!(f32, libm::erff);
impl_scalar!(f64, libm::erf);
