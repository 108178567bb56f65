//! Leaves: values the generated function receives rather than computes.
//! The input and the targets come from the caller, parameters and state
//! from the network's buffers. Gradients stop at leaves; reverse mode asks
//! for them only at parameters.

use super::{Derivative, Rules, always, nothing};

pub const INPUT: Rules = leaf("input", "the network input");
pub const TARGET: Rules = leaf("target", "training targets: class indices or values");
pub const PARAM: Rules = leaf("param", "a tensor of the flat parameter buffer");
pub const STATE: Rules = leaf("state", "a tensor of the state buffer (running statistics)");
pub const PLAN: Rules = Rules {
    #[cfg(test)]
    eval: super::eval::planned,
    ..leaf("plan", "a tensor of the inference copy, derived from the parameters")
};

const fn leaf(name: &'static str, forward: &'static str) -> Rules {
    Rules {
        name,
        forward,
        derivative: Derivative::Leaf,
        emit: nothing,
        without_std: always,
        #[cfg(test)]
        eval: super::eval::given,
    }
}
