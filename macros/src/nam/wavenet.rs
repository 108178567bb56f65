//! A WaveNet's statics, state and chunk, layer by layer (see the runtime's
//! `nam` module for what each layer computes).

use super::{Emitted, floats, nested};
use crate::codegen::rt;
use chainrule_spec::nam::{Activation, Gating};
use chainrule_spec::nam_file::{Conv, WaveNet};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

pub(super) fn emit(name: &Ident, net: &WaveNet) -> Emitted {
    let rt = rt();
    let upper = name.to_string().to_uppercase();
    let state = format_ident!("__{}State", name);
    let (mut items, mut fields, mut news, mut chunk) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    // Field names: the histories, then the head outputs.
    let (mut histories, mut heads): (Vec<Ident>, Vec<Ident>) = (Vec::new(), Vec::new());
    let (mut head_fields, mut head_news) = (Vec::new(), Vec::new());
    // Array `i`'s input (the audio as one-channel columns, then the
    // residual stream that array `i - 1` ends with) and its skip sum's start.
    let mut input = quote!(__input.as_chunks::<1>().0);
    let mut skip_start: Option<Ident> = None;
    for (a, array) in net.arrays.iter().enumerate() {
        let (c, b) = (array.channels, array.bottleneck);
        let rechannel = format_ident!("__{}_A{}_RECHANNEL", upper, a);
        items.push(conv_static(&rechannel, &array.rechannel));
        let stream = |l: usize| format_ident!("a{}_h{}", a, l);
        for (l, layer) in array.layers.iter().enumerate() {
            let reach = layer.conv.dilation * (layer.conv.kernel - 1);
            fields.push(quote!(#rt::nam::History<#c>));
            news.push(quote!(#rt::nam::History::new(#reach)));
            histories.push(stream(l));
        }
        // The last layer's output: read in the chunk it is written in.
        fields.push(quote!(#rt::nam::History<#c>));
        news.push(quote!(#rt::nam::History::new(0)));
        histories.push(stream(array.layers.len()));
        let skip = format_ident!("a{}_skip", a);
        let head_reach = array.head.dilation * (array.head.kernel - 1);
        fields.push(quote!(#rt::nam::History<#b>));
        news.push(quote!(#rt::nam::History::new(#head_reach)));
        histories.push(skip.clone());

        let first = stream(0);
        let inputs = array.rechannel.input;
        chunk.push(quote!(#rt::nam::wavenet::conv::<#inputs, #c, 1, 1>(__isa, &#rechannel, #input, __s.#first.chunk_mut(__n));));
        chunk.push(match &skip_start {
            None => quote!(__s.#skip.chunk_mut(__n).fill([0.0; #b]);),
            Some(previous) => quote!(__s.#skip.chunk_mut(__n).copy_from_slice(&__s.#previous[..__n]);),
        });
        for (l, layer) in array.layers.iter().enumerate() {
            let weights = format_ident!("__{}_A{}_L{}", upper, a, l);
            items.push(layer_static(&weights, layer, c, b));
            let (z, k, d) = (layer.conv.out, layer.conv.kernel, layer.conv.dilation);
            let (from, to) = (stream(l), stream(l + 1));
            let (activation, gating) = (activation(layer.activation), gating(layer.gating));
            let kind = format_ident!("__{}A{}L{}", name, a, l);
            items.push(quote! {
                #[doc(hidden)]
                pub struct #kind;
                impl #rt::nam::Activations for #kind {
                    const ACTIVATION: #rt::nam::Activation = #activation;
                    const GATING: #rt::nam::Gating = #gating;
                }
            });
            chunk.push(quote! {
                #rt::nam::wavenet::layer::<#c, #b, #z, #k, #d, #kind>(
                    __isa, &#weights,
                    __s.#from.window(__n), __input, __s.#skip.chunk_mut(__n), __s.#to.chunk_mut(__n),
                );
            });
        }
        let head = format_ident!("__{}_A{}_HEAD", upper, a);
        items.push(conv_static(&head, &array.head));
        let head_out = format_ident!("a{}_head", a);
        let (hk, hd, hs) = (array.head.kernel, array.head.dilation, array.head.out);
        head_fields.push(quote!([[f32; #hs]; #rt::nam::CHUNK]));
        head_news.push(quote!([[0.0; #hs]; #rt::nam::CHUNK]));
        heads.push(head_out.clone());
        chunk.push(quote!(#rt::nam::wavenet::conv::<#b, #hs, #hk, #hd>(__isa, &#head, __s.#skip.window(__n), &mut __s.#head_out[..__n]);));
        let last = stream(array.layers.len());
        input = quote!(__s.#last.chunk(__n));
        skip_start = Some(head_out);
    }
    let scale = net.head_scale;
    let head_out = skip_start.expect("a WaveNet has a layer array");
    let streams = &histories;
    let names: Vec<&Ident> = histories.iter().chain(&heads).collect();
    fields.extend(head_fields);
    news.extend(head_news);
    let items = quote! {
        #(#items)*

        #[doc(hidden)]
        pub struct #state {
            #(#names: #fields,)*
        }
    };
    let chunk = quote! {
        let __n = __input.len();
        #(__s.#streams.make_room(__n);)*
        #(#chunk)*
        for (y, h) in __output.iter_mut().zip(&__s.#head_out[..__n]) {
            *y = #scale * h[0];
        }
        #(__s.#streams.advance(__n);)*
    };
    Emitted {
        items,
        state: quote!(#state),
        new_state: quote!(#state { #(#names: #news,)* }),
        chunk,
        clear: quote!(#(__s.#streams.clear();)*),
    }
}

/// `Conv<I, O, K>` from NAM's `(out, in, K)` row-major weights.
fn conv_static(name: &Ident, conv: &Conv) -> TokenStream {
    let rt = rt();
    let Conv { out, input, kernel, .. } = *conv;
    let (taps, bias) = conv_values(conv);
    quote! {
        static #name: #rt::nam::Conv<#input, #out, #kernel> = #rt::nam::Conv { taps: #taps, bias: #bias };
    }
}

/// The taps `[k][j][o]` and bias of a convolution, as literals.
fn conv_values(conv: &Conv) -> (TokenStream, TokenStream) {
    let Conv { out, input, kernel, weight, bias, .. } = conv;
    let taps = nested(*kernel, |k| {
        nested(*input, |j| floats((0..*out).map(|o| weight[(o * input + j) * kernel + k])))
    });
    let bias = floats(bias.clone().unwrap_or_else(|| vec![0.0; *out]));
    (taps, bias)
}

fn layer_static(name: &Ident, layer: &chainrule_spec::nam_file::Layer, c: usize, b: usize) -> TokenStream {
    let rt = rt();
    let (z, k) = (layer.conv.out, layer.conv.kernel);
    let (taps, bias) = conv_values(&layer.conv);
    let mixin = floats(layer.mixin.weight.iter().copied());
    let out_weight = &layer.layer1x1.weight;
    let out = nested(b, |j| floats((0..c).map(|o| out_weight[o * b + j])));
    let out_bias = floats(layer.layer1x1.bias.clone().unwrap_or_else(|| vec![0.0; c]));
    quote! {
        static #name: #rt::nam::Layer<#c, #b, #z, #k> = #rt::nam::Layer {
            conv: #rt::nam::Conv { taps: #taps, bias: #bias },
            mixin: #mixin,
            out: #out,
            out_bias: #out_bias,
        };
    }
}

fn activation(activation: Activation) -> TokenStream {
    let rt = rt();
    let a = quote!(#rt::nam::Activation);
    match activation {
        Activation::Tanh => quote!(#a::Tanh),
        Activation::FastTanh => quote!(#a::FastTanh),
        Activation::Hardtanh => quote!(#a::Hardtanh),
        Activation::Relu => quote!(#a::Relu),
        Activation::LeakyRelu(slope) => quote!(#a::LeakyRelu(#slope)),
        Activation::Sigmoid => quote!(#a::Sigmoid),
        Activation::Silu => quote!(#a::Silu),
        Activation::Hardswish => quote!(#a::Hardswish),
        Activation::Softsign => quote!(#a::Softsign),
        Activation::LeakyHardtanh { min, max, min_slope, max_slope } => {
            quote!(#a::LeakyHardtanh { min: #min, max: #max, min_slope: #min_slope, max_slope: #max_slope })
        }
    }
}

fn gating(gating: Gating) -> TokenStream {
    let rt = rt();
    let g = quote!(#rt::nam::Gating);
    match gating {
        Gating::None => quote!(#g::None),
        Gating::Gated(gate) => {
            let gate = activation(gate);
            quote!(#g::Gated(#gate))
        }
        Gating::Blended(blend) => {
            let blend = activation(blend);
            quote!(#g::Blended(#blend))
        }
    }
}
