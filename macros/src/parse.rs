//! Stage 1: tokens to a declaration, keeping every span for later messages.
//!
//! Grammar, one production a line:
//!
//! ```text
//! network := attribute* visibility "struct" IDENT "{" field ("," field)* ","? "}"
//! field   := "input" ":" "[" INT ("," INT)* ","? "]"
//!          | "layers" ":" "[" (call ("," call)* ","?)? "]"
//!          | "loss" ":" (call | closure)
//!          | "regularizer" ":" call ("+" call)*
//!          | "init" ":" IDENT
//!          | "scalar" ":" IDENT
//!          | "weights" ":" STRING
//!          | "embedded" ":" BOOL
//! call    := IDENT ("(" (arg ("," arg)* ","?)? ")")? ("[" (call ("," call)* ","?)? "]")?
//! arg     := (IDENT "=")? EXPR
//! ```
//!
//! Parsing stops at the first token that does not fit the grammar; whether
//! the keywords and numbers make sense is the checker's business, which
//! reports every problem at once.

use crate::errors::Site;
use proc_macro2::Span;
use proc_macro2::extra::DelimSpan;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, Ident, LitInt, Token, Visibility, bracketed, parenthesized};

/// The keys a network body accepts, in the order the docs list them.
pub const KEYS: &[&str] =
    &["input", "layers", "loss", "regularizer", "init", "scalar", "weights", "embedded"];

/// A parsed `network! { ... }` invocation.
pub struct Declaration {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub name: Ident,
    pub fields: Vec<Field>,
}

/// One `key: value` entry of the body.
pub struct Field {
    pub key: Ident,
    pub value: Value,
}

pub enum Value {
    Input {
        dims: Vec<LitInt>,
        span: Span,
    },
    Layers {
        calls: Vec<Call>,
        span: Span,
    },
    Loss(Call),
    /// `loss: |y, t| ...`, a user-defined elementwise loss.
    LossClosure(syn::ExprClosure),
    Regularizer(Vec<Call>),
    Init(Ident),
    Scalar(Ident),
    /// `weights: "file.safetensors"`, relative to the crate root.
    Weights(syn::LitStr),
    /// `embedded: true`: inference only, for `no_std` builds.
    Embedded(syn::LitBool),
}

/// A keyword with optional arguments: `relu`, `dense(64)`, `l2(1e-4)`.
pub struct Call {
    pub name: Ident,
    pub args: Vec<Arg>,
    /// Span of the parenthesized argument list, if there is one.
    pub paren: Option<DelimSpan>,
    /// A bracketed list of layers (`residual[...]`), with its span.
    pub block: Option<(Vec<Call>, DelimSpan)>,
}

/// A positional (`64`) or named (`kernel = 3`) argument.
pub struct Arg {
    pub name: Option<Ident>,
    pub value: Expr,
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

impl Parse for Declaration {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        input.parse::<Token![struct]>()?;
        let name = input.parse()?;
        let body;
        syn::braced!(body in input);
        let fields = Punctuated::<Field, Token![,]>::parse_terminated(&body)?;
        if !input.is_empty() {
            return Err(input.error("unexpected tokens after the network declaration"));
        }
        Ok(Self { attrs, vis, name, fields: fields.into_iter().collect() })
    }
}

impl Parse for Field {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key: Ident = input.parse()?;
        input.parse::<Token![:]>()?;
        let known = KEYS.contains(&key.to_string().as_str());
        if known && (input.is_empty() || input.peek(Token![,])) {
            let example = match key.to_string().as_str() {
                "input" => "input: [784]",
                "layers" => "layers: [dense(10)]",
                "loss" => "loss: mse",
                "regularizer" => "regularizer: l2(1e-4)",
                "init" => "init: he_normal",
                "scalar" => "scalar: f64",
                "weights" => "weights: \"models/net.safetensors\"",
                _ => "embedded: true",
            };
            return Err(input.error(format!("`{key}` needs a value, as in `{example}`")));
        }
        let value = match key.to_string().as_str() {
            "input" => {
                let content;
                let bracket = bracketed!(content in input);
                let dims = Punctuated::<LitInt, Token![,]>::parse_terminated(&content)?;
                Value::Input { dims: dims.into_iter().collect(), span: bracket.span.join() }
            }
            "layers" => {
                let content;
                let bracket = bracketed!(content in input);
                let calls = Punctuated::<Call, Token![,]>::parse_terminated(&content)?;
                Value::Layers { calls: calls.into_iter().collect(), span: bracket.span.join() }
            }
            "loss" if input.peek(Token![|]) => Value::LossClosure(input.parse()?),
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
            "weights" => Value::Weights(input.parse().map_err(|e: syn::Error| {
                syn::Error::new(
                    e.span(),
                    "`weights` takes a file path in quotes, as in `weights: \"models/net.safetensors\"`",
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
            let content;
            let span = bracketed!(content in input).span;
            block = Some((
                Punctuated::<Call, Token![,]>::parse_terminated(&content)?.into_iter().collect(),
                span,
            ));
        }
        Ok(Self { name, args, paren, block })
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

    fn parse(tokens: proc_macro2::TokenStream) -> syn::Result<Declaration> {
        syn::parse2(tokens)
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
        let Value::Layers { calls, .. } = &d.fields[1].value else { panic!("layers") };
        let shown: Vec<String> = calls.iter().map(Call::display).collect();
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
        let err = parse(quote!(struct N { inptu: [3] })).err().unwrap();
        assert!(err.to_string().contains("did you mean `input`"), "{err}");
    }

    #[test]
    fn token_errors_stop_parsing() {
        assert!(
            parse(quote!(
                struct N {
                    input: [x],
                }
            ))
            .is_err()
        );
        assert!(parse(quote!(struct N { loss: })).is_err());
        assert!(parse(quote!(struct N {}, extra)).is_err());
    }
}
