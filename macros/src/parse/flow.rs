//! The graph form of a declaration: `graph: { let .. = ..; .. output }`.
//!
//! Grammar (beside the one in `parse.rs`):
//!
//! ```text
//! graph     := "{" statement* flow "}"        the last flow: the output(s)
//! statement := "let" pattern "=" flow ";"
//! pattern   := IDENT | "(" IDENT ("," IDENT)* ","? ")"
//! flow      := product ("+" product)*         add
//! product   := term ("*" term)*               multiply
//! term      := IDENT                          a named value
//!            | IDENT "(" (farg ("," farg)* ","?)? ")" list?
//!                                             a layer or merge applied
//!            | "(" flow ")"
//!            | "(" flow ("," flow)+ ","? ")"  several outputs
//!            | list                           layers, as an argument of `layers(..)`
//!            | "-"? LITERAL (".." LITERAL)?   a size, a rate, a range
//! farg      := IDENT "=" EXPR | flow
//! ```
//!
//! Whether a name is a value, whether a function takes values and whether
//! their shapes agree is the checker's business (`dataflow.rs`). A token
//! error costs the statement it is in: the names it would bind are kept,
//! their values unknown, so later uses of them report nothing more.

use super::{Call, Item, list};
use proc_macro2::extra::DelimSpan;
use proc_macro2::{Span, TokenTree};
use syn::parse::{Parse, ParseStream};
use syn::{Expr, Ident, Token, braced, parenthesized};

/// `graph: { .. }`.
pub struct GraphBlock {
    pub statements: Vec<Statement>,
    /// The value the block ends with: its output, or a tuple of outputs.
    pub tail: Option<Flow>,
    pub brace: DelimSpan,
    /// Token errors, one per statement that could not be read.
    pub syntax: Vec<syn::Error>,
}

/// `let name = flow;` (or a tuple of names).
pub struct Statement {
    pub names: Vec<Ident>,
    /// `None` when it could not be read (its error is in `syntax`).
    pub value: Option<Flow>,
}

/// A value expression.
pub enum Flow {
    Name(Ident),
    Apply(Apply),
    /// `a + b` (add) or `a * b` (multiply).
    Binary {
        op: char,
        lhs: Box<Flow>,
        rhs: Box<Flow>,
    },
    /// `(a, b)`: several outputs.
    Tuple(Vec<Flow>),
    /// `[dense(8), relu]`: a chain of layers, an argument of `layers(..)`.
    List(Vec<Item>, DelimSpan),
    /// A literal, a negative one or a range: an argument that is no value.
    Literal(Expr),
}

/// `name(args)` with an optional `[...]` block (`residual(h)[..]`).
pub struct Apply {
    pub name: Ident,
    pub args: Vec<FlowArg>,
    pub paren: DelimSpan,
    pub block: Option<(Vec<Item>, DelimSpan)>,
}

/// A positional argument (a flow) or a named one (`kernel = 3`).
pub struct FlowArg {
    pub name: Option<Ident>,
    pub value: FlowValue,
}

pub enum FlowValue {
    Flow(Flow),
    /// A named argument's value, as a layer reads it.
    Expr(Expr),
}

impl Parse for GraphBlock {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let content;
        let brace = braced!(content in input).span;
        let (mut statements, mut tail, mut syntax) = (Vec::new(), None, Vec::new());
        while !content.is_empty() {
            if content.peek(Token![let]) {
                statements.push(statement(&content, &mut syntax)?);
                continue;
            }
            let fork = content.fork();
            match fork.parse::<Flow>() {
                Ok(flow) if fork.is_empty() => {
                    use syn::parse::discouraged::Speculative;
                    content.advance_to(&fork);
                    tail = Some(flow);
                }
                Ok(_) if fork.peek(Token![;]) => {
                    syntax.push(fork.error("a statement here binds a name: write `let name = ...;`"));
                    skip_statement(&content)?;
                }
                Ok(_) => {
                    syntax.push(fork.error("expected `;` or the end of the graph"));
                    skip_statement(&content)?;
                }
                Err(e) => {
                    syntax.push(e);
                    skip_statement(&content)?;
                }
            }
        }
        Ok(Self { statements, tail, brace, syntax })
    }
}

/// One `let` statement; a token error is recorded and the statement
/// skipped, keeping the names it binds if they read.
fn statement(input: ParseStream, syntax: &mut Vec<syn::Error>) -> syn::Result<Statement> {
    use syn::parse::discouraged::Speculative;
    input.parse::<Token![let]>()?;
    let fork = input.fork();
    let names = match pattern(&fork) {
        Ok(names) => {
            input.advance_to(&fork);
            names
        }
        Err(e) => {
            syntax.push(e);
            skip_statement(input)?;
            return Ok(Statement { names: Vec::new(), value: None });
        }
    };
    let fork = input.fork();
    let value = fork.parse::<Token![=]>().and_then(|_| fork.parse::<Flow>()).and_then(|flow| {
        if fork.peek(Token![;]) { Ok(flow) } else { Err(fork.error("expected `;` after the value")) }
    });
    match value {
        Ok(flow) => {
            input.advance_to(&fork);
            input.parse::<Token![;]>()?;
            Ok(Statement { names, value: Some(flow) })
        }
        Err(e) => {
            syntax.push(e);
            skip_statement(input)?;
            Ok(Statement { names, value: None })
        }
    }
}

