//! `quantize: int8`: the quantized weights file compiled in as `static`
//! arrays in the kernels' forms (dense weights packed, biases folded with
//! the input's zero point, multipliers in fixed point, all computed here by
//! the functions the runtime uses, so the results agree to the bit), and a
//! `predict` that quantizes the input, runs the int8 steps on two stack
//! buffers of codes and dequantizes the output. Inference only, without
//! `std` or `alloc`: the type is a unit struct, as with `embedded: true`.

use crate::codegen::rt;
use crate::int8::Step;
use crate::model::Model;
use crate::weights_file::QuantizedFile;
use chainrule_spec::quant::{self, Quantization};
use chainrule_spec::quant_file::Tensors;
use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

/// A dense layer's or convolution's numbers in the kernel's forms.
struct Kernel<'a> {
    packed: Vec<i8>,
    folded: Vec<i32>,
    scales: &'a [f32],
    input: Quantization,
    output: Quantization,
}

impl Kernel<'_> {
    /// The statics of step `k` (`__W{k}`, `__B{k}`, `__M{k}`), their bytes
    /// counted; returns their names.
    fn statics(self, k: usize, statics: &mut Vec<TokenStream>, bytes: &mut usize) -> (Ident, Ident, Ident) {
        let rt = rt();
        let multipliers = self.scales.iter().map(|&s| {
            let m = quant::multiplier(self.input.scale, s, self.output.scale);
            let (mantissa, shift) = (m.mantissa, m.shift);
            quote!(#rt::int8::Multiplier { mantissa: #mantissa, shift: #shift })
        });
        let (w, b, m) = (format_ident!("__W{k}"), format_ident!("__B{k}"), format_ident!("__M{k}"));
        let (packed_len, outputs, folded) = (self.packed.len(), self.folded.len(), &self.folded);
        let packed = Literal::byte_string(&self.packed.iter().map(|&v| v as u8).collect::<Vec<u8>>());
        statics.push(quote! {
            static #w: [i8; #packed_len] = #rt::int8::bytes_as_i8(*#packed);
            static #b: [i32; #outputs] = [#(#folded),*];
            static #m: [#rt::int8::Multiplier; #outputs] = [#(#multipliers),*];
        });
        *bytes += packed_len + 4 * outputs + 8 * outputs;
        (w, b, m)
    }
}

