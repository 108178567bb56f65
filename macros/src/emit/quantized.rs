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
    let (mut statics, mut body) = (Vec::new(), Vec::new());
    let (mut len, mut q, mut bytes) = (input_len, numbers.input, 0usize);
    let mut longest = input_len.next_multiple_of(quant::GROUP);
    let buffers = [format_ident!("__a"), format_ident!("__b")];
    // The patches of the widest convolution, if any.
    let mut patches = 0usize;
    for (k, (step, layer)) in steps.iter().zip(&numbers.layers).enumerate() {
        let (from, to) = (&buffers[k % 2], &buffers[(k + 1) % 2]);
        match (step, layer) {
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
                body.push(quote! {
                    #rt::int8::dense(__level, #inputs, #outputs, &#from, &#w, &#b, &#m, #ends, &mut #to);
                });
                len = outputs;
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
                body.push(quote! {
                    #rt::int8::conv2d(
                        __level, &#geometry_tokens, &#from, #input_zero_point, &mut __patches, &#w, &#b, &#m, #ends, &mut #to,
                    );
                });
                patches = patches.max(quant::conv_row(geometry) * quant::conv_positions(geometry));
                len = geometry.output_len();
            }
            (Step::Table { .. }, Tensors::Table { table, .. }) => {
                let t = format_ident!("__T{k}");
                let table = Literal::byte_string(table);
                statics.push(quote!(static #t: [u8; 256] = *#table;));
                bytes += 256;
                body.push(quote!(#rt::int8::table(&#t, &#from[..#len], &mut #to);));
            }
            (Step::MaxPool2d(pool), _) => {
                let geometry = crate::int8::pool_tokens(pool);
                body.push(quote!(#rt::int8::max_pool2d(&#geometry, &#from, &mut #to);));
                len = pool.output_len();
            }
            _ => unreachable!("the file was read against these steps"),
        }
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
                        #(#body)*
                        let mut __out = [0.0f32; #output_len];
                        #rt::int8::dequantize(#output_q, &#last[..#output_len], &mut __out);
                        __out
                    })
                }

                /// [`Self::predict`] on each input; `outputs` takes one slot
                /// per input (the shorter of the two sets the count).
                #vis fn predict_batch(&self, inputs: &[[f32; #input_len]], outputs: &mut [[f32; #output_len]]) {
                    for (x, y) in inputs.iter().zip(outputs.iter_mut()) {
                        *y = self.predict(x);
                    }
                }
            }
        };
    }
}
