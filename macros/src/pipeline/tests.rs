//! Expansion tests: whole declarations through every stage, the generated
//! code formatted as a reader sees it (prettyplease) and checked line by
//! line.

use super::*;
use quote::quote;

/// The expansion, formatted; it must parse as a Rust file.
fn expanded(tokens: TokenStream) -> String {
    let file: syn::File = syn::parse2(expand(tokens)).expect("the expansion is valid Rust");
    prettyplease::unparse(&file)
}

fn has_line(code: &str, line: &str) -> bool {
    code.lines().any(|l| l.trim() == line)
}

/// Whether `code` holds `snippet`, however the formatter broke its lines.
fn holds(code: &str, snippet: &str) -> bool {
    let squeeze = |s: &str| s.split_whitespace().collect::<String>().replace(",>", ">").replace(",)", ")");
    squeeze(code).contains(&squeeze(snippet))
}

/// The generated struct's declaration.
fn struct_of(code: &str) -> &str {
    &code[..code.find("\n}\n").expect("a struct") + 3]
}

#[test]
fn a_classifier_expands_to_a_struct_and_its_network_impl() {
    let code = expanded(quote! {
        pub struct Net {
            input: [4],
            layers: [dense(8), tanh, dense(3)],
            loss: softmax_cross_entropy,
            regularizer: l2(1e-3),
        }
    });
    if std::env::var_os("SHOW_EXPANSION").is_some() {
        println!("{code}");
    }
    assert!(code.starts_with("pub struct Net {\n"), "{code}");
    assert!(has_line(&code, "impl ::chainrule::__private::Network for Net {"));
    assert!(holds(&code, "::chainrule::__private::kernels::softmax_cross_entropy_back("), "fused gradient");
    assert!(!holds(&code, "kernels::softmax_back("), "unfused gradient left over");
    assert!(holds(&code, "kernels::linear_1::<f32, 4usize, 8usize>("), "batch-1 path is fixed-size");
    assert!(!holds(&code, "kernels::linear_back_data(batch, 4usize"), "no gradient for the input");
}

/// Buffers a network does not need are not there, and nothing in the code
/// tests a condition known at compile time.
#[test]
fn generated_code_carries_nothing_it_does_not_use() {
    let mlp = expanded(quote!(pub struct Mlp { input: [4], layers: [dense(16), relu, dense(3)], loss: mse }));
    assert_eq!(
        struct_of(&mlp),
        "pub struct Mlp {\n    params: ::chainrule::__private::Buffer<f32, 131usize>,\n    plan: ::chainrule::__private::Buffer<f32, 216usize>,\n    /// Whether `plan` matches the parameters.\n    planned: bool,\n    rng: u64,\n}\n"
    );
    let lstm = expanded(quote!(pub struct Lstm { input: [8, 2], layers: [lstm(16), dense(1)], loss: mse }));
    assert!(has_line(struct_of(&lstm), "stream: [f32; 32usize],"), "{lstm}");
    assert!(!struct_of(&lstm).contains("state:"), "no running statistics");
    assert!(
        holds(&lstm, "kernels::recur::<f32, 16usize, 64usize, 32usize, 80usize>("),
        "the time loop is the runtime's"
    );
    let bn =
        expanded(quote!(pub struct Bn { input: [4], layers: [dense(8), batch_norm, dense(2)], loss: mse }));
    assert!(has_line(struct_of(&bn), "state: ::chainrule::__private::Buffer<f32, 16usize>,"), "{bn}");
    assert!(!struct_of(&bn).contains("stream:"), "{bn}");
    for code in [&mlp, &lstm, &bn] {
        let one = code.lines().filter(|l| l.contains("0..1usize")).collect::<Vec<_>>();
        assert!(one.is_empty(), "a loop over one sample: {one:?}");
        assert!(!holds(code, "&& !true") && !holds(code, "&& !false"), "a constant condition");
    }
}

/// A hidden layer's bias gradient is summed by the loop that applies its
/// activation's derivative, not by a pass of its own; the output layer's,
/// which the loss's gradient kernel writes, by `sum_batch`.
#[test]
fn bias_gradients_are_summed_where_the_mask_is_applied() {
    let mlp = expanded(
        quote!(pub struct Mlp { input: [4], layers: [dense(16), relu, dense(3)], loss: softmax_cross_entropy }),
    );
    assert!(holds(&mlp, "__s[__c] = __v; __sum[__c] += __v;"), "{mlp}");
    assert!(!holds(&mlp, "kernels::sum_batch(batch, 16usize"), "a separate pass over the hidden gradient");
    assert!(holds(&mlp, "kernels::sum_batch(batch, 3usize"), "the output layer's bias");
    let cnn = expanded(quote! {
        pub struct Cnn { input: [1, 8, 8], layers: [conv2d(4, kernel = 3, padding = 1), relu, flatten, dense(2)], loss: mse }
    });
    assert!(holds(&cnn, "__sum[__h] += ::chainrule::__private::kernels::fold_lanes(__lanes);"), "{cnn}");
    assert!(!holds(&cnn, "kernels::sum_channels("), "a separate pass over the convolution's gradient");
}

