//! Scalar expressions to Rust, with common subexpressions computed once.

use super::{Ctx, Mode, rt};
use crate::ir::expr::{Binary, Expr, Unary};
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};
use std::collections::HashMap;

/// A block evaluating `e`, where `Var(i)` reads `vars[i]`. Each distinct
/// compound subexpression is bound once to a local and reused.
pub fn emit_expr(e: &Expr, vars: &[TokenStream], ctx: &Ctx) -> TokenStream {
    let mut w = Writer { vars, ctx, memo: HashMap::new(), lets: Vec::new() };
    let result = w.atom(e);
    let lets = w.lets;
    quote!({ #(#lets)* #result })
}

/// A block evaluating every expression of `es` into an array, in order,
/// with their common subexpressions computed once across all of them.
pub fn emit_exprs(es: &[Expr], vars: &[TokenStream], ctx: &Ctx) -> TokenStream {
    let mut w = Writer { vars, ctx, memo: HashMap::new(), lets: Vec::new() };
    let results: Vec<TokenStream> = es.iter().map(|e| w.atom(e)).collect();
    let lets = w.lets;
    quote!({ #(#lets)* [#(#results),*] })
}

struct Writer<'a> {
    vars: &'a [TokenStream],
    ctx: &'a Ctx<'a>,
    memo: HashMap<Expr, TokenStream>,
    lets: Vec<TokenStream>,
}

impl Writer<'_> {
    fn atom(&mut self, e: &Expr) -> TokenStream {
        match e {
            Expr::Const(n) => literal(n.0, self.ctx),
            Expr::Var(i) => self.vars[*i].clone(),
            Expr::Batch => {
                let s = self.ctx.scalar;
                match self.ctx.mode {
                    Mode::Batched => quote!((batch as #s)),
                    Mode::Single => literal(1.0, self.ctx),
                }
            }
            _ => {
                if let Some(name) = self.memo.get(e) {
                    return name.clone();
                }
                let value = self.compound(e);
                let name = format_ident!("__t{}", self.lets.len());
                let s = self.ctx.scalar;
                self.lets.push(quote!(let #name: #s = #value;));
                self.memo.insert(e.clone(), quote!(#name));
                quote!(#name)
            }
        }
    }

    fn compound(&mut self, e: &Expr) -> TokenStream {
        let rt = rt();
        match e {
            Expr::Unary(op, a) => {
                let a = self.atom(a);
                match op {
                    Unary::Neg => quote!(-#a),
                    Unary::Exp => quote!(#rt::math::exp(#a)),
                    Unary::Ln => quote!(#rt::math::ln(#a)),
                    Unary::Tanh => quote!(#rt::math::tanh(#a)),
                    Unary::Sigmoid => quote!(#rt::math::sigmoid(#a)),
                    Unary::Sqrt => quote!(#rt::math::sqrt(#a)),
                    Unary::Abs => quote!(#rt::math::abs(#a)),
                    Unary::Step => quote!(#rt::math::step(#a)),
                    Unary::Softplus => quote!(#rt::math::softplus(#a)),
                    Unary::Erf => quote!(#rt::math::erf(#a)),
                    Unary::Powi(2) => quote!(#a * #a),
                    Unary::Powi(n) => quote!(#rt::math::powi(#a, #n)),
                }
            }
            Expr::Binary(op, a, b) => {
                let (a, b) = (self.atom(a), self.atom(b));
                match op {
                    Binary::Add => quote!(#a + #b),
                    Binary::Sub => quote!(#a - #b),
                    Binary::Mul => quote!(#a * #b),
                    Binary::Div => quote!(#a / #b),
                    Binary::Max => quote!(#rt::math::max(#a, #b)),
                    Binary::Min => quote!(#rt::math::min(#a, #b)),
                }
            }
            _ => self.atom(e),
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
