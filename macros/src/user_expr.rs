//! User-defined elementwise functions: a Rust closure to an expression.
//!
//! Accepted: the closure's parameters, numeric literals, `+ - * /`, unary
//! `-`, parentheses, and these functions, called either as `f(x)` or as a
//! method `x.f()`: `exp`, `ln`, `sqrt`, `abs`, `sigmoid`, `tanh`,
//! `powi(x, n)` (`n` an integer literal), `powf(x, p)` (`p` a number
//! literal), `max(a, b)`, `min(a, b)`. The derivative then comes from the
//! expression language's rules (the gradient of `max` and `min` goes to
//! the operand that wins; `abs` has derivative 0 at 0). Anything else
//! (comparisons, `if`, `%`, an unknown name) is an error at that
//! sub-expression, because no derivative could be derived for it; the
//! rounding functions (`floor`, `round`, `signum`, ...) get their own
//! message: their derivative is zero wherever it exists, so nothing would
//! learn through them.

use crate::errors::{Errors, Site};
use crate::ir::expr::{Binary, Expr, Unary, add, binary, c, div, mul, neg, powf, powi, sub, unary, var};
use syn::{BinOp, Expr as E, ExprClosure, Lit, Pat, UnOp};

pub const FUNCTIONS: [&str; 12] =
    ["exp", "ln", "sqrt", "abs", "sigmoid", "tanh", "cosh", "sinh", "powi", "powf", "max", "min"];

/// Functions that are piecewise constant: a derivative of zero wherever
/// there is one.
const FLAT: [&str; 6] = ["floor", "ceil", "round", "trunc", "signum", "fract"];

