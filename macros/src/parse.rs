//! Stage 1: tokens to a declaration, keeping every span for later messages.
//!
//! Grammar, one production a line:
//!
//! ```text
//! network := attribute* visibility "struct" IDENT "{" field ("," field)* ","? "}"
//! field   := "input" ":" shape
//!          | "input" ":" "{" IDENT ":" shape ("," IDENT ":" shape)* ","? "}"
//!          | "layers" ":" list
//!          | "graph" ":" graph                 (grammar in `parse/flow.rs`)
//!          | "loss" ":" loss
//!          | "loss" ":" "{" IDENT ":" weighted ("," IDENT ":" weighted)* ","? "}"
//!          | "regularizer" ":" call ("+" call)*
//!          | "init" ":" IDENT
//!          | "scalar" ":" IDENT
//!          | "weights" ":" STRING
//!          | "embedded" ":" BOOL
//!          | "sample_weights" ":" BOOL
//!          | "quantize" ":" IDENT                `int8`, with `weights:` a quantized file
//!          | "nam" ":" STRING                  a .nam file: the whole network
//! shape   := "[" size ("," size)* ","? "]"
//!          | "[" "u32" ";" size "]"           token ids, read by `embedding`
//! list    := "[" (call ("," call)* ","?)? "]"
//! call    := IDENT ("(" (arg ("," arg)* ","?)? ")")? list?
//! arg     := (IDENT "=")? EXPR
//! size    := EXPR
//! loss    := call | closure
//! weighted := (LITERAL "*")? loss            a named output's loss and weight
//! ```
//!
//! `layers:` is the short form of `graph:` for a chain from one input.
//!
//! A token error stops the parsing of the field, or of the list item, it
//! is in, and no further: the other fields and items are read as usual, so
//! one syntax mistake is reported once, the declared type keeps what the
//! rest of the declaration says about it, and independent mistakes still
//! show. Whether keywords and numbers make sense is the checker's business.

use crate::errors::Site;
use proc_macro2::extra::DelimSpan;
use proc_macro2::{Span, TokenStream, TokenTree};
use syn::parse::discouraged::Speculative;
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, Ident, Token, Visibility, bracketed, parenthesized};

pub mod flow;

/// The keys a network body accepts, in the order the docs list them.
pub const KEYS: &[&str] = &[
    "input",
    "layers",
    "graph",
    "loss",
    "regularizer",
    "init",
    "scalar",
    "weights",
    "embedded",
    "sample_weights",
    "quantize",
    "nam",
];

/// A parsed `network! { ... }` invocation.
pub struct Declaration {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub name: Ident,
    pub fields: Vec<Field>,
    /// The token errors of fields that could not be read (list items keep
    /// theirs: see [`Declaration::token_errors`]).
    pub syntax: Vec<syn::Error>,
}

/// One `key: value` entry of the body.
pub struct Field {
    pub key: Ident,
    pub value: Value,
}

pub enum Value {
    Input {
        dims: Vec<Expr>,
        span: Span,
        /// `u32` in `[u32; 64]`: the input is token ids.
        elem: Option<Ident>,
    },
    /// `input: { image: [1, 28, 28], features: [8] }`: named inputs.
    Inputs(Vec<NamedInput>),
    /// `graph: { .. }`.
    Graph(flow::GraphBlock),
    Layers {
        calls: Vec<Item>,
        span: Span,
    },
    Loss(LossSpec),
    /// `loss: { price: mse, class: 0.5 * softmax_cross_entropy }`: a
    /// loss for each named output, each weighted in the total.
    Losses {
        entries: Vec<OutputLoss>,
        brace: DelimSpan,
    },
    Regularizer(Vec<Call>),
    Init(Ident),
    Scalar(Ident),
    /// `weights: "file.safetensors"`, relative to the crate root.
    Weights(syn::LitStr),
    /// `embedded: true`: inference only, for `no_std` builds.
    Embedded(syn::LitBool),
    /// `sample_weights: true`: training functions that weight each sample.
    SampleWeights(syn::LitBool),
    /// `quantize: int8`: the `weights:` file is quantized; inference in int8.
    Quantize(Ident),
    /// `nam: "amp.nam"`: a Neural Amp Modeler file, relative to the crate root.
    Nam(syn::LitStr),
    /// A value with a token error (reported): the key is there, its value
    /// unknown.
    Unreadable,
}

