//! Elementwise functions called by generated code.
//!
//! Generated code reaches every transcendental function through here, so the
//! implementation behind one name (a faster approximation, `libm` for targets
//! without `std`) changes in one place.
//!
//! The polynomial ones take the instruction-set level the code runs on (the
//! one [`crate::isa::with_isa`] passes): on a level with FMA their
//! multiply-add chains are fused, one instruction a term instead of two.
//! Outside such a frame pass [`Isa::Portable`].

use crate::Scalar;
use crate::isa::Isa;

/// `a * b + c`: one fused instruction on a level with FMA (inside its
/// frame), a multiply and an add elsewhere, where a fused multiply-add is a
/// slow library routine. Without `std` always the latter: `core` has no
/// fused multiply-add to lower to the instruction.
#[inline(always)]
pub fn mul_add<S: Scalar>(isa: Isa, a: S, b: S, c: S) -> S {
    if cfg!(feature = "std") && isa.has_fma() { a.fused_mul_add(b, c) } else { a * b + c }
}

/// `e^x`.
#[inline(always)]
pub fn exp<S: Scalar>(isa: Isa, x: S) -> S {
    x.fast_exp(isa)
}

/// `1.5 * 2^23`: added to a float below `2^22` in magnitude, it leaves the
/// nearest integer in the low mantissa bits.
const ROUND: f32 = 12_582_912.0;

/// Splits `x` into `n ln 2 + r` with `|r| <= ln 2 / 2` and returns `e^r`,
/// by its Taylor series to `r^7` (truncation below 6e-9 relative), and `n`
/// in the low mantissa bits of a float (`shifted`). `ln 2` is in two parts
/// so that `r` is exact.
#[inline(always)]
fn exp_parts_f32(isa: Isa, x: f32) -> (f32, f32) {
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    let shifted = mul_add(isa, x, core::f32::consts::LOG2_E, ROUND);
    let n = shifted - ROUND;
    let r = mul_add(isa, -n, LN2_LO, mul_add(isa, -n, LN2_HI, x));
    let mut p = 1.0 / 5040.0;
    for c in [1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0] {
        p = mul_add(isa, p, r, c);
    }
    (p, shifted)
}

/// `n` from the bits of `shifted` (see [`exp_parts_f32`]), as a signed integer.
#[inline(always)]
fn exponent_of(shifted: f32) -> i32 {
    (shifted.to_bits() as i32).wrapping_sub(ROUND.to_bits() as i32)
}

/// `2^k` for `k` in `-126..=127`; `k = 128` gives infinity, `k = -127` zero.
#[inline(always)]
fn pow2_f32(k: i32) -> f32 {
    f32::from_bits(((k + 127) as u32) << 23)
}

/// Fast `f32` exponential, within 2 ulp of `e^x` over the whole range,
/// with `inf` above 88.7, subnormals down to `e^-103.9` then 0, and NaN
/// passed through. `x = n ln 2 + r`, `e^r` by a polynomial, `2^n` built in
/// the exponent bits as two factors so that neither overflows before the
/// product does. No branches and no library call: libm's `expf` is a call
/// per element that keeps loops over sigmoid gates from vectorizing.
///
/// # Example
/// ```
/// use chainrule::{isa::Isa, math::exp_f32};
/// let exp = |x| exp_f32(Isa::Portable, x);
/// assert!((exp(1.0) - 1.0f32.exp()).abs() <= f32::EPSILON * 3.0);
/// assert_eq!(exp(0.0), 1.0);
/// assert_eq!(exp(100.0), f32::INFINITY);
/// assert_eq!(exp(-200.0), 0.0);
/// assert!(exp(f32::NAN).is_nan());
/// ```
#[inline(always)]
pub fn exp_f32(isa: Isa, x: f32) -> f32 {
    // Past these, e^x is inf or rounds to 0; `clamp` lets NaN through.
    let (p, shifted) = exp_parts_f32(isa, x.clamp(-104.0, 89.0));
    // n in [-150, 129]: in two halves, each a normal power of two.
    let n = exponent_of(shifted);
    let half = n >> 1;
    p * pow2_f32(half) * pow2_f32(n - half)
}

/// The logistic sigmoid in `f32`: `1 / (1 + e^-x)` with `e^-x` built in
/// one factor. Its argument is clamped to `[-88, 89]`, where `2^n` is a
/// normal number, zero (from `-88` down: the sigmoid is 1 in `f32`) or
/// infinity (from `88.4` up: the sigmoid is 0 or below `3e-39`).
#[inline(always)]
pub(crate) fn sigmoid_f32(isa: Isa, x: f32) -> f32 {
    let (p, shifted) = exp_parts_f32(isa, (-x).clamp(-88.0, 89.0));
    1.0 / (1.0 + p * pow2_f32(exponent_of(shifted)))
}

