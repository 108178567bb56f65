//! Seeded parameter initialization.
//!
//! Values are drawn in `f64` and then rounded, so an `f32` and an `f64`
//! network built with the same seed start from the same weights.

use crate::Scalar;
use crate::network::{Init, ParamSpec};
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};

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
        match spec.init {
            Init::Zeros => values.fill(S::ZERO),
            Init::GlorotUniform { fan_in, fan_out } => {
                let bound = (6.0 / (fan_in + fan_out) as f64).sqrt();
                for v in values {
                    *v = S::of_f64(rng.random_range(-bound..bound));
                }
            }
        }
    }
}