/// A loss: a keyword with optional arguments, or `|y, t| ...`, a
/// user-defined elementwise loss.
pub enum LossSpec {
    Call(Call),
    Closure(syn::ExprClosure),
}

/// `name: weight * loss` in `loss: { .. }`; the weight is optional.
pub struct OutputLoss {
    pub output: Ident,
    pub weight: Option<syn::Lit>,
    pub loss: LossSpec,
}

/// One of several named inputs, `name: [dims]`.
pub struct NamedInput {
    pub name: Ident,
    pub dims: Vec<Expr>,
    pub span: Span,
    pub elem: Option<Ident>,
}

/// An entry of a layer list: a call, or the token error that made it
/// unreadable.
#[derive(Clone)]
pub enum Item {
    Call(Call),
    Unreadable(syn::Error),
}

/// A keyword with optional arguments: `relu`, `dense(64)`, `l2(1e-4)`.
#[derive(Clone)]
pub struct Call {
    pub name: Ident,
    pub args: Vec<Arg>,
    /// Span of the parenthesized argument list, if there is one.
    pub paren: Option<DelimSpan>,
    /// A bracketed list of layers (`residual[...]`), with its span.
    pub block: Option<(Vec<Item>, DelimSpan)>,
}

/// A positional (`64`) or named (`kernel = 3`) argument.
#[derive(Clone)]
pub struct Arg {
    pub name: Option<Ident>,
    pub value: Expr,
}

/// Reads a declaration; an error only when not even the header (`struct
/// Name { .. }`) can be read.
pub fn parse(tokens: TokenStream) -> syn::Result<Declaration> {
    let mut syntax = Vec::new();
    let mut fields = Vec::new();
    let parser = |input: ParseStream| -> syn::Result<(Vec<Attribute>, Visibility, Ident)> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        input.parse::<Token![struct]>()?;
        let name = input.parse()?;
        let body;
        syn::braced!(body in input);
        for (key, field) in elements::<Field>(&body)? {
            match field {
                Ok(field) => fields.push(field),
                Err(e) => {
                    syntax.push(e);
                    // The key, if it reads, is there: its value is not missing.
                    fields.extend(key.map(|key| Field { key, value: Value::Unreadable }));
                }
            }
        }
        if !input.is_empty() {
            syntax.push(input.error("unexpected tokens after the network declaration"));
            input.parse::<TokenStream>()?;
        }
        Ok((attrs, vis, name))
    };
    let (attrs, vis, name) = parser.parse2(tokens)?;
    Ok(Declaration { attrs, vis, name, fields, syntax })
}

/// A comma-separated element of the grammar: a field or a list item.
trait Element: Parse {
    /// What a missing comma follows, for the message.
    fn shown(&self) -> String;
}

impl Element for Field {
    fn shown(&self) -> String {
        format!("the value of `{}`", self.key)
    }
}

impl Element for Call {
    fn shown(&self) -> String {
        format!("`{}`", self.display())
    }
}

/// Reads comma-separated elements, each on its own: a token error costs
/// the element it is in (skipped to the next comma), and the others read
/// as usual. Each comes with its first identifier, if any (a field's key).
fn elements<T: Element>(input: ParseStream) -> syn::Result<Vec<(Option<Ident>, syn::Result<T>)>> {
    let mut out = Vec::new();
    while !input.is_empty() {
        let first: Option<Ident> = input.fork().parse().ok();
        let fork = input.fork();
        let parsed = fork.parse::<T>().and_then(|element| {
            if fork.is_empty() || fork.peek(Token![,]) {
                Ok(element)
            } else {
                Err(fork.error(format!("expected `,` after {}", element.shown())))
            }
        });
        if parsed.is_ok() {
            input.advance_to(&fork);
        } else {
            skip_element(input)?;
        }
        out.push((first, parsed));
        if !input.is_empty() {
            input.parse::<Token![,]>()?;
        }
    }
    Ok(out)
}

