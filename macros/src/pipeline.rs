//! The compiler, stage by stage. Parsing, checking and reading the weights
//! file report the user's mistakes; the stages after them cannot fail.
//! After a mistake, the declared type is still emitted with its whole API
//! (`fallback`), so code using it gets the real errors and no others.

use crate::check::{Rejected, check};
use crate::model::Model;
use crate::{autodiff, emit, fallback, lower, nam, parse, simplify, weights_file};
use proc_macro2::TokenStream;

/// `network! { ... }`: the expansion, or the errors and the type's stub.
pub fn expand(tokens: TokenStream) -> TokenStream {
    match compile(tokens) {
        Ok(code) => code,
        Err(Stop::Unreadable(error)) => error.to_compile_error(),
        Err(Stop::Rejected(Rejected { errors, outline })) => fallback::emit(&outline, &errors),
    }
}

/// Why compilation stopped.
enum Stop {
    /// Not even `struct Name { .. }` reads: there is no type to declare.
    Unreadable(syn::Error),
    Rejected(Rejected),
}

fn compile(tokens: TokenStream) -> Result<TokenStream, Stop> {
    let declaration: parse::Declaration = parse::parse(tokens).map_err(Stop::Unreadable)?;
    if let Some(code) = nam::from_declaration(&declaration) {
        return Ok(code);
    }
    let model: Model = check(declaration).map_err(Stop::Rejected)?;
    if model.outline.quantized {
        return match weights_file::read_quantized(&model) {
            Ok(file) => Ok(emit::quantized::network(&model, &file)),
            Err(errors) => Err(Stop::Rejected(Rejected { errors, outline: Box::new(model.outline) })),
        };
    }
    let graphs: lower::Graphs = lower::lower(&model);
    let baked = weights_file::read(&model, &graphs.inference.graph, &graphs.planned.graph.plans);
    let baked: Option<weights_file::Baked> = match baked {
        Ok(baked) => baked,
        Err(errors) => return Err(Stop::Rejected(Rejected { errors, outline: Box::new(model.outline) })),
    };
    let backward: autodiff::Backward = autodiff::backward(&graphs.training);
    let weighted: Option<autodiff::Backward> =
        graphs.weighted.as_ref().map(|w| autodiff::backward(&w.training));
    let functions: simplify::Functions = simplify::functions(&graphs, &backward, weighted.as_ref());
    Ok(emit::network(&model, &graphs, &backward, &functions, baked.as_ref()))
}

#[cfg(test)]
mod tests;
