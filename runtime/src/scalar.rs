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

    /// Hyperbolic tangent as networks compute it on level `isa`: fast for
    /// `f32`, exact for `f64`.
    fn fast_tanh(self, isa: crate::isa::Isa) -> Self;

    /// `e^x` as networks compute it on level `isa`: a branch-free,
    /// vectorizable version for `f32` (within 2 ulp), the library function
    /// for `f64`.
    fn fast_exp(self, isa: crate::isa::Isa) -> Self;

    /// The logistic sigmoid as networks compute it on level `isa`.
    fn fast_sigmoid(self, isa: crate::isa::Isa) -> Self;

    /// Name of the type in safetensors files: `"F32"` or `"F64"`.
    const DTYPE: &'static str;

    #[cfg(feature = "std")]
    /// Appends the little-endian bytes of `values` to `out`.
    fn extend_le(values: &[Self], out: &mut Vec<u8>);

    #[cfg(feature = "std")]
    /// Reads little-endian values; `None` if the length is not a multiple
    /// of the type's size.
    fn from_le(bytes: &[u8]) -> Option<Vec<Self>>;

    /// Converts from `f64`, rounding to nearest for `f32`.
    fn of_f64(value: f64) -> Self;

    /// Converts to `f64` without loss.
    fn as_f64(self) -> f64;

    #[cfg(feature = "std")]
    /// The multiply behind [`crate::kernels::gemm`], on validated arguments.
    #[doc(hidden)]
    fn gemm(problem: &crate::kernels::gemm::Problem<'_, Self>);

    #[cfg(feature = "std")]
    /// Rows of the register tile [`Scalar::gemm`] takes on the active level.
    #[doc(hidden)]
    fn gemm_row_tile() -> usize;

    #[cfg(feature = "std")]
    /// `y = x w^T` without packing where a kernel exists; false otherwise.
    #[doc(hidden)]
    fn dot_rows(m: usize, k: usize, n: usize, x: &[Self], w: &[Self], y: &mut [Self]) -> bool;

    /// `y = w x` for one sample where a kernel exists; false otherwise.
    #[doc(hidden)]
    fn matvec(k: usize, n: usize, x: &[Self], w: &[Self], y: &mut [Self]) -> bool;

    /// Max pooling of one plane over 2x2 windows at stride 2 on the level's
    /// vector kernel (`kernels::pool_2x2`); false where none exists.
    #[doc(hidden)]
    fn max_2x2(isa: crate::isa::Isa, p: &chainrule_spec::Pool2d, x: &[Self], y: &mut [Self]) -> bool;

    /// The gradient of [`Scalar::max_2x2`] (`y` its output); false where
    /// no vector kernel exists.
    #[doc(hidden)]
    fn max_2x2_back(
        isa: crate::isa::Isa,
        p: &chainrule_spec::Pool2d,
        g: &[Self],
        x: &[Self],
        y: &[Self],
        dx: &mut [Self],
    ) -> bool;

    /// `start + x^T rows` for one sample over `K` input-major rows of `NP`
    /// values: the batch-1 product of planned weights, on the level's kernel.
    #[doc(hidden)]
    fn accumulate<const K: usize, const NP: usize>(
        isa: crate::isa::Isa,
        start: &[Self; NP],
        x: &[Self; K],
        rows: &[Self],
    ) -> [Self; NP];

    /// A convolution of one sample on the level's vector kernel where one
    /// exists (`kernels::conv2d_1`); false otherwise.
    #[doc(hidden)]
    fn conv2d_1(
        isa: crate::isa::Isa,
        c: &chainrule_spec::Conv2d,
        x: &[Self],
        w: &[Self],
        y: &mut [Self],
    ) -> bool;

    #[cfg(feature = "std")]
    /// Runs `f` on this thread's scratch buffer of at least `len` elements.
    #[doc(hidden)]
    fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [Self]) -> R) -> R;

    #[cfg(feature = "std")]
    /// Runs `f` on a second buffer of this thread, for partial sums the
    /// parts of a split kernel write while each uses its own scratch.
    #[doc(hidden)]
    fn with_partials<R>(len: usize, f: impl FnOnce(&mut [Self]) -> R) -> R;
}

