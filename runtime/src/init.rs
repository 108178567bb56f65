//! Seeded parameter initialization.
//!
//! Values are drawn in `f64` and then rounded, so an `f32` and an `f64`
//! network built with the same seed start from the same weights.

use crate::Scalar;
use crate::network::{Init, ParamSpec};
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

/// One parameter tensor's distribution: a uniform bound or a deviation.
enum Draw {
    Constant(f64),
    Uniform(f64),
    Normal(f64),
}

/// Fills `params` tensor by tensor as `layout` prescribes, from `seed`.
///
/// # Example
/// ```
/// use chainrule::{Init, ParamSpec, Role};
/// const LAYOUT: &[ParamSpec] = &[
///     ParamSpec { name: "w", offset: 0, shape: &[2, 3], role: Role::Weight,
///                 init: Init::GlorotUniform { fan_in: 3, fan_out: 2 } },
///     ParamSpec { name: "b", offset: 6, shape: &[2], role: Role::Bias, init: Init::Zeros },
/// ];
/// let mut p = [1.0f32; 8];
/// chainrule::init::init_params(&mut p, LAYOUT, 42);
/// let bound = (6.0f32 / 5.0).sqrt();
/// assert!(p[..6].iter().all(|w| w.abs() <= bound));
/// assert_eq!(&p[6..], &[0.0, 0.0]);
/// ```
pub fn init_params<S: Scalar>(params: &mut [S], layout: &[ParamSpec], seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for spec in layout {
        let values = &mut params[spec.offset..spec.offset + spec.len()];
        let draw = match spec.init {
            Init::Zeros => Draw::Constant(0.0),
            Init::Ones => Draw::Constant(1.0),
            Init::Uniform => Draw::Uniform(1.0),
            Init::GlorotUniform { fan_in, fan_out } => {
                Draw::Uniform((6.0 / (fan_in + fan_out) as f64).sqrt())
            }
            Init::GlorotNormal { fan_in, fan_out } => Draw::Normal((2.0 / (fan_in + fan_out) as f64).sqrt()),
            Init::HeUniform { fan_in } => Draw::Uniform((6.0 / fan_in as f64).sqrt()),
            Init::Recurrent { hidden } => Draw::Uniform(1.0 / (hidden as f64).sqrt()),
            Init::StandardNormal => Draw::Normal(1.0),
            Init::HeNormal { fan_in } => Draw::Normal((2.0 / fan_in as f64).sqrt()),
        };
        for v in values {
            *v = S::of_f64(match draw {
                Draw::Constant(value) => value,
                Draw::Uniform(bound) => rng.random_range(-bound..bound),
                Draw::Normal(std) => std * Distribution::<f64>::sample(&StandardNormal, &mut rng),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Role;

    fn drawn(init: Init, len: usize) -> Vec<f64> {
        let shape: &'static [usize] = Box::leak(vec![len].into_boxed_slice());
        let layout = [ParamSpec { name: "w", offset: 0, shape, role: Role::Weight, init }];
        let mut values = vec![0.0f64; len];
        init_params(&mut values, &layout, 3);
        values
    }

    fn moments(v: &[f64]) -> (f64, f64, f64) {
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64;
        let max = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        (mean, var, max)
    }

    /// Each scheme has its documented spread: uniform bounds are respected
    /// and nearly reached, normal variances match within sampling error.
    #[test]
    fn schemes_have_their_documented_spread() {
        let n = 40_000;
        let (_, _, max) = moments(&drawn(Init::Uniform, n));
        assert!(max <= 1.0 && max > 0.999);
        let (_, var, max) = moments(&drawn(Init::GlorotUniform { fan_in: 30, fan_out: 70 }, n));
        assert!(max <= (0.06f64).sqrt() && (var - 0.06 / 3.0).abs() < 0.001);
        let (mean, var, _) = moments(&drawn(Init::GlorotNormal { fan_in: 30, fan_out: 70 }, n));
        assert!(mean.abs() < 0.003 && (var - 0.02).abs() < 0.0006, "{var}");
        let (_, var, max) = moments(&drawn(Init::HeUniform { fan_in: 50 }, n));
        assert!(max <= (0.12f64).sqrt() && (var - 0.04).abs() < 0.0015);
        let (_, var, _) = moments(&drawn(Init::HeNormal { fan_in: 50 }, n));
        assert!((var - 0.04).abs() < 0.0012, "{var}");
        assert!(drawn(Init::Zeros, 10).iter().all(|&v| v == 0.0));
    }
}
