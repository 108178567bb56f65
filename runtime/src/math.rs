//! Elementwise functions called by generated code.
//!
//! Generated code reaches every transcendental function through here, so the
//! implementation behind one name (a faster approximation, `libm` for targets
//! without `std`) changes in one place.

use crate::Scalar;

/// `e^x`.
#[inline(always)]
pub fn exp<S: Scalar>(x: S) -> S {
    x.fast_exp()
}

/// Fast `f32` exponential, within 2 ulp of `e^x` over the whole range,
/// with `inf` above 88.7, subnormals down to `e^-103.9` then 0, and NaN
/// passed through. `x = n ln 2 + r` with `|r| <= ln 2 / 2` (`ln 2` in two
/// parts so `r` is exact), `e^r` by its Taylor series to `r^7` (truncation
/// below 6e-9 relative), `2^n` built in the exponent bits as two factors so
/// that neither overflows before the product does. No branches and no
/// library call: libm's `expf` is a call per element that keeps loops over
/// sigmoid gates from vectorizing.
///
/// # Example
/// ```
/// use chainrule::math::exp_f32;
/// assert!((exp_f32(1.0) - 1.0f32.exp()).abs() <= f32::EPSILON * 3.0);
/// assert_eq!(exp_f32(0.0), 1.0);
/// assert_eq!(exp_f32(100.0), f32::INFINITY);
/// assert_eq!(exp_f32(-200.0), 0.0);
/// assert!(exp_f32(f32::NAN).is_nan());
/// ```
#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    // Adding and subtracting 1.5 * 2^23 rounds to the nearest integer.
    const ROUND: f32 = 12_582_912.0;
    // Past these, e^x is inf or rounds to 0; `clamp` lets NaN through.
    let x = x.clamp(-104.0, 89.0);
    let shifted = x * core::f32::consts::LOG2_E + ROUND;
    let n = shifted - ROUND;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    // n in [-150, 129] sits in the low mantissa bits of `shifted`: split it
    // in two halves, each a normal power of two.
    let n = (shifted.to_bits() as i32).wrapping_sub(ROUND.to_bits() as i32);
    let half = n >> 1;
    let scale = |k: i32| f32::from_bits(((k + 127) as u32) << 23);
    p * scale(half) * scale(n - half)
}

/// Natural logarithm.
#[inline(always)]
pub fn ln<S: Scalar>(x: S) -> S {
    x.ln()
}

