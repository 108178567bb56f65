//! Every keyword of the one list resolves in a sample declaration, and
//! what each layer says of itself holds in the operations it lowers to.

use super::*;
use crate::check::check;
use crate::ops;
use proc_macro2::TokenStream;
use quote::quote;
use std::collections::BTreeSet;

/// A declaration using `keyword` on an input it accepts.
fn sample(keyword: &str) -> Option<TokenStream> {
    let flat = |layer: TokenStream| quote!(struct N { input: [4], layers: [#layer, dense(2)], loss: mse });
    let image = |layer: TokenStream| quote!(struct N { input: [2, 6, 6], layers: [#layer, flatten, dense(2)], loss: mse });
    let signal = |layer: TokenStream| quote!(struct N { input: [2, 8], layers: [#layer, flatten, dense(2)], loss: mse });
    let sequence =
        |layer: TokenStream| quote!(struct N { input: [5, 3], layers: [#layer, dense(2)], loss: mse });
    Some(match keyword {
        "dense" | "sigmoid" | "tanh" | "relu" | "softplus" | "gelu" | "swish" | "silu" | "identity"
        | "softmax" | "log_softmax" | "batch_norm" | "layer_norm" => {
            let name = proc_macro2::Ident::new(keyword, proc_macro2::Span::call_site());
            if keyword == "dense" { flat(quote!(dense(3))) } else { flat(quote!(#name)) }
        }
        "leaky_relu" => flat(quote!(leaky_relu(0.2))),
        "elu" => flat(quote!(elu(0.5))),
        "activation" => flat(quote!(activation(|x| x * sigmoid(x)))),
        "dropout" => flat(quote!(dropout(0.5))),
        "residual" => flat(quote!(residual[dense(4), relu])),
        "conv2d" => image(quote!(conv2d(3, kernel = 3, padding = 1))),
        "conv1d" => signal(quote!(conv1d(3, kernel = 3))),
        "max_pool2d" => image(quote!(max_pool2d(2))),
        "avg_pool2d" => image(quote!(avg_pool2d(2, 1))),
        "max_pool1d" => signal(quote!(max_pool1d(2))),
        "avg_pool1d" => signal(quote!(avg_pool1d(2))),
        "global_avg_pool" => image(quote!(global_avg_pool)),
        "global_max_pool" => image(quote!(global_max_pool)),
        "flatten" => image(quote!(flatten)),
        "rnn" => sequence(quote!(rnn(4))),
        "lstm" => sequence(quote!(lstm(4, sequence = true), flatten)),
        "gru" => sequence(quote!(gru(4))),
        "attention" => {
            quote!(struct N { input: [5, 4], layers: [attention(2, causal = true), flatten, dense(2)], loss: mse })
        }
        "positional_embedding" => sequence(quote!(positional_embedding, flatten)),
        "embedding" => {
            quote!(struct N { input: [u32; 5], layers: [embedding(7, 3), flatten, dense(2)], loss: mse })
        }
        _ => return None,
    })
}

fn model(tokens: TokenStream) -> crate::model::Model {
    let shown = tokens.to_string();
    check(crate::parse::parse(tokens).unwrap()).unwrap_or_else(|r| {
        panic!("{shown}: {:?}", r.errors.into_iter().map(|e| e.to_string()).collect::<Vec<_>>())
    })
}

/// `embedded: true` compiles the planned batch-1 graph for a runtime
/// without `std` or `alloc`, for every layer: each one's planned ops call
/// only kernels that exist there.
#[test]
fn every_keyword_resolves_and_runs_without_std() {
    for keyword in keywords() {
        let tokens = sample(keyword).unwrap_or_else(|| panic!("no sample declaration for `{keyword}`"));
        let model = model(tokens);
        let graphs = crate::lower::lower(&model);
        let g = &graphs.planned.graph;
        for id in g.live(&[graphs.planned.output]) {
            let op = &g.node(id).op;
            assert!(
                (ops::rules(op).without_std)(g, id),
                "`{keyword}`: its planned `{}` needs std",
                ops::rules(op).name
            );
        }
    }
}

#[test]
fn keywords_are_unique_and_aliases_name_keywords() {
    let all = keywords();
    assert_eq!(all.iter().collect::<BTreeSet<_>>().len(), all.len(), "a keyword in two families");
    for (alias, keyword) in FAMILIES.iter().flat_map(|f| f.aliases()) {
        assert!(all.contains(keyword), "alias `{alias}` names `{keyword}`, not a keyword");
        assert!(!all.contains(alias), "alias `{alias}` is a keyword itself");
    }
}
