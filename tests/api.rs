//! The generated API: both inference paths agree, the layout is what the
//! docs say, and bad calls are errors rather than panics.

use chainrule::{Error, Network, Role, Workspace};
use chainrule_suite::samples;

chainrule::network! {
    /// A classifier with every kind of layer.
    #[derive(Clone)]
    pub struct Classifier {
        input: [6],
        layers: [dense(9), relu, dense(7), tanh, dense(5), sigmoid, dense(4)],
        loss: softmax_cross_entropy,
    }
}

chainrule::network! {
    pub struct Classifier64 {
        input: [6],
        layers: [dense(9), relu, dense(7), tanh, dense(5), sigmoid, dense(4)],
        loss: softmax_cross_entropy,
        scalar: f64,
    }
}

chainrule::network! {
    struct Regressor { input: [2], layers: [dense(3), tanh, dense(2)], loss: mse }
}

fn f32_samples(count: usize) -> Vec<[f32; 6]> {
    samples::<6>(3, count, 2.0).iter().map(|s| s.map(|v| v as f32)).collect()
}

#[test]
fn batch_one_and_batched_inference_agree() {
    let net = Classifier::new(42);
    let inputs = f32_samples(37);
    let mut outputs = vec![Classifier::zero_output(); inputs.len()];
    net.predict_batch(&inputs, &mut outputs, &mut Workspace::new()).unwrap();
    for (x, batched) in inputs.iter().zip(&outputs) {
        let single = net.predict(x);
        for (a, b) in single.iter().zip(batched) {
            assert!((a - b).abs() <= 1e-5 * a.abs().max(1.0), "{single:?} vs {batched:?}");
        }
    }
}

#[test]
fn the_same_seed_gives_the_same_weights_in_f32_and_f64() {
    let (a, b) = (Classifier::new(5), Classifier64::new(5));
    assert_eq!(a.params(), Classifier::new(5).params());
    assert_ne!(a.params(), Classifier::new(6).params());
    for (x, y) in a.params().iter().zip(b.params()) {
        assert_eq!(*x, *y as f32);
    }
}

#[test]
fn layout_follows_pytorch_names_and_shapes() {
    let names: Vec<&str> = Classifier::LAYOUT.iter().map(|p| p.name).collect();
    assert_eq!(
        names,
        [
            "layers.0.weight",
            "layers.0.bias",
            "layers.2.weight",
            "layers.2.bias",
            "layers.4.weight",
            "layers.4.bias",
            "layers.6.weight",
            "layers.6.bias"
        ]
    );
    assert_eq!(Classifier::LAYOUT[0].shape, &[9, 6]);
    assert_eq!(Classifier::LAYOUT[0].role, Role::Weight);
    assert_eq!(Classifier::LAYOUT[7].role, Role::Bias);
    let end = Classifier::LAYOUT.last().map(|p| p.offset + p.len()).unwrap();
    assert_eq!(end, Classifier::PARAM_LEN);
    assert_eq!(Classifier::PARAM_LEN, 9 * 6 + 9 + 7 * 9 + 7 + 5 * 7 + 5 + 4 * 5 + 4);
    assert!(Classifier::LAYOUT.iter().all(|p| {
        p.role == Role::Weight || p.slice(Classifier::new(1).params()).iter().all(|&b| b == 0.0)
    }));
}

#[test]
fn loss_is_the_mean_over_the_batch() {
    let net = Classifier::new(1);
    let inputs = f32_samples(4);
    let targets = [0usize, 3, 2, 1];
    let mut ws = Workspace::new();
    let whole = net.loss(&inputs, &targets, &mut ws).unwrap();
    let mean: f32 =
        (0..4).map(|i| net.loss(&inputs[i..=i], &targets[i..=i], &mut ws).unwrap()).sum::<f32>() / 4.0;
    assert!((whole - mean).abs() < 1e-5, "{whole} vs {mean}");
    let _copy = net.clone();
}

