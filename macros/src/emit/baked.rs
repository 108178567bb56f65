//! `weights: "file.safetensors"`: the file read at compile time, checked
//! against the network's tensors, and its values baked into `static`
//! arrays that `Name::trained()` reads in place.
//!
//! The path is relative to the crate root (`CARGO_MANIFEST_DIR`). The file
//! must hold every parameter and running statistic under its `LAYOUT`
//! name, with its shape, in the network's scalar type (the layout
//! `chainrule::weights::save` writes, and PyTorch's `state_dict`); PyTorch's
//! `num_batches_tracked` is ignored. Anything else is a compile error at the
//! path that names the tensor. The generated code also `include_bytes!` the
//! file, so cargo rebuilds when it changes.

use super::body::rt;
use crate::ir::{Graph, Param};
use crate::model::Model;
use proc_macro2::{Literal, TokenStream};
use quote::quote;
use safetensors::tensor::Dtype;
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
    let (params, state) = read(&bytes, &graph.params, &graph.states, f64_type).map_err(fail)?;
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

/// The parameters and state of `bytes` (a safetensors file) as
/// little-endian bytes in the network's flat order, or what is wrong.
fn read(
    bytes: &[u8],
    params: &[Param],
    states: &[Param],
    f64_type: bool,
) -> Result<(Vec<u8>, Vec<u8>), String> {
    let file = safetensors::SafeTensors::deserialize(bytes).map_err(|e| format!("damaged file: {e}"))?;
    let known = |name: &str| {
        params.iter().chain(states).any(|p| p.name == name) || name.ends_with("num_batches_tracked")
    };
    let mut names = file.names();
    names.sort();
    if let Some(extra) = names.iter().find(|n| !known(n)) {
        return Err(format!("tensor `{extra}` is not part of this network"));
    }
    let (dtype, size) = if f64_type { (Dtype::F64, 8) } else { (Dtype::F32, 4) };
    let flat = |table: &[Param]| -> Result<Vec<u8>, String> {
        let len = table.last().map_or(0, |p| p.offset + p.len());
        let mut out = vec![0u8; len * size];
        for p in table {
            let view = file.tensor(&p.name).map_err(|_| format!("tensor `{}` is missing", p.name))?;
            if view.shape() != p.dims {
                return Err(format!(
                    "tensor `{}` has shape {:?}, this network needs {:?}",
                    p.name,
                    view.shape(),
                    p.dims
                ));
            }
            if view.dtype() != dtype {
                return Err(format!(
                    "tensor `{}` holds {:?}, this network computes in {dtype:?}",
                    p.name,
                    view.dtype()
                ));
            }
            out[p.offset * size..][..p.len() * size].copy_from_slice(view.data());
        }
        Ok(out)
    };
    Ok((flat(params)?, flat(states)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Init, Role};
    use safetensors::tensor::TensorView;

    fn param(name: &str, offset: usize, dims: &[usize]) -> Param {
        Param { name: name.into(), offset, dims: dims.to_vec(), role: Role::Weight, init: Init::Zeros }
    }

    fn file(tensors: &[(&str, Dtype, Vec<usize>)]) -> Vec<u8> {
        let data: Vec<Vec<u8>> = tensors
            .iter()
            .map(|(_, dtype, shape)| {
                let size = if *dtype == Dtype::F64 { 8 } else { 4 };
                (0..shape.iter().product::<usize>() * size).map(|i| i as u8).collect()
            })
            .collect();
        let views = tensors.iter().zip(&data).map(|((name, dtype, shape), bytes)| {
            (*name, TensorView::new(*dtype, shape.clone(), bytes).unwrap())
        });
        safetensors::serialize(views, None).unwrap()
    }

    #[test]
    fn values_land_at_their_offsets() {
        let table = [param("a.weight", 0, &[2, 1]), param("a.bias", 2, &[2])];
        let bytes = file(&[("a.bias", Dtype::F32, vec![2]), ("a.weight", Dtype::F32, vec![2, 1])]);
        let (flat, state) = read(&bytes, &table, &[], false).unwrap();
        assert_eq!(&flat[..8], &(0..8).collect::<Vec<u8>>()[..], "the weight first");
        assert_eq!(&flat[8..], &(0..8).collect::<Vec<u8>>()[..], "then the bias");
        assert!(state.is_empty());
    }

    #[test]
    fn mismatches_name_the_tensor() {
        let table = [param("a.weight", 0, &[2, 1])];
        let wrong_shape = file(&[("a.weight", Dtype::F32, vec![1, 2])]);
        assert!(read(&wrong_shape, &table, &[], false).unwrap_err().contains("`a.weight` has shape [1, 2]"));
        let wrong_type = file(&[("a.weight", Dtype::F64, vec![2, 1])]);
        assert!(read(&wrong_type, &table, &[], false).unwrap_err().contains("`a.weight` holds F64"));
        let extra = file(&[("a.weight", Dtype::F32, vec![2, 1]), ("b.weight", Dtype::F32, vec![1])]);
        assert!(read(&extra, &table, &[], false).unwrap_err().contains("`b.weight` is not part"));
        let missing = file(&[]);
        assert!(read(&missing, &table, &[], false).unwrap_err().contains("`a.weight` is missing"));
        assert!(read(b"not a file", &table, &[], false).unwrap_err().starts_with("damaged file"));
    }
}
