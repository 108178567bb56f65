//! The activations NAM names, element by element.

use super::Activation;
use crate::isa::Isa;
use crate::math::{exp_f32, mul_add, tanh_f32};

/// `activation(x)`. Generated code passes the activation as a constant,
/// so after inlining the `match` folds to one arm and loops over it
/// vectorize.
#[inline(always)]
pub fn apply(isa: Isa, activation: Activation, x: f32) -> f32 {
    match activation {
        Activation::Tanh => tanh_f32(isa, x),
        Activation::FastTanh => nam_fast_tanh(x),
        Activation::Hardtanh => x.clamp(-1.0, 1.0),
        Activation::Relu => x.max(0.0),
        Activation::LeakyRelu(slope) => {
            if x > 0.0 {
                x
            } else {
                slope * x
            }
        }
        Activation::Sigmoid => sigmoid(isa, x),
        Activation::Silu => x * sigmoid(isa, x),
        Activation::Hardswish => x * (x + 3.0).clamp(0.0, 6.0) * (1.0 / 6.0),
        Activation::Softsign => x / (1.0 + x.abs()),
        Activation::LeakyHardtanh { min, max, min_slope, max_slope } => {
            if x < min {
                mul_add(isa, x - min, min_slope, min)
            } else if x > max {
                mul_add(isa, x - max, max_slope, max)
            } else {
                x
            }
        }
    }
}

/// `1 / (1 + e^-x)` with NAM's order of operations (the reciprocal of one
/// plus the exponential), finite for every finite `x`.
#[inline(always)]
fn sigmoid(isa: Isa, x: f32) -> f32 {
    1.0 / (1.0 + exp_f32(isa, -x))
}

/// The rational approximation of `tanh` that NAM calls `Fasttanh`: what a
/// model trained with it expects. Its coefficients are NAM's.
#[inline(always)]
fn nam_fast_tanh(x: f32) -> f32 {
    let (ax, x2) = (x.abs(), x * x);
    let numerator = x * (2.455_507_5 + 2.455_507_5 * ax + (0.893_229_85 + 0.821_226_67 * ax) * x2);
    let denominator = 2.445_066_3 + (2.445_066_3 + x2) * (x + 0.814_642_7 * x * ax).abs();
    numerator / denominator
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each activation against its definition in `f64`.
    #[test]
    fn every_activation_follows_its_definition() {
        type Case = (Activation, fn(f64) -> f64, f64);
        let cases: [Case; 10] = [
            (Activation::Tanh, f64::tanh, 4e-7),
            (Activation::Hardtanh, |x| x.clamp(-1.0, 1.0), 0.0),
            (Activation::Relu, |x| x.max(0.0), 0.0),
            (Activation::LeakyRelu(0.01), |x| if x > 0.0 { x } else { 0.01 * x }, 1e-9),
            (Activation::Sigmoid, |x| 1.0 / (1.0 + (-x).exp()), 2e-7),
            (Activation::Silu, |x| x / (1.0 + (-x).exp()), 2e-6),
            (Activation::Hardswish, |x| x * (x + 3.0).clamp(0.0, 6.0) / 6.0, 1e-6),
            (Activation::Softsign, |x| x / (1.0 + x.abs()), 1e-7),
            (
                Activation::LeakyHardtanh { min: -1.0, max: 1.0, min_slope: 0.01, max_slope: 0.02 },
                |x| {
                    if x < -1.0 {
                        -1.0 + 0.01 * (x + 1.0)
                    } else if x > 1.0 {
                        1.0 + 0.02 * (x - 1.0)
                    } else {
                        x
                    }
                },
                1e-6,
            ),
            // Within 2e-3 of tanh is what NAM's approximation promises.
            (Activation::FastTanh, f64::tanh, 2e-3),
        ];
        for (activation, exact, tolerance) in cases {
            for i in -400..=400 {
                let x = i as f32 * 0.02;
                let got = f64::from(apply(Isa::Portable, activation, x));
                let want = exact(f64::from(x));
                // Beyond the stated error, f32 rounding of the result.
                let rounding = f64::from(f32::EPSILON) * want.abs();
                assert!(
                    (got - want).abs() <= tolerance + rounding,
                    "{activation:?}({x}) = {got}, want {want}"
                );
            }
        }
    }
}
