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

/// `e^y` for `y` in [0, 18] in `f32`: `y = n ln 2 + r` with `|r| <= ln 2 / 2`
/// (two-part `ln 2` so that `r` is exact), `e^r` by its Taylor series to the
/// `r^7` term (truncation below 1e-8), and `2^n` placed in the exponent bits.
/// No branches and no library calls, so loops over it vectorize.
#[inline(always)]
fn exp_small_f32(y: f32) -> f32 {
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    // Adding and subtracting 1.5 * 2^23 rounds to the nearest integer.
    const ROUND: f32 = 12_582_912.0;
    let shifted = y * core::f32::consts::LOG2_E + ROUND;
    let n = shifted - ROUND;
    let r = (y - n * LN2_HI) - n * LN2_LO;
    // `shifted` holds n in its low mantissa bits: the exponent of 2^n comes
    // from integer operations, with no float-to-int conversion in the loop.
    let two_to_n = f32::from_bits((shifted.to_bits().wrapping_sub(ROUND.to_bits()).wrapping_add(127)) << 23);
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    p * two_to_n
}

/// Fast `f32` hyperbolic tangent, absolute error below 3e-7 everywhere and
/// exact sign, zero, saturation and NaN: `1 - 2 / (e^(2|x|) + 1)`, or its
/// odd Taylor series near 0 where that form would cancel. libm's `tanhf`
/// costs 11-18 ns a call and dominates small networks; this is a few
/// multiply-adds that vectorize.
///
/// # Example
/// ```
/// use chainrule::math::tanh_f32;
/// assert!((tanh_f32(0.5) - 0.5f32.tanh()).abs() < 3e-7);
/// assert_eq!(tanh_f32(30.0), 1.0);
/// assert_eq!(tanh_f32(-0.0).to_bits(), (-0.0f32).to_bits());
/// assert!(tanh_f32(f32::NAN).is_nan());
/// ```
#[inline(always)]
pub fn tanh_f32(x: f32) -> f32 {
    let a = if x.abs() < 9.0 { x.abs() } else { 9.0 };
    let e = exp_small_f32(2.0 * a);
    let far = 1.0 - 2.0 / (e + 1.0);
    let a2 = a * a;
    let near = a * (1.0 + a2 * (-1.0 / 3.0 + a2 * (2.0 / 15.0 + a2 * (-17.0 / 315.0))));
    // From 9 on, tanh rounds to 1 in f32.
    let t = if a < 0.125 {
        near
    } else if a < 9.0 {
        far
    } else {
        1.0
    };
    if x.is_nan() { x } else { t.copysign(x) }
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

    /// Against f64 tanh on a dense grid over [-12, 12], around the branch
    /// point, and in the saturated tails: absolute error below 3e-7 and the
    /// relative error small near zero.
    #[test]
    fn fast_tanh_error_is_bounded() {
        let mut worst = 0.0f64;
        for i in -1_200_000..=1_200_000 {
            let x = i as f32 * 1e-5;
            let exact = f64::from(x).tanh();
            let err = (f64::from(tanh_f32(x)) - exact).abs();
            worst = worst.max(err);
            if x != 0.0 && x.abs() < 0.2 {
                assert!(err / exact.abs() < 1e-6, "relative error at {x}: {err}");
            }
        }
        assert!(worst < 3e-7, "worst absolute error {worst}");
        for x in [9.0f32, 20.0, 88.0, 1e30, f32::INFINITY] {
            assert_eq!(tanh_f32(x), 1.0);
            assert_eq!(tanh_f32(-x), -1.0);
        }
        let (below, at) = (tanh_f32(0.124_999_99), tanh_f32(0.125));
        assert!((below - at).abs() < 1e-7, "the two forms meet at the switch: {below} vs {at}");
    }
}
