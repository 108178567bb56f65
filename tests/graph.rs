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
