//! `weights: "file.safetensors"`: the file read at compile time, checked
//! against the network's tensors, and its values baked into `static`
//! arrays that `Name::trained()` reads in place.
//!
//! The path is relative to the crate root (`CARGO_MANIFEST_DIR`). The file
//! is checked by `chainrule_spec::tensor_file`, as `chainrule::weights::load`
//! checks it: every mismatch is a compile error at the path. The generated code also `include_bytes!` the
//! file, so cargo rebuilds when it changes.

use crate::codegen::rt;
use crate::ir::Graph;
use crate::model::Model;
use chainrule_spec::tensor_file::{self, Precision};
use proc_macro2::{Literal, TokenStream};
use quote::quote;
use std::path::Path;

/// The statics and the `trained()` constructor, or nothing without `weights:`.
pub fn baked(model: &Model, graph: &Graph, stream_len: usize) -> syn::Result<TokenStream> {
    if model.weights.is_none() {
        return Ok(TokenStream::new());
    }
    let statics = statics(model, graph)?;
    let rt = rt();
    let (name, vis) = (&model.name, &model.vis);
    let doc = trained_doc(model);
    Ok(quote! {
        #statics

        impl #name {
            #[doc = #doc]
            #vis fn trained() -> Self {
                Self {
                    params: #rt::Buffer::Baked(&__BAKED_PARAMS),
                    state: #rt::Buffer::Baked(&__BAKED_STATE),
                    rng: 0,
                    stream: [0.0; #stream_len],
                }
            }
        }
    })
}

pub fn trained_doc(model: &Model) -> String {
    let file = model.weights.as_ref().map(syn::LitStr::value).unwrap_or_default();
    format!(
        "The network with the weights of `{file}` compiled in: inference reads them in place, \
         with no copy and no parsing."
    )
}

/// `__BAKED_PARAMS` and `__BAKED_STATE`, the file's values as static
/// arrays, and the `include_bytes!` that makes cargo rebuild when the file
/// changes. Expects `model.weights`.
pub fn statics(model: &Model, graph: &Graph) -> syn::Result<TokenStream> {
    let lit = model.weights.as_ref().expect("a weights file");
    let root = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let path = Path::new(&root).join(lit.value());
    let fail =
        |message: String| syn::Error::new(lit.span(), format!("weights file `{}`: {message}", lit.value()));
    // The message leaves the crate root out: it is the same for everyone.
    let bytes = std::fs::read(&path)
        .map_err(|e| fail(format!("cannot read it (paths start at the crate root): {e}")))?;
    let f64_type = model.scalar == "f64";
    let precision = if f64_type { Precision::F64 } else { Precision::F32 };
    let (params, state) = tensor_file::read(&bytes, &graph.params, &graph.states, precision)
        .map_err(|e| fail(e.to_string()))?;
    let rt = rt();
    let s = &model.scalar;
    let (param_len, state_len) = (graph.param_len(), graph.state_len());
    let decode = if f64_type { quote!(#rt::decode_f64) } else { quote!(#rt::decode_f32) };
    let (params, state) = (Literal::byte_string(&params), Literal::byte_string(&state));
    let file = path.to_string_lossy().into_owned();
    Ok(quote! {
        // Makes cargo rebuild when the file changes.
        const _: &[u8] = include_bytes!(#file);
        static __BAKED_PARAMS: [#s; #param_len] = #decode::<#param_len>(#params);
        static __BAKED_STATE: [#s; #state_len] = #decode::<#state_len>(#state);
    })
}
