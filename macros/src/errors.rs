//! Collects every error of a stage so the user sees them all at once.

use proc_macro2::Span;

#[derive(Default)]
pub struct Errors(Vec<syn::Error>);

impl Errors {
    pub fn push(&mut self, span: Span, message: impl std::fmt::Display) {
        self.0.push(syn::Error::new(span, message));
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
