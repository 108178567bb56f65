//! Stage 6: Rust code. The struct owns the flat parameter buffer; the
//! `Network` implementation holds four functions, each emitted from its own
//! copy of the graph, pruned to what that function returns and simplified
//! for it: batch-1 inference, batched inference, batched loss, and batched
//! loss with gradients.

mod baked;
pub mod body;
mod embedded;

use crate::autodiff::differentiate;
use crate::codegen::{Mode, rt};
use crate::ir::{Graph, Init, NodeId, Param, Role, TargetKind};
use crate::lower::{lower, lower_stream};
use crate::model::Model;
use crate::simplify::simplify;
use body::{Sinks, emit_body};
use proc_macro2::TokenStream;
use quote::quote;

/// A graph copy simplified for `sinks`, and the body emitted from it.
pub(super) fn function(graph: &Graph, mode: Mode, scalar: &proc_macro2::Ident, sinks: &Sinks) -> TokenStream {
    let mut g = graph.clone();
    simplify(&mut g, &sinks.roots());
    emit_body(&g, mode, scalar, sinks)
}

pub fn emit_network(model: &Model) -> syn::Result<TokenStream> {
    if let Some(at) = model.embedded {
        return embedded::emit_embedded(model, at);
    }
    let Model { attrs, vis, name, scalar: s, .. } = model;
    let rt = rt();
    // Inference and training differ (dropout); both have the same
    // parameters, so one layout serves the two.
    let lowered = lower(model, false);
    let training = lower(model, true);
    let graph = &lowered.graph;
    let (input_len, output_len) =
        (model.input.iter().product::<usize>(), model.output().iter().product::<usize>());
    let param_len = graph.param_len();

    let predict =
        function(graph, Mode::Single, s, &Sinks { output: Some(lowered.output), ..Sinks::default() });
    let predict_batch =
        function(graph, Mode::Batched, s, &Sinks { output: Some(lowered.output), ..Sinks::default() });
    let loss = function(graph, Mode::Batched, s, &Sinks { loss: Some(lowered.loss), ..Sinks::default() });
    let mut backward = training.graph.clone();
    let grads: Vec<(usize, NodeId)> = differentiate(&mut backward, training.loss);
    let forward_len = training.graph.nodes.len();
    let description = crate::describe::text(&name.to_string(), &backward, forward_len, training.loss);
    let dot = crate::describe::dot(&name.to_string(), &backward, forward_len);
    let loss_and_grad = function(
        &backward,
        Mode::Batched,
        s,
        &Sinks {
            loss: Some(training.loss),
            grads: Some(grads),
            effects: training.graph.effects.clone(),
            output: None,
        },
    );

    let (target_ty, bind_targets) = match lowered.target {
        TargetKind::Class { classes } => (
            quote!(usize),
            quote! {
                #rt::check_classes(targets, #classes)?;
                let __targets: &[usize] = targets;
            },
        ),
        TargetKind::Values => {
            (quote!([#s; #output_len]), quote!(let __targets: &[#s] = targets.as_flattened();))
        }
    };
    let (stream_len, stream_methods) = stream_methods(model, graph);
    let baked = baked::baked(model, graph, stream_len)?;
    let (param_layout, state_layout) = (layout(&graph.params), layout(&graph.states));
    let state_len = graph.state_len();
    let doc_new = format!("A `{name}` with weights drawn from `seed` (biases zero).");

    Ok(quote! {
        #(#attrs)*
        #vis struct #name {
            params: #rt::Buffer<#s, #param_len>,
            state: #rt::Buffer<#s, #state_len>,
            rng: u64,
            stream: [#s; #stream_len],
        }

        const _: () = {
            #baked

            impl #name {
                #[doc = #doc_new]
                #vis fn new(seed: u64) -> Self {
                    let mut params = #rt::zeroed_params::<#s, #param_len>();
                    #rt::init_params(&mut params[..], <Self as #rt::Network>::LAYOUT, seed);
                    let rng = #rt::stream_from_seed(seed);
                    let params = #rt::Buffer::Owned(params);
                    Self { params, state: Self::initial_state(), rng, stream: [0.0; #stream_len] }
                }

                /// A network with the given flat parameters, laid out as `LAYOUT`
                /// says; its random stream (dropout) starts at state 0.
                #vis fn from_params(values: &[#s]) -> #rt::Result<Self> {
                    #rt::params_from_slice::<#s, #param_len>(values)
                        .map(|params| Self {
                            params: #rt::Buffer::Owned(params),
                            state: Self::initial_state(),
                            rng: 0,
                            stream: [0.0; #stream_len],
                        })
                }

                #stream_methods

                fn initial_state() -> #rt::Buffer<#s, #state_len> {
                    let mut state = #rt::zeroed_params::<#s, #state_len>();
                    #rt::init_params(&mut state[..], <Self as #rt::Network>::STATE_LAYOUT, 0);
                    #rt::Buffer::Owned(state)
                }
            }

            #[allow(unused_variables, unused_mut, unused_braces, clippy::all, clippy::pedantic)]
            impl #rt::Network for #name {
                type Scalar = #s;
                type Input = [#s; #input_len];
                type Output = [#s; #output_len];
                type Target = #target_ty;

                const INPUT_LEN: usize = #input_len;
                const OUTPUT_LEN: usize = #output_len;
                const PARAM_LEN: usize = #param_len;
                const LAYOUT: &'static [#rt::ParamSpec] = &[#(#param_layout),*];
                const STATE_LEN: usize = #state_len;
                const STATE_LAYOUT: &'static [#rt::ParamSpec] = &[#(#state_layout),*];

                fn params(&self) -> &[#s] {
                    &self.params[..]
                }

                fn params_mut(&mut self) -> &mut [#s] {
                    &mut self.params[..]
                }

                fn describe() -> &'static str {
                    #description
                }

                fn graph_dot() -> &'static str {
                    #dot
                }

                fn state(&self) -> &[#s] {
                    &self.state[..]
                }

                fn state_mut(&mut self) -> &mut [#s] {
                    &mut self.state[..]
                }

                fn rng_state(&self) -> u64 {
                    self.rng
                }

                fn set_rng_state(&mut self, state: u64) {
                    self.rng = state;
                }

                fn zero_output() -> [#s; #output_len] {
                    [0.0; #output_len]
                }

                #[inline]
                fn predict(&self, __input: &[#s; #input_len]) -> [#s; #output_len] {
                    let __params: &[#s] = &self.params[..];
                    let __state: &[#s] = &self.state[..];
                    #rt::isa::with_fast_path(#[inline(always)] || { #predict })
                }

                fn predict_batch(
                    &self,
                    inputs: &[[#s; #input_len]],
                    outputs: &mut [[#s; #output_len]],
                    ws: &mut #rt::Workspace<#s>,
                ) -> #rt::Result<()> {
                    let batch = #rt::batch_len(inputs, outputs, "outputs")?;
                    let __params: &[#s] = &self.params[..];
                    let __state: &[#s] = &self.state[..];
                    let __inputs: &[#s] = inputs.as_flattened();
                    let __out: &mut [#s] = outputs.as_flattened_mut();
                    #rt::isa::with_fast_path(#[inline(always)] || { #predict_batch; });
                    #rt::Ok(())
                }

                fn loss(
                    &self,
                    inputs: &[[#s; #input_len]],
                    targets: &[#target_ty],
                    ws: &mut #rt::Workspace<#s>,
                ) -> #rt::Result<#s> {
                    let batch = #rt::batch_len(inputs, targets, "targets")?;
                    #bind_targets
                    let __params: &[#s] = &self.params[..];
                    let __state: &[#s] = &self.state[..];
                    let __inputs: &[#s] = inputs.as_flattened();
                    #rt::Ok(#rt::isa::with_fast_path(#[inline(always)] || { #loss }))
                }

                fn loss_and_grad(
                    &mut self,
                    inputs: &[[#s; #input_len]],
                    targets: &[#target_ty],
                    grad: &mut [#s],
                    ws: &mut #rt::Workspace<#s>,
                ) -> #rt::Result<#s> {
                    let batch = #rt::batch_len(inputs, targets, "targets")?;
                    #bind_targets
                    #rt::check_grad_len(grad, #param_len)?;
                    let __grad: &mut [#s] = grad;
                    let __rng: &mut u64 = &mut self.rng;
                    let __params: &[#s] = &self.params[..];
                    let __state: &mut [#s] = &mut self.state[..];
                    let __inputs: &[#s] = inputs.as_flattened();
                    #rt::Ok(#rt::isa::with_fast_path(#[inline(always)] || { #loss_and_grad }))
                }
            }
        };
    })
}

/// For networks that can run one time step at a time: the length of their
/// stream buffer, and `step` and `reset`. Others get an empty buffer.
fn stream_methods(model: &Model, graph: &Graph) -> (usize, TokenStream) {
    let rt = rt();
    let s = &model.scalar;
    let Some(streamed) = lower_stream(model) else { return (0, TokenStream::new()) };
    // The step reads the same flat parameters as every other function.
    let same_layout = streamed
        .graph
        .params
        .iter()
        .map(|p| (&p.name, p.offset))
        .eq(graph.params.iter().map(|p| (&p.name, p.offset)));
    if !same_layout {
        return (0, TokenStream::new());
    }
    let body = function(
        &streamed.graph,
        Mode::Single,
        s,
        &Sinks { output: Some(streamed.output), ..Sinks::default() },
    );
    let (input_len, output_len, stream_len) = (streamed.input_len, streamed.output_len, streamed.stream_len);
    let vis = &model.vis;
    let methods = quote! {
        /// Streaming inference: feeds one time step and returns the output
        /// for the sequence fed since the last `reset` (or construction),
        /// with the recurrent states kept in the network. Allocates
        /// nothing and cannot fail.
        #[inline]
        #[allow(unused_variables, unused_mut, unused_braces, clippy::all, clippy::pedantic)]
        #vis fn step(&mut self, __input: &[#s; #input_len]) -> [#s; #output_len] {
            let __params: &[#s] = &self.params[..];
            let __state: &[#s] = &self.state[..];
            let __stream: &mut [#s] = &mut self.stream[..];
            #rt::isa::with_fast_path(#[inline(always)] || { #body })
        }

        /// Forgets the stream: the next `step` starts a new sequence from
        /// zero states.
        #vis fn reset(&mut self) {
            self.stream = [0.0; #stream_len];
        }
    };
    (stream_len, methods)
}

/// The `ParamSpec` table, one entry per tensor of `table`.
fn layout(table: &[Param]) -> Vec<TokenStream> {
    let rt = rt();
    table
        .iter()
        .map(|p| {
            let (name, offset, dims) = (&p.name, p.offset, &p.dims);
            let role = match p.role {
                Role::Weight => quote!(#rt::Role::Weight),
                Role::Bias => quote!(#rt::Role::Bias),
                Role::Scale => quote!(#rt::Role::Scale),
                Role::Statistic => quote!(#rt::Role::Statistic),
            };
            let init = match p.init {
                Init::Zeros => quote!(#rt::Init::Zeros),
                Init::Ones => quote!(#rt::Init::Ones),
                Init::Uniform => quote!(#rt::Init::Uniform),
                Init::GlorotUniform { fan_in, fan_out } => {
                    quote!(#rt::Init::GlorotUniform { fan_in: #fan_in, fan_out: #fan_out })
                }
                Init::GlorotNormal { fan_in, fan_out } => {
                    quote!(#rt::Init::GlorotNormal { fan_in: #fan_in, fan_out: #fan_out })
                }
                Init::HeUniform { fan_in } => quote!(#rt::Init::HeUniform { fan_in: #fan_in }),
                Init::HeNormal { fan_in } => quote!(#rt::Init::HeNormal { fan_in: #fan_in }),
                Init::Recurrent { hidden } => quote!(#rt::Init::Recurrent { hidden: #hidden }),
            };
            quote!(#rt::ParamSpec { name: #name, offset: #offset, shape: &[#(#dims),*], role: #role, init: #init })
        })
        .collect()
}