/// Skips to the next comma that separates elements: not one between a
/// closure's `|` and `|`.
fn skip_element(input: ParseStream) -> syn::Result<()> {
    input.step(|cursor| {
        let (mut rest, mut in_parameters) = (*cursor, false);
        while let Some((token, next)) = rest.token_tree() {
            match &token {
                TokenTree::Punct(p) if p.as_char() == ',' && !in_parameters => break,
                TokenTree::Punct(p) if p.as_char() == '|' => in_parameters = !in_parameters,
                _ => {}
            }
            rest = next;
        }
        Ok(((), rest))
    })
}

impl Declaration {
    /// Every token error: of fields, and of list items at any depth.
    pub fn token_errors(&self) -> Vec<syn::Error> {
        let mut out = self.syntax.clone();
        for field in &self.fields {
            match &field.value {
                Value::Layers { calls, .. } => item_errors(calls, &mut out),
                Value::Graph(graph) => graph.token_errors(&mut out),
                _ => {}
            }
        }
        out
    }
}

/// The token errors of a layer list, at any depth.
fn item_errors(list: &[Item], out: &mut Vec<syn::Error>) {
    for item in list {
        match item {
            Item::Unreadable(e) => out.push(e.clone()),
            Item::Call(Call { block: Some((inner, _)), .. }) => item_errors(inner, out),
            Item::Call(_) => {}
        }
    }
}

impl Call {
    /// The call as the user wrote it, for messages: `dense(10)`; a block
    /// shows as `[...]`.
    pub fn display(&self) -> String {
        use quote::ToTokens;
        let block = if self.block.is_some() { "[...]" } else { "" };
        if self.paren.is_none() {
            return format!("{}{block}", self.name);
        }
        let args: Vec<String> = self
            .args
            .iter()
            .map(|a| {
                let value = a.value.to_token_stream().to_string().replace(' ', "");
                match &a.name {
                    Some(n) => format!("{n} = {value}"),
                    None => value,
                }
            })
            .collect();
        format!("{}({}){block}", self.name, args.join(", "))
    }

    /// From the keyword to the closing parenthesis or bracket.
    pub fn site(&self) -> Site {
        let end = match (&self.block, self.paren) {
            (Some((_, b)), _) => b.close(),
            (None, Some(p)) => p.close(),
            (None, None) => self.name.span(),
        };
        Site { start: self.name.span(), end }
    }
}

