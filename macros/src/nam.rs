//! `network! { pub struct Amp { nam: "models/amp.nam" } }`: a Neural Amp
//! Modeler file compiled in. The file is read at build time
//! (`chainrule_spec::nam_file`), its weights laid out for the runtime's
//! `nam` kernels in statics, and a streaming type emitted around them:
//! `new`, `process` over blocks of any length, `reset`, and the file's
//! sample rate and levels as constants.
//!
//! The WaveNet is emitted as straight-line code over its layers rather
//! than lowered through the tensor graph: what makes it fast at audio
//! rate is that every layer reads its input's history in place and writes
//! the next layer's, chunk by chunk, which is a streaming schedule the
//! graph's batch-1 functions do not have. The arithmetic is the runtime's,
//! the sizes and weights the compiler's.

mod lstm;
mod wavenet;

use crate::codegen::rt;
use chainrule_spec::nam_file::{self, NamFile, NamModel};
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};
use syn::{Attribute, Ident, LitStr, Visibility};

/// What the emitters of both architectures need from the declaration.
pub struct Target<'a> {
    pub attrs: &'a [Attribute],
    pub vis: &'a Visibility,
    pub name: &'a Ident,
}

/// The code generated for one architecture: the state it keeps, how to
/// build it, one chunk of at most `CHUNK` samples, and the reset to the
/// file's initial state (before prewarm).
struct Emitted {
    /// Weight statics and the state struct.
    items: TokenStream,
    /// The state's type.
    state: TokenStream,
    /// An expression building the state, unwarmed.
    new_state: TokenStream,
    /// A function body over `__s: &mut State`, `__isa`, `__input: &[f32]`
    /// and `__output: &mut [f32]` of equal length, at most `CHUNK`.
    chunk: TokenStream,
    /// Statements putting `__s` back to its initial state.
    clear: TokenStream,
}

/// The expansion for `nam: "path"`, or one error at the path naming
/// everything in the file that does not compile, after which the type is
/// still declared (with bodies that never run) so that code using it
/// reports nothing more.
fn expand(target: Target, path: &LitStr) -> TokenStream {
    match read(path) {
        Ok((file, full)) => emit(&target, path, &full, &file),
        Err(error) => expand_failed(target, Some(error)),
    }
}

/// The error, if any, and the type with the API of a compiled model whose
/// bodies never run.
fn expand_failed(target: Target, error: Option<syn::Error>) -> TokenStream {
    let Target { attrs, vis, name } = target;
    let rt = rt();
    let error = error.map(|e| e.to_compile_error());
    let never = quote!(::core::unreachable!());
    let unknown = quote!(::core::option::Option<f64> = ::core::option::Option::None);
    quote! {
        #error
        #(#attrs)*
        #vis struct #name;
        /// (Not compiled: the model has errors.)
        impl #name {
            #vis const SAMPLE_RATE: #unknown;
            #vis const LOUDNESS: #unknown;
            #vis const INPUT_LEVEL_DBU: #unknown;
            #vis const OUTPUT_LEVEL_DBU: #unknown;
            #vis const RECEPTIVE_FIELD: usize = 0;
            #vis const PREWARM_SAMPLES: usize = 0;
            #vis fn new() -> Self { #never }
            #vis fn process(&mut self, _: &[f32], _: &mut [f32]) { #never }
            #vis fn reset(&mut self) { #never }
            #vis fn reset_unwarmed(&mut self) { #never }
        }
        impl #rt::Process for #name {
            fn process(&mut self, _: &[f32], _: &mut [f32]) { #never }
            fn reset(&mut self) { #never }
        }
    }
}

