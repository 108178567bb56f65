//! An LSTM's statics, state and chunk: the cells one sample at a time,
//! then the head.

use super::{Emitted, floats, nested};
use crate::codegen::rt;
use chainrule_spec::nam_file::Lstm;
use proc_macro2::Ident;
use quote::{format_ident, quote};

pub(super) fn emit(name: &Ident, net: &Lstm) -> Emitted {
    let rt = rt();
    let upper = name.to_string().to_uppercase();
    let state = format_ident!("__{}State", name);
    let (mut items, mut fields, mut steps, mut cells, mut layers) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (l, layer) in net.layers.iter().enumerate() {
        let (i, h, g) = (layer.input, layer.hidden, 4 * layer.hidden);
        let cell = format_ident!("__{}_L{}", upper, l);
        let columns = layer.input + layer.hidden;
        // NAM's (4H, I + H) row-major, transposed: one row of G gates per input.
        let column = |j: usize| floats((0..g).map(|o| layer.weight[o * columns + j]));
        let input = nested(i, column);
        let hidden = nested(h, |j| column(i + j));
        let (bias, h0, c0) = (floats(layer.bias.clone()), floats(layer.h0.clone()), floats(layer.c0.clone()));
        items.push(quote! {
            static #cell: #rt::nam::lstm::Cell<#i, #h, #g> = #rt::nam::lstm::Cell {
                input: #input,
                hidden: #hidden,
                bias: #bias,
                initial: (#h0, #c0),
            };
        });
        let field = format_ident!("l{}", l);
        fields.push(quote!(#field: #rt::nam::lstm::State<#h>));
        // Layer 0 reads the sample, each later one the hidden state before it.
        steps.push(if l == 0 {
            quote!(let __v = #cell.step(__isa, &mut __s.#field, &[*__x]);)
        } else {
            quote!(let __v = #cell.step(__isa, &mut __s.#field, &__v);)
        });
        cells.push(cell);
        layers.push(field);
    }
    let head_weight = floats(net.head_weight.clone());
    let head_bias = net.head_bias;
    let head = format_ident!("__{}_HEAD", upper);
    let hidden = net.head_weight.len();
    let state_init = quote!(#state { #(#layers: #cells.initial_state(),)* });
    Emitted {
        items: quote! {
            #(#items)*
            static #head: [f32; #hidden] = #head_weight;

            #[doc(hidden)]
            pub struct #state {
                #(#fields,)*
            }
        },
        state: quote!(#state),
        new_state: state_init.clone(),
        chunk: quote! {
            for (__x, __y) in __input.iter().zip(__output.iter_mut()) {
                #(#steps)*
                *__y = #rt::nam::lstm::head(__isa, &#head, #head_bias, &__v);
            }
        },
        clear: quote!(*__s = #state_init;),
    }
}
