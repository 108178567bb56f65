//! Training on real data reaches real accuracy, reproducibly; a diverging
//! run stops with an error and keeps its last good weights.

use chainrule::optim::Sgd;
use chainrule::{Dataset, Error, Network, Trainer, data, metrics};

chainrule::network! {
    struct Digits {
        input: [64],
        layers: [dense(64), tanh, dense(10)],
        loss: softmax_cross_entropy,
        regularizer: l2(1e-4),
    }
}

chainrule::network! {
    struct Xor { input: [2], layers: [dense(4), tanh, dense(2)], loss: softmax_cross_entropy }
}

fn digits() -> Dataset<[f32; 64], usize> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits/digits.csv.gz");
    let mut all = data::read_csv(path, 0).unwrap().classification::<f32, 64>().unwrap();
    all.map_inputs(|x| x.iter_mut().for_each(|v| *v /= 16.0));
    all
}

fn train_digits(seed: u64, epochs: usize) -> (Digits, f64) {
    let (train, test) = digits().split(0.8, 1).unwrap();
    let mut net = Digits::new(seed);
    let mut trainer = Trainer::new(Sgd::new(0.1), 32, seed);
    for _ in 0..epochs {
        trainer.train_epoch(&mut net, &train).unwrap();
    }
    let accuracy = metrics::accuracy(&net, &test);
    (net, accuracy)
}

#[test]
fn digits_reach_95_percent_on_held_out_data() {
    let all = digits();
    assert_eq!(all.len(), 1797);
    let (net, accuracy) = train_digits(7, 30);
    assert!(accuracy >= 0.95, "test accuracy {accuracy}");
    // The same seed gives bitwise the same weights.
    let (again, _) = train_digits(7, 30);
    assert_eq!(net.params(), again.params());
}

#[test]
fn xor_is_learned_by_a_hidden_layer() {
    let data = Dataset::new(vec![[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], vec![0, 1, 1, 0]).unwrap();
    let mut net = Xor::new(1);
    let mut trainer = Trainer::new(Sgd::new(0.5), 4, 0);
    for _ in 0..1000 {
        trainer.train_epoch(&mut net, &data).unwrap();
    }
    assert_eq!(metrics::accuracy(&net, &data), 1.0);
    let loss = metrics::mean_loss(&net, &data, 4, trainer.workspace()).unwrap();
    assert!(loss < 0.05, "loss {loss}");
}

#[test]
fn a_diverging_loss_stops_training_and_keeps_the_weights() {
    let data = Dataset::new(vec![[0.0, 0.0], [f32::NAN, 1.0]], vec![0, 1]).unwrap();
    let mut net = Xor::new(1);
    let before = net.params().to_vec();
    let mut trainer = Trainer::new(Sgd::new(0.5), 2, 0);
    let err = trainer.train_epoch(&mut net, &data).unwrap_err();
    assert!(matches!(err, Error::NonFiniteLoss { epoch: 1, batch: 0, .. }), "{err}");
    assert_eq!(net.params(), &before[..], "the failed step must not touch the weights");
}

#[test]
fn damaged_data_files_are_clear_errors() {
    let dir = std::env::temp_dir().join(format!("chainrule-data-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, content: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, content).unwrap();
        p
    };
    let cases: [(&str, &[u8], &str); 5] = [
        ("ragged.csv", b"1,2,3\n4,5\n", "ragged.csv:2: 2 columns, expected 3"),
        ("word.csv", b"1,2\n3,x\n", "word.csv:2: `x` is not a number"),
        ("nan.csv", b"1,NaN\n", "nan.csv:1: `NaN` is not a finite number"),
        ("empty.csv", b"", "empty.csv:0: no data rows"),
        ("truncated.gz", &[0x1f, 0x8b, 8, 0, 0, 0], "cannot read"),
    ];
    for (name, content, expected) in cases {
        let err = data::read_csv(write(name, content), 0).unwrap_err().to_string();
        assert!(err.contains(expected), "{name}: {err}");
    }
    let missing = data::read_csv(dir.join("absent.csv"), 0).unwrap_err();
    assert!(matches!(missing, Error::Io { .. }));
    let labels = data::read_csv(write("label.csv", b"1,2,0.5\n"), 0).unwrap();
    assert!(labels.classification::<f32, 2>().unwrap_err().to_string().contains("not a class index"));
    std::fs::remove_dir_all(&dir).unwrap();
}
