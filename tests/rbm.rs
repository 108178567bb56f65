//! Restricted Boltzmann machines and deep-belief pre-training: one CD-1
//! update against a hand computation, training that lowers reconstruction
//! error and free energy on real digits, seeded reproducibility, and a
//! pre-trained network fine-tuned to a good classifier.

use chainrule::optim::Sgd;
use chainrule::rbm::{CdConfig, Rbm, Visible, pretrain};
use chainrule::{Dataset, Network, Trainer, data, metrics};

fn digits() -> Dataset<[f64; 64], usize> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits/digits.csv.gz");
    let mut all = data::read_csv(path, 0).unwrap().classification::<f64, 64>().unwrap();
    all.map_inputs(|x| x.iter_mut().for_each(|v| *v /= 16.0));
    all
}

fn flat(data: &Dataset<[f64; 64], usize>) -> Vec<f64> {
    data.inputs().iter().flatten().copied().collect()
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Two visible units, one hidden, binary; every draw 0.5, so a hidden unit
/// is on exactly when its probability exceeds one half.
#[test]
fn one_cd1_update_matches_the_hand_computation() {
    let mut rbm = Rbm::<f64>::new(2, 1, Visible::Binary, 0);
    rbm.weights = vec![0.5, -0.5];
    let cfg = CdConfig { learning_rate: 1.0, momentum: 0.0, weight_decay: 0.0, ..CdConfig::default() };
    rbm.cd_step(&[1.0, 0.0], 1, &cfg, &mut || 0.5, &mut || 0.0);

    // By hand: p0 = sigmoid(0.5), h = 1 (0.5 < p0), the reconstruction is
    // sigmoid(+-0.5), then p1 = sigmoid(0.5 v1_0 - 0.5 v1_1).
    let p0 = sigmoid(0.5);
    let v1 = [sigmoid(0.5), sigmoid(-0.5)];
    let p1 = sigmoid(0.5 * v1[0] - 0.5 * v1[1]);
    let w = [0.5 + p0 * 1.0 - p1 * v1[0], -0.5 + p0 * 0.0 - p1 * v1[1]];
    let b = [1.0 - v1[0], 0.0 - v1[1]];
    let c = p0 - p1;
    let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    assert!(close(rbm.weights[0], w[0]) && close(rbm.weights[1], w[1]), "{:?} vs {w:?}", rbm.weights);
    assert!(close(rbm.visible_bias[0], b[0]) && close(rbm.visible_bias[1], b[1]), "{:?}", rbm.visible_bias);
    assert!(close(rbm.hidden_bias[0], c), "{:?} vs {c}", rbm.hidden_bias);
}

#[test]
fn training_lowers_reconstruction_error_and_free_energy_on_digits() {
    let data = flat(&digits());
    for persistent in [false, true] {
        let cfg = CdConfig { epochs: 6, persistent, learning_rate: 0.05, seed: 3, ..CdConfig::default() };
        let mut rbm = Rbm::<f64>::new(64, 32, Visible::Binary, 3);
        let n = data.len() / 64;
        let (error0, energy0) = (rbm.reconstruction_error(&data, n), rbm.free_energy(&data, n));
        let reports = rbm.train(&data, &cfg).unwrap();
        let last = reports.last().unwrap();
        assert!(last.reconstruction_error < 0.5 * error0, "persistent {persistent}: {error0} -> {last:?}");
        assert!(last.free_energy < energy0, "persistent {persistent}: {energy0} -> {last:?}");
        assert!(reports[0].reconstruction_error > last.reconstruction_error);
    }
}

#[test]
fn gaussian_visible_units_learn_standardized_data() {
    let mut data = flat(&digits());
    let n = data.len() / 64;
    for j in 0..64 {
        let mean = (0..n).map(|i| data[i * 64 + j]).sum::<f64>() / n as f64;
        let var = (0..n).map(|i| (data[i * 64 + j] - mean).powi(2)).sum::<f64>() / n as f64;
        let sd = var.sqrt().max(1e-3);
        (0..n).for_each(|i| data[i * 64 + j] = (data[i * 64 + j] - mean) / sd);
    }
    let cfg = CdConfig { epochs: 6, learning_rate: 0.01, seed: 4, ..CdConfig::default() };
    let mut rbm = Rbm::<f64>::new(64, 48, Visible::Gaussian, 4);
    let before = rbm.reconstruction_error(&data, n);
    let reports = rbm.train(&data, &cfg).unwrap();
    let errors: Vec<f64> = reports.iter().map(|r| r.reconstruction_error).collect();
    assert!(errors.windows(2).all(|w| w[1] < w[0]), "every epoch improves: {errors:?}");
    assert!(errors[errors.len() - 1] < 0.9 * before, "{before} -> {errors:?}");
}

#[test]
fn training_is_seeded() {
    let data: Vec<f64> = flat(&digits())[..64 * 300].to_vec();
    let train = |seed| {
        let mut rbm = Rbm::<f64>::new(64, 16, Visible::Binary, seed);
        rbm.train(&data, &CdConfig { epochs: 2, seed, ..CdConfig::default() }).unwrap();
        rbm.weights
    };
    assert_eq!(train(5), train(5));
    assert_ne!(train(5), train(6));
}

chainrule::network! {
    struct Belief {
        input: [64],
        layers: [dense(48), sigmoid, dense(32), sigmoid, dense(10)],
        loss: softmax_cross_entropy,
        scalar: f64,
    }
}

/// Two RBMs pre-train the hidden layers; fine-tuning then makes a good
/// classifier. Bad input is an error, not a panic.
#[test]
fn pretrained_layers_fine_tune_into_a_classifier() {
    let (train, test) = digits().split(0.8, 1).unwrap();
    let mut net = Belief::new(7);
    let cfg = CdConfig { epochs: 4, seed: 8, ..CdConfig::default() };
    let reports = pretrain(&mut net, train.inputs(), 2, Visible::Binary, &cfg).unwrap();
    assert_eq!(reports.len(), 2);
    let fresh = Belief::new(7);
    assert_ne!(&net.params()[..64 * 48], &fresh.params()[..64 * 48], "the first layer was pre-trained");
    assert_eq!(
        &net.params()[net.params().len() - 330..],
        &fresh.params()[fresh.params().len() - 330..],
        "the classifier was not"
    );
    let mut trainer = Trainer::new(Sgd::new(0.5).momentum(0.9), 32, 9);
    for _ in 0..20 {
        trainer.train_epoch(&mut net, &train).unwrap();
    }
    let accuracy = metrics::accuracy(&net, &test);
    assert!(accuracy > 0.9, "{accuracy}");
    let before = net.params().to_vec();
    assert!(
        pretrain(&mut net, train.inputs(), 4, Visible::Binary, &cfg).is_err(),
        "there are three dense layers"
    );
    assert_eq!(net.params(), &before[..], "a refused pre-training changes nothing");
}
