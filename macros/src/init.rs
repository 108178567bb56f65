//! Initialization schemes for weights, named as in PyTorch's `nn.init` and
//! Keras. Chosen for the whole network with the `init:` key, or for one
//! layer with `dense(n, init = ...)`; Glorot uniform by default. Biases
//! always start at zero.

use crate::errors::Errors;
use crate::ir::Init;
use proc_macro2::Ident;

pub const KEYWORDS: [&str; 9] = [
    "uniform",
    "glorot_uniform",
    "glorot_normal",
    "xavier_uniform",
    "xavier_normal",
    "he_uniform",
    "he_normal",
    "kaiming_uniform",
    "kaiming_normal",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// `U(-1, 1)`, as in the perceptron lessons.
    Uniform,
    GlorotUniform,
    GlorotNormal,
    HeUniform,
    HeNormal,
}

pub fn resolve(name: &Ident, errors: &mut Errors) -> Option<Scheme> {
    Some(match name.to_string().as_str() {
        "uniform" => Scheme::Uniform,
        "glorot_uniform" | "xavier_uniform" => Scheme::GlorotUniform,
        "glorot_normal" | "xavier_normal" => Scheme::GlorotNormal,
        "he_uniform" | "kaiming_uniform" => Scheme::HeUniform,
        "he_normal" | "kaiming_normal" => Scheme::HeNormal,
        other => {
            errors.push(name.span(), crate::suggest::unknown("initialization", other, &KEYWORDS));
            return None;
        }
    })
}

impl Scheme {
    /// The initializer of a weight with these fans.
    pub fn init(self, fan_in: usize, fan_out: usize) -> Init {
        match self {
            Scheme::Uniform => Init::Uniform,
            Scheme::GlorotUniform => Init::GlorotUniform { fan_in, fan_out },
            Scheme::GlorotNormal => Init::GlorotNormal { fan_in, fan_out },
            Scheme::HeUniform => Init::HeUniform { fan_in },
            Scheme::HeNormal => Init::HeNormal { fan_in },
        }
    }
}
