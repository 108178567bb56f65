//! The lectures example's claims, each at a small size with fixed seeds:
//! the lessons' own code runs here (the example's modules, included), so
//! what the page states about a lesson is what this file checks.

#![allow(dead_code)]

#[path = "../examples/lectures/batch_norm.rs"]
mod batch_norm;
#[path = "../examples/lectures/belief.rs"]
mod belief;
#[path = "../examples/lectures/common.rs"]
mod common;
#[path = "../examples/lectures/convolutions.rs"]
mod convolutions;
#[path = "../examples/lectures/figure.rs"]
mod figure;
#[path = "../examples/lectures/gates.rs"]
mod gates;
#[path = "../examples/lectures/initialization.rs"]
mod initialization;
#[path = "../examples/lectures/linear.rs"]
mod linear;
#[path = "../examples/lectures/overfitting.rs"]
mod overfitting;
#[path = "../examples/lectures/perceptron.rs"]
mod perceptron;
#[path = "../examples/lectures/recurrent.rs"]
mod recurrent;
#[path = "../examples/lectures/update_rules.rs"]
mod update_rules;
#[path = "../examples/lectures/vanishing.rs"]
mod vanishing;

use common::Ctx;

fn quick(name: &str) -> Ctx {
    Ctx {
        out: std::env::temp_dir().join(format!("chainrule-lectures-{name}-{}", std::process::id())),
        quick: true,
    }
}

/// Each lesson wrote its figure: an SVG with a title.
fn drew(ctx: &Ctx, file: &str) {
    let svg = std::fs::read_to_string(ctx.out.join(file)).expect("the figure was written");
    assert!(svg.starts_with("<svg") && svg.contains("<text"), "{file} is an SVG with text");
    let _ = std::fs::remove_dir_all(&ctx.out);
}

#[test]
fn one_layer_cannot_separate_xor_and_two_can() {
    let ctx = quick("xor");
    let r = perceptron::run(&ctx).unwrap();
    assert!(r.one_layer <= 0.75, "no line separates XOR: {}", r.one_layer);
    assert_eq!(r.two_layers, 1.0);
    drew(&ctx, "01-xor.svg");
}

#[test]
fn the_hinge_loss_is_zero_past_the_margin_and_softmax_is_not() {
    let ctx = quick("linear");
    let r = linear::run(&ctx).unwrap();
    assert!(r.svm.past_margin > 0.3 && r.softmax.past_margin > 0.3);
    assert_eq!(r.svm.loss_past_margin, 0.0, "the multiclass SVM loss is satisfied past a margin of 1");
    assert!(r.softmax.loss_past_margin > 1e-3, "cross-entropy keeps pushing: {}", r.softmax.loss_past_margin);
    assert!(r.softmax.test_accuracy > 0.8 && r.svm.test_accuracy > 0.8);
    drew(&ctx, "02-linear-classifiers.svg");
}

#[test]
fn gates_give_the_textbook_gradients_and_match_finite_differences() {
    let ctx = quick("gates");
    let r = gates::run(&ctx).unwrap();
    assert_eq!(r.expression, [-4.0, -4.0, 3.0]);
    assert!(r.worst_relative_error < 1e-5, "{}", r.worst_relative_error);
    use chainrule::Network;
    assert!(
        gates::LogCosh::describe().contains("dL/dv4 = dL/dv6 * tanh(v4 - t)"),
        "log-cosh's derivative, simplified"
    );
    drew(&ctx, "03-gradient-check.svg");
}

#[test]
fn momentum_reaches_the_minimum_in_fewer_steps_than_sgd() {
    let runs = update_rules::runs(1000).unwrap();
    let steps = |name: &str| runs.iter().find(|r| r.name == name).and_then(|r| r.steps).unwrap_or(usize::MAX);
    assert!(
        steps("momentum 0.9, lr 0.1") < steps("SGD, lr 0.1") / 3,
        "momentum against SGD at the same rate"
    );
    assert!(steps("Nesterov 0.9, lr 0.1") < steps("momentum 0.9, lr 0.1"));
    assert!(runs.iter().all(|r| r.steps.is_some()), "every rule reaches the tolerance");
}

#[test]
fn relu_gradients_reach_the_first_layer_and_large_steps_kill_units() {
    let ctx = quick("vanishing");
    let r = vanishing::run(&ctx).unwrap();
    assert!(
        r.relu[0][0] > 50.0 * r.sigmoid[0][0],
        "ReLU {} against sigmoid {}",
        r.relu[0][0],
        r.sigmoid[0][0]
    );
    assert!(
        r.sigmoid[0][0] < r.sigmoid[0][5] / 100.0,
        "the sigmoid network's gradient vanishes towards the input"
    );
    let dead = |lr: f64| r.dead.iter().find(|d| d.0 == lr).map(|d| d.1).unwrap_or(0.0);
    assert!(dead(3.0) > dead(0.01) + 0.3, "{:?}", r.dead);
    drew(&ctx, "07-vanishing-gradients.svg");
}