impl Parse for Field {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key: Ident = input.parse()?;
        let colon: Token![:] = input.parse()?;
        let known = KEYS.contains(&key.to_string().as_str());
        if known && (input.is_empty() || input.peek(Token![,])) {
            let example = match key.to_string().as_str() {
                "input" => "input: [784]",
                "layers" => "layers: [dense(10)]",
                "graph" => "graph: { let h = dense(input, 64); relu(h) }",
                "loss" => "loss: mse",
                "regularizer" => "regularizer: l2(1e-4)",
                "init" => "init: he_normal",
                "scalar" => "scalar: f64",
                "weights" => "weights: \"models/net.safetensors\"",
                "nam" => "nam: \"models/amp.nam\"",
                "sample_weights" => "sample_weights: true",
                "quantize" => "quantize: int8",
                _ => "embedded: true",
            };
            let message = format!("`{key}` needs a value, as in `{example}`");
            // At the comma where the value should be, or at the colon at the end.
            return Err(if input.is_empty() {
                syn::Error::new(colon.span, message)
            } else {
                input.error(message)
            });
        }
        let value = match key.to_string().as_str() {
            "input" if input.peek(syn::token::Brace) => {
                let content;
                syn::braced!(content in input);
                let named = Punctuated::<NamedInput, Token![,]>::parse_terminated(&content)?;
                Value::Inputs(named.into_iter().collect())
            }
            "input" => {
                let (dims, span, elem) = shape(input)?;
                Value::Input { dims, span, elem }
            }
            "graph" => Value::Graph(input.parse()?),
            "layers" => {
                let (calls, span) = list(input)?;
                Value::Layers { calls, span: span.join() }
            }
            "loss" if input.peek(syn::token::Brace) => {
                let content;
                let brace = syn::braced!(content in input).span;
                let entries = Punctuated::<OutputLoss, Token![,]>::parse_terminated(&content)?;
                Value::Losses { entries: entries.into_iter().collect(), brace }
            }
            "loss" => Value::Loss(input.parse()?),
            "regularizer" => {
                let mut terms = vec![input.parse()?];
                while input.peek(Token![+]) {
                    input.parse::<Token![+]>()?;
                    terms.push(input.parse()?);
                }
                Value::Regularizer(terms)
            }
            "init" => Value::Init(input.parse()?),
            "scalar" => Value::Scalar(input.parse()?),
            "embedded" => Value::Embedded(
                input
                    .parse()
                    .map_err(|e: syn::Error| syn::Error::new(e.span(), "`embedded` is `true` or `false`"))?,
            ),
            "quantize" => Value::Quantize(input.parse()?),
            "sample_weights" => Value::SampleWeights(input.parse().map_err(|e: syn::Error| {
                syn::Error::new(e.span(), "`sample_weights` is `true` or `false`")
            })?),
            "weights" => Value::Weights(input.parse().map_err(|e: syn::Error| {
                syn::Error::new(
                    e.span(),
                    "`weights` takes a file path in quotes, as in `weights: \"models/net.safetensors\"`",
                )
            })?),
            "nam" => Value::Nam(input.parse().map_err(|e: syn::Error| {
                syn::Error::new(
                    e.span(),
                    "`nam` takes a file path in quotes, as in `nam: \"models/amp.nam\"`",
                )
            })?),
            other => {
                let message = crate::suggest::unknown("key", other, KEYS);
                return Err(syn::Error::new(key.span(), message));
            }
        };
        Ok(Self { key, value })
    }
}

/// `[784]`, `[1, 28, 28]`: sizes, and the brackets' span.
/// `[784]`, `[1, 28, 28]`, or `[u32; 64]` (an array type: 64 token ids).
fn shape(input: ParseStream) -> syn::Result<(Vec<Expr>, Span, Option<Ident>)> {
    let content;
    let bracket = bracketed!(content in input);
    let elem = if content.peek(Ident) && content.peek2(Token![;]) {
        let elem = content.parse()?;
        content.parse::<Token![;]>()?;
        Some(elem)
    } else {
        None
    };
    let dims = Punctuated::<Expr, Token![,]>::parse_terminated(&content)?;
    Ok((dims.into_iter().collect(), bracket.span.join(), elem))
}

impl Parse for NamedInput {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let name = input.parse()?;
        input.parse::<Token![:]>()?;
        let (dims, span, elem) = shape(input)?;
        Ok(Self { name, dims, span, elem })
    }
}

/// A bracketed list of layer calls, each read on its own.
fn list(input: ParseStream) -> syn::Result<(Vec<Item>, DelimSpan)> {
    let content;
    let span = bracketed!(content in input).span;
    let items = elements::<Call>(&content)?
        .into_iter()
        .map(|(_, call)| match call {
            Ok(call) => Item::Call(call),
            Err(e) => Item::Unreadable(e),
        })
        .collect();
    Ok((items, span))
}

impl Parse for Call {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let name: Ident = input.parse()?;
        let (mut args, mut paren, mut block) = (Vec::new(), None, None);
        if input.peek(syn::token::Paren) {
            let content;
            paren = Some(parenthesized!(content in input).span);
            args = Punctuated::<Arg, Token![,]>::parse_terminated(&content)?.into_iter().collect();
        }
        if input.peek(syn::token::Bracket) {
            block = Some(list(input)?);
        }
        Ok(Self { name, args, paren, block })
    }
}

