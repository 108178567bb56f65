//! The trainer: early stopping with the best weights restored, divergence,
//! checkpoints that resume bitwise identically, history files.

use chainrule::metrics::{self, evaluate};
use chainrule::optim::{Adam, Schedule, Sgd};
use chainrule::train::{Callback, EarlyStopping, FitConfig, Flow, History, Monitor, Progress};
use chainrule::{Dataset, Error, Network, Trainer, Workspace, data};

chainrule::network! {
    struct Digits {
        input: [64],
        layers: [dense(48), relu, dropout(0.1), dense(24), batch_norm, tanh, dense(10)],
        loss: softmax_cross_entropy,
    }
}

fn digits() -> Dataset<[f32; 64], usize> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits/digits.csv.gz");
    let mut all = data::read_csv(path, 0).unwrap().classification::<f32, 64>().unwrap();
    all.map_inputs(|x| x.iter_mut().for_each(|v| *v /= 16.0));
    all
}

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("chainrule-trainer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// A tiny training set overfits: validation loss turns up, training stops
/// early, and the weights of the best epoch come back.
#[test]
fn early_stopping_restores_the_best_epoch() {
    let all = digits();
    let (small, rest) = all.split(0.02, 1).unwrap();
    let (validation, _) = rest.split(0.2, 2).unwrap();
    let mut net = Digits::new(3);
    let mut trainer = Trainer::new(Adam::new(0.01), 8, 4);
    let config = FitConfig::epochs(200)
        .early_stopping(EarlyStopping { patience: 3, min_delta: 0.0 })
        .progress(Progress::Silent);
    let history = trainer.fit(&mut net, &small, Some(&validation), &config).unwrap().clone();
    assert!(history.stopped_early, "ran all {} epochs", history.epochs.len());
    let best = history.best_epoch.unwrap();
    assert_eq!(history.epochs.len(), best + 3, "stops `patience` epochs after the best");
    let mut outputs = Vec::new();
    let now = evaluate(&net, &validation, 256, &mut Workspace::new(), &mut outputs).unwrap();
    assert_eq!(Some(now.loss), history.epochs[best - 1].validation_loss, "best weights restored");
    assert!(history.epochs.iter().all(|r| r.validation_accuracy.is_some()));
}

#[test]
fn a_diverging_run_stops_with_the_best_weights() {
    let all = digits();
    let (train, validation) = all.split(0.8, 5).unwrap();
    let mut net = Digits::new(6);
    let mut trainer = Trainer::new(Sgd::new(0.1), 32, 7);
    let config = FitConfig::epochs(2).progress(Progress::Silent);
    trainer.fit(&mut net, &train, Some(&validation), &config).unwrap();
    let best = net.params().to_vec();
    let mut inputs = train.inputs().to_vec();
    inputs[500][3] = f32::NAN;
    let poisoned = Dataset::new(inputs, train.targets().to_vec()).unwrap();
    let err = trainer.fit(&mut net, &poisoned, Some(&validation), &FitConfig::epochs(4)).unwrap_err();
    assert!(matches!(err, Error::NonFiniteLoss { epoch: 3, .. }), "{err}");
    // Epoch 2 had the lower validation loss of the two completed epochs.
    assert_eq!(net.params(), &best[..]);
}

#[test]
fn a_resumed_run_is_bitwise_the_uninterrupted_run() {
    let all = digits();
    let (train, validation) = all.split(0.8, 8).unwrap();
    let config = |epochs| {
        FitConfig::epochs(epochs)
            .schedule(Schedule::warmup(2, 0.2, Schedule::Cosine { epochs: 4, min_lr: 1e-4 }))
            .clip_norm(5.0)
            .monitor(Monitor::Accuracy)
            .progress(Progress::Silent)
    };
    let mut straight = Digits::new(9);
    let mut t1 = Trainer::new(Adam::adamw(3e-3), 32, 10);
    let full = t1.fit(&mut straight, &train, Some(&validation), &config(6)).unwrap().clone();

    let path = temp("resume.safetensors");
    let mut first = Digits::new(9);
    let mut t2 = Trainer::new(Adam::adamw(3e-3), 32, 10);
    t2.fit(&mut first, &train, Some(&validation), &config(3).checkpoint(&path)).unwrap();
    // A fresh process: another network and trainer, then the checkpoint.
    let mut resumed = Digits::new(123);
    let mut t3 = Trainer::new(Adam::adamw(1.0), 32, 456);
    t3.load_checkpoint(&mut resumed, &path).unwrap();
    let rest = t3.fit(&mut resumed, &train, Some(&validation), &config(6)).unwrap().clone();

    assert_eq!(straight.params(), resumed.params(), "weights");
    assert_eq!(straight.state(), resumed.state(), "running statistics");
    let strip = |h: &chainrule::train::History| -> Vec<(f64, f64, Option<f64>)> {
        h.epochs.iter().map(|r| (r.learning_rate, r.train_loss, r.validation_accuracy)).collect()
    };
    assert_eq!(strip(&full), strip(&rest), "history");
    assert_eq!(full.best_epoch, rest.best_epoch);
}

#[test]
fn damaged_or_foreign_checkpoints_are_errors_and_change_nothing() {
    chainrule::network! {
        struct Other { input: [64], layers: [dense(10)], loss: softmax_cross_entropy }
    }
    let (train, _) = digits().split(0.1, 11).unwrap();
    let mut net = Digits::new(12);
    let mut trainer = Trainer::new(Sgd::new(0.1), 16, 13);
    trainer.fit(&mut net, &train, None, &FitConfig::epochs(1).progress(Progress::Silent)).unwrap();
    let path = temp("good.safetensors");
    trainer.save_checkpoint(&net, &path).unwrap();
    let good = std::fs::read(&path).unwrap();

    let mut other = Other::new(1);
    let mut other_trainer = Trainer::new(Sgd::new(0.1), 16, 1);
    let err = other_trainer.load_checkpoint(&mut other, &path).unwrap_err().to_string();
    assert!(err.contains("written for a different network"), "{err}");

    let mut fresh = Digits::new(14);
    let before = fresh.params().to_vec();
    let mut fresh_trainer = Trainer::new(Sgd::new(0.1), 16, 15);
    let damaged = [
        ("truncated.safetensors", good[..good.len() / 2].to_vec(), "damaged file"),
        ("header.safetensors", good[..6].to_vec(), "damaged file"),
        (
            "noise.safetensors",
            (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect(),
            "damaged file",
        ),
    ];
    for (name, bytes, expected) in damaged {
        let p = temp(name);
        std::fs::write(&p, bytes).unwrap();
        let err = fresh_trainer.load_checkpoint(&mut fresh, &p).unwrap_err().to_string();
        assert!(err.contains(expected), "{name}: {err}");
        assert_eq!(fresh.params(), &before[..], "{name} changed the network");
    }
    let mut wrong_batch = Trainer::new(Sgd::new(0.1), 32, 15);
    let err = wrong_batch.load_checkpoint(&mut fresh, &path).unwrap_err().to_string();
    assert!(err.contains("batch size 16"), "{err}");
    assert!(matches!(fresh_trainer.load_checkpoint(&mut fresh, temp("absent")), Err(Error::Io { .. })));
}

#[test]
fn history_is_written_as_csv_and_svg() {
    let all = digits();
    let (train, validation) = all.split(0.8, 16).unwrap();
    let mut net = Digits::new(17);
    let mut trainer = Trainer::new(Sgd::new(0.05).momentum(0.9), 32, 18);
    let config =
        FitConfig::epochs(3).schedule(Schedule::Step { every: 1, gamma: 0.5 }).progress(Progress::Lines);
    let history = trainer.fit(&mut net, &train, Some(&validation), &config).unwrap();
    let rates: Vec<f64> = history.epochs.iter().map(|r| r.learning_rate).collect();
    assert_eq!(rates, [0.05, 0.025, 0.0125]);
    let (csv, svg) = (temp("history.csv"), temp("curves.svg"));
    history.write_csv(&csv).unwrap();
    history.plot(&svg, "digits").unwrap();
    assert_eq!(std::fs::read_to_string(&csv).unwrap().lines().count(), 4);
    let picture = std::fs::read_to_string(&svg).unwrap();
    assert!(picture.starts_with("<svg") && picture.contains("validation accuracy"));
    // Labelled axes, whole-epoch ticks, the best epoch marked.
    let texts: Vec<&str> = picture.lines().collect();
    for label in ["epoch", "mean loss", "accuracy", "1", "2", "3"] {
        assert!(texts.contains(&label), "an axis label or whole-epoch tick `{label}`");
    }
    assert!(!texts.contains(&"1.5") && !texts.contains(&"2.5"), "no ticks between epochs");
    assert!(picture.contains(&format!("best epoch {}", history.best_epoch.unwrap())));
    let matrix = metrics::confusion_matrix(&net, &validation);
    assert!((matrix.accuracy() - history.epochs[2].validation_accuracy.unwrap()).abs() < 1e-12);
    assert!(history.plot("/nonexistent/dir/x.svg", "t").is_err());
}

/// Counts batches and epochs, and stops at a given batch of a given epoch.
struct StopAt {
    epoch: usize,
    batch: usize,
    batches: usize,
    epochs_seen: Vec<usize>,
}

impl Callback<Digits> for StopAt {
    fn on_epoch(&mut self, _: &Digits, history: &History) -> Flow {
        self.epochs_seen.push(history.epochs.len());
        Flow::Continue
    }

    fn on_batch(&mut self, epoch: usize, batch: usize, loss: f64) -> Flow {
        assert!(loss.is_finite());
        self.batches += 1;
        if (epoch, batch) == (self.epoch, self.batch) { Flow::Stop } else { Flow::Continue }
    }
}

/// Hooks see every epoch's record and every batch, and either can end the
/// run: after an epoch, or in the middle of one (which is then recorded).
#[test]
fn callbacks_see_each_epoch_and_batch_and_can_stop_training() {
    let (train, validation) = digits().split(0.8, 3).unwrap();
    let config = FitConfig::epochs(10).progress(Progress::Silent);
    let mut net = Digits::new(1);
    let mut trainer = Trainer::new(Adam::new(1e-3), 64, 1);
    let mut stop_after_three =
        |_: &Digits, h: &History| if h.epochs.len() == 3 { Flow::Stop } else { Flow::Continue };
    let history =
        trainer.fit_with(&mut net, &train, Some(&validation), &config, &mut stop_after_three).unwrap();
    assert_eq!(history.epochs.len(), 3);
    assert!(history.stopped_by_callback && !history.stopped_early);

    let per_epoch = train.len().div_ceil(64);
    let mut hook = StopAt { epoch: 2, batch: 4, batches: 0, epochs_seen: Vec::new() };
    let mut trainer = Trainer::new(Adam::new(1e-3), 64, 1);
    let history =
        trainer.fit_with(&mut Digits::new(1), &train, Some(&validation), &config, &mut hook).unwrap();
    assert_eq!(hook.batches, per_epoch + 5, "every batch of epoch 1, then batches 0 to 4 of epoch 2");
    assert_eq!(
        hook.epochs_seen,
        [1],
        "the epoch hook ran after epoch 1; epoch 2 was stopped by the batch hook"
    );
    assert_eq!(history.epochs.len(), 2, "the interrupted epoch is recorded");
    assert!(history.stopped_by_callback && history.epochs[1].validation_loss.is_some());
}

chainrule::network! {
    struct Small { input: [64], layers: [dense(16), tanh, dense(10)], loss: softmax_cross_entropy }
}

/// A frozen layer keeps its values and its optimizer state; a layer with a
/// learning-rate multiplier steps as it would in a PyTorch parameter group
/// of its own (for these elementwise rules: an optimizer of its own at the
/// scaled rate, on the same gradients).
#[test]
fn frozen_layers_stay_and_multiplied_layers_step_as_their_own_group() {
    let data = digits();
    let batch = data.subset(&(0..32).collect::<Vec<_>>());
    let body = Small::LAYOUT[0].len() + Small::LAYOUT[1].len();

    let mut net = Small::new(4);
    let start = net.params().to_vec();
    let mut trainer = Trainer::new(Adam::new(1e-2).weight_decay(1e-3), 32, 0).threads(1);
    assert_eq!(trainer.freeze("layers.0").unwrap(), 2);
    for _ in 0..5 {
        trainer.train_epoch(&mut net, &batch).unwrap();
    }
    assert_eq!(&net.params()[..body], &start[..body], "the frozen layer did not move");
    assert_ne!(&net.params()[body..], &start[body..], "the head trained");
    let (_, state) = chainrule::optim::Optimizer::<f32>::state(&trainer.optimizer);
    assert!(
        state.iter().all(|b| b[..body].iter().all(|&v| v == 0.0)),
        "no optimizer state for frozen tensors"
    );
    trainer.unfreeze("layers.*").unwrap();
    trainer.train_epoch(&mut net, &batch).unwrap();
    assert_ne!(&net.params()[..body], &start[..body], "unfrozen, it trains");
    assert!(
        trainer.freeze("layer.0").unwrap_err().to_string().contains("layers.0.weight"),
        "names the tensors"
    );

    // A tenth of the rate for the head: the same as two optimizers.
    let mut net = Small::new(5);
    let mut reference = Small::new(5);
    let mut trainer = Trainer::new(Adam::new(1e-2), 32, 0).threads(1);
    trainer.lr_multiplier("layers.2", 0.1).unwrap();
    let (mut body_rule, mut head_rule) = (Adam::<f32>::new(1e-2), Adam::<f32>::new(1e-3));
    let (mut grad, mut ws) = (vec![0.0f32; Small::PARAM_LEN], Workspace::new());
    for _ in 0..5 {
        trainer.step(&mut net, batch.inputs(), batch.targets()).unwrap();
        reference.loss_and_grad(batch.inputs(), batch.targets(), &mut grad, &mut ws).unwrap();
        let (b, h) = reference.params_mut().split_at_mut(body);
        chainrule::optim::Optimizer::step(&mut body_rule, b, &grad[..body]).unwrap();
        chainrule::optim::Optimizer::step(&mut head_rule, h, &grad[body..]).unwrap();
    }
    for (a, b) in net.params().iter().zip(reference.params()) {
        assert!((a - b).abs() <= 1e-6 * (1.0 + b.abs()), "{a} against {b}");
    }
}
