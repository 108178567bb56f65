//! One generated function body: where each value lives, then each live node
//! in topological order.
//!
//! Storage: the batched input and the targets are the caller's slices;
//! parameters are slices of the flat buffer; a requested gradient is
//! written straight into its part of the caller's gradient buffer and the
//! network output straight into the caller's output buffer; scalars are
//! locals. Everything else gets a slot of the workspace (batched code) or a
//! fixed-size local array (batch-1 code). Slot sizes are compile-time
//! constants times the batch size, so nothing is allocated once the
//! workspace is large enough.

use crate::codegen::{Ctx, Mode, Place, rt};
use crate::ir::{NodeId, Op, TargetKind};
use crate::ops;
use crate::simplify::Function;
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

/// A generated function body and what it takes of the workspace.
pub struct Body {
    pub code: TokenStream,
    /// Workspace values per sample and in all, besides (batched code).
    pub workspace: (usize, usize),
}

/// Statements computing `sinks` from the graph. Expects in scope:
/// `__params: &[S]`, `__state` (`&mut [S]` when there are effects); in batched mode `batch: usize`, `__inputs: &[S]`,
/// `ws: &mut Workspace<S>`, and as needed `__targets`, `__out`, `__grad`;
/// in batch-1 mode `__input: &[S; N]`. Ends with the returned value, if any.
pub fn emit_body(function: &Function, scalar: &Ident) -> Body {
    let (g, mode, sinks) = (&function.graph, function.mode, &function.sinks);
    let live = g.live(&sinks.roots());
    let rt = rt();
    let mut places: Vec<Option<Place>> = vec![None; g.nodes.len()];
    let mut prologue = Vec::new();
    let mut copies = Vec::new();

    // Parameters: one slice each, where the function reads any; mutable
    // in a training step, which updates them.
    let param_names: Vec<Ident> = (0..g.params.len()).map(|k| format_ident!("__p{k}")).collect();
    let param_lens: Vec<usize> = g.params.iter().map(|p| p.len()).collect();
    let updates: Option<&[(usize, NodeId)]> = sinks.updates.as_deref();
    if updates.is_some() {
        prologue.push(quote!(let [#(#param_names),*] = #rt::carve(__params, [#(#param_lens),*]);));
    } else if live.iter().any(|&id| matches!(g.node(id).op, Op::Param(_))) {
        prologue.push(quote!(let [#(#param_names),*] = #rt::carve_ref(__params, [#(#param_lens),*]);));
    }
    // The inference copy of the weights, likewise; each slice runs to the
    // next tensor, which starts on a cache line.
    let plan_names: Vec<Ident> = (0..g.plans.len()).map(|k| format_ident!("__q{k}")).collect();
    let plan_lens: Vec<usize> = g
        .plans
        .iter()
        .enumerate()
        .map(|(k, p)| g.plans.get(k + 1).map_or(p.derivation.len(), |next| next.offset - p.offset))
        .collect();
    if live.iter().any(|&id| matches!(g.node(id).op, Op::Plan(_))) {
        prologue.push(quote!(let [#(#plan_names),*] = #rt::carve_ref(__plan, [#(#plan_lens),*]);));
    }
    // State: one slice each, mutable where the function updates it.
    let state_names: Vec<Ident> = (0..g.states.len()).map(|k| format_ident!("__st{k}")).collect();
    let state_lens: Vec<usize> = g.states.iter().map(|p| p.len()).collect();
    let reads_state = live.iter().any(|&id| matches!(g.node(id).op, Op::State(_)));
    if reads_state && sinks.effects.is_empty() {
        prologue.push(quote!(let [#(#state_names),*] = #rt::carve_ref(__state, [#(#state_lens),*]);));
    } else if reads_state {
        prologue.push(quote!(let [#(#state_names),*] = #rt::carve(__state, [#(#state_lens),*]);));
    }
    // Gradients: one mutable slice each, for every parameter.
    let grads: &[(usize, NodeId)] = sinks.grads.as_deref().unwrap_or_default();
    if sinks.grads.is_some() && !g.params.is_empty() {
        let names: Vec<Ident> = (0..g.params.len()).map(|k| format_ident!("__g{k}")).collect();
        prologue.push(quote!(let [#(#names),*] = #rt::carve(__grad, [#(#param_lens),*]);));
    }

    for &id in &live {
        let node = g.node(id);
        places[id] = match node.op {
            Op::Input => Some(Place::Buffer(match mode {
                Mode::Batched => format_ident!("__inputs"),
                Mode::Single => format_ident!("__input"),
            })),
            // Several outputs: each gathers its targets into a slot below.
            Op::Target(_) if g.targets.len() > 1 => None,
            Op::Target(_) => Some(Place::Buffer(format_ident!("__targets"))),
            Op::SampleWeight => Some(Place::Buffer(format_ident!("__weights"))),
            Op::Param(k) => Some(Place::Buffer(param_names[k].clone())),
            Op::State(k) => Some(Place::Buffer(state_names[k].clone())),
            Op::Plan(k) => Some(Place::Buffer(plan_names[k].clone())),
            Op::Constant(k) => {
                let name = format_ident!("__c{k}");
                let values = g.constants[k].iter().map(|&v| constant(v, scalar));
                prologue.push(quote!(let #name: &[#scalar] = &[#(#values),*];));
                Some(Place::Buffer(name))
            }
            _ if node.shape.is_scalar() => Some(Place::Scalar(format_ident!("v{id}"))),
            _ => None,
        };
    }
    // Sinks take over storage where the node computes into fresh memory;
    // a node that is already stored elsewhere is copied at the end.
    let mut sink_of = |id: NodeId, target: Ident, places: &mut Vec<Option<Place>>| match &places[id] {
        None => places[id] = Some(Place::Buffer(target)),
        Some(_) => copies.push((id, target)),
    };
    if let (Some(out), Mode::Batched) = (sinks.output, mode) {
        sink_of(out, format_ident!("__out"), &mut places);
    }
    for &(k, node) in grads {
        sink_of(node, format_ident!("__g{k}"), &mut places);
    }
    // A fused update's value is scratch: its parameter's gradient slot.
    for &(k, node) in updates.unwrap_or_default() {
        places[node] = Some(Place::Buffer(format_ident!("__g{k}")));
    }

    // A reshape (`flatten`, its gradient) is its operand under another
    // shape: it reads the operand's storage rather than copying it.
    let mut reshapes = Vec::new();
    for &id in &live {
        if let Some(source) = ops::map::reshape_of(g, id)
            && places[id].is_none()
            && matches!(places[source], Some(Place::Buffer(_)) | None)
        {
            reshapes.push((id, source));
        }
    }

    // Everything else: workspace slots or local arrays.
    let mut slot_names = Vec::new();
    let mut slot_lens = Vec::new();
    let (mut class_names, mut class_lens, mut class_total) = (Vec::new(), Vec::new(), 0usize);
    let (mut per_sample, mut fixed) = (0usize, 0usize);
    for &id in &live {
        if let Some(&(_, source)) = reshapes.iter().find(|&&(r, _)| r == id) {
            // Live nodes come in order: the operand has its place already.
            places[id] = places[source].clone();
            continue;
        }
        if places[id].is_some() {
            continue;
        }
        let shape = &g.node(id).shape;
        let name = format_ident!("v{id}");
        let n = shape.len();
        if let Op::Target(k) = g.node(id).op
            && let TargetKind::Class { steps, .. } = g.targets[k]
        {
            // Class indices are no scalars: they have a buffer of their own.
            class_names.push(name.clone());
            class_lens.push(quote!(batch * #steps));
            class_total += steps;
            places[id] = Some(Place::Buffer(name));
            continue;
        }
        match mode {
            Mode::Single => {
                prologue.push(quote!(let mut #name = [0.0 as #scalar; #n];));
            }
            Mode::Batched if shape.batched => {
                per_sample += n;
                slot_names.push(name.clone());
                slot_lens.push(quote!(batch * #n));
            }
            Mode::Batched => {
                fixed += n;
                slot_names.push(name.clone());
                slot_lens.push(quote!(#n));
            }
        }
        places[id] = Some(Place::Buffer(name));
    }
    let len = match (per_sample, fixed) {
        (0, fixed) => quote!(#fixed),
        (per_sample, 0) => quote!(batch * #per_sample),
        (per_sample, fixed) => quote!(batch * #per_sample + #fixed),
    };
    if !class_names.is_empty() {
        prologue.push(quote! {
            let (__ws, __classes) = ws.take_with_classes(#len, batch * #class_total);
            let [#(#slot_names),*] = #rt::carve(__ws, [#(#slot_lens),*]);
            let [#(#class_names),*] = #rt::carve(__classes, [#(#class_lens),*]);
        });
    } else if !slot_names.is_empty() {
        prologue.push(quote! {
            let __ws = ws.take(#len);
            let [#(#slot_names),*] = #rt::carve(__ws, [#(#slot_lens),*]);
        });
    }

    let ctx = Ctx::new(mode, scalar, places).with_fused_sums(ops::map::fusible_sums(g, &live, mode));
    let is_update = |id: NodeId| updates.is_some_and(|u| u.iter().any(|&(_, n)| n == id));
    let is_reshape = |id: NodeId| reshapes.iter().any(|&(r, _)| r == id);
    let steps: Vec<TokenStream> = live
        .iter()
        .filter(|&&id| !is_update(id) && !is_reshape(id))
        .map(|&id| ops::emit(&ctx, g, id))
        .collect();

    let mut epilogue = Vec::new();
    for (id, target) in copies {
        let src = ctx.read(id);
        epilogue.push(quote!(#target.copy_from_slice(#src);));
    }
    let fused = |k: usize| updates.is_some_and(|u| u.iter().any(|&(j, _)| j == k));
    if sinks.grads.is_some() {
        for k in (0..g.params.len()).filter(|&k| !grads.iter().any(|&(j, _)| j == k) && !fused(k)) {
            let name = format_ident!("__g{k}");
            epilogue.push(quote!(#name.fill(0.0 as #scalar);));
        }
    }
    // A training step: once the loss is known to be finite (else nothing
    // changes), the fused updates, after every read of the parameters they
    // change, then the step of every other parameter from its gradient.
    if let (Some(updates), Some(loss)) = (updates, sinks.loss) {
        let loss = ctx.read(loss);
        epilogue.push(quote!(if !#rt::Scalar::finite(#loss) { return #loss; }));
        epilogue.extend(updates.iter().map(|&(_, node)| ops::emit(&ctx, g, node)));
        for k in (0..g.params.len()).filter(|&k| !fused(k)) {
            let (p, grad, offset) = (&param_names[k], format_ident!("__g{k}"), g.params[k].offset);
            epilogue.push(quote!(__update.apply(#offset, &mut #p[..], &#grad[..]);));
        }
    }
    let result = match (mode, sinks.output, sinks.loss) {
        (_, _, Some(loss)) => ctx.read(loss),
        (Mode::Single, Some(out), None) => {
            let v = ctx.name(out);
            quote!(#v)
        }
        _ => quote!(()),
    };
    let code = quote! {
        #(#prologue)*
        #(#steps)*
        #(#epilogue)*
        #result
    };
    Body { code, workspace: (per_sample, fixed) }
}

/// `v` as a literal of the scalar type `f32` or `f64`.
fn constant(v: f64, scalar: &Ident) -> proc_macro2::Literal {
    if scalar == "f32" {
        proc_macro2::Literal::f32_suffixed(v as f32)
    } else {
        proc_macro2::Literal::f64_suffixed(v)
    }
}
