//! After a mistake: the errors, and the declared type with its whole API
//! whose bodies never run, so that code using the type (`Net::new`,
//! `predict`, training with `Trainer`) compiles against it and the user
//! sees the real errors and nothing else. Sizes and targets are those the
//! declaration gives, as far as it gives them.

use crate::codegen::rt;
use crate::model::Outline;
use proc_macro2::TokenStream;
use quote::quote;

pub fn emit(outline: &Outline, errors: &syn::Error) -> TokenStream {
    let errors = errors.to_compile_error();
    let Outline { attrs, vis, name, scalar: s, .. } = outline;
    let rt = rt();
    let never = quote!(::core::unreachable!());
    let len = |dims: &Option<Vec<usize>>| dims.as_ref().map_or(0, |d| d.iter().product::<usize>());
    let (input_len, output_len) = (len(&outline.input), len(&outline.output));
    let elem = if outline.tokens { quote!(u32) } else { quote!(#s) };
    // An embedded network is built by `trained()` alone, whether or not
    // the declaration names its weights yet.
    let trained = (outline.trained || outline.embedded).then(|| {
        quote! {
            /// (Not compiled: the declaration has errors.)
            #vis fn trained() -> Self { #never }
        }
    });
    if outline.embedded {
        let weight_bytes = outline.quantized.then(|| {
            quote! {
                /// (Not compiled: the declaration has errors.)
                #vis const WEIGHT_BYTES: usize = 0;
            }
        });
        let batch = outline.quantized.then(|| {
            quote! {
                /// (Not compiled: the declaration has errors.)
                #vis fn predict_batch(&self, _: &[[f32; #input_len]], _: &mut [[f32; #output_len]]) { #never }
            }
        });
        return quote! {
            #errors
            #(#attrs)*
            #vis struct #name;

            const _: () = {
                impl #name {
                    /// Values per input sample.
                    #vis const INPUT_LEN: usize = #input_len;
                    /// Values per output.
                    #vis const OUTPUT_LEN: usize = #output_len;
                    #weight_bytes
                    #batch
                    #trained
                    /// (Not compiled: the declaration has errors.)
                    #vis fn predict(&self, _: &[#elem; #input_len]) -> [#s; #output_len] { #never }
                }
            };
        };
    }
    let target = match &outline.targets {
        Some(targets) if targets.len() == outline.named_outputs.len().max(1) => {
            let lens: Vec<usize> = match outline.named_outputs.as_slice() {
                [] => vec![output_len],
                named => named.iter().map(|(_, len)| *len).collect(),
            };
            crate::emit::target_type(targets, &lens, s)
        }
        _ => quote!(usize),
    };
    // Streaming where the input could be a sequence.
    let sequence = outline.input.as_ref().is_none_or(|dims| dims.len() == 2);
    let step_len = outline.input.as_ref().and_then(|dims| dims.get(1)).copied().unwrap_or(0);
    let stream = sequence.then(|| {
        quote! {
            /// (Not compiled: the declaration has errors.)
            #vis fn step(&mut self, _: &[#s; #step_len]) -> [#s; #output_len] { #never }
            /// (Not compiled: the declaration has errors.)
            #vis fn reset(&mut self) { #never }
        }
    });
    let join_inputs = crate::emit::join_inputs(outline, true);
    let split_outputs = crate::emit::split_outputs(outline, true);
    // An input size the declaration does not give: `predict` takes any.
    let predict_any = outline.input.is_none().then(|| {
        quote! {
            /// (Not compiled: the declaration has errors.)
            #vis fn predict<const N: usize>(&self, _: &[#s; N]) -> [#s; #output_len] { #never }
        }
    });
    quote! {
        #errors
        #(#attrs)*
        #vis struct #name {}

        const _: () = {
            impl #name {
                /// (Not compiled: the declaration has errors.)
                #vis fn new(_: u64) -> Self { #never }
                /// (Not compiled: the declaration has errors.)
                #vis fn from_params(_: &[#s]) -> #rt::Result<Self> { #never }
                #trained
                #stream
                #predict_any
                #join_inputs
                #split_outputs
            }

            impl #rt::Network for #name {
                type Scalar = #s;
                type Input = [#elem; #input_len];
                type Output = [#s; #output_len];
                type Target = #target;
                const INPUT_LEN: usize = #input_len;
                const OUTPUT_LEN: usize = #output_len;
                const PARAM_LEN: usize = 0;
                const LAYOUT: &'static [#rt::ParamSpec] = &[];
                const STATE_LEN: usize = 0;
                const STATE_LAYOUT: &'static [#rt::ParamSpec] = &[];
                fn params(&self) -> &[#s] { #never }
                fn params_mut(&mut self) -> &mut [#s] { #never }
                fn describe() -> &'static str { #never }
                fn graph_dot() -> &'static str { #never }
                fn state(&self) -> &[#s] { #never }
                fn state_mut(&mut self) -> &mut [#s] { #never }
                fn rng_state(&self) -> u64 { #never }
                fn set_rng_state(&mut self, _: u64) { #never }
                fn zero_output() -> Self::Output { #never }
                fn predict(&self, _: &Self::Input) -> Self::Output { #never }
                fn predict_batch(
                    &self,
                    _: &[Self::Input],
                    _: &mut [Self::Output],
                    _: &mut #rt::Workspace<#s>,
                ) -> #rt::Result<()> {
                    #never
                }
                fn loss(&self, _: &[Self::Input], _: &[Self::Target], _: &mut #rt::Workspace<#s>) -> #rt::Result<#s> {
                    #never
                }
                fn loss_and_grad(
                    &mut self,
                    _: &[Self::Input],
                    _: &[Self::Target],
                    _: &mut [#s],
                    _: &mut #rt::Workspace<#s>,
                ) -> #rt::Result<#s> {
                    #never
                }
            }
        };
    }
}