#[test]
fn the_lstm_remembers_where_the_rnn_forgets() {
    let ctx = quick("recurrent");
    let runs = recurrent::run(&ctx).unwrap();
    let at = |kind: &str, t: usize| runs.iter().find(|m| m.kind == kind && m.distance == t).unwrap();
    let (rnn, lstm) = (at("RNN", 40), at("LSTM", 40));
    assert!(rnn.through_time[0] < 1e-6 * rnn.through_time[39], "the RNN's gradient vanishes over 40 steps");
    assert!(lstm.through_time[0] > 1e3 * rnn.through_time[0], "the LSTM's gradient reaches the first input");
    assert!(rnn.test_accuracy < 0.6, "the RNN cannot remember 40 steps back: {}", rnn.test_accuracy);
    assert!(lstm.test_accuracy > 0.9, "the LSTM can: {}", lstm.test_accuracy);
    drew(&ctx, "10-recurrent-memory.svg");
}

#[test]
fn rbm_pre_training_lowers_reconstruction_error_and_starts_fine_tuning_ahead() {
    let ctx = quick("belief");
    let r = belief::run(&ctx).unwrap();
    for errors in &r.reconstruction {
        assert!(errors[errors.len() - 1] < errors[0], "{errors:?}");
    }
    assert!(
        r.pretrained[0] > r.random[0] + 0.2,
        "pre-trained {:?} against random {:?}",
        r.pretrained,
        r.random
    );
    drew(&ctx, "11-deep-belief.svg");
}

#[test]
fn initialization_scale_decides_whether_activations_survive_depth() {
    let ctx = quick("initialization");
    let schemes = initialization::run(&ctx).unwrap();
    let by = |name: &str| schemes.iter().find(|s| s.name.starts_with(name)).unwrap();
    let (uniform, small, glorot, he) = (by("uniform"), by("small"), by("Glorot"), by("He"));
    assert!(uniform.spread[7] > 0.85, "unit-spread weights saturate tanh: {:?}", uniform.spread);
    assert!(small.spread[7] < 1e-3, "small weights make activations vanish: {:?}", small.spread);
    assert!((0.1..0.6).contains(&glorot.spread[7]), "Glorot keeps them: {:?}", glorot.spread);
    for s in [uniform, small] {
        assert!(s.losses[s.losses.len() - 1] > 2.0, "{} does not learn: {:?}", s.name, s.losses);
    }
    for s in [glorot, he] {
        assert!(s.losses[s.losses.len() - 1] < 0.7, "{} learns: {:?}", s.name, s.losses);
    }
    drew(&ctx, "05-initialization.svg");
}

#[test]
fn batch_norm_trains_a_deep_sigmoid_network_that_plain_sgd_cannot() {
    let ctx = quick("batch-norm");
    let curves = batch_norm::run(&ctx).unwrap();
    for lr in [0.1, 1.0] {
        let last = |normalized: bool| {
            let c = curves.iter().find(|c| c.lr == lr && c.normalized == normalized).unwrap();
            c.accuracy[c.accuracy.len() - 1]
        };
        assert!(last(true) > 0.6 && last(false) < 0.3, "lr {lr}: {} against {}", last(true), last(false));
    }
    drew(&ctx, "06-batch-norm.svg");
}

#[test]
fn a_large_network_memorizes_a_small_set_and_l1_makes_it_sparse() {
    let ctx = quick("overfitting");
    let variants = overfitting::run(&ctx).unwrap();
    let by = |name: &str| variants.iter().find(|v| v.name == name).unwrap();
    assert_eq!(by("no remedy").accuracy[0], 1.0, "the training set is learned by heart");
    assert!(by("no remedy").accuracy[2] < 0.95, "and unseen digits are not");
    assert!(by("L1 1e-4").sparsity > by("no remedy").sparsity + 0.2, "L1 zeroes weights");
    let early = &by("early stopping").history;
    assert!(overfitting::best_epoch(early) <= early.epochs.len());
    drew(&ctx, "08-overfitting.svg");
}

#[test]
fn convolution_output_sizes_follow_the_formula() {
    let ctx = quick("convolutions");
    let r = convolutions::run(&ctx).unwrap();
    let shapes: Vec<&str> = r.sizes.iter().map(|s| s.2.as_str()).collect();
    // (n + 2p - k) / s + 1, rounded down; a 1x1 convolution keeps the size.
    assert_eq!(
        shapes,
        ["[4, 6, 6]", "[4, 8, 8]", "[4, 3, 3]", "[4, 4, 4]", "[6, 28, 28]", "[4, 8, 8]", "[4, 4, 4]"]
    );
    let params: Vec<usize> = r.sizes.iter().map(|s| s.3).collect();
    assert_eq!(params, [40, 40, 40, 40, 156, 68, 0], "a kernel's weights do not depend on the image");
    assert!(r.test_accuracy > 0.5);
    drew(&ctx, "09-convolutions.svg");
}
