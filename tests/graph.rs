//! The graph form: branches, merges, slices, several inputs, projection
//! shortcuts; gradients against finite differences through every one.

use chainrule::Network;
use chainrule_suite::{check_gradients, samples};

chainrule::network! {
    /// A residual block with a projection shortcut and a gated branch.
    struct Branches {
        input: [6],
        graph: {
            let stem = dense(input, 8);
            let h = layers(tanh(stem), [dense(4), relu, dense(12)]);
            let skip = dense(input, 12);
            let (a, b) = split(h + skip, 2);
            let gated = tanh(a) * sigmoid(b);
            let both = concat(gated, slice(stem, 2..5));
            dense(both, 3)
        },
        loss: mse,
        scalar: f64,
    }
}

chainrule::network! {
    /// Two inputs of different shapes; a per-channel conditioning value.
    struct Conditioned {
        input: { signal: [2, 10], cond: [3] },
        graph: {
            let scale = dense(cond, 4);
            let h = conv1d(signal, 4, kernel = 3, padding = same);
            dense(flatten(multiply(h, scale)), 2)
        },
        loss: mse,
        scalar: f64,
    }
}

#[test]
fn gradients_through_branches_merges_and_slices() {
    check_gradients(&mut Branches::new(1), &samples::<6>(1, 5, 1.0), &samples::<3>(2, 5, 1.0));
}

#[test]
fn parameters_are_named_after_their_values() {
    let names: Vec<&str> = Branches::LAYOUT.iter().map(|p| p.name).collect();
    assert_eq!(
        names,
        [
            "stem.weight",
            "stem.bias",
            "h.1.weight",
            "h.1.bias",
            "h.3.weight",
            "h.3.bias",
            "skip.weight",
            "skip.bias",
            "output.weight",
            "output.bias",
        ]
    );
}

#[test]
fn gradients_through_two_inputs_and_a_per_channel_product() {
    check_gradients(&mut Conditioned::new(3), &samples::<23>(4, 4, 1.0), &samples::<2>(5, 4, 1.0));
}

#[test]
fn inputs_joins_the_parts_of_a_sample_in_declaration_order() {
    let signal: [f64; 20] = core::array::from_fn(|k| k as f64);
    let joined = Conditioned::inputs(&signal, &[-1.0, -2.0, -3.0]);
    assert_eq!(joined[..20], signal);
    assert_eq!(joined[20..], [-1.0, -2.0, -3.0]);
    let (net, mut ws) = (Conditioned::new(7), chainrule::Workspace::new());
    let mut batch = [[0.0; 2]];
    net.predict_batch(&[joined], &mut batch, &mut ws).unwrap();
    let one = net.predict(&joined);
    assert!(one.iter().zip(&batch[0]).all(|(a, b)| (a - b).abs() < 1e-12), "{one:?} vs {:?}", batch[0]);
}

#[test]
fn batch_one_inference_agrees_with_batched() {
    let net = Branches::new(2);
    let xs = samples::<6>(9, 3, 1.0);
    let mut out = vec![[0.0; 3]; 3];
    net.predict_batch(&xs, &mut out, &mut chainrule::Workspace::new()).unwrap();
    for (x, y) in xs.iter().zip(&out) {
        let one = net.predict(x);
        assert!(one.iter().zip(y).all(|(a, b)| (a - b).abs() < 1e-12), "{one:?} vs {y:?}");
    }
}

/// The value a description line defines, and its expression.
fn definition(line: &str) -> Option<(&str, &str)> {
    let (name, rest) = line.trim().split_once(" = ")?;
    Some((name, rest.rsplit_once("   ").map_or(rest, |(e, _)| e)))
}

#[test]
fn the_description_shows_both_branches_and_their_merge() {
    let text = Branches::describe();
    let lines: Vec<(&str, &str)> = text.lines().filter_map(definition).collect();
    let defined = |expr: &str| lines.iter().find(|(_, e)| *e == expr).map(|(n, _)| *n);
    let h = lines.iter().find(|(_, e)| e.ends_with("+ h.3.bias")).expect("the block's output").0;
    let skip = lines.iter().find(|(_, e)| e.ends_with("+ skip.bias")).expect("the shortcut").0;
    assert!(defined(&format!("{h} + {skip}")).is_some(), "the merge reads both branches:\n{text}");
    // Backward, the merge passes its gradient to both branches.
    assert!(text.contains(&format!("dL/d{skip} = dL/d")), "{text}");
    assert!(text.contains(&format!("dL/d{h} = dL/d")), "{text}");
    assert!(Branches::graph_dot().contains("block_back"), "the concatenation's parts");
}

chainrule::network! {
    /// The example of the graph form in `network!`'s documentation.
    struct Gated {
        input: { signal: [2, 16], cond: [8] },
        graph: {
            let h = conv1d(signal, 16, kernel = 3, padding = same);
            let (a, b) = split(h, 2);
            let gated = tanh(a) * sigmoid(b);
            let scaled = gated * dense(cond, 8);
            let skip = conv1d(signal, 8, kernel = 1);
            layers(flatten(scaled + skip), [dense(32), relu, dense(1)])
        },
        loss: mse,
        scalar: f64,
    }
}

#[test]
fn gradients_of_the_documented_example() {
    let xs: Vec<[f64; 40]> = samples::<40>(11, 3, 1.0);
    check_gradients(&mut Gated::new(5), &xs, &samples::<1>(12, 3, 1.0));
    let names: Vec<&str> = Gated::LAYOUT.iter().map(|p| p.name).collect();
    assert_eq!(
        names,
        [
            "h.weight",
            "h.bias",
            "scaled.weight",
            "scaled.bias",
            "skip.weight",
            "skip.bias",
            "output.1.weight",
            "output.1.bias",
            "output.3.weight",
            "output.3.bias"
        ]
    );
}