/// Without dropout, training and evaluation compute the same loss.
#[test]
fn training_and_evaluation_losses_agree() {
    let mut net = Classifier::new(2);
    let (inputs, targets) = (f32_samples(9), [0usize, 1, 2, 3, 0, 1, 2, 3, 0]);
    let mut ws = Workspace::new();
    let mut grad = vec![0.0; Classifier::PARAM_LEN];
    let trained = net.loss_and_grad(&inputs, &targets, &mut grad, &mut ws).unwrap();
    assert_eq!(trained, net.loss(&inputs, &targets, &mut ws).unwrap());
}

#[test]
fn mse_matches_its_definition() {
    let net = Regressor::new(3);
    let (x, t) = ([[0.5f32, -1.0]], [[0.25f32, 2.0]]);
    let y = net.predict(&x[0]);
    let expected = ((y[0] - t[0][0]).powi(2) + (y[1] - t[0][1]).powi(2)) / 2.0;
    let loss = net.loss(&x, &t, &mut Workspace::new()).unwrap();
    assert!((loss - expected).abs() < 1e-6, "{loss} vs {expected}");
}

#[test]
fn bad_calls_are_errors() {
    let mut net = Classifier::new(1);
    let mut ws = Workspace::new();
    let inputs = f32_samples(3);
    let mut grad = vec![0.0; Classifier::PARAM_LEN];
    let err = net.loss(&inputs, &[0, 1], &mut ws).unwrap_err();
    assert!(matches!(err, Error::BatchMismatch { inputs: 3, other: 2, .. }), "{err}");
    let err = net.loss_and_grad(&inputs, &[0, 4, 1], &mut grad, &mut ws).unwrap_err();
    assert!(matches!(err, Error::ClassOutOfRange { sample: 1, class: 4, classes: 4 }), "{err}");
    assert_eq!(err.to_string(), "target 4 of sample 1 is not a class of this network (it has 4 outputs)");
    let err = net.loss_and_grad(&inputs, &[0, 1, 1], &mut grad[1..], &mut ws).unwrap_err();
    assert!(matches!(err, Error::ParamLength { .. }), "{err}");
    assert!(matches!(net.loss(&[], &[], &mut ws), Err(Error::EmptyBatch)));
    let mut outputs = vec![Classifier::zero_output(); 2];
    assert!(net.predict_batch(&inputs, &mut outputs, &mut ws).is_err());
    assert!(Classifier::from_params(&[0.0; 3]).is_err());
}

#[test]
fn non_finite_inputs_give_non_finite_outputs_not_panics() {
    let net = Classifier::new(1);
    let mut x = [0.0f32; 6];
    x[2] = f32::NAN;
    assert!(net.predict(&x).iter().any(|v| v.is_nan()));
    x[2] = f32::INFINITY;
    let _ = net.predict(&x);
}

chainrule::network! {
    struct Inits {
        input: [100],
        layers: [dense(50, init = he_normal), relu, dense(10, init = uniform), dense(5)],
        loss: mse,
        init: xavier_normal,
    }
}

#[test]
fn initialization_is_chosen_per_network_and_per_layer() {
    use chainrule::Init;
    let inits: Vec<Init> = Inits::LAYOUT.iter().map(|p| p.init).collect();
    assert_eq!(
        inits,
        [
            Init::HeNormal { fan_in: 100 },
            Init::Zeros,
            Init::Uniform,
            Init::Zeros,
            Init::GlorotNormal { fan_in: 10, fan_out: 5 },
            Init::Zeros
        ]
    );
    let net = Inits::new(9);
    let uniform = Inits::LAYOUT[2].slice(net.params());
    assert!(uniform.iter().all(|w| w.abs() <= 1.0) && uniform.iter().any(|w| w.abs() > 0.9));
    let he = Inits::LAYOUT[0].slice(net.params());
    let variance = he.iter().map(|w| w * w).sum::<f32>() / he.len() as f32;
    assert!((variance - 0.02).abs() < 0.003, "He normal variance 2/100, got {variance}");
}

chainrule::network! {
    struct Small { input: [3], layers: [dense(4), tanh, dense(2)], loss: softmax_cross_entropy }
}

