//! Self-attention and learned positions: a small transformer language
//! model in the graph form, its gradients against finite differences with
//! a class per step, causality, and both inference paths.

use chainrule::{Network, Workspace};
use chainrule_suite::check_gradients;

chainrule::network! {
    /// Next-token scores at every step of six tokens: one pre-norm block.
    struct TinyLm {
        input: { tokens: [u32; 6] },
        graph: {
            let e = positional_embedding(embedding(tokens, 9, 8));
            let h = e + attention(layer_norm(e), 2, causal = true);
            let out = h + layers(layer_norm(h), [dense(16), gelu, dense(8)]);
            dense(layer_norm(out), 9)
        },
        loss: softmax_cross_entropy,
        scalar: f64,
    }
}

chainrule::network! {
    /// Attention that sees every step, on a sequence of values.
    struct Pooled {
        input: [5, 4],
        layers: [attention(4), global_avg_pool, dense(2)],
        loss: mse,
        scalar: f64,
    }
}

fn text(seed: u32, count: usize) -> Vec<[u32; 6]> {
    (0..count as u32).map(|s| std::array::from_fn(|k| (seed * 5 + s * 7 + k as u32 * 4) % 9)).collect()
}

#[test]
fn gradients_of_a_transformer_with_a_class_per_step() {
    let xs = text(1, 3);
    // The next token of each step; the last step's is any.
    let ts: Vec<[usize; 6]> = xs.iter().map(|x| std::array::from_fn(|k| x[(k + 1) % 6] as usize)).collect();
    check_gradients(&mut TinyLm::new(3), &xs, &ts);
    let names: Vec<&str> = TinyLm::LAYOUT.iter().map(|p| p.name).collect();
    assert!(names.contains(&"h.1.in_proj_weight") && names.contains(&"h.1.out_proj.bias"), "{names:?}");
}

#[test]
fn gradients_of_attention_over_every_step() {
    let xs: Vec<[f64; 20]> = chainrule_suite::samples::<20>(5, 4, 1.0);
    check_gradients(&mut Pooled::new(4), &xs, &chainrule_suite::samples::<2>(6, 4, 1.0));
}

#[test]
fn a_causal_step_does_not_see_later_tokens() {
    let net = TinyLm::new(7);
    let mut x = text(2, 1)[0];
    let before = net.predict(&x);
    x[4] = (x[4] + 1) % 9;
    let after = net.predict(&x);
    assert_eq!(before[..4 * 9], after[..4 * 9], "steps 0..4 do not read token 4");
    assert_ne!(before[4 * 9..], after[4 * 9..]);
}

#[test]
fn batch_one_inference_agrees_with_batched() {
    let (net, mut ws) = (TinyLm::new(8), Workspace::new());
    let xs = text(3, 4);
    let mut out = vec![[0.0; 54]; 4];
    net.predict_batch(&xs, &mut out, &mut ws).unwrap();
    for (x, y) in xs.iter().zip(&out) {
        let one = net.predict(x);
        assert!(one.iter().zip(y).all(|(a, b)| (a - b).abs() < 1e-12), "{one:?} vs {y:?}");
    }
}

#[test]
fn a_class_per_step_out_of_range_names_its_sample() {
    let (mut net, mut ws) = (TinyLm::new(9), Workspace::new());
    let xs = text(4, 3);
    let mut ts = vec![[0usize; 6]; 3];
    ts[1][5] = 9;
    let mut grad = vec![0.0; TinyLm::PARAM_LEN];
    let error = net.loss_and_grad(&xs, &ts, &mut grad, &mut ws).unwrap_err();
    assert!(
        matches!(error, chainrule::Error::ClassOutOfRange { sample: 1, class: 9, classes: 9 }),
        "{error}"
    );
}
