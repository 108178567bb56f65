//! `embedded: true`: an inference-only struct for `no_std` builds without
//! `alloc`. No heap buffers, no `Network` trait (its batched methods need a
//! workspace): a unit struct whose `predict` reads the compiled-in weights
//! (`weights:`) in place and calls only kernels that need neither `std`
//! nor `alloc`.

use super::body::Sinks;
use crate::codegen::{Mode, rt};
use crate::lower::lower;
use crate::model::Model;
use crate::ops;
use proc_macro2::{Span, TokenStream};
use quote::quote;

pub fn emit_embedded(model: &Model, at: Span) -> syn::Result<TokenStream> {
    let Model { attrs, vis, name, scalar: s, .. } = model;
    let lowered = lower(model, false);
    let graph = &lowered.graph;
    // What batch-1 inference runs without std: the packed matrix multiply
    // (convolutions, products over several time steps) is not among it.
    for id in graph.live(&[lowered.output]) {
        let rules = ops::rules(&graph.node(id).op);
        if !(rules.without_std)(graph, id) {
            return Err(syn::Error::new(
                at,
                format!(
                    "`embedded: true` cannot compile `{}` yet: without std, networks of dense, activation, \
                     batch norm, softmax, dropout, residual and pooling layers are supported",
                    rules.name
                ),
            ));
        }
    }
    let statics = super::baked::statics(model, graph)?;
    let sinks = Sinks { output: Some(lowered.output), ..Sinks::default() };
    let body = super::function(graph, Mode::Single, s, &sinks);
    let rt = rt();
    let (input_len, output_len) = (model.input.iter().product::<usize>(), graph.shape(lowered.output).len());
    let doc = super::baked::trained_doc(model);
    Ok(quote! {
        #(#attrs)*
        #vis struct #name;

        const _: () = {
            #statics

            impl #name {
                /// Values per input sample.
                #vis const INPUT_LEN: usize = #input_len;
                /// Values per output.
                #vis const OUTPUT_LEN: usize = #output_len;

                #[doc = #doc]
                #vis const fn trained() -> Self {
                    Self
                }

                /// Batch-1 inference on the compiled-in weights: no
                /// allocation, no lock, no panic on any input value.
                #[inline]
                #[allow(unused_variables, unused_mut, unused_braces, clippy::all, clippy::pedantic)]
                #vis fn predict(&self, __input: &[#s; #input_len]) -> [#s; #output_len] {
                    let __params: &[#s] = &__BAKED_PARAMS[..];
                    let __state: &[#s] = &__BAKED_STATE[..];
                    #rt::isa::with_fast_path(#[inline(always)] || { #body })
                }
            }
        };
    })
}
