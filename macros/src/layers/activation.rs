//! Elementwise activations. Each is one scalar expression of its input;
//! its derivative is derived symbolically, so `relu` = `max(x, 0)` gets the
//! routing rule of `max`, and `tanh` gets `1 - tanh(x)^2` written with the
//! saved output. Shape rule: the output has the input's shape. No
//! parameters. Definitions, and defaults of the optional arguments, follow
//! PyTorch's modules of the same names.
//!
//! | keyword | f(x) |
//! |---------|------|
//! | `sigmoid` | `1 / (1 + e^-x)` |
//! | `tanh` | `tanh x` |
//! | `relu` | `max(x, 0)` |
//! | `leaky_relu(slope = 0.01)` | `x` if `x > 0`, else `slope x` |
//! | `elu(alpha = 1)` | `x` if `x > 0`, else `alpha (e^x - 1)` |
//! | `softplus` | `ln(1 + e^x)` |
//! | `gelu` | `x Phi(x) = x (1 + erf(x / sqrt 2)) / 2` |
//! | `gelu(tanh)` | `x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2` |
//! | `swish`, `silu` | `x sigmoid(x)` |
//! | `identity` | `x` |
//! | `activation(\|x\| expr)` | the closure, differentiated symbolically (see `user_expr`) |

use super::{At, Family, Layer, LowerCtx, Origin, OverTime, Resolved};
use crate::args;
use crate::errors::Errors;
use crate::ir::expr::{Binary, Expr, Unary, add, binary, c, div, mul, powi, relu, step, sub, unary, var};
use crate::ir::{Graph, NodeId};
use crate::ops;
use crate::parse::Call;

pub struct Activations;