/// The file read and checked, and its absolute path (for the
/// `include_bytes!` that makes cargo rebuild when it changes).
fn read(path: &LitStr) -> syn::Result<(NamFile, String)> {
    let root = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let full = std::path::Path::new(&root).join(path.value());
    let fail =
        |message: String| syn::Error::new(path.span(), format!("model file `{}`: {message}", path.value()));
    let text = std::fs::read_to_string(&full)
        .map_err(|e| fail(format!("cannot read it (paths start at the crate root): {e}")))?;
    let file = nam_file::read(&text).map_err(|problems| match problems.as_slice() {
        [one] => fail(one.clone()),
        all => fail(format!(
            "chainrule cannot compile:{}",
            all.iter().map(|p| format!("\n  - {p}")).collect::<String>()
        )),
    })?;
    Ok((file, full.to_string_lossy().into_owned()))
}

fn emit(target: &Target, path: &LitStr, file_path: &str, file: &NamFile) -> TokenStream {
    let Target { attrs, vis, name } = target;
    let rt = rt();
    let (emitted, architecture, receptive_field) = match &file.model {
        NamModel::WaveNet(net) => (wavenet::emit(name, net), "WaveNet", net.receptive_field()),
        NamModel::Lstm(net) => (lstm::emit(name, net), "LSTM", 0),
    };
    let Emitted { items, state, new_state, chunk, clear } = emitted;
    let option = |value: Option<f64>| match value {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    };
    let (rate, loudness) = (option(file.sample_rate), option(file.loudness));
    let (input_level, output_level) = (option(file.input_level_dbu), option(file.output_level_dbu));
    let prewarm = file.prewarm_samples();
    let chunk_fn = format_ident!("__{}_chunk", name.to_string().to_lowercase());
    let doc = format!(
        "A {architecture} amp model compiled from `{}`: call [`Self::process`] on blocks \
         of mono audio at the model's sample rate.",
        path.value()
    );
    quote! {
        #(#attrs)*
        #[doc = #doc]
        #vis struct #name {
            state: ::std::boxed::Box<#state>,
        }

        const _: () = {
            // Rebuild when the file changes.
            const _: &[u8] = ::core::include_bytes!(#file_path);
        };

        #items

        #[inline(always)]
        #[allow(clippy::all, clippy::pedantic, unused_variables)]
        fn #chunk_fn(__s: &mut #state, __isa: #rt::isa::Isa, __input: &[f32], __output: &mut [f32]) {
            #chunk
        }

        impl #name {
            /// The sample rate the model was trained at, if the file says
            /// (files before format 0.5.2 do not; they are 48 kHz by convention).
            #vis const SAMPLE_RATE: ::core::option::Option<f64> = #rate;
            /// The output's loudness on NAM's standard test signal, in dB, if known.
            #vis const LOUDNESS: ::core::option::Option<f64> = #loudness;
            /// The level in dBu a full-scale input stands for, if known.
            #vis const INPUT_LEVEL_DBU: ::core::option::Option<f64> = #input_level;
            /// The level in dBu of a full-scale output, if known.
            #vis const OUTPUT_LEVEL_DBU: ::core::option::Option<f64> = #output_level;
            /// Past input samples each output depends on (0 for a recurrent model).
            #vis const RECEPTIVE_FIELD: usize = #receptive_field;
            /// Samples of silence [`Self::reset`] runs through the model, as
            /// NAM Core does on reset: past the receptive field for a
            /// WaveNet, half a second for an LSTM.
            #vis const PREWARM_SAMPLES: usize = #prewarm;

            /// The model, prewarmed. Allocates its histories once; nothing
            /// after this does.
            #vis fn new() -> Self {
                let mut model = #name { state: ::std::boxed::Box::new(#new_state) };
                model.prewarm();
                model
            }

            /// Processes `input` into `output`, sample for sample, as if
            /// the whole signal since the last reset came in one block:
            /// any block length, changing from call to call. When the
            /// lengths differ, the first `min` samples are processed and
            /// the rest of `output` is left alone. A sample that is not a
            /// finite number is read as silence, so that it cannot poison
            /// the model's state. Allocates nothing and cannot fail.
            #vis fn process(&mut self, input: &[f32], output: &mut [f32]) {
                let n = input.len().min(output.len());
                let state = &mut *self.state;
                #rt::isa::with_isa(#[inline(always)] |isa| {
                    let mut clean = [0.0f32; #rt::nam::CHUNK];
                    for (input, output) in input[..n].chunks(#rt::nam::CHUNK).zip(output[..n].chunks_mut(#rt::nam::CHUNK)) {
                        let clean = &mut clean[..input.len()];
                        for (c, &x) in clean.iter_mut().zip(input) {
                            *c = if x.is_finite() { x } else { 0.0 };
                        }
                        #chunk_fn(state, isa, clean, output);
                    }
                })
            }

            /// Back to the state after [`Self::new`]: the file's initial
            /// state, then [`Self::PREWARM_SAMPLES`] of silence. Allocates nothing.
            #vis fn reset(&mut self) {
                self.reset_unwarmed();
                self.prewarm();
            }

            /// The file's initial state without the prewarm (a WaveNet's
            /// histories all zero; an LSTM's stored state), as NAM Core
            /// is with prewarm turned off.
            #vis fn reset_unwarmed(&mut self) {
                let __s = &mut *self.state;
                #clear
            }

            fn prewarm(&mut self) {
                let state = &mut *self.state;
                #rt::isa::with_isa(#[inline(always)] |isa| {
                    let silence = [0.0f32; #rt::nam::CHUNK];
                    let mut sink = [0.0f32; #rt::nam::CHUNK];
                    let mut left = Self::PREWARM_SAMPLES;
                    while left > 0 {
                        let n = left.min(#rt::nam::CHUNK);
                        #chunk_fn(state, isa, &silence[..n], &mut sink[..n]);
                        left -= n;
                    }
                })
            }
        }

        impl ::core::default::Default for #name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl #rt::Process for #name {
            fn process(&mut self, input: &[f32], output: &mut [f32]) {
                #name::process(self, input, output)
            }
            fn reset(&mut self) {
                #name::reset(self)
            }
        }
    }
}