macro_rules! impl_scalar {
    ($t:ty, $erf:path, $tanh:expr, $exp:expr, $sigmoid:expr, $matvec:expr, $conv:expr, $pool:expr, $pool_back:expr, $accumulate:ident, $dtype:literal) => {
        impl Scalar for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const DTYPE: &'static str = $dtype;

            #[cfg(feature = "std")]
            fn extend_le(values: &[Self], out: &mut Vec<u8>) {
                out.reserve(values.len() * size_of::<$t>());
                values.iter().for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
            }

            #[cfg(feature = "std")]
            fn from_le(bytes: &[u8]) -> Option<Vec<Self>> {
                let (chunks, rest) = bytes.as_chunks::<{ size_of::<$t>() }>();
                rest.is_empty().then(|| chunks.iter().map(|c| <$t>::from_le_bytes(*c)).collect())
            }

            fn finite(self) -> bool {
                self.is_finite()
            }

            #[inline(always)]
            fn fused_mul_add(self, a: Self, b: Self) -> Self {
                #[cfg(feature = "std")]
                return <$t>::mul_add(self, a, b);
                #[cfg(not(feature = "std"))]
                return <Self as nalgebra::ComplexField>::mul_add(self, a, b);
            }

            fn erf(self) -> Self {
                $erf(self)
            }

            #[inline(always)]
            fn fast_tanh(self, isa: crate::isa::Isa) -> Self {
                $tanh(isa, self)
            }

            #[inline(always)]
            fn fast_exp(self, isa: crate::isa::Isa) -> Self {
                $exp(isa, self)
            }

            #[inline(always)]
            fn fast_sigmoid(self, isa: crate::isa::Isa) -> Self {
                $sigmoid(isa, self)
            }

            fn of_f64(value: f64) -> Self {
                value as $t
            }

            fn as_f64(self) -> f64 {
                self.into()
            }

            #[cfg(feature = "std")]
            fn gemm(problem: &crate::kernels::gemm::Problem<'_, Self>) {
                <Self as crate::kernels::gemm::GemmScalar>::dispatch(problem);
            }

            #[cfg(feature = "std")]
            fn gemm_row_tile() -> usize {
                <Self as crate::kernels::gemm::GemmScalar>::row_tile()
            }

            #[cfg(feature = "std")]
            fn dot_rows(m: usize, k: usize, n: usize, x: &[Self], w: &[Self], y: &mut [Self]) -> bool {
                <Self as crate::kernels::gemm::GemmScalar>::dot_rows(m, k, n, x, w, y)
            }

            #[cfg(feature = "std")]
            fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [Self]) -> R) -> R {
                <Self as crate::kernels::gemm::GemmScalar>::with_scratch(len, f)
            }

            #[cfg(feature = "std")]
            fn with_partials<R>(len: usize, f: impl FnOnce(&mut [Self]) -> R) -> R {
                <Self as crate::kernels::gemm::GemmScalar>::with_partials(len, f)
            }

            #[inline(always)]
            fn matvec(k: usize, n: usize, x: &[Self], w: &[Self], y: &mut [Self]) -> bool {
                $matvec(k, n, x, w, y)
            }

            #[inline(always)]
            fn conv2d_1(
                isa: crate::isa::Isa,
                c: &chainrule_spec::Conv2d,
                x: &[Self],
                w: &[Self],
                y: &mut [Self],
            ) -> bool {
                $conv(isa, c, x, w, y)
            }

            #[inline(always)]
            fn max_2x2(isa: crate::isa::Isa, p: &chainrule_spec::Pool2d, x: &[Self], y: &mut [Self]) -> bool {
                $pool(isa, p, x, y)
            }

            #[inline(always)]
            fn max_2x2_back(
                isa: crate::isa::Isa,
                p: &chainrule_spec::Pool2d,
                g: &[Self],
                x: &[Self],
                y: &[Self],
                dx: &mut [Self],
            ) -> bool {
                $pool_back(isa, p, g, x, y, dx)
            }

            #[inline(always)]
            fn accumulate<const K: usize, const NP: usize>(
                isa: crate::isa::Isa,
                start: &[Self; NP],
                x: &[Self; K],
                rows: &[Self],
            ) -> [Self; NP] {
                crate::kernels::dense_t::$accumulate::<K, NP>(isa, start, x, rows)
            }
        }
    };
}

impl_scalar!(
    f32,
    libm::erff,
    crate::math::tanh_f32,
    crate::math::exp_f32,
    crate::math::sigmoid_f32,
    crate::kernels::matvec::matvec_f32,
    crate::kernels::conv2d_1::conv2d_1_f32,
    crate::kernels::pool_2x2::max_2x2_f32,
    crate::kernels::pool_2x2::max_2x2_back_f32,
    accumulate_f32,
    "F32"
);
impl_scalar!(
    f64,
    libm::erf,
    |_, x| libm::tanh(x),
    |_, x| libm::exp(x),
    |_, x: f64| 1.0 / (1.0 + libm::exp(-x)),
    |_, _, _, _, _| false,
    |_, _, _, _, _| false,
    |_, _, _, _| false,
    |_, _, _, _, _, _| false,
    accumulate_f64,
    "F64"
);