/// `name` or `(a, b, ..)`.
fn pattern(input: ParseStream) -> syn::Result<Vec<Ident>> {
    if input.peek(syn::token::Paren) {
        let content;
        parenthesized!(content in input);
        let names = content.parse_terminated(Ident::parse, Token![,])?;
        return Ok(names.into_iter().collect());
    }
    let name: Ident = input.parse().map_err(|e| syn::Error::new(e.span(), "expected a name after `let`"))?;
    Ok(vec![name])
}

/// Past the next `;` of the block (or to its end).
fn skip_statement(input: ParseStream) -> syn::Result<()> {
    input.step(|cursor| {
        let mut rest = *cursor;
        while let Some((token, next)) = rest.token_tree() {
            rest = next;
            if matches!(&token, TokenTree::Punct(p) if p.as_char() == ';') {
                break;
            }
        }
        Ok(((), rest))
    })
}

impl Parse for Flow {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut lhs = product(input)?;
        while input.peek(Token![+]) && !input.peek(Token![+=]) {
            input.parse::<Token![+]>()?;
            let rhs = product(input)?;
            lhs = Flow::Binary { op: '+', lhs: Box::new(lhs), rhs: Box::new(rhs) };
        }
        Ok(lhs)
    }
}

fn product(input: ParseStream) -> syn::Result<Flow> {
    let mut lhs = term(input)?;
    while input.peek(Token![*]) && !input.peek(Token![*=]) {
        input.parse::<Token![*]>()?;
        let rhs = term(input)?;
        lhs = Flow::Binary { op: '*', lhs: Box::new(lhs), rhs: Box::new(rhs) };
    }
    Ok(lhs)
}

fn term(input: ParseStream) -> syn::Result<Flow> {
    if input.peek(syn::token::Paren) {
        let content;
        parenthesized!(content in input);
        let parts = content.parse_terminated(Flow::parse, Token![,])?;
        let trailing = parts.trailing_punct();
        let mut parts: Vec<Flow> = parts.into_iter().collect();
        return match parts.len() {
            1 if !trailing => Ok(parts.remove(0)),
            0 => Err(content.error("expected a value in the parentheses")),
            _ => Ok(Flow::Tuple(parts)),
        };
    }
    if input.peek(syn::token::Bracket) {
        let (items, span) = list(input)?;
        return Ok(Flow::List(items, span));
    }
    if input.peek(Ident) {
        let name: Ident = input.parse()?;
        if !input.peek(syn::token::Paren) {
            return Ok(Flow::Name(name));
        }
        let content;
        let paren = parenthesized!(content in input).span;
        let args = content.parse_terminated(FlowArg::parse, Token![,])?.into_iter().collect();
        let block = if input.peek(syn::token::Bracket) { Some(list(input)?) } else { None };
        return Ok(Flow::Apply(Apply { name, args, paren, block }));
    }
    if input.peek(syn::Lit) || input.peek(Token![-]) {
        return literal(input).map(Flow::Literal);
    }
    Err(input.error("expected a value: a name, a layer applied to a value as in `dense(x, 64)`, or `a + b`"))
}

/// `3`, `-1`, `0.5`, `8..16`.
fn literal(input: ParseStream) -> syn::Result<Expr> {
    let one = |input: ParseStream| -> syn::Result<Expr> {
        let minus: Option<Token![-]> = input.parse()?;
        let lit = Expr::Lit(syn::ExprLit { attrs: Vec::new(), lit: input.parse()? });
        Ok(match minus {
            Some(minus) => Expr::Unary(syn::ExprUnary {
                attrs: Vec::new(),
                op: syn::UnOp::Neg(minus),
                expr: Box::new(lit),
            }),
            None => lit,
        })
    };
    let start = one(input)?;
    if !input.peek(Token![..]) {
        return Ok(start);
    }
    let limits: syn::RangeLimits = input.parse()?;
    let end = one(input)?;
    Ok(Expr::Range(syn::ExprRange {
        attrs: Vec::new(),
        start: Some(Box::new(start)),
        limits,
        end: Some(Box::new(end)),
    }))
}