/// Natural logarithm.
#[inline(always)]
pub fn ln<S: Scalar>(x: S) -> S {
    x.ln()
}

/// Hyperbolic tangent: for `f32` the fast approximation [`tanh_f32`], for
/// `f64` the exact library function (f64 networks are chosen for precision).
#[inline(always)]
pub fn tanh<S: Scalar>(isa: Isa, x: S) -> S {
    x.fast_tanh(isa)
}

/// Fast `f32` hyperbolic tangent: absolute error below 3.5e-7 everywhere,
/// `tanh(x) = x` to the last bit near 0, exact sign, zero, saturation to
/// +-1 from `|x| = 9` on (where `tanh` rounds to 1 in `f32`) and NaN.
///
/// A rational function `x P(x^2) / Q(x^2)` with `P` of degree 6 and `Q` of
/// degree 4, fitted for the smallest maximum error on [0, 9] by
/// `runtime/tools/fit_tanh.py`; the fit is within 2.3e-9 of `tanh`, the
/// rest is `f32` rounding. libm's `tanhf` costs 11-18 ns a call and
/// dominates small networks; this is two short multiply-add chains and one
/// division, no branches, so loops over it vectorize. Written as an odd
/// function of `x` itself, it needs no sign handling.
///
/// # Example
/// ```
/// use chainrule::{isa::Isa, math::tanh_f32};
/// let tanh = |x| tanh_f32(Isa::Portable, x);
/// assert!((tanh(0.5) - 0.5f32.tanh()).abs() < 3.5e-7);
/// assert_eq!(tanh(30.0), 1.0);
/// assert_eq!(tanh(-0.0).to_bits(), (-0.0f32).to_bits());
/// assert!(tanh(f32::NAN).is_nan());
/// ```
#[inline(always)]
pub fn tanh_f32(isa: Isa, x: f32) -> f32 {
    const P: [f32; 6] = TANH_P;
    const Q: [f32; 4] = TANH_Q;
    // `clamp` lets NaN through.
    let c = x.clamp(-9.0, 9.0);
    let (u, fma) = (c * c, |a, b, c| mul_add(isa, a, b, c));
    // In powers of u^2 and u^4 (Estrin's scheme): three multiply-adds deep
    // instead of six, for layers that wait on their activations.
    let (u2, u4) = (u * u, (u * u) * (u * u));
    let p = fma(u4, fma(u2, P[5], fma(u, P[4], P[3])), fma(u2, fma(u, P[2], P[1]), fma(u, P[0], 1.0)));
    let q = fma(u2, fma(u2, Q[3], fma(u, Q[2], Q[1])), fma(u, Q[0], 1.0));
    // Rounding can carry the quotient a few ulp past 1 near saturation.
    let t = (c * p / q).clamp(-1.0, 1.0);
    if x.abs() >= 9.0 { 1.0f32.copysign(x) } else { t }
}

/// The numerator of [`tanh_f32`]'s rational function over `u = x^2`:
/// `P(u) = 1 + P[0] u + .. + P[5] u^6`.
const TANH_P: [f32; 6] =
    [1.381_811_2e-1, 4.046_04e-3, 3.195_839e-5, 4.268_418e-8, -2.801_129_6e-11, 2.114_662_1e-14];
/// Its denominator, `Q(u) = 1 + Q[0] u + .. + Q[3] u^4`.
const TANH_Q: [f32; 4] = [4.715_144_3e-1, 2.788_420_6e-2, 4.263_435e-4, 1.591_265_2e-6];

/// [`tanh_f32`] on every lane of a vector register, operation for
/// operation, so that the lanes equal the scalar function on a level
/// with FMA bit for bit.
///
/// # Safety
/// The CPU must run the register's instructions.
#[cfg(all(target_arch = "x86_64", feature = "std"))]
#[inline(always)]
pub(crate) unsafe fn tanh_lanes<L: crate::kernels::simd::Lanes>(x: L) -> L {
    let splat = |v: f32| unsafe { L::splat(v) };
    let (p, q) = (TANH_P, TANH_Q);
    unsafe {
        let c = x.min(splat(9.0)).max(splat(-9.0));
        let u = c.mul(c);
        let (u2, u4) = (u.mul(u), u.mul(u).mul(u.mul(u)));
        let high = u2.mul_add(splat(p[5]), u.mul_add(splat(p[4]), splat(p[3])));
        let low = u2.mul_add(u.mul_add(splat(p[2]), splat(p[1])), u.mul_add(splat(p[0]), splat(1.0)));
        let numerator = u4.mul_add(high, low);
        let denominator = u2.mul_add(
            u2.mul_add(splat(q[3]), u.mul_add(splat(q[2]), splat(q[1]))),
            u.mul_add(splat(q[0]), splat(1.0)),
        );
        let t = c.mul(numerator).div(denominator).min(splat(1.0)).max(splat(-1.0));
        let a = x.abs();
        let saturated = a.gt_bits(splat(9.0)) | a.eq_bits(splat(9.0));
        L::select(saturated, x.sign_one(), t)
    }
}

