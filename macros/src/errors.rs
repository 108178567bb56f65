//! Collects every error of a stage so the user sees them all at once.

use proc_macro2::{Ident, Span, TokenStream, TokenTree};

/// Where an error points: one token, or a range from a first to a last
/// token (on stable Rust one span cannot cover several tokens, but an
/// error can: rustc underlines from the first to the last).
#[derive(Clone, Copy)]
pub struct Site {
    pub start: Span,
    pub end: Span,
}

impl From<Span> for Site {
    fn from(span: Span) -> Self {
        Self { start: span, end: span }
    }
}

impl Site {
    /// From the first to the last token of `tokens`.
    pub fn of(tokens: &impl quote::ToTokens) -> Self {
        let stream = tokens.to_token_stream();
        let mut spans = stream.into_iter().map(|t| t.span());
        let start = spans.next().unwrap_or_else(Span::call_site);
        let end = spans.last().unwrap_or(start);
        Self { start, end }
    }

    pub fn error(self, message: impl std::fmt::Display) -> syn::Error {
        let marker = |span| TokenTree::Ident(Ident::new("at", span));
        let tokens: TokenStream = [marker(self.start), marker(self.end)].into_iter().collect();
        syn::Error::new_spanned(tokens, message)
    }
}

#[derive(Default)]
pub struct Errors(Vec<syn::Error>);

impl Errors {
    pub fn push(&mut self, site: impl Into<Site>, message: impl std::fmt::Display) {
        self.0.push(site.into().error(message));
    }

    /// An error made elsewhere (a token error of the parser).
    pub fn add(&mut self, error: syn::Error) {
        self.0.push(error);
    }

    /// All errors combined into one, or `Ok` if there were none.
    pub fn finish(self) -> syn::Result<()> {
        let mut all = self.0.into_iter();
        match all.next() {
            None => Ok(()),
            Some(mut first) => {
                first.extend(all);
                Err(first)
            }
        }
    }
}