impl LossSpec {
    pub fn site(&self) -> Site {
        match self {
            Self::Call(call) => call.site(),
            Self::Closure(closure) => Site::of(closure),
        }
    }
}

impl Parse for LossSpec {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.peek(Token![|]) {
            return Ok(Self::Closure(input.parse()?));
        }
        Ok(Self::Call(input.parse()?))
    }
}

impl Parse for OutputLoss {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let output = input.parse()?;
        input.parse::<Token![:]>()?;
        let weight = if input.peek(syn::Lit) {
            let weight = input.parse()?;
            input
                .parse::<Token![*]>()
                .map_err(|e| syn::Error::new(e.span(), "a weight multiplies its loss, as in `0.5 * mse`"))?;
            Some(weight)
        } else {
            None
        };
        Ok(Self { output, weight, loss: input.parse()? })
    }
}

impl Parse for Arg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.peek(Ident) && input.peek2(Token![=]) && !input.peek2(Token![==]) {
            let name = input.parse()?;
            input.parse::<Token![=]>()?;
            return Ok(Self { name: Some(name), value: input.parse()? });
        }
        Ok(Self { name: None, value: input.parse()? })
    }
}

impl Arg {
    /// From the name (if any) to the last token of the value.
    pub fn site(&self) -> Site {
        let value = Site::of(&self.value);
        Site { start: self.name.as_ref().map_or(value.start, Ident::span), end: value.end }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn errors(d: &Declaration) -> Vec<String> {
        d.token_errors().iter().map(ToString::to_string).collect()
    }

    #[test]
    fn parses_a_full_declaration() {
        let d = parse(quote! {
            /// Docs.
            #[derive(Clone)]
            pub struct Net {
                input: [784],
                layers: [dense(128), relu, dense(10)],
                loss: softmax_cross_entropy,
                regularizer: l2(1e-4),
                scalar: f64,
            }
        })
        .unwrap();
        assert_eq!(d.name, "Net");
        assert_eq!(d.attrs.len(), 2);
        assert_eq!(d.fields.len(), 5);
        assert!(d.syntax.is_empty());
        let Value::Layers { calls, .. } = &d.fields[1].value else { panic!("layers") };
        let shown: Vec<String> =
            calls.iter().map(|i| if let Item::Call(c) = i { c.display() } else { "?".into() }).collect();
        assert_eq!(shown, ["dense(128)", "relu", "dense(10)"]);
    }

    #[test]
    fn named_arguments_are_recognized() {
        let call: Call = syn::parse2(quote!(conv2d(8, kernel = 3))).unwrap();
        assert!(call.args[0].name.is_none());
        assert_eq!(call.args[1].name.as_ref().unwrap(), "kernel");
        assert_eq!(call.display(), "conv2d(8, kernel = 3)");
    }

    #[test]
    fn unknown_key_suggests_the_closest() {
        let d = parse(quote!(struct N { inptu: [3] })).unwrap();
        assert!(errors(&d)[0].contains("did you mean `input`"), "{:?}", errors(&d));
    }

    /// A token error costs its field or list item only: the rest reads.
    #[test]
    fn token_errors_stop_at_their_field_or_item() {
        let d = parse(quote!(struct N { input: [4], loss:, layers: [dense(8) relu, dense(2)] })).unwrap();
        assert_eq!(errors(&d), ["`loss` needs a value, as in `loss: mse`", "expected `,` after `dense(8)`"]);
        assert!(matches!(d.fields[1].value, Value::Unreadable), "the key is kept");
        let Value::Layers { calls, .. } = &d.fields[2].value else { panic!("layers") };
        assert!(matches!(calls.as_slice(), [Item::Unreadable(_), Item::Call(_)]));
        assert!(parse(quote!(struct N {}, extra)).unwrap().syntax.len() == 1);
        assert!(parse(quote!(N { input: [1] })).is_err(), "no header, nothing to read");
    }
}