impl Parse for FlowArg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.peek(Ident) && input.peek2(Token![=]) && !input.peek2(Token![==]) {
            let name = input.parse()?;
            input.parse::<Token![=]>()?;
            return Ok(Self { name: Some(name), value: FlowValue::Expr(input.parse()?) });
        }
        Ok(Self { name: None, value: FlowValue::Flow(input.parse()?) })
    }
}

impl Flow {
    /// The flow as a plain expression, for a layer's size and flag
    /// arguments (a name becomes a path: the layer says sizes are literals).
    pub fn to_expr(&self) -> Option<Expr> {
        match self {
            Flow::Literal(e) => Some(e.clone()),
            Flow::Name(name) => {
                Some(Expr::Path(syn::ExprPath { attrs: Vec::new(), qself: None, path: name.clone().into() }))
            }
            _ => None,
        }
    }

    /// From its first to its last token, for messages.
    pub fn site(&self) -> crate::errors::Site {
        use crate::errors::Site;
        match self {
            Flow::Name(n) => n.span().into(),
            Flow::Apply(a) => a.call_site(),
            Flow::Binary { lhs, rhs, .. } => Site { start: lhs.site().start, end: rhs.site().end },
            Flow::Tuple(parts) => {
                let (first, last) = (parts.first().map(Flow::site), parts.last().map(Flow::site));
                match (first, last) {
                    (Some(f), Some(l)) => Site { start: f.start, end: l.end },
                    _ => Span::call_site().into(),
                }
            }
            Flow::List(_, span) => Site { start: span.open(), end: span.close() },
            Flow::Literal(e) => Site::of(e),
        }
    }

    /// The flow as written, for messages.
    pub fn display(&self) -> String {
        use quote::ToTokens;
        match self {
            Flow::Name(n) => n.to_string(),
            Flow::Apply(a) => {
                let args: Vec<String> = a
                    .args
                    .iter()
                    .map(|arg| {
                        let value = match &arg.value {
                            FlowValue::Flow(f) => f.display(),
                            FlowValue::Expr(e) => e.to_token_stream().to_string().replace(' ', ""),
                        };
                        arg.name.as_ref().map_or(value.clone(), |n| format!("{n} = {value}"))
                    })
                    .collect();
                let block = if a.block.is_some() { "[...]" } else { "" };
                format!("{}({}){block}", a.name, args.join(", "))
            }
            Flow::Binary { op, lhs, rhs, .. } => format!("{} {op} {}", lhs.display(), rhs.display()),
            Flow::Tuple(parts) => {
                format!("({})", parts.iter().map(Flow::display).collect::<Vec<_>>().join(", "))
            }
            Flow::List(..) => "[...]".to_string(),
            Flow::Literal(e) => e.to_token_stream().to_string().replace(' ', ""),
        }
    }
}

impl Apply {
    /// From the name to the closing parenthesis or bracket.
    pub fn call_site(&self) -> crate::errors::Site {
        let end = self.block.as_ref().map_or(self.paren.close(), |(_, b)| b.close());
        crate::errors::Site { start: self.name.span(), end }
    }

    /// The layer call this applies, without its first (value) argument:
    /// `conv2d(x, 16, kernel = 3)` is `conv2d(16, kernel = 3)` on `x`.
    /// `None` when an argument after the first is a value expression.
    pub fn layer_call(&self) -> Result<Call, &Flow> {
        let mut args = Vec::new();
        for arg in self.args.iter().skip(1) {
            let value = match &arg.value {
                FlowValue::Expr(e) => e.clone(),
                FlowValue::Flow(f) => f.to_expr().ok_or(f)?,
            };
            args.push(super::Arg { name: arg.name.clone(), value });
        }
        let block = self.block.clone();
        Ok(Call { name: self.name.clone(), args, paren: Some(self.paren), block })
    }
}

impl GraphBlock {
    /// Token errors of the block: of statements, and of layer lists in it.
    pub fn token_errors(&self, out: &mut Vec<syn::Error>) {
        fn flow(f: &Flow, out: &mut Vec<syn::Error>) {
            match f {
                Flow::Apply(a) => {
                    for arg in &a.args {
                        if let FlowValue::Flow(f) = &arg.value {
                            flow(f, out);
                        }
                    }
                    if let Some((items, _)) = &a.block {
                        super::item_errors(items, out);
                    }
                }
                Flow::Binary { lhs, rhs, .. } => {
                    flow(lhs, out);
                    flow(rhs, out);
                }
                Flow::Tuple(parts) => parts.iter().for_each(|p| flow(p, out)),
                Flow::List(items, _) => super::item_errors(items, out),
                Flow::Name(_) | Flow::Literal(_) => {}
            }
        }
        out.extend(self.syntax.iter().cloned());
        for s in &self.statements {
            if let Some(f) = &s.value {
                flow(f, out);
            }
        }
        if let Some(f) = &self.tail {
            flow(f, out);
        }
    }
}