chainrule::network! {
    /// Two inputs, two outputs: a value and a class, each with its loss.
    struct TwoHeads {
        input: { image: [1, 4, 4], features: [3] },
        graph: {
            let maps = conv2d(image, 2, kernel = 3, padding = same);
            let joined = concat(flatten(relu(maps)), dense(features, 5));
            let h = dense(tanh(joined), 6);
            let price = dense(h, 1);
            let class = dense(relu(h), 3);
            (price, class)
        },
        loss: { price: 0.5 * mse, class: softmax_cross_entropy },
        scalar: f64,
    }
}

/// One sample's targets: a price and a class.
type Targets = ([f64; 1], usize);

fn two_heads_batch() -> (Vec<[f64; 19]>, Vec<Targets>) {
    let xs = samples::<19>(21, 5, 1.0);
    let ts = samples::<1>(22, 5, 1.0).into_iter().zip([0, 2, 1, 2, 0]).collect();
    (xs, ts)
}

#[test]
fn gradients_of_two_outputs_with_weighted_losses() {
    let (xs, ts) = two_heads_batch();
    check_gradients(&mut TwoHeads::new(3), &xs, &ts);
}

#[test]
fn the_loss_is_the_weighted_sum_of_each_outputs_loss() {
    let (net, mut ws) = (TwoHeads::new(4), chainrule::Workspace::new());
    let (xs, ts) = two_heads_batch();
    let mut expected = 0.0;
    for (x, (value, class)) in xs.iter().zip(&ts) {
        let out = net.predict(x);
        let (price, scores) = TwoHeads::outputs(&out);
        let log_sum: f64 = scores.iter().map(|s| s.exp()).sum::<f64>().ln();
        expected += 0.5 * (price[0] - value[0]).powi(2) + (log_sum - scores[*class]);
    }
    expected /= xs.len() as f64;
    let loss = net.loss(&xs, &ts, &mut ws).unwrap();
    assert!((loss - expected).abs() < 1e-12, "{loss} vs {expected}");
}

#[test]
fn predict_returns_every_output_side_by_side() {
    let (net, mut ws) = (TwoHeads::new(5), chainrule::Workspace::new());
    let (xs, _) = two_heads_batch();
    let mut batch = vec![[0.0; 4]; xs.len()];
    net.predict_batch(&xs, &mut batch, &mut ws).unwrap();
    for (x, y) in xs.iter().zip(&batch) {
        let one = net.predict(x);
        assert!(one.iter().zip(y).all(|(a, b)| (a - b).abs() < 1e-12), "{one:?} vs {y:?}");
        let (price, class) = TwoHeads::outputs(&one);
        assert_eq!((price.as_slice(), class.as_slice()), (&one[..1], &one[1..]));
    }
    assert_eq!(TwoHeads::OUTPUT_LEN, 4);
}

#[test]
fn accuracy_reads_the_classifying_output() {
    let (net, mut ws) = (TwoHeads::new(6), chainrule::Workspace::new());
    let (xs, _) = two_heads_batch();
    // Targets that are each sample's predicted class: accuracy 1.
    let ts: Vec<Targets> = xs
        .iter()
        .map(|x| {
            let out = net.predict(x);
            ([0.0], chainrule::metrics::argmax(TwoHeads::outputs(&out).1))
        })
        .collect();
    let data = chainrule::Dataset::new(xs, ts).unwrap();
    let eval = chainrule::metrics::evaluate(&net, &data, 2, &mut ws, &mut Vec::new()).unwrap();
    assert_eq!(eval.accuracy, Some(1.0));
}

#[test]
fn a_class_out_of_range_in_any_output_is_an_error() {
    let (mut net, mut ws) = (TwoHeads::new(7), chainrule::Workspace::new());
    let (xs, mut ts) = two_heads_batch();
    ts[3].1 = 3;
    let mut grad = vec![0.0; TwoHeads::PARAM_LEN];
    let error = net.loss_and_grad(&xs, &ts, &mut grad, &mut ws).unwrap_err();
    assert!(
        matches!(error, chainrule::Error::ClassOutOfRange { sample: 3, class: 3, classes: 3 }),
        "{error}"
    );
}

/// The trainer's step (fused with the update for SGD) reads the tuple
/// targets as `loss_and_grad` does.
#[test]
fn a_training_step_on_two_outputs_is_the_gradients_step() {
    use chainrule::optim::{Optimizer, Sgd};
    let (xs, ts) = two_heads_batch();
    let data = chainrule::Dataset::new(xs, ts).unwrap();
    let mut trained = TwoHeads::new(8);
    let mut trainer = chainrule::Trainer::new(Sgd::new(0.05).momentum(0.9), 5, 0);
    trainer.train_epoch(&mut trained, &data).unwrap();
    let mut reference = TwoHeads::new(8);
    let (mut sgd, mut ws) = (Sgd::new(0.05).momentum(0.9), chainrule::Workspace::new());
    let mut grad = vec![0.0; TwoHeads::PARAM_LEN];
    reference.loss_and_grad(data.inputs(), data.targets(), &mut grad, &mut ws).unwrap();
    sgd.step(reference.params_mut(), &grad).unwrap();
    // The trainer shuffles the batch, so sums differ in their last bits.
    let close = trained.params().iter().zip(reference.params()).all(|(a, b)| (a - b).abs() < 1e-12);
    assert!(close, "{:?} vs {:?}", trained.params(), reference.params());
    assert_ne!(trained.params(), TwoHeads::new(8).params());
}