#[test]
fn networks_describe_their_graph_and_derivation() {
    let text = Small::describe();
    for line in [
        "network Small: 26 parameters",
        "v3 = linear(x, layers.0.weight)   [batch, 4]",
        "v4 = v3 + layers.0.bias   [batch, 4]",
        "v5 = tanh(v4)   [batch, 4]",
        "dL/dv4 = dL/dv5 * (1 - v5^2)   [batch, 4]",
        "dL/dv3 = dL/dv4   (passed on unchanged)",
        "dL/dlayers.0.bias = sum_batch(dL/dv4)",
        "dL/dlayers.0.weight = linear_back_weight(dL/dv4, x)",
    ] {
        assert!(text.contains(line), "missing `{line}` in\n{text}");
    }
    assert!(!text.contains("dL/dx"), "no gradient for the input");
    let dot = Small::graph_dot();
    assert!(dot.starts_with("digraph Small {") && dot.contains("cluster_backward"));
    assert_eq!(dot.matches('{').count(), dot.matches('}').count());
}

chainrule::network! {
    struct Cells { input: [4, 2], layers: [lstm(3, sequence = true), gru(3), dense(1)], loss: mse }
}

chainrule::network! {
    struct Gates {
        input: [1],
        graph: {
            let x = dense(input, 1);
            let y = dense(input, 1);
            let q = x + y;
            q * y + relu(q)
        },
        loss: |f, t| f - t,
    }
}

/// Recurrent cells read as the lectures write them: named gates, the
/// carries' updates, and the local derivatives of backpropagation through
/// time; adjoints and gate patterns are named in words.
#[test]
fn descriptions_name_cells_adjoints_and_gate_patterns() {
    let text = Cells::describe();
    for line in [
        "i = sigmoid(a_i + u_i)",
        "f = sigmoid(a_f + u_f)",
        "c_s = (f * c_{s-1}) + (i * g)",
        "h_s = o * tanh(c_s)",
        "dc_s/dc_{s-1} = f",
        "dh_s/dc_s = o * (1 - tanh(c_s)^2)",
        "do/da_o = o * (1 - o)",
        "n = tanh(a_n + (r * u_n))",
        "h_s = ((1 - z) * n) + (z * h_{s-1})",
        "dn/du_n = (1 - n^2) * r",
        "dh_s/dz = -n + h_{s-1}",
        "(g W: the gradient of linear with respect to x)",
    ] {
        assert!(text.contains(line), "missing `{line}` in\n{text}");
    }
    let text = Gates::describe();
    for line in [
        "input = given",
        "(a product: the upstream gradient times the other factor)",
        "(max and min route the gradient to the input that won)",
        "(q is used 2 times: a copy sums their gradients)",
        "(y is used 2 times: a copy sums their gradients)",
    ] {
        assert!(text.contains(line), "missing `{line}` in\n{text}");
    }
}

chainrule::network! {
    struct Summarized {
        input: [1, 8, 8],
        layers: [conv2d(4, kernel = 3), batch_norm, relu, residual[conv2d(4, kernel = 3, padding = same)], flatten, dense(10)],
        loss: softmax_cross_entropy,
    }
}

chainrule::network! {
    struct SummarizedGraph {
        input: { image: [4], extra: [2] },
        graph: {
            let h = dense(image, 3);
            let both = concat(h, extra);
            dense(both, 1)
        },
        loss: mse,
    }
}

/// `summary()` lists every value with its layer, shape and parameters, and
/// its totals agree with the layout; the workspace grows with the batch.
#[test]
fn summaries_list_layers_shapes_parameters_and_memory() {
    let s = Summarized::summary(32);
    let rows: Vec<(&str, &str, &[usize], usize)> =
        s.rows.iter().map(|r| (r.name, r.layer, r.output, r.params)).collect();
    assert_eq!(
        rows,
        [
            ("input", "input", &[1usize, 8, 8][..], 0),
            ("layers.0", "conv2d(4, kernel = 3)", &[4, 6, 6][..], 40),
            ("layers.1", "batch_norm", &[4, 6, 6][..], 8),
            ("layers.2", "relu", &[4, 6, 6][..], 0),
            ("layers.3", "residual[...]", &[4, 6, 6][..], 148),
            ("layers.4", "flatten", &[144][..], 0),
            ("layers.5", "dense(10)", &[10][..], 1450),
        ]
    );
    assert_eq!(s.rows.iter().map(|r| r.params).sum::<usize>(), Summarized::PARAM_LEN);
    assert_eq!((s.params, s.state, s.scalar_bytes), (Summarized::PARAM_LEN, 8, 4));
    let bigger = Summarized::summary(64);
    assert!(bigger.workspace > s.workspace && s.workspace >= 32 * (144 + 10));
    let text = s.to_string();
    for part in
        ["Summarized", "layers.5", "dense(10)", "[4, 6, 6]", "1,450", "parameters: 1,646", "batches of 32"]
    {
        assert!(text.contains(part), "missing `{part}` in\n{text}");
    }
    let g = SummarizedGraph::summary(1);
    let names: Vec<&str> = g.rows.iter().map(|r| r.name).collect();
    assert_eq!(names, ["image", "extra", "h", "both", "output"], "{g}");
    assert_eq!(g.rows[3].layer, "concat");
}

