//! Token ids in: `embedding` over `[u32; n]` inputs, in a chain and in a
//! graph; gradients against finite differences; an id outside the
//! vocabulary is an error in every batched call and a row of zeros in
//! batch-1 inference.

use chainrule::{Error, Network, Workspace};
use chainrule_suite::{check_gradients, samples};

chainrule::network! {
    /// Five ids of a 7-token vocabulary, embedded, through an LSTM.
    struct Tagger {
        input: [u32; 5],
        layers: [embedding(7, 4), lstm(3, sequence = true), dense(2), flatten],
        loss: mse,
        scalar: f64,
    }
}

chainrule::network! {
    /// The graph form: the same table read twice, a projection of each.
    struct Twice {
        input: { tokens: [u32; 4] },
        graph: {
            let e = embedding(tokens, 6, 3);
            let h = tanh(dense(e, 3)) + e;
            dense(flatten(h), 1)
        },
        loss: mse,
        scalar: f64,
    }
}

/// Ids that repeat within and across samples.
fn ids<const N: usize>(seed: u32, count: usize, vocab: u32) -> Vec<[u32; N]> {
    (0..count as u32).map(|s| std::array::from_fn(|k| (seed * 7 + s * 5 + k as u32 * 3) % vocab)).collect()
}

#[test]
fn gradients_through_an_embedding_and_an_lstm() {
    check_gradients(&mut Tagger::new(1), &ids::<5>(1, 4, 7), &samples::<10>(2, 4, 1.0));
}

#[test]
fn gradients_through_an_embedding_read_twice() {
    check_gradients(&mut Twice::new(2), &ids::<4>(3, 5, 6), &samples::<1>(4, 5, 1.0));
    assert_eq!(Twice::LAYOUT[0].name, "e.weight");
    assert_eq!(Twice::LAYOUT[0].shape, &[6, 3]);
}

#[test]
fn an_id_outside_the_vocabulary_is_an_error_in_batched_calls() {
    let (mut net, mut ws) = (Tagger::new(3), Workspace::new());
    let mut xs = ids::<5>(5, 3, 7);
    xs[2][4] = 7;
    let ts = samples::<10>(6, 3, 1.0);
    let before = net.params().to_vec();
    let expected =
        |e: &Error| matches!(e, Error::TokenOutOfRange { sample: 2, position: 4, token: 7, vocab: 7 });
    let mut grad = vec![0.0; Tagger::PARAM_LEN];
    let error = net.loss_and_grad(&xs, &ts, &mut grad, &mut ws).unwrap_err();
    assert!(expected(&error), "{error}");
    assert!(expected(&net.loss(&xs, &ts, &mut ws).unwrap_err()));
    let mut out = vec![[0.0; 10]; 3];
    assert!(expected(&net.predict_batch(&xs, &mut out, &mut ws).unwrap_err()));
    let mut trainer = chainrule::Trainer::new(chainrule::optim::Adam::new(1e-2), 3, 0);
    assert!(expected(&trainer.step(&mut net, &xs, &ts).unwrap_err()));
    assert_eq!(net.params(), before, "nothing changed");
    assert_eq!(
        error.to_string(),
        "token 7 at position 4 of sample 2 is not in the vocabulary (it has 7 tokens)"
    );
}

#[test]
fn batch_one_inference_reads_zeros_for_an_id_outside_the_vocabulary() {
    let mut net = Tagger::new(4);
    // Token 0's row of the table set to zeros: an unknown id reads the same.
    net.params_mut()[..4].fill(0.0);
    net.relayout();
    let mut x = ids::<5>(7, 1, 7)[0];
    x[1] = 0;
    let known = net.predict(&x);
    x[1] = u32::MAX;
    assert_eq!(net.predict(&x), known);
}

#[test]
fn batch_one_inference_agrees_with_batched() {
    let (net, mut ws) = (Tagger::new(5), Workspace::new());
    let xs = ids::<5>(8, 4, 7);
    let mut out = vec![[0.0; 10]; 4];
    net.predict_batch(&xs, &mut out, &mut ws).unwrap();
    for (x, y) in xs.iter().zip(&out) {
        let one = net.predict(x);
        assert!(one.iter().zip(y).all(|(a, b)| (a - b).abs() < 1e-12), "{one:?} vs {y:?}");
    }
}
