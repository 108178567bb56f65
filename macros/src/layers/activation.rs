//! Elementwise activations. Each is one scalar expression; its derivative is
//! derived symbolically, so `relu` = `max(x, 0)` gets the routing rule of
//! `max` and `tanh` gets `1 - tanh(x)^2`, written with the saved output.
//!
//! Shape rule: the output has the input's shape. No parameters.

use crate::args;
use crate::errors::Errors;
use crate::ir::expr::{Binary, Expr, Unary, binary, c, unary, var};
use crate::ir::{Graph, NodeId};
use crate::ops;
use crate::parse::Call;

pub const KEYWORDS: [&str; 4] = ["sigmoid", "tanh", "relu", "identity"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    Sigmoid,
    Tanh,
    Relu,
    Identity,
}

/// `None` if `call` is not an activation keyword; `Some(None)` if it is but
/// its arguments are wrong (the error is recorded).
pub fn resolve(call: &Call, errors: &mut Errors) -> Option<Option<Activation>> {
    let act = match call.name.to_string().as_str() {
        "sigmoid" => Activation::Sigmoid,
        "tanh" => Activation::Tanh,
        "relu" => Activation::Relu,
        "identity" => Activation::Identity,
        _ => return None,
    };
    if call.paren.is_some() && args::positional(call, 0, &call.name.to_string(), errors).is_none() {
        return Some(None);
    }
    Some(Some(act))
}

impl Activation {
    /// The activation as an expression of its input `Var(0)`.
    pub fn expr(self) -> Expr {
        let x = var(0);
        match self {
            Activation::Sigmoid => unary(Unary::Sigmoid, x),
            Activation::Tanh => unary(Unary::Tanh, x),
            Activation::Relu => binary(Binary::Max, x, c(0.0)),
            Activation::Identity => x,
        }
    }

    pub fn lower(self, g: &mut Graph, x: NodeId) -> NodeId {
        let shape = g.shape(x).clone();
        ops::map::map(g, self.expr(), vec![x], shape)
    }
}
