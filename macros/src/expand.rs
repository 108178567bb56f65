//! The pipeline: parse, check, lower, and emit (which differentiates and
//! simplifies per generated function). On error, the declared struct is
//! still emitted next to the messages, so code that names the type does not
//! pile up "cannot find type" errors after the real one.

use crate::check::check;
use crate::emit::emit_network;
use crate::parse::Declaration;
use proc_macro2::TokenStream;
use quote::quote;

pub fn expand(tokens: TokenStream) -> TokenStream {
    let decl: Declaration = match syn::parse2(tokens) {
        Ok(d) => d,
        Err(e) => return e.to_compile_error(),
    };
    let stub = stub(&decl);
    match check(decl).and_then(|model| emit_network(&model)) {
        Ok(code) => code,
        Err(e) => {
            let errors = e.to_compile_error();
            quote!(#stub #errors)
        }
    }
}

/// The struct alone, with the user's attributes and visibility.
fn stub(decl: &Declaration) -> TokenStream {
    let (attrs, vis, name) = (&decl.attrs, &decl.vis, &decl.name);
    quote!(#(#attrs)* #vis struct #name {})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_file(tokens: TokenStream) -> syn::File {
        syn::parse2(expand(tokens)).expect("the expansion is valid Rust")
    }

    #[test]
    fn a_classifier_expands_to_a_struct_and_its_network_impl() {
        let file = expand_file(quote! {
            pub struct Net {
                input: [4],
                layers: [dense(8), tanh, dense(3)],
                loss: softmax_cross_entropy,
                regularizer: l2(1e-3),
            }
        });
        let text = quote!(#file).to_string();
        if std::env::var_os("SHOW_EXPANSION").is_some() {
            println!("{text}");
        }
        assert!(matches!(&file.items[0], syn::Item::Struct(s) if s.ident == "Net"));
        assert!(text.contains("impl :: chainrule :: __private :: Network for Net"));
        assert!(text.contains("kernels :: softmax_cross_entropy_back"), "fused gradient");
        assert!(!text.contains("kernels :: softmax_back"), "unfused gradient left over");
        assert!(
            text.contains("kernels :: linear_1 :: < f32 , 4usize , 8usize >"),
            "batch-1 path is fixed-size"
        );
        assert!(!text.contains("linear_back_data (batch , 4usize"), "no gradient for the input");
    }

    #[test]
    fn errors_come_with_the_struct() {
        let out = expand(quote!(pub struct Net { input: [4], layers: [dense(0)], loss: mse })).to_string();
        assert!(out.contains("pub struct Net"));
        assert!(out.contains("compile_error"));
    }
}

#[cfg(test)]
mod timing {
    use super::*;

    /// Compile cost of a 10-layer network's expansion (parse, check, two
    /// lowerings, differentiation, four simplified functions, emission).
    /// Run with `cargo test --release -p chainrule-macros expansion_time -- --ignored --nocapture`;
    /// ignored by default because a timing is not a pass/fail property.
    #[test]
    #[ignore]
    fn expansion_time() {
        let tokens = quote! {
            pub struct Deep {
                input: [64],
                layers: [
                    dense(128), relu, dense(128), tanh, batch_norm, dropout(0.1),
                    residual[dense(128), gelu, dense(128)], dense(64), sigmoid, dense(10),
                ],
                loss: softmax_cross_entropy,
                regularizer: l2(1e-4),
            }
        };
        let runs = 20;
        let start = std::time::Instant::now();
        for _ in 0..runs {
            std::hint::black_box(expand(tokens.clone()));
        }
        let ms = start.elapsed().as_secs_f64() * 1e3 / runs as f64;
        println!("expansion of a 10-layer network: {ms:.2} ms");
    }
}
