//! The planned batch-1 graph computes what the inference graph computes:
//! both simplified as for code generation, evaluated in `f64` on the same
//! parameters and input (the plan derived from the parameters as the
//! runtime derives it).

use crate::ir::{Graph, NodeId, Op};
use crate::ops::eval::Values;
use crate::simplify::Function;
use proc_macro2::TokenStream;
use quote::quote;
use std::collections::HashMap;

/// A deterministic value in [-1, 1) for element `i` of stream `seed`.
fn noise(seed: u64, i: usize) -> f64 {
    let mut z = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (i as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 31)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z >> 11) as f64 / (1u64 << 52) as f64 - 1.0
}

/// The output of `function` on one sample: every leaf given from the flat
/// buffers `params`, `state` and `input`.
fn output(function: &Function, params: &[f64], state: &[f64], input: &[f64]) -> Vec<f64> {
    let g: &Graph = &function.graph;
    let given: HashMap<NodeId, Vec<f64>> = g
        .nodes
        .iter()
        .enumerate()
        .filter_map(|(id, node)| {
            let value = match node.op {
                Op::Input => input.to_vec(),
                Op::Param(k) => params[g.params[k].offset..][..g.params[k].len()].to_vec(),
                Op::State(k) => state[g.states[k].offset..][..g.states[k].len()].to_vec(),
                _ => return None,
            };
            Some((id, value))
        })
        .collect();
    let root = function.sinks.output.expect("an output");
    Values::run(g, 1, given, &[root]).of(root).to_vec()
}

fn agree(tokens: TokenStream) {
    let declaration = crate::parse::parse(tokens).expect("the declaration reads");
    let model = crate::check::check(declaration).unwrap_or_else(|_| panic!("the declaration checks"));
    let graphs = super::lower(&model);
    let backward = crate::autodiff::backward(&graphs.training);
    let functions = crate::simplify::functions(&graphs, &backward, None);
    let inference = &graphs.inference.graph;
    assert!(!graphs.planned.graph.plans.is_empty(), "the network has an inference copy");
    let params: Vec<f64> = (0..inference.param_len()).map(|i| 0.5 * noise(1, i)).collect();
    // Running variances must be positive.
    let state: Vec<f64> = (0..inference.state_len()).map(|i| 1.0 + 0.5 * noise(2, i)).collect();
    let input: Vec<f64> = (0..graphs.inference.graph.shape(0).len()).map(|i| noise(3, i)).collect();
    let planned = output(&functions.predict, &params, &state, &input);
    let reference = output(&functions.predict_batch, &params, &state, &input);
    assert_eq!(planned.len(), reference.len());
    for (k, (p, r)) in planned.iter().zip(&reference).enumerate() {
        assert!((p - r).abs() < 1e-12, "output {k}: planned {p}, inference {r}");
    }
}

#[test]
fn dense_layers_and_their_activations() {
    agree(
        quote!(struct N { input: [5], layers: [dense(9), tanh, dense(17), relu, dense(3), sigmoid], loss: mse }),
    );
}

#[test]
fn batch_norm_and_a_residual_block() {
    agree(
        quote!(struct N { input: [6], layers: [dense(8), batch_norm, residual[dense(8), gelu, dense(8)], dense(2)], loss: mse }),
    );
}

#[test]
fn recurrent_cells_over_a_sequence() {
    agree(quote!(struct N { input: [5, 3], layers: [lstm(4), dense(2)], loss: mse }));
    agree(quote!(struct N { input: [6, 2], layers: [gru(3), dense(2)], loss: mse }));
    agree(
        quote!(struct N { input: [4, 3], layers: [rnn(5, sequence = true), lstm(3, sequence = true), flatten, dense(2)], loss: mse }),
    );
}

#[test]
fn convolutions_and_pooling() {
    agree(quote!(struct N {
        input: [2, 7, 6],
        layers: [conv2d(3, kernel = 3, padding = 1), relu, max_pool2d(2), conv2d(2, kernel = 2, stride = 2), flatten, dense(2)],
        loss: mse,
    }));
    agree(
        quote!(struct N { input: [2, 9], layers: [conv1d(3, kernel = 3, dilation = 2), tanh, flatten, dense(2)], loss: mse }),
    );
}
