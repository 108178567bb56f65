//! Scalar expressions to Rust, with common subexpressions computed once.

use super::{Ctx, Mode, rt};
use crate::ir::expr::{Binary, Expr, Unary};
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};
use std::collections::HashMap;

/// Rust evaluating `e`, where `Var(i)` reads `vars[i]`. A compound
/// subexpression that occurs more than once is bound once to a local and
/// reused; the others are written in place.
pub fn emit_expr(e: &Expr, vars: &[TokenStream], ctx: &Ctx) -> TokenStream {
    let mut w = Writer::new(std::slice::from_ref(e), vars, ctx);
    let (result, _) = w.value(e);
    w.block(result)
}

/// Statements storing each expression of `es` into the place `targets`
/// names, their common subexpressions computed once across all of them.
pub fn emit_stores(es: &[Expr], targets: &[TokenStream], vars: &[TokenStream], ctx: &Ctx) -> TokenStream {
    let mut w = Writer::new(es, vars, ctx);
    let values: Vec<TokenStream> = es.iter().map(|e| w.value(e).0).collect();
    let lets = w.lets;
    quote!(#(#lets)* #(#targets = #values;)*)
}

struct Writer<'a> {
    vars: &'a [TokenStream],
    ctx: &'a Ctx<'a>,
    /// How many times each compound subexpression is read.
    uses: HashMap<Expr, usize>,
    /// Locals bound so far, by expression.
    bound: HashMap<Expr, TokenStream>,
    lets: Vec<TokenStream>,
}

impl<'a> Writer<'a> {
    fn new(roots: &[Expr], vars: &'a [TokenStream], ctx: &'a Ctx<'a>) -> Self {
        let mut w = Writer { vars, ctx, uses: HashMap::new(), bound: HashMap::new(), lets: Vec::new() };
        roots.iter().for_each(|e| w.count(e));
        w
    }

    /// Counts the reads of `e`'s compound parts; a part's own parts are
    /// counted once, however often the part is read.
    fn count(&mut self, e: &Expr) {
        let children: Vec<&Expr> = match e {
            // `a * a`: the operand is read twice.
            Expr::Unary(Unary::Powi(2), a) => vec![a, a],
            Expr::Unary(_, a) => vec![a],
            Expr::Binary(_, a, b) => vec![a, b],
            _ => return,
        };
        let seen = self.uses.entry(e.clone()).or_insert(0);
        *seen += 1;
        if *seen == 1 {
            children.into_iter().for_each(|c| self.count(c));
        }
    }

    /// The statements binding the shared parts, then `result`.
    fn block(self, result: TokenStream) -> TokenStream {
        let lets = self.lets;
        if lets.is_empty() { result } else { quote!({ #(#lets)* #result }) }
    }

    /// Tokens computing `e`, and whether they need parentheses to be the
    /// operand of an arithmetic operator.
    fn value(&mut self, e: &Expr) -> (TokenStream, bool) {
        match e {
            Expr::Const(n) => (literal(n.0, self.ctx), false),
            Expr::Var(i) => (self.vars[*i].clone(), false),
            Expr::Batch => {
                let s = self.ctx.scalar;
                match self.ctx.mode {
                    Mode::Batched => (quote!((batch as #s)), false),
                    Mode::Single => (literal(1.0, self.ctx), false),
                }
            }
            _ if self.uses.get(e).is_some_and(|&n| n > 1) => {
                if let Some(name) = self.bound.get(e) {
                    return (name.clone(), false);
                }
                let (value, _) = self.compound(e);
                let name = format_ident!("__t{}", self.lets.len());
                let s = self.ctx.scalar;
                self.lets.push(quote!(let #name: #s = #value;));
                self.bound.insert(e.clone(), quote!(#name));
                (quote!(#name), false)
            }
            _ => self.compound(e),
        }
    }

    /// `e` as an operand: parenthesized where it must be.
    fn operand(&mut self, e: &Expr) -> TokenStream {
        match self.value(e) {
            (tokens, true) => quote!((#tokens)),
            (tokens, false) => tokens,
        }
    }

    fn compound(&mut self, e: &Expr) -> (TokenStream, bool) {
        let rt = rt();
        match e {
            Expr::Unary(op, a) => {
                let call = |f: TokenStream, a: TokenStream| (quote!(#rt::math::#f(#a)), false);
                match op {
                    Unary::Neg => {
                        let a = self.operand(a);
                        (quote!(-#a), true)
                    }
                    Unary::Powi(2) => {
                        let a = self.operand(a);
                        (quote!(#a * #a), true)
                    }
                    Unary::Powi(n) => {
                        let a = self.value(a).0;
                        (quote!(#rt::math::powi(#a, #n)), false)
                    }
                    Unary::Powf(e) => {
                        let (a, e) = (self.value(a).0, literal(e.0, self.ctx));
                        (quote!(#rt::math::powf(#a, #e)), false)
                    }
                    _ => {
                        let a = self.value(a).0;
                        // Polynomial approximations take the level the code
                        // runs on, to fuse their multiply-adds.
                        let on_level = |f: TokenStream| call(f, quote!(__isa, #a));
                        match op {
                            Unary::Exp => on_level(quote!(exp)),
                            Unary::Tanh => on_level(quote!(tanh)),
                            Unary::Sigmoid => on_level(quote!(sigmoid)),
                            Unary::Softplus => on_level(quote!(softplus)),
                            Unary::Ln => call(quote!(ln), a),
                            Unary::Sqrt => call(quote!(sqrt), a),
                            Unary::Abs => call(quote!(abs), a),
                            Unary::Step => call(quote!(step), a),
                            Unary::Erf => call(quote!(erf), a),
                            Unary::Cosh => call(quote!(cosh), a),
                            Unary::Sinh => call(quote!(sinh), a),
                            Unary::Neg | Unary::Powi(_) | Unary::Powf(_) => unreachable!("written above"),
                        }
                    }
                }
            }
            Expr::Binary(op @ (Binary::Max | Binary::Min), a, b) => {
                let (a, b) = (self.value(a).0, self.value(b).0);
                let f = if *op == Binary::Max { quote!(max) } else { quote!(min) };
                (quote!(#rt::math::#f(#a, #b)), false)
            }
            Expr::Binary(op, a, b) => {
                let (a, b) = (self.operand(a), self.operand(b));
                let tokens = match op {
                    Binary::Add => quote!(#a + #b),
                    Binary::Sub => quote!(#a - #b),
                    Binary::Mul => quote!(#a * #b),
                    _ => quote!(#a / #b),
                };
                (tokens, true)
            }
            _ => self.value(e),
        }
    }
}

/// A typed literal; non-finite values through the type's constants.
pub fn literal(v: f64, ctx: &Ctx) -> TokenStream {
    let s = ctx.scalar;
    let f64_type = *s == "f64";
    if v.is_nan() {
        return quote!(#s::NAN);
    }
    // A constant beyond f32's range is infinite in an f32 network, as the
    // compiler would round it (and `Literal` refuses a non-finite value).
    let v = if f64_type { v } else { f64::from(v as f32) };
    if v.is_infinite() {
        return if v > 0.0 { quote!(#s::INFINITY) } else { quote!(#s::NEG_INFINITY) };
    }
    let lit = if f64_type { Literal::f64_suffixed(v.abs()) } else { Literal::f32_suffixed(v.abs() as f32) };
    if v.is_sign_negative() { quote!((-#lit)) } else { quote!(#lit) }
}
