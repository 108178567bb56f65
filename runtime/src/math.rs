//! Elementwise functions called by generated code.
//!
//! Generated code reaches every transcendental function through here, so the
//! implementation behind one name (a faster approximation, `libm` for targets
//! without `std`) changes in one place.

use crate::Scalar;

/// `e^x`.
#[inline(always)]
pub fn exp<S: Scalar>(x: S) -> S {
    x.exp()
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
    S::ONE / (S::ONE + (-x).exp())
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
    positive + (-x.abs()).exp().ln_1p()
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