impl Family for Activations {
    fn keywords(&self) -> &'static [&'static str] {
        &[
            "sigmoid",
            "tanh",
            "relu",
            "leaky_relu",
            "elu",
            "softplus",
            "gelu",
            "swish",
            "silu",
            "identity",
            "activation",
        ]
    }

    fn aliases(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("Sigmoid", "sigmoid"),
            ("Tanh", "tanh"),
            ("ReLU", "relu"),
            ("LeakyReLU", "leaky_relu"),
            ("ELU", "elu"),
            ("Softplus", "softplus"),
            ("GELU", "gelu"),
            ("SiLU", "silu"),
            ("Identity", "identity"),
        ]
    }

    fn resolve(&self, call: &Call, input: Option<&[usize]>, _: &At, errors: &mut Errors) -> Option<Resolved> {
        Resolved::new(read(call, errors)?, input.map(<[usize]>::to_vec))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Activation {
    Sigmoid,
    Tanh,
    Relu,
    LeakyRelu {
        slope: f64,
    },
    Elu {
        alpha: f64,
    },
    Softplus,
    Gelu,
    GeluTanh,
    Swish,
    Identity,
    /// `activation(|x| ...)`: a user-defined function of `Var(0)`.
    Custom(Expr),
}

/// The activation `call` names; `None` if its arguments are wrong (the
/// error is recorded).
fn read(call: &Call, errors: &mut Errors) -> Option<Activation> {
    match call.name.to_string().as_str() {
        "sigmoid" => no_args(call, Activation::Sigmoid, errors),
        "tanh" => no_args(call, Activation::Tanh, errors),
        "relu" => no_args(call, Activation::Relu, errors),
        "softplus" => no_args(call, Activation::Softplus, errors),
        "swish" | "silu" => no_args(call, Activation::Swish, errors),
        "identity" => no_args(call, Activation::Identity, errors),
        "leaky_relu" => {
            optional_real(call, 0.01, "leaky_relu(0.01)", errors).map(|slope| Activation::LeakyRelu { slope })
        }
        "elu" => optional_real(call, 1.0, "elu(1.0)", errors).map(|alpha| Activation::Elu { alpha }),
        "gelu" => gelu(call, errors),
        _ => custom(call, errors),
    }
}

fn no_args(call: &Call, act: Activation, errors: &mut Errors) -> Option<Activation> {
    if call.paren.is_some() {
        args::positional(call, 0, &call.name.to_string(), errors)?;
    }
    Some(act)
}

/// No parentheses: the default; otherwise exactly one finite number.
fn optional_real(call: &Call, default: f64, usage: &str, errors: &mut Errors) -> Option<f64> {
    if call.paren.is_none() {
        return Some(default);
    }
    let [arg] = args::positional(call, 1, usage, errors)? else {
        return None;
    };
    match args::real(&arg.value) {
        Ok(v) if v.is_finite() => Some(v),
        Ok(v) => {
            errors.push(arg.site(), format!("`{}` needs a finite number, found {v}", call.name));
            None
        }
        Err(message) => {
            errors.push(arg.site(), message);
            None
        }
    }
}

/// `activation(|x| ...)`: one closure of one parameter.
fn custom(call: &Call, errors: &mut Errors) -> Option<Activation> {
    let [arg] = args::positional(call, 1, "activation(|x| x * sigmoid(x))", errors)? else { return None };
    match &arg.value {
        syn::Expr::Closure(closure) => {
            crate::user_expr::translate(closure, &["x"], errors).map(Activation::Custom)
        }
        _ => {
            errors.push(arg.site(), "`activation` takes a closure, as in `activation(|x| x * sigmoid(x))`");
            None
        }
    }
}

/// `gelu` is exact; `gelu(tanh)` is the tanh approximation.
fn gelu(call: &Call, errors: &mut Errors) -> Option<Activation> {
    if call.paren.is_none() {
        return Some(Activation::Gelu);
    }
    let [arg] = args::positional(call, 1, "gelu(tanh)", errors)? else {
        return None;
    };
    match &arg.value {
        syn::Expr::Path(p) if p.path.is_ident("tanh") => Some(Activation::GeluTanh),
        _ => {
            errors.push(
                arg.site(),
                "`gelu` takes `tanh` for the tanh approximation, or nothing for the exact form",
            );
            None
        }
    }
}

impl Activation {
    /// The activation as an expression of its input `Var(0)`.
    pub fn expr(&self) -> Expr {
        let x = var(0);
        match self {
            Activation::Sigmoid => unary(Unary::Sigmoid, x),
            Activation::Tanh => unary(Unary::Tanh, x),
            Activation::Relu => relu(x),
            // x (step + slope (1 - step)): a product, not a max, so any
            // slope works, and the derivative at 0 is the slope, as PyTorch's.
            Activation::LeakyRelu { slope } => {
                let slope = *slope;
                let s = step(x.clone());
                mul(x, add(s.clone(), mul(c(slope), sub(c(1.0), s))))
            }
            // max(x, 0) + alpha (e^min(x, 0) - 1): exp never sees a large
            // positive argument, so no inf * 0 appears on either branch.
            Activation::Elu { alpha } => {
                let alpha = *alpha;
                let negative = sub(unary(Unary::Exp, binary(Binary::Min, x.clone(), c(0.0))), c(1.0));
                add(relu(x), mul(c(alpha), negative))
            }
            Activation::Softplus => unary(Unary::Softplus, x),
            Activation::Gelu => {
                let cdf = mul(c(0.5), add(c(1.0), unary(Unary::Erf, div(x.clone(), c(2f64.sqrt())))));
                mul(x, cdf)
            }
            Activation::GeluTanh => {
                let k = (2.0 / std::f64::consts::PI).sqrt();
                let inner = mul(c(k), add(x.clone(), mul(c(0.044715), powi(x.clone(), 3))));
                mul(mul(c(0.5), x), add(c(1.0), unary(Unary::Tanh, inner)))
            }
            Activation::Swish => mul(x.clone(), unary(Unary::Sigmoid, x)),
            Activation::Identity => x,
            Activation::Custom(e) => e.clone(),
        }
    }
}

impl Layer for Activation {
    fn lower(&self, g: &mut Graph, x: NodeId, _: &Origin, _: LowerCtx) -> NodeId {
        let shape = g.shape(x).clone();
        ops::map::map(g, self.expr(), vec![x], shape)
    }

    /// A table of its values at every input code.
    fn int8(&self, _: &[usize]) -> Option<crate::int8::Form> {
        Some(crate::int8::Form::Elementwise(self.expr()))
    }

    fn over_time(&self) -> OverTime<'_> {
        OverTime::EachStep
    }

    fn over_columns(&self) -> OverTime<'_> {
        OverTime::EachStep
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values against closed forms computed independently.
    #[test]
    fn expressions_have_the_documented_values() {
        let at = |a: Activation, x: f64| a.expr().eval(&[x], 1.0);
        assert_eq!(at(Activation::LeakyRelu { slope: 0.1 }, -2.0), -0.2);
        assert_eq!(at(Activation::LeakyRelu { slope: 3.0 }, -2.0), -6.0);
        assert_eq!(at(Activation::LeakyRelu { slope: 0.1 }, 2.0), 2.0);
        assert!((at(Activation::Elu { alpha: 2.0 }, -1.0) - 2.0 * ((-1f64).exp() - 1.0)).abs() < 1e-15);
        assert_eq!(at(Activation::Elu { alpha: 2.0 }, 1000.0), 1000.0);
        assert!((at(Activation::Gelu, 1.0) - 0.841_344_746_068_542_9).abs() < 1e-12);
        assert!((at(Activation::GeluTanh, 1.0) - 0.841_191_990_607_402_3).abs() < 1e-12);
        assert!((at(Activation::Swish, 1.0) - 1.0 / (1.0 + (-1f64).exp())).abs() < 1e-15);
        assert_eq!(at(Activation::Softplus, 800.0), 800.0);
    }
}