#[test]
fn after_a_mistake_the_type_has_its_whole_api() {
    let code = expand(quote!(pub struct Net { input: [4], layers: [dense(0)], loss: mse })).to_string();
    assert!(code.contains("compile_error"));
    let file: syn::File =
        syn::parse2(expand(quote!(pub struct Net { input: [4], layers: [dense(0)], loss: mse }))).unwrap();
    let code = prettyplease::unparse(&file);
    assert!(has_line(&code, "pub struct Net {}"), "{code}");
    assert!(has_line(&code, "pub fn new(_: u64) -> Self {"), "{code}");
    assert!(has_line(&code, "type Input = [f32; 4usize];"), "{code}");
    assert!(has_line(&code, "type Target = [f32; 0usize];"), "an unknown output: {code}");
}

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
        // A 20-layer graph: a ResNet-style CNN, two blocks with projection
        // shortcuts, a gated branch and a concatenation.
        let graph = quote! {
            pub struct Wide {
                input: [1, 28, 28],
                graph: {
                    let stem = relu(conv2d(input, 16, kernel = 3, padding = same));
                    let a1 = relu(conv2d(stem, 32, kernel = 3, padding = same));
                    let a2 = conv2d(a1, 32, kernel = 3, padding = same);
                    let a = relu(a2 + conv2d(stem, 32, kernel = 1));
                    let pooled = max_pool2d(a, 2);
                    let b1 = relu(conv2d(pooled, 64, kernel = 3, padding = same));
                    let b2 = conv2d(b1, 64, kernel = 3, padding = same);
                    let b = relu(b2 + conv2d(pooled, 64, kernel = 1));
                    let (g, s) = split(b, 2);
                    let gated = tanh(g) * sigmoid(s);
                    let both = concat(gated, conv2d(pooled, 16, kernel = 1));
                    let features = flatten(global_avg_pool(both));
                    layers(features, [dense(64), relu, dense(10)])
                },
                loss: softmax_cross_entropy,
            }
        };
        assert!(!expand(graph.clone()).to_string().contains("compile_error"), "the graph compiles");
        let start = std::time::Instant::now();
        for _ in 0..runs {
            std::hint::black_box(expand(graph.clone()));
        }
        let ms = start.elapsed().as_secs_f64() * 1e3 / runs as f64;
        println!("expansion of a 20-layer graph: {ms:.2} ms");
    }

    /// Lines of generated code, formatted, for three small networks. Run
    /// with `cargo test -p chainrule-macros generated_lines -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn generated_lines() {
        let nets = [
            (
                "MLP 4-16-16-3",
                quote!(pub struct Mlp { input: [4], layers: [dense(16), relu, dense(16), relu, dense(3)], loss: softmax_cross_entropy }),
            ),
            (
                "CNN",
                quote!(pub struct Cnn { input: [1, 8, 8], layers: [conv2d(4, kernel = 3, padding = 1), relu, max_pool2d(2), flatten, dense(3)], loss: softmax_cross_entropy }),
            ),
            ("LSTM", quote!(pub struct Lstm { input: [8, 2], layers: [lstm(16), dense(1)], loss: mse })),
            (
                "W1 (the benchmark's MLP)",
                quote!(pub struct W1 { input: [16], layers: [dense(32), tanh, dense(32), tanh, dense(4)], loss: mse }),
            ),
            (
                "W4 (the benchmark's LSTM)",
                quote!(pub struct W4 { input: [32, 8], layers: [lstm(32), dense(1)], loss: mse }),
            ),
        ];
        for (name, tokens) in nets {
            let code = expanded(tokens);
            if let Some(dir) = std::env::var_os("CHAINRULE_EXPANSIONS") {
                std::fs::write(
                    std::path::Path::new(&dir).join(format!("{}.rs", name.split(' ').next().unwrap_or(name))),
                    &code,
                )
                .expect("the folder is writable");
            }
            println!("{name}: {} lines", code.lines().count());
        }
    }
}

/// `flatten` and its gradient read their operand's storage: no copy loop.
#[test]
fn a_reshape_copies_nothing() {
    let cnn = expanded(quote! {
        pub struct Cnn { input: [1, 8, 8], layers: [conv2d(4, kernel = 3, padding = 1), relu, max_pool2d(2), flatten, dense(3)], loss: mse }
    });
    assert!(!holds(&cnn, "__o[__i] = __a0[__i];"), "{cnn}");
    assert!(
        holds(&cnn, "kernels::linear(batch, 64usize, 3usize, &v6[..],"),
        "the dense layer reads the pooled values"
    );
}

/// A loss that expects what the last layer does not give it is a warning
/// (a deprecated item used at the layer), with the fix in its note; a
/// declaration that allows `deprecated`, or one that is right, gets none.
#[test]
fn losses_that_disagree_with_the_last_layer_are_warned_about() {
    let warned = |tokens: TokenStream| {
        let code = expanded(tokens);
        code.contains("#[deprecated(").then_some(code)
    };
    let cases = [
        (
            quote!(struct A { input: [4], layers: [dense(3), softmax], loss: softmax_cross_entropy }),
            "applies softmax twice",
        ),
        (
            quote!(struct B { input: [4], layers: [dense(1)], loss: binary_cross_entropy }),
            "binary_cross_entropy_with_logits",
        ),
        (quote!(struct C { input: [4], layers: [dense(3)], loss: nll }), "end with `log_softmax`"),
        (
            quote!(struct D { input: [4], layers: [dense(3), relu], loss: softmax_cross_entropy }),
            "`relu` on the logits",
        ),
    ];
    for (tokens, fix) in cases {
        let code = warned(tokens).expect("a warning");
        assert!(code.contains(fix), "{code}");
    }
    for right in [
        quote!(struct E { input: [4], layers: [dense(3)], loss: softmax_cross_entropy }),
        quote!(struct F { input: [4], layers: [dense(1), sigmoid], loss: binary_cross_entropy }),
        quote!(struct G { input: [4], layers: [dense(3), log_softmax], loss: nll }),
        quote!(#[allow(deprecated)] struct H { input: [4], layers: [dense(3), softmax], loss: softmax_cross_entropy }),
    ] {
        assert_eq!(warned(right), None);
    }
}