/// Batch-1 inference reads an inference copy of the weights laid out for
/// its kernels. Every way parameters change keeps it in step: writing
/// through `params_mut` (then `predict` reads the parameters until the
/// copy is laid out again), `relayout`, a training step, loading a file.
#[test]
fn the_inference_copy_follows_the_parameters() {
    let x = f32_samples(1)[0];
    let batched = |net: &Classifier| {
        let mut out = [Classifier::zero_output()];
        net.predict_batch(&[x], &mut out, &mut Workspace::new()).unwrap();
        out[0]
    };
    let agree = |net: &Classifier, what: &str| {
        let (single, batch) = (net.predict(&x), batched(net));
        for (a, b) in single.iter().zip(&batch) {
            assert!((a - b).abs() < 1e-6, "{what}: batch-1 {a} vs batched {b}");
        }
    };
    let mut net = Classifier::new(11);
    agree(&net, "new");
    let before = net.predict(&x);
    net.params_mut().iter_mut().for_each(|w| *w *= -0.5);
    agree(&net, "after params_mut");
    assert_ne!(net.predict(&x), before, "the change is seen");
    let stale = net.predict(&x);
    net.relayout();
    agree(&net, "after relayout");
    assert!(net.predict(&x).iter().zip(&stale).all(|(a, b)| (a - b).abs() < 1e-6));

    let mut trainer = chainrule::Trainer::new(chainrule::optim::Sgd::new(0.5), 1, 3);
    let before = net.predict(&x);
    trainer.step(&mut net, &[x], &[2]).unwrap();
    agree(&net, "after a training step");
    assert_ne!(net.predict(&x), before, "the step is seen");

    let file = std::env::temp_dir().join(format!("chainrule-api-{}.safetensors", std::process::id()));
    let other = Classifier::new(12);
    chainrule::weights::save(&other, &file).unwrap();
    chainrule::weights::load(&mut net, &file).unwrap();
    std::fs::remove_file(&file).unwrap();
    agree(&net, "after loading a file");
    assert_eq!(net.predict(&x), other.predict(&x), "loaded weights, laid out the same");
}

/// `split3` cuts one shuffle into three disjoint parts covering the data.
#[test]
fn three_way_splits_are_disjoint_and_cover_the_data() {
    let data = chainrule::Dataset::new((0..101).map(|i| [i as f32]).collect(), vec![0usize; 101]).unwrap();
    let (train, validation, test) = data.split3(0.7, 0.15, 9).unwrap();
    assert_eq!((train.len(), validation.len(), test.len()), (71, 15, 15));
    let mut seen: Vec<f32> =
        [&train, &validation, &test].iter().flat_map(|d| d.inputs().iter().map(|x| x[0])).collect();
    seen.sort_by(f32::total_cmp);
    assert_eq!(seen, (0..101).map(|i| i as f32).collect::<Vec<_>>());
    assert_eq!(data.split3(0.7, 0.15, 9).unwrap().1, validation, "the same seed, the same split");
    assert!(data.split3(0.7, 0.4, 9).is_err() && data.split3(-0.1, 0.5, 9).is_err());
    let (all, none, rest) = data.split3(1.0, 0.0, 1).unwrap();
    assert_eq!((all.len(), none.len(), rest.len()), (101, 0, 0));
}
