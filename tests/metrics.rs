//! Measures of a classifier: precision, recall and F1 against counts
//! worked out by hand, top-k and binary accuracy against their
//! definitions, and the metrics `fit` records each epoch.

use chainrule::metrics::{self, Average, ConfusionMatrix, Metric};
use chainrule::optim::Adam;
use chainrule::train::{FitConfig, History, Progress};
use chainrule::{Dataset, Network, Trainer, data};

chainrule::network! {
    struct Digits { input: [64], layers: [dense(32), relu, dense(10)], loss: softmax_cross_entropy }
}

chainrule::network! {
    /// Is the digit a 0? One logit.
    struct IsZero { input: [64], layers: [dense(16), relu, dense(1)], loss: binary_cross_entropy_with_logits }
}

fn digits() -> (Dataset<[f32; 64], usize>, Dataset<[f32; 64], usize>) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits/digits.csv.gz");
    let mut all = data::read_csv(path, 0).unwrap().classification::<f32, 64>().unwrap();
    all.map_inputs(|x| x.iter_mut().for_each(|v| *v /= 16.0));
    all.split(0.8, 1).unwrap()
}

/// Three classes; rows true, columns predicted:
/// ```text
///  5 1 0
///  2 3 1
///  0 0 4
/// ```
#[test]
fn precision_recall_and_f1_follow_their_definitions() {
    let m = ConfusionMatrix { classes: 3, counts: vec![5, 1, 0, 2, 3, 1, 0, 0, 4] };
    let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-12, "{a} against {b}");
    close(m.precision(0), 5.0 / 7.0);
    close(m.precision(1), 3.0 / 4.0);
    close(m.precision(2), 4.0 / 5.0);
    close(m.recall(0), 5.0 / 6.0);
    close(m.recall(1), 3.0 / 6.0);
    close(m.recall(2), 1.0);
    let f1 = |p: f64, r: f64| 2.0 * p * r / (p + r);
    close(m.f1(1), f1(0.75, 0.5));
    close(m.averaged(Average::Macro, ConfusionMatrix::precision), (5.0 / 7.0 + 0.75 + 0.8) / 3.0);
    close(
        m.averaged(Average::Macro, ConfusionMatrix::f1),
        (f1(5.0 / 7.0, 5.0 / 6.0) + f1(0.75, 0.5) + f1(0.8, 1.0)) / 3.0,
    );
    for score in [ConfusionMatrix::precision, ConfusionMatrix::recall, ConfusionMatrix::f1] {
        close(m.averaged(Average::Micro, score), 12.0 / 16.0);
    }
    // A class never predicted has precision 0, not NaN.
    let never = ConfusionMatrix { classes: 2, counts: vec![3, 0, 1, 0] };
    assert_eq!((never.precision(1), never.recall(1), never.f1(1)), (0.0, 0.0, 0.0));
    let report = m.report();
    assert!(report.contains("macro") && report.contains("micro") && report.lines().count() == 6, "{report}");
}

#[test]
fn top_k_and_binary_accuracy_follow_their_definitions() {
    let (train, test) = digits();
    let mut net = Digits::new(1);
    let mut trainer = Trainer::new(Adam::new(1e-3), 32, 1);
    trainer.train_epoch(&mut net, &train).unwrap();
    let top1 = metrics::top_k_accuracy(&net, &test, 1);
    assert_eq!(top1, metrics::accuracy(&net, &test));
    let top3 = metrics::top_k_accuracy(&net, &test, 3);
    assert!(top3 > top1 && top3 <= 1.0);
    assert_eq!(metrics::top_k_accuracy(&net, &test, 10), 1.0);
    // By definition: the target's score is among the three highest.
    let by_hand = test
        .inputs()
        .iter()
        .zip(test.targets())
        .filter(|&(x, &t)| {
            let y = net.predict(x);
            y.iter().filter(|&&s| s > y[t]).count() < 3
        })
        .count() as f64
        / test.len() as f64;
    assert_eq!(top3, by_hand);

    let label = |d: &Dataset<[f32; 64], usize>| {
        Dataset::new(
            d.inputs().to_vec(),
            d.targets().iter().map(|&c| [f32::from(u8::from(c == 0))]).collect(),
        )
        .unwrap()
    };
    let (train, test) = (label(&train), label(&test));
    let mut net = IsZero::new(1);
    let mut trainer = Trainer::new(Adam::new(1e-2), 32, 1);
    for _ in 0..5 {
        trainer.train_epoch(&mut net, &train).unwrap();
    }
    let right =
        test.inputs().iter().zip(test.targets()).filter(|&(x, t)| (net.predict(x)[0] > 0.0) == (t[0] > 0.5));
    let expected = right.count() as f64 / test.len() as f64;
    assert_eq!(metrics::binary_accuracy(&net, &test, 0.0), expected);
    assert!(expected > 0.95, "a zero is easy to tell: {expected}");
}

#[test]
fn fit_records_the_metrics_asked_for_each_epoch() {
    let (train, validation) = digits();
    let mut net = Digits::new(2);
    let mut trainer = Trainer::new(Adam::new(1e-3), 32, 1);
    let asked = [Metric::TopK(3), Metric::F1(Average::Macro), Metric::Precision(Average::Micro)];
    let config = FitConfig::epochs(3).progress(Progress::Silent).metrics(asked);
    let history = trainer.fit(&mut net, &train, Some(&validation), &config).unwrap().clone();
    for r in &history.epochs {
        let names: Vec<&str> = r.metrics.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["top3_accuracy", "macro_f1", "micro_precision"]);
        let accuracy = r.validation_accuracy.unwrap();
        assert!(r.metrics[0].1 >= accuracy, "top 3 at least top 1");
        assert!((r.metrics[2].1 - accuracy).abs() < 1e-12, "micro precision is the accuracy");
        assert!(r.to_string().contains("macro_f1"));
    }
    let last = &history.epochs[2].metrics;
    let matrix = metrics::confusion_matrix(&net, &validation);
    assert!((last[1].1 - matrix.averaged(Average::Macro, ConfusionMatrix::f1)).abs() < 1e-12);
    assert!((last[0].1 - metrics::top_k_accuracy(&net, &validation, 3)).abs() < 1e-12);
    // The history's CSV keeps them, by name.
    let csv = history.to_csv();
    assert!(csv.lines().next().unwrap().ends_with(",top3_accuracy,macro_f1,micro_precision"));
    assert_eq!(History::records_from_csv(&csv).unwrap(), history.epochs);

    // A class measure of vector targets is an error that names it.
    let values =
        Dataset::new(train.inputs().to_vec(), train.targets().iter().map(|_| [0.0f32]).collect()).unwrap();
    let mut regression = IsZero::new(1);
    let config = FitConfig::epochs(1).progress(Progress::Silent).metrics([Metric::TopK(2)]);
    let err = Trainer::new(Adam::new(1e-3), 32, 1)
        .fit(&mut regression, &values, Some(&values), &config)
        .unwrap_err();
    assert!(err.to_string().contains("top2_accuracy"), "{err}");
}