/// `f32` values as literals, exact (Rust prints the shortest decimal that
/// reads back to the same float).
fn floats(values: impl IntoIterator<Item = f32>) -> TokenStream {
    let values = values.into_iter().map(Literal::f32_suffixed);
    quote!([#(#values),*])
}

/// An array of arrays: `rows` rows, each `row(i)`.
fn nested(rows: usize, row: impl Fn(usize) -> TokenStream) -> TokenStream {
    let rows = (0..rows).map(row);
    quote!([#(#rows),*])
}

/// The expansion when the declaration names a `.nam` file, which then is
/// the whole network: other keys and token errors are reported beside
/// the file's own errors, at their tokens. `None` without `nam:`.
pub fn from_declaration(declaration: &crate::parse::Declaration) -> Option<TokenStream> {
    use crate::parse::Value;
    let path = declaration.fields.iter().find_map(|field| match &field.value {
        Value::Nam(path) => Some(path),
        _ => None,
    });
    let named = declaration.fields.iter().any(|field| field.key == "nam");
    if !named {
        return None;
    }
    let mut errors: Vec<syn::Error> = declaration.syntax.clone();
    for field in declaration.fields.iter().filter(|field| field.key != "nam") {
        errors.push(syn::Error::new(
            field.key.span(),
            format!("`{}` cannot be combined with `nam`: the file declares the whole network", field.key),
        ));
    }
    let target = Target { attrs: &declaration.attrs, vis: &declaration.vis, name: &declaration.name };
    let expansion = match path {
        Some(path) => expand(target, path),
        // The path itself did not read: its error is among the syntax errors.
        None => expand_failed(target, None),
    };
    let errors = errors.iter().map(syn::Error::to_compile_error);
    Some(quote!(#(#errors)* #expansion))
}