/// Translates `closure`, which must take exactly `params.len()` parameters
/// (`params` names them for messages, as in `["x"]` or `["y", "t"]`).
pub fn translate(closure: &ExprClosure, params: &[&str], errors: &mut Errors) -> Option<Expr> {
    let names: Vec<String> = closure
        .inputs
        .iter()
        .filter_map(|p| match p {
            Pat::Ident(i) => Some(i.ident.to_string()),
            Pat::Type(t) => match &*t.pat {
                Pat::Ident(i) => Some(i.ident.to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    if names.len() != closure.inputs.len() || names.len() != params.len() {
        let wanted = params.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ");
        errors.push(
            Site::of(&closure.inputs),
            format!(
                "this closure must take {} plain parameter{} ({wanted})",
                params.len(),
                plural(params.len())
            ),
        );
        return None;
    }
    Translator { names, errors }.expr(&closure.body)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

struct Translator<'a> {
    names: Vec<String>,
    errors: &'a mut Errors,
}

impl Translator<'_> {
    fn fail(&mut self, at: &impl quote::ToTokens, message: impl std::fmt::Display) -> Option<Expr> {
        self.errors.push(Site::of(at), message);
        None
    }

    fn expr(&mut self, e: &E) -> Option<Expr> {
        match e {
            E::Paren(p) => self.expr(&p.expr),
            E::Group(g) => self.expr(&g.expr),
            E::Lit(l) => match &l.lit {
                Lit::Float(f) => {
                    f.base10_parse::<f64>().map(c).map_err(|err| self.errors.push(f.span(), err)).ok()
                }
                Lit::Int(i) => {
                    i.base10_parse::<f64>().map(c).map_err(|err| self.errors.push(i.span(), err)).ok()
                }
                _ => self.fail(e, "only numbers can appear as constants here"),
            },
            E::Path(p) => match p.path.get_ident().map(ToString::to_string) {
                Some(name) if let Some(i) = self.names.iter().position(|n| *n == name) => Some(var(i)),
                Some(name) => {
                    let known: Vec<&str> = self.names.iter().map(String::as_str).collect();
                    self.fail(e, crate::suggest::unknown("name", &name, &known))
                }
                None => self.fail(e, "expected a parameter of the closure or a number"),
            },
            E::Unary(u) => match u.op {
                UnOp::Neg(_) => Some(neg(self.expr(&u.expr)?)),
                _ => self.fail(e, format!("cannot differentiate `{}`", show(e))),
            },
            E::Binary(b) => {
                let op = match b.op {
                    BinOp::Add(_) => add,
                    BinOp::Sub(_) => sub,
                    BinOp::Mul(_) => mul,
                    BinOp::Div(_) => div,
                    _ => {
                        let op = quote::ToTokens::to_token_stream(&b.op).to_string();
                        return self.fail(
                            &b.op,
                            format!(
                                "cannot differentiate `{op}`; use `+ - * /` and the functions {}",
                                crate::suggest::list(&FUNCTIONS)
                            ),
                        );
                    }
                };
                let (l, r) = (self.expr(&b.left), self.expr(&b.right));
                Some(op(l?, r?))
            }
            E::Call(call) => {
                let E::Path(f) = &*call.func else {
                    return self.fail(&call.func, "expected a function name");
                };
                let Some(name) = f.path.get_ident() else {
                    return self.fail(&call.func, "expected a function name");
                };
                let args: Vec<&E> = call.args.iter().collect();
                self.function(name, &args)
            }
            E::MethodCall(m) => {
                let mut args: Vec<&E> = vec![&m.receiver];
                args.extend(m.args.iter());
                self.function(&m.method, &args)
            }
            _ => self.fail(e, format!("cannot differentiate `{}`", show(e))),
        }
    }

    fn function(&mut self, name: &syn::Ident, args: &[&E]) -> Option<Expr> {
        let f = name.to_string();
        let arity = match f.as_str() {
            "exp" | "ln" | "sqrt" | "abs" | "sigmoid" | "tanh" | "cosh" | "sinh" => 1,
            "powi" | "powf" | "max" | "min" => 2,
            // `fract` is `x - floor(x)`: its derivative is 1, but a
            // sawtooth is no activation; it goes with the others.
            _ if FLAT.contains(&f.as_str()) => {
                return self.fail(
                    name,
                    format!(
                        "`{f}` has no useful derivative: it is 0 wherever it exists, so no gradient would flow \
                         through it; use a smooth function (`tanh`, `sigmoid`) instead"
                    ),
                );
            }
            _ => return self.fail(name, crate::suggest::unknown("function", &f, &FUNCTIONS)),
        };
        if args.len() != arity {
            return self
                .fail(name, format!("`{f}` takes {arity} argument{}, found {}", plural(arity), args.len()));
        }
        if f == "powi" {
            let base = self.expr(args[0]);
            let exponent = match args[1] {
                E::Lit(l) => match &l.lit {
                    Lit::Int(i) => i.base10_parse::<i32>().ok(),
                    _ => None,
                },
                E::Unary(u) if matches!(u.op, UnOp::Neg(_)) => match &*u.expr {
                    E::Lit(l) => match &l.lit {
                        Lit::Int(i) => i.base10_parse::<i32>().ok().map(|n| -n),
                        _ => None,
                    },
                    _ => None,
                },
                _ => None,
            };
            let Some(n) = exponent else {
                return self.fail(args[1], "`powi` takes a whole-number exponent literal");
            };
            return Some(powi(base?, n));
        }
        if f == "powf" {
            let base = self.expr(args[0]);
            let Ok(exponent) = crate::args::real(args[1]) else {
                return self
                    .fail(args[1], "`powf` takes a number literal as its exponent, as in `x.powf(1.5)`");
            };
            return Some(powf(base?, exponent));
        }
        let a = self.expr(args[0]);
        let b = if arity == 2 { self.expr(args[1]) } else { Some(c(0.0)) };
        let (a, b) = (a?, b?);
        Some(match f.as_str() {
            "exp" => unary(Unary::Exp, a),
            "ln" => unary(Unary::Ln, a),
            "sqrt" => unary(Unary::Sqrt, a),
            "abs" => unary(Unary::Abs, a),
            "sigmoid" => unary(Unary::Sigmoid, a),
            "tanh" => unary(Unary::Tanh, a),
            "cosh" => unary(Unary::Cosh, a),
            "sinh" => unary(Unary::Sinh, a),
            "max" => binary(Binary::Max, a, b),
            _ => binary(Binary::Min, a, b),
        })
    }
}

fn show(e: &E) -> String {
    quote::ToTokens::to_token_stream(e).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn translate_str(tokens: proc_macro2::TokenStream, params: &[&str]) -> Result<Expr, Vec<String>> {
        let closure: ExprClosure = syn::parse2(tokens).unwrap();
        let mut errors = Errors::default();
        let out = translate(&closure, params, &mut errors);
        match errors.finish() {
            Ok(()) => Ok(out.unwrap()),
            Err(e) => Err(e.into_iter().map(|e| e.to_string()).collect()),
        }
    }

    #[test]
    fn functions_and_methods_mean_the_same() {
        let a = translate_str(quote!(|x| x * sigmoid(x) + powi(x, 3) - max(x, 0.5)), &["x"]).unwrap();
        let b = translate_str(quote!(|x| x * x.sigmoid() + x.powi(3) - x.max(0.5)), &["x"]).unwrap();
        assert_eq!(a, b);
        let v = a.eval(&[2.0], 1.0);
        assert!((v - (2.0 / (1.0 + (-2f64).exp()) + 8.0 - 2.0)).abs() < 1e-12);
    }

    #[test]
    fn powf_takes_a_constant_exponent() {
        let e = translate_str(quote!(|x| x.powf(1.5) + powf(x, -0.5)), &["x"]).unwrap();
        assert!((e.eval(&[4.0], 1.0) - (8.0 + 0.5)).abs() < 1e-12);
        assert!((e.diff(0).eval(&[4.0], 1.0) - (1.5 * 2.0 - 0.5 * 0.5 / 4.0)).abs() < 1e-12);
    }

    #[test]
    fn losses_take_two_parameters() {
        let e = translate_str(quote!(|y, t| (y - t).abs() / 2.0), &["y", "t"]).unwrap();
        assert_eq!(e.eval(&[1.0, 4.0], 1.0), 1.5);
    }

    #[test]
    fn what_cannot_be_differentiated_is_reported_where_it_is() {
        let errors = translate_str(quote!(|x| x.floor() + (x % 2.0) + exq(x) + z), &["x"]).unwrap_err();
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert!(errors[0].contains("`floor` has no useful derivative"), "{errors:?}");
        assert!(errors[1].contains("cannot differentiate `%`"), "{errors:?}");
        assert!(errors[2].contains("unknown function `exq`, did you mean `exp`?"), "{errors:?}");
        assert!(errors[3].contains("unknown name `z`"), "{errors:?}");
        let errors = translate_str(quote!(|x| if x > 0.0 { x } else { 0.0 }), &["x"]).unwrap_err();
        assert!(errors[0].contains("cannot differentiate `if"), "{errors:?}");
        let errors = translate_str(quote!(|a, b| a + b), &["x"]).unwrap_err();
        assert!(errors[0].contains("must take 1 plain parameter (`x`)"), "{errors:?}");
        let errors = translate_str(quote!(|x| powi(x, 1.5)), &["x"]).unwrap_err();
        assert!(errors[0].contains("whole-number exponent"), "{errors:?}");
        let errors = translate_str(quote!(|x| x.powf(x)), &["x"]).unwrap_err();
        assert!(errors[0].contains("`powf` takes a number literal"), "{errors:?}");
        let errors = translate_str(quote!(|x| x.signum() * round(x)), &["x"]).unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:?}");
    }
}