/// Logistic sigmoid `1 / (1 + e^-x)`; saturates to exactly 0 or 1 without NaN.
///
/// # Example
/// ```
/// use chainrule::{isa::Isa, math::sigmoid};
/// assert_eq!(sigmoid(Isa::Portable, 0.0f32), 0.5);
/// assert_eq!(sigmoid(Isa::Portable, -1000.0f32), 0.0);
/// assert_eq!(sigmoid(Isa::Portable, 1000.0f32), 1.0);
/// ```
#[inline(always)]
pub fn sigmoid<S: Scalar>(isa: Isa, x: S) -> S {
    x.fast_sigmoid(isa)
}

/// `ln(1 + e^x)`, computed as `max(x, 0) + ln(1 + e^-|x|)` so that it
/// neither overflows for large `x` nor loses all precision for very negative `x`.
///
/// # Example
/// ```
/// use chainrule::{isa::Isa, math::softplus};
/// assert_eq!(softplus(Isa::Portable, 1000.0f32), 1000.0);
/// assert!((softplus(Isa::Portable, 0.0f64) - 2f64.ln()).abs() < 1e-15);
/// assert!(softplus(Isa::Portable, -1000.0f64) == 0.0);
/// ```
#[inline(always)]
pub fn softplus<S: Scalar>(isa: Isa, x: S) -> S {
    let positive = if x > S::ZERO { x } else { S::ZERO };
    positive + (-x.abs()).fast_exp(isa).ln_1p()
}

/// The error function.
///
/// # Example
/// ```
/// assert!((chainrule::math::erf(0.5f64) - 0.520_499_877_813_046_5).abs() < 1e-15);
/// ```
#[inline(always)]
pub fn erf<S: Scalar>(x: S) -> S {
    S::erf(x)
}

/// Hyperbolic cosine.
#[inline(always)]
pub fn cosh<S: Scalar>(x: S) -> S {
    nalgebra::ComplexField::cosh(x)
}

/// Hyperbolic sine.
#[inline(always)]
pub fn sinh<S: Scalar>(x: S) -> S {
    nalgebra::ComplexField::sinh(x)
}

/// Square root.
#[inline(always)]
pub fn sqrt<S: Scalar>(x: S) -> S {
    x.sqrt()
}

/// Absolute value.
#[inline(always)]
pub fn abs<S: Scalar>(x: S) -> S {
    x.abs()
}

/// Integer power.
#[inline(always)]
pub fn powi<S: Scalar>(x: S, n: i32) -> S {
    x.powi(n)
}

/// Real power with a constant exponent (`x.powf(2.5)` in a user closure).
#[inline(always)]
pub fn powf<S: Scalar>(x: S, exponent: S) -> S {
    x.powf(exponent)
}

/// The larger of two values; NaN if either is NaN, as `torch.maximum`, so
/// `relu` never hides a NaN from the user.
///
/// # Example
/// ```
/// use chainrule::math::max;
/// assert_eq!(max(-1.0f32, 0.0), 0.0);
/// assert!(max(f32::NAN, 0.0).is_nan() && max(0.0, f32::NAN).is_nan());
/// ```
#[inline(always)]
pub fn max<S: Scalar>(a: S, b: S) -> S {
    // Two selects rather than branches, so that a loop of them vectorizes:
    // `b` when `a >= b` fails (also when `b` is NaN), then `a` if it is NaN.
    let larger = if a >= b { a } else { b };
    #[allow(clippy::eq_op)] // NaN is the one value not equal to itself
    if a != a { a } else { larger }
}

/// The smaller of two values; NaN if either is NaN.
#[inline(always)]
pub fn min<S: Scalar>(a: S, b: S) -> S {
    // As `max`: selects, NaN from either side.
    let smaller = if a <= b { a } else { b };
    #[allow(clippy::eq_op)]
    if a != a { a } else { smaller }
}