/// The output's zero point and floor (the zero point after a fused ReLU).
fn ends(output: &Quantization, relu: bool) -> TokenStream {
    let (zero_point, floor) = (output.zero_point, if relu { output.zero_point } else { 0 });
    quote!((#zero_point, #floor))
}

fn quantization(q: Quantization) -> TokenStream {
    let rt = rt();
    let (scale, zero_point) = (q.scale, q.zero_point);
    quote!(#rt::int8::Quantization { scale: #scale, zero_point: #zero_point })
}

/// The network of `model` with the quantized file that
/// `weights_file::read_quantized` read and checked.
pub fn network(model: &Model, file: &QuantizedFile) -> TokenStream {
    let QuantizedFile { steps, numbers, path: file } = file;
    let rt = rt();
    let (attrs, vis, name) = (&model.outline.attrs, &model.outline.vis, model.name());
    let input_len: usize = model.input.iter().product();
    // Each step once per sample, reading `__from` and writing `__to`, and
    // where a kernel takes several samples at once, on a chunk of them.
    let (mut statics, mut steps_one, mut steps_chunk) = (Vec::new(), Vec::new(), Vec::new());
    let (mut len, mut q, mut bytes) = (input_len, numbers.input, 0usize);
    let mut longest = input_len.next_multiple_of(quant::GROUP);
    let buffers = [format_ident!("__a"), format_ident!("__b")];
    // The patches of the widest convolution, if any.
    let mut patches = 0usize;
    for (k, (step, layer)) in steps.iter().zip(&numbers.layers).enumerate() {
        let (from, to) = (&buffers[k % 2], &buffers[(k + 1) % 2]);
        let mut chunk = None;
        let one = match (step, layer) {
            (
                Step::Dense { inputs, outputs, relu, .. },
                Tensors::Weighted { weight, weight_scale, bias, output },
            ) => {
                let (inputs, outputs) = (*inputs, *outputs);
                let mut packed = vec![0i8; quant::packed_len(outputs, inputs)];
                quant::pack_dense(weight, outputs, inputs, &mut packed);
                let rows = weight.chunks_exact(inputs);
                let folded = rows.zip(bias).map(|(w, &b)| quant::folded_bias(b, q.zero_point, w)).collect();
                let kernel = Kernel { packed, folded, scales: weight_scale, input: q, output: *output };
                let (w, b, m) = kernel.statics(k, &mut statics, &mut bytes);
                let ends = ends(output, *relu);
                chunk = Some(quote! {
                    #rt::int8::dense_batch(
                        __level, (#inputs, #outputs, __n), (&#from, __L), &#w, &#b, &#m, #ends, (&mut #to, __L),
                    );
                });
                len = outputs;
                quote!(#rt::int8::dense(__level, #inputs, #outputs, __from, &#w, &#b, &#m, #ends, __to);)
            }
            (
                Step::Conv2d { geometry, relu, .. },
                Tensors::Weighted { weight, weight_scale, bias, output },
            ) => {
                let mut packed = vec![0i8; geometry.out_channels * quant::conv_row(geometry)];
                quant::pack_conv(weight, geometry, &mut packed);
                let rows = weight.chunks_exact(geometry.patch_len());
                let folded = rows.zip(bias).map(|(w, &b)| quant::folded_bias(b, q.zero_point, w)).collect();
                let kernel = Kernel { packed, folded, scales: weight_scale, input: q, output: *output };
                let (w, b, m) = kernel.statics(k, &mut statics, &mut bytes);
                let (ends, input_zero_point) = (ends(output, *relu), q.zero_point as u8);
                let geometry_tokens = crate::int8::conv_tokens(geometry);
                patches = patches.max(quant::conv_scratch(geometry));
                len = geometry.output_len();
                quote! {
                    #rt::int8::conv2d(
                        __level, &#geometry_tokens, __from, #input_zero_point, &mut __patches, &#w, &#b, &#m, #ends, __to,
                    );
                }
            }
            (Step::Table { .. }, Tensors::Table { table, .. }) => {
                let t = format_ident!("__T{k}");
                let table = Literal::byte_string(table);
                statics.push(quote!(static #t: [u8; 256] = *#table;));
                bytes += 256;
                quote!(#rt::int8::table(&#t, &__from[..#len], __to);)
            }
            (Step::MaxPool2d(pool), _) => {
                let geometry = crate::int8::pool_tokens(pool);
                len = pool.output_len();
                quote!(#rt::int8::max_pool2d(&#geometry, __from, __to);)
            }
            (Step::AvgPool2d(pool), _) => {
                let geometry = crate::int8::pool_tokens(pool);
                len = pool.output_len();
                quote!(#rt::int8::avg_pool2d(&#geometry, __from, __to);)
            }
            _ => unreachable!("the file was read against these steps"),
        };
        steps_one.push(quote! {{
            let (__from, __to): (&[u8], &mut [u8]) = (&#from[..], &mut #to[..]);
            #one
        }});
        steps_chunk.push(chunk.unwrap_or_else(|| {
            quote! {
                for __s in 0..__n {
                    let (__from, __to): (&[u8], &mut [u8]) = (&#from[__s * __L..][..__L], &mut #to[__s * __L..][..__L]);
                    #one
                }
            }
        }));
        q = layer.output(q);
        longest = longest.max(len.next_multiple_of(quant::GROUP));
    }
    let last = &buffers[steps.len() % 2];
    let scratch = (patches > 0).then(|| quote!(let mut __patches = [0u8; #patches];));
    let (input_q, output_q) = (quantization(numbers.input), quantization(q));
    let output_len = len;
    let doc = format!(
        "The int8 network of `{}` compiled in ({bytes} bytes of weights, biases, multipliers and tables).",
        model.weights.as_ref().map(syn::LitStr::value).unwrap_or_default()
    );
    quote! {
        #(#attrs)*
        #vis struct #name;

        const _: () = {
            // Makes cargo rebuild when the file changes.
            const _: &[u8] = include_bytes!(#file);
            #(#statics)*

            impl #name {
                /// Values per input sample.
                #vis const INPUT_LEN: usize = #input_len;
                /// Values per output.
                #vis const OUTPUT_LEN: usize = #output_len;
                /// Bytes of the compiled-in weights, biases, multipliers and tables.
                #vis const WEIGHT_BYTES: usize = #bytes;

                #[doc = #doc]
                #vis const fn trained() -> Self {
                    Self
                }

                /// Batch-1 inference in int8: the input quantized, every
                /// layer on 8-bit codes with `i32` sums, the output
                /// dequantized. No allocation, no lock, no panic on any
                /// input value (NaN reads as 0).
                #[allow(clippy::all)]
                #vis fn predict(&self, __input: &[f32; #input_len]) -> [f32; #output_len] {
                    let __level = #rt::int8::active();
                    // The loops around the kernels (quantizing, tables)
                    // compiled for the vector level the CPU runs.
                    #rt::isa::with_isa(#[inline(always)] |_| {
                        let mut __a = [0u8; #longest];
                        let mut __b = [0u8; #longest];
                        #scratch
                        #rt::int8::quantize(#input_q, __input, &mut __a);
                        #(#steps_one)*
                        let mut __out = [0.0f32; #output_len];
                        #rt::int8::dequantize(#output_q, &#last[..#output_len], &mut __out);
                        __out
                    })
                }

                /// [`Self::predict`] on each input, the same bits, four samples
                /// at a time so that dense layers load each weight once for
                /// them (`chainrule::int8::dense_batch`); `outputs` takes one
                /// slot per input (the shorter of the two sets the count).
                /// Allocates nothing.
                #[allow(clippy::all)]
                #vis fn predict_batch(&self, inputs: &[[f32; #input_len]], outputs: &mut [[f32; #output_len]]) {
                    const __L: usize = #longest;
                    const __CHUNK: usize = 4;
                    let __level = #rt::int8::active();
                    let n = inputs.len().min(outputs.len());
                    #rt::isa::with_isa(#[inline(always)] |_| {
                        let mut __a = [0u8; __CHUNK * __L];
                        let mut __b = [0u8; __CHUNK * __L];
                        #scratch
                        for (xs, ys) in inputs[..n].chunks(__CHUNK).zip(outputs[..n].chunks_mut(__CHUNK)) {
                            let __n = xs.len();
                            for (__s, x) in xs.iter().enumerate() {
                                #rt::int8::quantize(#input_q, x, &mut __a[__s * __L..][..__L]);
                            }
                            #(#steps_chunk)*
                            for (__s, y) in ys.iter_mut().enumerate() {
                                #rt::int8::dequantize(#output_q, &#last[__s * __L..][..#output_len], y);
                            }
                        }
                    })
                }
            }
        };
    }
}
