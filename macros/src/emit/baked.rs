//! `weights: "file.safetensors"`: the file's values (read and checked by
//! `weights_file` before emission) baked into `static` arrays that
//! `Name::trained()` reads in place, decoded by `const fn`s at compile
//! time. The generated code also `include_bytes!` the file, so cargo
//! rebuilds when it changes.

use crate::codegen::rt;
use crate::model::Model;
use crate::weights_file::Baked;
use proc_macro2::{Ident, Literal, TokenStream};
use quote::quote;

pub fn trained_doc(model: &Model) -> String {
    let file = model.weights.as_ref().map(syn::LitStr::value).unwrap_or_default();
    format!(
        "The network with the weights of `{file}` compiled in: inference reads them in place, \
         with no copy and no parsing."
    )
}

/// `__BAKED_PARAMS`, and with state `__BAKED_STATE` and with an inference
/// copy `__BAKED_PLAN`: the file's values as static arrays of scalar `s`.
pub fn statics(baked: &Baked, s: &Ident, param_len: usize, state_len: usize, plan_len: usize) -> TokenStream {
    let rt = rt();
    let decode = if *s == "f64" { quote!(#rt::decode_f64) } else { quote!(#rt::decode_f32) };
    let (params, file) = (Literal::byte_string(&baked.params), &baked.path);
    let state = (state_len > 0).then(|| {
        let state = Literal::byte_string(&baked.state);
        quote!(static __BAKED_STATE: #rt::Aligned<[#s; #state_len]> = #rt::Aligned(#decode::<#state_len>(#state));)
    });
    let plan = (plan_len > 0).then(|| {
        let plan = Literal::byte_string(&baked.plan);
        quote!(static __BAKED_PLAN: #rt::Aligned<[#s; #plan_len]> = #rt::Aligned(#decode::<#plan_len>(#plan));)
    });
    quote! {
        // Makes cargo rebuild when the file changes.
        const _: &[u8] = include_bytes!(#file);
        // On cache lines, as the heap buffers: the kernels' vector loads
        // never straddle two.
        static __BAKED_PARAMS: #rt::Aligned<[#s; #param_len]> = #rt::Aligned(#decode::<#param_len>(#params));
        #state
        #plan
    }
}