/// `1` where `x > 0`, else `0`: the derivative of `max(x, 0)` (zero at 0, as
/// PyTorch's ReLU).
#[inline(always)]
pub fn step<S: Scalar>(x: S) -> S {
    if x > S::ZERO { S::ONE } else { S::ZERO }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both arithmetic variants: separate multiplies and adds, and fused
    /// (every level with FMA computes the same as `Avx2`).
    const VARIANTS: [Isa; 2] = [Isa::Portable, Isa::Avx2];

    /// Against f64 exp on a dense grid over the whole range, in ulp of the
    /// f32 result; exact at 0, infinite or zero past the ends, NaN through.
    #[test]
    fn fast_exp_is_within_two_ulp() {
        for isa in VARIANTS {
            let exp = |x| exp_f32(isa, x);
            let mut worst = 0.0f64;
            for i in -1_050_000..=900_000 {
                let x = i as f32 * 1e-4;
                let exact = f64::from(x).exp();
                if exact < f64::from(f32::MIN_POSITIVE) || exact > f64::from(f32::MAX) {
                    continue;
                }
                let ulp = f64::from(f32::EPSILON) * 2f64.powi(exact.log2().floor() as i32);
                worst = worst.max((f64::from(exp(x)) - exact).abs() / ulp);
            }
            assert!(worst <= 2.0, "{isa:?}: worst error {worst} ulp");
            assert_eq!(exp(0.0), 1.0);
            assert_eq!(exp(88.8), f32::INFINITY);
            assert_eq!(exp(f32::INFINITY), f32::INFINITY);
            assert_eq!(exp(f32::NEG_INFINITY), 0.0);
            assert!(exp(-100.0) > 0.0 && exp(-100.0) < 1e-43, "subnormal range");
            assert!(exp(f32::NAN).is_nan());
        }
    }

    /// Against f64 on a dense grid: absolute error below 1e-7 (the
    /// sigmoid's values are at most 1), exact 0, 1/2 and 1 where they are
    /// due, NaN through.
    #[test]
    fn fast_sigmoid_error_is_bounded() {
        for isa in VARIANTS {
            let sigmoid = |x| sigmoid_f32(isa, x);
            let mut worst = 0.0f64;
            for i in -1_000_000..=1_000_000 {
                let x = i as f32 * 1e-4;
                let exact = 1.0 / (1.0 + (-f64::from(x)).exp());
                worst = worst.max((f64::from(sigmoid(x)) - exact).abs());
            }
            assert!(worst < 1e-7, "{isa:?}: worst absolute error {worst}");
            assert_eq!(sigmoid(0.0), 0.5);
            for x in [89.0f32, 1e3, f32::INFINITY] {
                assert_eq!((sigmoid(x), sigmoid(-x)), (1.0, 0.0), "at {x}");
            }
            assert!(sigmoid(-87.0) > 0.0 && sigmoid(-87.0) < 2e-38);
            assert!(sigmoid(f32::NAN).is_nan());
        }
    }

    /// Against f64 tanh on a dense grid over [-12, 12] and in the saturated
    /// tails: absolute error below 3.5e-7, the relative error small near
    /// zero, and odd symmetry to the bit.
    #[test]
    fn fast_tanh_error_is_bounded() {
        for isa in VARIANTS {
            let tanh = |x| tanh_f32(isa, x);
            let mut worst = 0.0f64;
            for i in -1_200_000..=1_200_000 {
                let x = i as f32 * 1e-5;
                let exact = f64::from(x).tanh();
                let err = (f64::from(tanh(x)) - exact).abs();
                worst = worst.max(err);
                assert_eq!(tanh(-x).to_bits(), (-tanh(x)).to_bits(), "odd at {x}");
                if x != 0.0 && x.abs() < 0.2 {
                    assert!(err / exact.abs() < 1e-6, "relative error at {x}: {err}");
                }
            }
            assert!(worst < 3.5e-7, "{isa:?}: worst absolute error {worst}");
            for x in [9.0f32, 20.0, 88.0, 1e30, f32::INFINITY] {
                assert_eq!(tanh(x), 1.0);
                assert_eq!(tanh(-x), -1.0);
            }
            for x in [1e-5f32, 1e-8, 1e-30, f32::MIN_POSITIVE] {
                assert_eq!(tanh(x), x, "tanh(x) = x for tiny x");
            }
            let (below, at) = (tanh(8.999_999), tanh(9.0));
            assert!(
                below <= at && at - below < 4e-7,
                "continuous and monotone into saturation: {below} vs {at}"
            );
        }
    }
}
