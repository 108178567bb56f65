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

/// Hyperbolic tangent.
#[inline(always)]
pub fn tanh<S: Scalar>(x: S) -> S {
    x.tanh()
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
