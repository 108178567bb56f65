//! `embedded: true`: an inference-only struct for `no_std` builds without
//! `alloc`. No heap buffers, no `Network` trait (its batched methods need a
//! workspace): a unit struct whose `predict` reads the compiled-in weights
//! and their inference copy in place, and calls only kernels that need
//! neither `std` nor `alloc` (every op of a planned graph is one of those;
//! `layers::tests` holds each layer to it).

use super::body::emit_body;
use crate::codegen::rt;
use crate::ir::Graph;
use crate::model::Model;
use crate::ops;
use crate::simplify::Function;
use crate::weights_file::Baked;
use proc_macro2::TokenStream;
use quote::quote;

pub fn emit_embedded(model: &Model, graph: &Graph, predict: &Function, baked: Option<&Baked>) -> TokenStream {
    let (attrs, vis, name, s) = (&model.outline.attrs, &model.outline.vis, model.name(), model.scalar());
    let live = predict.graph.live(&predict.sinks.roots());
    debug_assert!(
        live.iter().all(|&id| (ops::rules(&predict.graph.node(id).op).without_std)(&predict.graph, id)),
        "a planned op that needs std"
    );
    let (param_len, state_len, plan_len) = (graph.param_len(), graph.state_len(), predict.graph.plan_len());
    let statics = baked.map(|b| super::baked::statics(b, s, param_len, state_len, plan_len));
    let body = emit_body(predict, s).code;
    let rt = rt();
    let (input_len, output_len) =
        (model.input.iter().product::<usize>(), model.output().iter().product::<usize>());
    let doc = super::baked::trained_doc(model);
    let elem = super::input_elem(model);
    let bind_state = (state_len > 0).then(|| quote!(let __state: &[#s] = &__BAKED_STATE[..];));
    let bind_plan = (plan_len > 0).then(|| quote!(let __plan: &[#s] = &__BAKED_PLAN[..];));
    quote! {
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
                #vis fn predict(&self, __input: &[#elem; #input_len]) -> [#s; #output_len] {
                    let __params: &[#s] = &__BAKED_PARAMS[..];
                    #bind_state
                    #bind_plan
                    #rt::isa::with_isa(#[inline(always)] |__isa| { #body })
                }
            }
        };
    }
}