/// Hyperbolic tangent: for `f32` the fast approximation [`tanh_f32`], for
/// `f64` the exact library function (f64 networks are chosen for precision).
#[inline(always)]
pub fn tanh<S: Scalar>(x: S) -> S {
    x.fast_tanh()
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
/// use chainrule::math::tanh_f32;
/// assert!((tanh_f32(0.5) - 0.5f32.tanh()).abs() < 3.5e-7);
/// assert_eq!(tanh_f32(30.0), 1.0);
/// assert_eq!(tanh_f32(-0.0).to_bits(), (-0.0f32).to_bits());
/// assert!(tanh_f32(f32::NAN).is_nan());
/// ```
#[inline(always)]
pub fn tanh_f32(x: f32) -> f32 {
    const P: [f32; 6] =
        [1.381_811_2e-1, 4.046_04e-3, 3.195_839e-5, 4.268_418e-8, -2.801_129_6e-11, 2.114_662_1e-14];
    const Q: [f32; 4] = [4.715_144_3e-1, 2.788_420_6e-2, 4.263_435e-4, 1.591_265_2e-6];
    // `clamp` lets NaN through.
    let c = x.clamp(-9.0, 9.0);
    let u = c * c;
    let p = 1.0 + u * (P[0] + u * (P[1] + u * (P[2] + u * (P[3] + u * (P[4] + u * P[5])))));
    let q = 1.0 + u * (Q[0] + u * (Q[1] + u * (Q[2] + u * Q[3])));
    // Rounding can carry the quotient a few ulp past 1 near saturation.
    let t = (c * p / q).clamp(-1.0, 1.0);
    if x.abs() >= 9.0 { 1.0f32.copysign(x) } else { t }
}

/// Logistic sigmoid `1 / (1 + e^-x)`; saturates to exactly 0 or 1 without NaN.
///
/// # Example
/// ```
/// use chainrule::math::sigmoid;
/// assert_eq!(sigmoid(0.0f32), 0.5);
/// assert_eq!(sigmoid(-1000.0f32), 0.0);
/// assert_eq!(sigmoid(1000.0f32), 1.0);
/// ```
#[inline(always)]
pub fn sigmoid<S: Scalar>(x: S) -> S {
    S::ONE / (S::ONE + (-x).fast_exp())
}

/// `ln(1 + e^x)`, computed as `max(x, 0) + ln(1 + e^-|x|)` so that it
/// neither overflows for large `x` nor loses all precision for very negative `x`.
///
/// # Example
/// ```
/// use chainrule::math::softplus;
/// assert_eq!(softplus(1000.0f32), 1000.0);
/// assert!((softplus(0.0f64) - 2f64.ln()).abs() < 1e-15);
/// assert!(softplus(-1000.0f64) == 0.0);
/// ```
#[inline(always)]
pub fn softplus<S: Scalar>(x: S) -> S {
    let positive = if x > S::ZERO { x } else { S::ZERO };
    positive + (-x.abs()).fast_exp().ln_1p()
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
    if a >= b {
        a
    } else if b >= a {
        b
    } else {
        a + b // unordered: one of them is NaN
    }
}

/// The smaller of two values; NaN if either is NaN.
#[inline(always)]
pub fn min<S: Scalar>(a: S, b: S) -> S {
    if a <= b {
        a
    } else if b <= a {
        b
    } else {
        a + b
    }
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

    /// Against f64 exp on a dense grid over the whole range, in ulp of the
    /// f32 result; exact at 0, infinite or zero past the ends, NaN through.
    #[test]
    fn fast_exp_is_within_two_ulp() {
        let mut worst = 0.0f64;
        for i in -1_050_000..=900_000 {
            let x = i as f32 * 1e-4;
            let exact = f64::from(x).exp();
            if exact < f64::from(f32::MIN_POSITIVE) || exact > f64::from(f32::MAX) {
                continue;
            }
            let ulp = f64::from(f32::EPSILON) * 2f64.powi(exact.log2().floor() as i32);
            worst = worst.max((f64::from(exp_f32(x)) - exact).abs() / ulp);
        }
        assert!(worst <= 2.0, "worst error {worst} ulp");
        assert_eq!(exp_f32(0.0), 1.0);
        assert_eq!(exp_f32(88.8), f32::INFINITY);
        assert_eq!(exp_f32(f32::INFINITY), f32::INFINITY);
        assert_eq!(exp_f32(f32::NEG_INFINITY), 0.0);
        assert!(exp_f32(-100.0) > 0.0 && exp_f32(-100.0) < 1e-43, "subnormal range");
        assert!(exp_f32(f32::NAN).is_nan());
    }

    /// Against f64 tanh on a dense grid over [-12, 12] and in the saturated
    /// tails: absolute error below 3.5e-7, the relative error small near
    /// zero, and odd symmetry to the bit.
    #[test]
    fn fast_tanh_error_is_bounded() {
        let mut worst = 0.0f64;
        for i in -1_200_000..=1_200_000 {
            let x = i as f32 * 1e-5;
            let exact = f64::from(x).tanh();
            let err = (f64::from(tanh_f32(x)) - exact).abs();
            worst = worst.max(err);
            assert_eq!(tanh_f32(-x).to_bits(), (-tanh_f32(x)).to_bits(), "odd at {x}");
            if x != 0.0 && x.abs() < 0.2 {
                assert!(err / exact.abs() < 1e-6, "relative error at {x}: {err}");
            }
        }
        assert!(worst < 3.5e-7, "worst absolute error {worst}");
        for x in [9.0f32, 20.0, 88.0, 1e30, f32::INFINITY] {
            assert_eq!(tanh_f32(x), 1.0);
            assert_eq!(tanh_f32(-x), -1.0);
        }
        for x in [1e-5f32, 1e-8, 1e-30, f32::MIN_POSITIVE] {
            assert_eq!(tanh_f32(x), x, "tanh(x) = x for tiny x");
        }
        let (below, at) = (tanh_f32(8.999_999), tanh_f32(9.0));
        assert!(below <= at && at - below < 4e-7, "continuous and monotone into saturation: {below} vs {at}");
    }
}
