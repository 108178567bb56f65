//! Stage 6: Rust code. The struct owns the flat parameter buffer (and
//! state and stream buffers when the network has them); the `Network`
//! implementation holds the four functions, each emitted from the graph
//! `simplify` prepared for it. Emission reports nothing: everything it
//! relies on was checked before.

mod baked;
mod body;
mod embedded;
pub mod quantized;

use crate::autodiff::Backward;
use crate::codegen::rt;
use crate::ir::{Init, Param, Role, TargetKind};
use crate::lower::Graphs;
use crate::model::Model;
use crate::simplify::Functions;
use crate::weights_file::Baked;
use body::emit_body;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

pub fn network(
    model: &Model,
    graphs: &Graphs,
    backward: &Backward,
    functions: &Functions,
    baked: Option<&Baked>,
) -> TokenStream {
    if model.embedded.is_some() {
        return embedded::emit_embedded(model, &graphs.inference.graph, &functions.predict, baked);
    }
    let (attrs, vis, name, s) = (&model.outline.attrs, &model.outline.vis, model.name(), model.scalar());
    let rt = rt();
    let graph = &graphs.inference.graph;
    let (input_len, output_len) =
        (model.input.iter().product::<usize>(), model.output().iter().product::<usize>());
    let (param_len, state_len) = (graph.param_len(), graph.state_len());
    let stream_len = graphs.stream.as_ref().map_or(0, |s| s.stream_len);
    let plan_len = graphs.planned.graph.plan_len();

    let predict = emit_body(&functions.predict, s).code;
    let predict_batch = emit_body(&functions.predict_batch, s);
    // Chunks of `CHUNK` samples, each with its share of the workspace.
    let (per_sample, fixed) = predict_batch.workspace;
    let chunk_len = quote!(#rt::CHUNK * #per_sample + #fixed);
    let predict_batch = predict_batch.code;
    let loss = emit_body(&functions.loss, s).code;
    let loss_and_grad = emit_body(&functions.loss_and_grad, s);
    let (train_per_sample, train_fixed) = loss_and_grad.workspace;
    let loss_and_grad = loss_and_grad.code;
    let layer_rows = layer_rows(model, &graph.params);
    let train_step = functions.train_step.as_ref().map(|f| emit_body(f, s).code);
    let description =
        crate::describe::text(&name.to_string(), &backward.graph, backward.forward_len, backward.loss);
    let dot = crate::describe::dot(&name.to_string(), &backward.graph, backward.forward_len);

    let join_inputs = join_inputs(&model.outline, false);
    // Token ids are `u32`; every one is checked before a batched pass.
    let elem = input_elem(model);
    let vocab = graph
        .nodes
        .iter()
        .filter(|n| matches!(n.op, crate::ir::Op::Embedding))
        .map(|n| graph.shape(n.inputs[1]).dims[0])
        .min();
    let check_tokens =
        vocab.map(|vocab| quote!(#rt::check_tokens(inputs.as_flattened(), #input_len, #vocab)?;));
    let targets = &graphs.training.graph.targets;
    let output_lens: Vec<usize> =
        model.flow.outputs.iter().map(|&o| model.flow.values[o].dims.iter().product()).collect();
    let target_ty = target_type(targets, &output_lens, s);
    let bind_targets = bind_targets(targets);
    let split_outputs = split_outputs(&model.outline, false);
    let class_scores = class_scores(targets, &output_lens);
    let (param_layout, state_layout) = (layout(&graph.params), layout(&graph.states));
    let doc_new = format!("A `{name}` with weights drawn from `seed` (biases zero).");

    // Buffers a network without state, stream or inference copy does without.
    let has_state = state_len > 0;
    let has_plan = plan_len > 0;
    let plan_fields = has_plan.then(|| {
        quote! {
            plan: #rt::Buffer<#s, #plan_len>,
            /// Whether `plan` matches the parameters.
            planned: bool,
        }
    });
    let (plan_param, plan_init) = if has_plan {
        (quote!(plan: #rt::Buffer<#s, #plan_len>,), quote!(plan, planned: false,))
    } else {
        (quote!(), quote!())
    };
    let plan_arg = |value: TokenStream| has_plan.then_some(quote!(#value,));
    let fresh_plan = plan_arg(quote!(#rt::Buffer::Owned(#rt::zeroed_params::<#s, #plan_len>())));
    let plan_table = planned_layout(&graphs.planned.graph.plans);
    let relayout = has_plan.then(|| {
        quote! {
            fn relayout(&mut self) {
                const PLAN: &[#rt::PlanSpec] = &[#(#plan_table),*];
                #rt::relayout(PLAN, &self.params[..], &mut self.plan[..]);
                self.planned = true;
            }
        }
    });
    let stale = has_plan.then(|| quote!(self.planned = false;));
    let bind_plan = has_plan.then(|| quote!(let __plan: &[#s] = &self.plan[..];));
    let state_field = has_state.then(|| quote!(state: #rt::Buffer<#s, #state_len>,));
    let stream_field = (stream_len > 0).then(|| quote!(stream: [#s; #stream_len],));
    let stream_init = (stream_len > 0).then(|| quote!(stream: [0.0; #stream_len],));
    let (state_param, state_init) = if has_state {
        (quote!(state: #rt::Buffer<#s, #state_len>,), quote!(state,))
    } else {
        (quote!(), quote!())
    };
    let initial_state = has_state.then(|| {
        quote! {
            let mut state = #rt::zeroed_params::<#s, #state_len>();
            #rt::init_params(&mut state[..], <Self as #rt::Network>::STATE_LAYOUT, 0);
            let state = #rt::Buffer::Owned(state);
        }
    });
    let bind_state = has_state.then(|| quote!(let __state: &[#s] = &self.state[..];));
    let bind_state_mut = has_state.then(|| quote!(let __state: &mut [#s] = &mut self.state[..];));
    let (state_ref, state_mut) = if has_state {
        (quote!(&self.state[..]), quote!(&mut self.state[..]))
    } else {
        (quote!(&[]), quote!(&mut []))
    };
    let stream_methods = functions.step.as_ref().map(|step| {
        let body = emit_body(step, s).code;
        let streamed = graphs.stream.as_ref().expect("a step has its stream");
        let (step_in, step_out) = (streamed.input_len, streamed.output_len);
        let refresh = has_plan.then(|| {
            quote! {
                if !self.planned {
                    <Self as #rt::Network>::relayout(self);
                }
            }
        });
        quote! {
            /// Streaming inference: feeds one time step and returns the output
            /// for the sequence fed since the last `reset` (or construction),
            /// with the recurrent states kept in the network. Allocates
            /// nothing and cannot fail.
            #[inline]
            #[allow(unused_variables, unused_mut, unused_braces, clippy::all, clippy::pedantic)]
            #vis fn step(&mut self, __input: &[#elem; #step_in]) -> [#s; #step_out] {
                #refresh
                let __params: &[#s] = &self.params[..];
                #bind_state
                #bind_plan
                let __stream: &mut [#s] = &mut self.stream[..];
                #rt::isa::with_isa(#[inline(always)] |__isa| { #body })
            }

            /// Forgets the stream: the next `step` starts a new sequence from
            /// zero states.
            #vis fn reset(&mut self) {
                self.stream = [0.0; #stream_len];
            }
        }
    });
    // A mono stream (one value in, one out per step, in `f32`) processes
    // audio blocks like the compiled amp models.
    let mono = graphs.stream.as_ref().is_some_and(|st| st.input_len == 1 && st.output_len == 1);
    let process_impl =
        (functions.step.is_some() && mono && *s == "f32" && elem.to_string() == "f32").then(|| {
            quote! {
                impl #rt::Process for #name {
                    /// One `step` per sample; a sample that is not a finite
                    /// number is read as silence, so that it cannot poison the
                    /// recurrent state.
                    fn process(&mut self, input: &[f32], output: &mut [f32]) {
                        for (y, &x) in output.iter_mut().zip(input) {
                            *y = self.step(&[if x.is_finite() { x } else { 0.0 }])[0];
                        }
                    }
                    fn reset(&mut self) {
                        #name::reset(self)
                    }
                }
            }
        });
    let trained = baked.map(|baked| {
        let statics = baked::statics(baked, s, param_len, state_len, plan_len);
        let doc = baked::trained_doc(model);
        let state = has_state.then(|| quote!(let state = #rt::Buffer::Baked(&__BAKED_STATE);));
        let plan = plan_arg(quote!(#rt::Buffer::Baked(&__BAKED_PLAN)));
        // Laid out at compile time from the same weights.
        let planned = has_plan.then(|| quote!(net.planned = true;));
        quote! {
            #statics

            impl #name {
                #[doc = #doc]
                #vis fn trained() -> Self {
                    #state
                    let mut net = Self::assemble(#rt::Buffer::Baked(&__BAKED_PARAMS), #state_init #plan 0);
                    #planned
                    net
                }
            }
        }
    });
    let train_step = train_step.map(|body| {
        quote! {
                    fn train_step(
                        &mut self,
                        inputs: &[[#elem; #input_len]],
                        targets: &[#target_ty],
                        grad: &mut [#s],
                        update: &mut #rt::Update<'_, #s>,
                        ws: &mut #rt::Workspace<#s>,
                    ) -> #rt::Result<#s> {
                        let batch = #rt::batch_len(inputs, targets, "targets")?;
                        #bind_targets
        #check_tokens
                        #rt::check_grad_len(grad, #param_len)?;
                        #stale
                        let __grad: &mut [#s] = grad;
                        let __update = update;
                        let __rng: &mut u64 = &mut self.rng;
                        let __params: &mut [#s] = &mut self.params[..];
                        #bind_state_mut
                        let __inputs: &[#elem] = inputs.as_flattened();
                        #rt::Ok(#rt::isa::with_isa(#[inline(always)] |__isa| { #body }))
                    }
                }
    });
    // `loss` and `loss_and_grad`, and their weighted versions: the same
    // checks and bindings, the weighted ones with a weight per sample.
    let loss_fns = |name: &str, loss: &TokenStream, loss_and_grad: &TokenStream, weighted: bool| {
        let (loss_name, grad_name) = (format_ident!("{name}loss"), format_ident!("{name}loss_and_grad"));
        let weights_param = weighted.then(|| quote!(weights: &[#s],));
        let bind_weights =
            weighted.then(|| quote!(let __weights: &[#s] = #rt::check_sample_weights(weights, batch)?;));
        quote! {
                    fn #loss_name(
                        &self,
                        inputs: &[[#elem; #input_len]],
                        targets: &[#target_ty],
                        #weights_param
                        ws: &mut #rt::Workspace<#s>,
                    ) -> #rt::Result<#s> {
                        let batch = #rt::batch_len(inputs, targets, "targets")?;
                        #bind_weights
                        #bind_targets
                        #check_tokens
                        let __params: &[#s] = &self.params[..];
                        #bind_state
                        let __inputs: &[#elem] = inputs.as_flattened();
                        #rt::Ok(#rt::isa::with_isa(#[inline(always)] |__isa| { #loss }))
                    }

                    fn #grad_name(
                        &mut self,
                        inputs: &[[#elem; #input_len]],
                        targets: &[#target_ty],
                        #weights_param
                        grad: &mut [#s],
                        ws: &mut #rt::Workspace<#s>,
                    ) -> #rt::Result<#s> {
                        let batch = #rt::batch_len(inputs, targets, "targets")?;
                        #bind_weights
                        #bind_targets
                        #check_tokens
                        #rt::check_grad_len(grad, #param_len)?;
                        let __grad: &mut [#s] = grad;
                        let __rng: &mut u64 = &mut self.rng;
                        let __params: &[#s] = &self.params[..];
                        #bind_state_mut
                        let __inputs: &[#elem] = inputs.as_flattened();
                        #rt::Ok(#rt::isa::with_isa(#[inline(always)] |__isa| { #loss_and_grad }))
                    }
        }
    };
    let plain_loss_fns = loss_fns("", &loss, &loss_and_grad, false);
    let weighted = functions.weighted.as_ref().map(|(loss, loss_and_grad)| {
        let fns = loss_fns("weighted_", &emit_body(loss, s).code, &emit_body(loss_and_grad, s).code, true);
        quote! {
                    const SAMPLE_WEIGHTS: bool = true;
                    #fns
        }
    });
    let predict_body = match &functions.predict_stale {
        Some(stale) => {
            let stale = emit_body(stale, s).code;
            quote! {
                if self.planned {
                    #bind_plan
                    #rt::isa::with_isa(#[inline(always)] |__isa| { #predict })
                } else {
                    #rt::isa::with_isa(#[inline(always)] |__isa| { #stale })
                }
            }
        }
        None => quote!(#rt::isa::with_isa(#[inline(always)] |__isa| { #predict })),
    };
    let lints = crate::lints::emit(model);
    let int8_steps = crate::int8::steps_const(model);

    quote! {
            #lints
            #(#attrs)*
            #vis struct #name {
                params: #rt::Buffer<#s, #param_len>,
                #state_field
                #plan_fields
                rng: u64,
                #stream_field
            }

            const _: () = {
                #trained

                impl #name {
                    #[doc = #doc_new]
                    #vis fn new(seed: u64) -> Self {
                        let mut params = #rt::zeroed_params::<#s, #param_len>();
                        #rt::init_params(&mut params[..], <Self as #rt::Network>::LAYOUT, seed);
                        #initial_state
                        let mut net =
                            Self::assemble(#rt::Buffer::Owned(params), #state_init #fresh_plan #rt::stream_from_seed(seed));
                        <Self as #rt::Network>::relayout(&mut net);
                        net
                    }

                    /// A network with the given flat parameters, laid out as `LAYOUT`
                    /// says; its random stream (dropout) starts at state 0.
                    #vis fn from_params(values: &[#s]) -> #rt::Result<Self> {
                        let params = #rt::params_from_slice::<#s, #param_len>(values)?;
                        #initial_state
                        let mut net = Self::assemble(#rt::Buffer::Owned(params), #state_init #fresh_plan 0);
                        <Self as #rt::Network>::relayout(&mut net);
                        #rt::Ok(net)
                    }

                    #stream_methods
                    #join_inputs
                    #split_outputs

                    fn assemble(params: #rt::Buffer<#s, #param_len>, #state_param #plan_param rng: u64) -> Self {
                        Self { params, #state_init #plan_init rng, #stream_init }
                    }
                }

                #process_impl

                #[allow(unused_variables, unused_mut, unused_braces, clippy::all, clippy::pedantic)]
                impl #rt::Network for #name {
                    type Scalar = #s;
                    type Input = [#elem; #input_len];
                    type Output = [#s; #output_len];
                    type Target = #target_ty;

                    const INPUT_LEN: usize = #input_len;
                    const OUTPUT_LEN: usize = #output_len;
                    const PARAM_LEN: usize = #param_len;
                    const LAYOUT: &'static [#rt::ParamSpec] = &[#(#param_layout),*];
                    const STATE_LEN: usize = #state_len;
                    const STATE_LAYOUT: &'static [#rt::ParamSpec] = &[#(#state_layout),*];
                    const LAYERS: &'static [#rt::LayerRow] = &[#(#layer_rows),*];
                    const TRAINING_WORKSPACE: (usize, usize) = (#train_per_sample, #train_fixed);
                    #int8_steps

                    fn params(&self) -> &[#s] {
                        &self.params[..]
                    }

                    fn params_mut(&mut self) -> &mut [#s] {
                        #stale
                        &mut self.params[..]
                    }

                    #relayout
                    #class_scores

                    fn describe() -> &'static str {
                        #description
                    }

                    fn graph_dot() -> &'static str {
                        #dot
                    }

                    fn state(&self) -> &[#s] {
                        #state_ref
                    }

                    fn state_mut(&mut self) -> &mut [#s] {
                        #state_mut
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
                    fn predict(&self, __input: &[#elem; #input_len]) -> [#s; #output_len] {
                        let __params: &[#s] = &self.params[..];
                        #bind_state
                        #predict_body
                    }

                    fn predict_batch(
                        &self,
                        inputs: &[[#elem; #input_len]],
                        outputs: &mut [[#s; #output_len]],
                        ws: &mut #rt::Workspace<#s>,
                    ) -> #rt::Result<()> {
                        #rt::batch_len(inputs, outputs, "outputs")?;
    #check_tokens
                        let __params: &[#s] = &self.params[..];
                        #bind_state
                        // Samples are independent at inference: chunks of a
                        // fixed size run on the threads of `chainrule::threads`
                        // (the same chunks whatever the count).
                        #rt::predict_chunks(inputs, outputs, ws, #chunk_len, &|inputs, outputs, ws| {
                            let batch = inputs.len();
                            let __inputs: &[#elem] = inputs.as_flattened();
                            let __out: &mut [#s] = outputs.as_flattened_mut();
                            #rt::isa::with_isa(#[inline(always)] |__isa| { #predict_batch; });
                        });
                        #rt::Ok(())
                    }

                    #plain_loss_fns

                    #train_step
                    #weighted
                }
            };
        }
}

/// The `PlanSpec` table of the inference copy, every field by name.
fn planned_layout(plans: &[crate::ir::PlanTensor]) -> Vec<TokenStream> {
    use chainrule_spec::plan::{Derivation, GateBlock, Side};
    let rt = rt();
    plans
        .iter()
        .map(|p| {
            let offset = p.offset;
            let derivation = match &p.derivation {
                Derivation::Dense { weight, bias, inputs, outputs } => {
                    let bias = match bias {
                        Some(b) => quote!(Some(#b)),
                        None => quote!(None),
                    };
                    quote!(#rt::Derivation::Dense { weight: #weight, bias: #bias, inputs: #inputs, outputs: #outputs })
                }
                Derivation::Gates { w_ih, w_hh, b_ih, b_hh, inputs, hidden, blocks } => {
                    let blocks = blocks.iter().map(|&GateBlock { gate, from }| {
                        let from = match from {
                            Side::Both => quote!(#rt::Side::Both),
                            Side::Input => quote!(#rt::Side::Input),
                            Side::State => quote!(#rt::Side::State),
                        };
                        quote!(#rt::GateBlock { gate: #gate, from: #from })
                    });
                    quote!(#rt::Derivation::Gates {
                        w_ih: #w_ih, w_hh: #w_hh, b_ih: #b_ih, b_hh: #b_hh, inputs: #inputs, hidden: #hidden,
                        blocks: &[#(#blocks),*],
                    })
                }
            };
            quote!(#rt::PlanSpec { offset: #offset, derivation: #derivation })
        })
        .collect()
}

/// The `ParamSpec` table, one entry per tensor of `table`.
/// The rows of `summary()`: each value of the dataflow with what computes
/// it, its shape, and the parameters named under its layer's path.
fn layer_rows(model: &Model, params: &[Param]) -> Vec<TokenStream> {
    use crate::dataflow::Step;
    let rt = rt();
    let flow = &model.flow;
    flow.values
        .iter()
        .map(|value| {
            let (name, layer, count) = match &value.step {
                Step::Input(_) if flow.inputs.len() == 1 => ("input".to_string(), "input".to_string(), 0),
                Step::Input(k) => (format!("input {k}"), "input".to_string(), 0),
                Step::Layer { layer, .. } => {
                    let prefix = format!("{}.", layer.origin.path);
                    let count = params.iter().filter(|p| p.name.starts_with(&prefix)).map(|p| p.len()).sum();
                    (layer.origin.path.clone(), layer.shown.clone(), count)
                }
                Step::Merge { multiply, .. } => {
                    (String::new(), if *multiply { "a * b" } else { "a + b" }.to_string(), 0)
                }
                Step::Concat { .. } => (String::new(), "concat".to_string(), 0),
                Step::Slice { .. } => (String::new(), "slice".to_string(), 0),
            };
            let name = value.name.clone().unwrap_or(name);
            let dims = &value.dims;
            quote!(#rt::LayerRow { name: #name, layer: #layer, output: &[#(#dims),*], params: #count })
        })
        .collect()
}

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
                Init::StandardNormal => quote!(#rt::Init::StandardNormal),
            };
            quote!(#rt::ParamSpec { name: #name, offset: #offset, shape: &[#(#dims),*], role: #role, init: #init })
        })
        .collect()
}

/// `inputs(a, b, ..)` for a network with several named inputs: one input
/// sample from its parts, side by side in the order they are declared
/// (`never`: the fallback's, whose body does not run).
pub fn join_inputs(outline: &crate::model::Outline, never: bool) -> Option<TokenStream> {
    if outline.named_inputs.is_empty() {
        return None;
    }
    let (s, vis) = (&outline.scalar, &outline.vis);
    let total: usize = outline.named_inputs.iter().map(|(_, len)| len).sum();
    let params = outline.named_inputs.iter().map(|(name, len)| match never {
        true => quote!(_: &[#s; #len]),
        false => quote!(#name: &[#s; #len]),
    });
    let names: Vec<String> = outline.named_inputs.iter().map(|(name, _)| format!("`{name}`")).collect();
    let doc = format!("One input sample from its parts {}, side by side.", names.join(", "));
    let body = if never {
        quote!(::core::unreachable!())
    } else {
        let mut start = 0;
        let copies = outline.named_inputs.iter().map(|(name, len)| {
            let copy = quote!(joined[#start..][..#len].copy_from_slice(#name););
            start += len;
            copy
        });
        quote! {
            let mut joined = [0.0 as #s; #total];
            #(#copies)*
            joined
        }
    };
    Some(quote! {
        #[doc = #doc]
        #vis fn inputs(#(#params),*) -> [#s; #total] { #body }
    })
}

/// The type of one sample's targets: with one output a class index or an
/// array like the output; with several a tuple of those, one per output.
pub fn target_type(targets: &[TargetKind], output_lens: &[usize], s: &syn::Ident) -> TokenStream {
    let one = |kind: &TargetKind, len: &usize| match kind {
        TargetKind::Class { steps: 1, .. } => quote!(usize),
        TargetKind::Class { steps, .. } => quote!([usize; #steps]),
        TargetKind::Values => quote!([#s; #len]),
    };
    match targets {
        [kind] => one(kind, &output_lens.iter().sum()),
        several => {
            let parts = several.iter().zip(output_lens).map(|(kind, len)| one(kind, len));
            quote!((#(#parts,)*))
        }
    }
}

/// Checks the class targets and, with one output, binds the caller's
/// targets as the flat slice the loss reads (with several, each output's
/// `Target` node gathers its part).
fn bind_targets(targets: &[TargetKind]) -> TokenStream {
    let rt = rt();
    match targets {
        [TargetKind::Class { classes, steps: 1 }] => quote! {
            #rt::check_classes(targets.iter().copied(), 1, #classes)?;
            let __targets: &[usize] = targets;
        },
        [TargetKind::Class { classes, steps }] => quote! {
            let __targets: &[usize] = targets.as_flattened();
            #rt::check_classes(__targets.iter().copied(), #steps, #classes)?;
        },
        [TargetKind::Values] => quote!(let __targets = targets.as_flattened();),
        several => {
            let checks = several.iter().enumerate().filter_map(|(k, kind)| match kind {
                TargetKind::Class { classes, steps: 1 } => {
                    let part = syn::Index::from(k);
                    Some(quote!(#rt::check_classes(targets.iter().map(|t| t.#part), 1, #classes)?;))
                }
                TargetKind::Class { classes, steps } => {
                    let part = syn::Index::from(k);
                    Some(quote!(#rt::check_classes(targets.iter().flat_map(|t| t.#part), #steps, #classes)?;))
                }
                TargetKind::Values => None,
            });
            quote!(#(#checks)*)
        }
    }
}

/// With several outputs, accuracy reads the first whose targets are classes.
fn class_scores(targets: &[TargetKind], output_lens: &[usize]) -> Option<TokenStream> {
    if targets.len() < 2 {
        return None;
    }
    let k = targets.iter().position(|t| matches!(t, TargetKind::Class { .. }))?;
    let (start, len) = (output_lens[..k].iter().sum::<usize>(), output_lens[k]);
    Some(quote! {
        fn class_scores(output: &Self::Output) -> &[Self::Scalar] {
            &output[#start..#start + #len]
        }
    })
}

/// `Net::outputs(&out)`: an output sample split into its named outputs.
pub fn split_outputs(outline: &crate::model::Outline, never: bool) -> Option<TokenStream> {
    if outline.named_outputs.is_empty() {
        return None;
    }
    let (s, vis) = (&outline.scalar, &outline.vis);
    let total: usize = outline.named_outputs.iter().map(|(_, len)| len).sum();
    let types = outline.named_outputs.iter().map(|(_, len)| quote!(&[#s; #len]));
    let names: Vec<String> = outline.named_outputs.iter().map(|(name, _)| format!("`{name}`")).collect();
    let doc = format!("An output sample split into its outputs {}, in that order.", names.join(", "));
    let body = if never {
        quote!(::core::unreachable!())
    } else {
        let rt = rt();
        let mut start = 0;
        let parts = outline.named_outputs.iter().map(|(_, len)| {
            let part = quote!(#rt::part::<#s, #len>(output, #start));
            start += len;
            part
        });
        quote!((#(#parts,)*))
    };
    Some(quote! {
        #[doc = #doc]
        #vis fn outputs(output: &[#s; #total]) -> (#(#types,)*) { #body }
    })
}

/// The type of one input value: the scalar, or `u32` for token ids.
pub fn input_elem(model: &Model) -> TokenStream {
    let s = model.scalar();
    if model.flow.tokens() { quote!(u32) } else { quote!(#s) }
}
