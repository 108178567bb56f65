//! Every optimizer against PyTorch's, step by step, over several
//! configurations; reference trajectories from
//! `tests/fixtures/make_optimizer_fixtures.py`. Both sides compute in f64;
//! they agree to rounding (1e-12 relative allowed).

use chainrule::optim::{AdaGrad, Adam, Optimizer, RmsProp, Schedule, Sgd, clip_grad_norm};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize)]
struct Fixtures {
    cases: Vec<Case>,
    schedules: BTreeMap<String, Vec<f64>>,
    clipping: Vec<Clip>,
}

#[derive(Deserialize)]
struct Clip {
    max_norm: f64,
    grad: Vec<f64>,
    norm: f64,
    clipped: Vec<f64>,
}

fn fixtures() -> Fixtures {
    serde_json::from_str(include_str!("fixtures/optimizers.json")).unwrap()
}

#[derive(Deserialize)]
struct Case {
    name: String,
    start: Vec<f64>,
    grads: Vec<Vec<f64>>,
    trajectory: Vec<Vec<f64>>,
}

fn optimizer(name: &str) -> Box<dyn Optimizer<f64>> {
    match name {
        "sgd" => Box::new(Sgd::new(0.1)),
        "sgd_momentum" => Box::new(Sgd::new(0.1).momentum(0.9)),
        "sgd_dampening" => Box::new(Sgd::new(0.05).momentum(0.9).dampening(0.3).weight_decay(0.01)),
        "sgd_nesterov" => Box::new(Sgd::new(0.1).momentum(0.8).nesterov(true).weight_decay(1e-3)),
        "adagrad" => Box::new(AdaGrad::default()),
        "adagrad_decay" => {
            Box::new(AdaGrad::new(0.1).lr_decay(0.05).weight_decay(0.01).initial_accumulator(0.1))
        }
        "rmsprop" => Box::new(RmsProp::default()),
        "rmsprop_centered_momentum" => {
            Box::new(RmsProp::new(0.01).alpha(0.9).momentum(0.5).centered(true).weight_decay(0.01))
        }
        "adam" => Box::new(Adam::new(0.05)),
        "adam_decay" => Box::new(Adam::new(0.05).betas(0.8, 0.99).eps(1e-6).weight_decay(0.1)),
        "adamw" => Box::new(Adam::adamw(0.05).weight_decay(0.1)),
        "adamw_default" => Box::new(Adam::adamw(1e-3)),
        other => panic!("no optimizer for fixture case `{other}`"),
    }
}

#[test]
fn trajectories_match_pytorch() {
    let fixtures = fixtures();
    assert_eq!(fixtures.cases.len(), 12);
    for case in &fixtures.cases {
        let mut opt = optimizer(&case.name);
        let mut params = case.start.clone();
        for (step, (grad, expected)) in case.grads.iter().zip(&case.trajectory).enumerate() {
            opt.step(&mut params, grad).unwrap();
            for (a, b) in params.iter().zip(expected) {
                assert!(
                    (a - b).abs() <= 1e-12 * b.abs().max(1.0),
                    "{} step {}: {a} vs PyTorch {b}",
                    case.name,
                    step + 1
                );
            }
        }
        assert_eq!(opt.steps(), 6);
    }
}

/// Saving and restoring the state mid-run continues the exact trajectory.
#[test]
fn state_round_trips_mid_run() {
    for name in ["sgd_nesterov", "adagrad_decay", "rmsprop_centered_momentum", "adam_decay", "adamw"] {
        let grads = |k: usize| -> Vec<f64> { (0..5).map(|i| ((i * 7 + k * 3) as f64).sin()).collect() };
        let (mut straight, mut p1) = (optimizer(name), vec![0.5; 5]);
        for k in 0..6 {
            straight.step(&mut p1, &grads(k)).unwrap();
        }
        let (mut first, mut p2) = (optimizer(name), vec![0.5; 5]);
        for k in 0..3 {
            first.step(&mut p2, &grads(k)).unwrap();
        }
        let (steps, buffers) = first.state();
        let owned: Vec<Vec<f64>> = buffers.iter().map(|b| b.to_vec()).collect();
        let views: Vec<&[f64]> = owned.iter().map(Vec::as_slice).collect();
        let mut resumed = optimizer(name);
        resumed.set_state(steps, &views).unwrap();
        for k in 3..6 {
            resumed.step(&mut p2, &grads(k)).unwrap();
        }
        assert_eq!(p1, p2, "{name}: resumed run differs");
    }
}

#[test]
fn invalid_settings_and_lengths_are_errors() {
    let mut w = [1.0f64; 3];
    assert!(Sgd::new(0.1).nesterov(true).step(&mut w, &[0.0; 3]).is_err(), "Nesterov without momentum");
    let mut adam = Adam::new(0.1);
    assert!(adam.step(&mut w, &[0.0; 2]).is_err());
    adam.step(&mut w, &[0.0; 3]).unwrap();
    assert!(adam.step(&mut w[..2], &[0.0; 2]).is_err(), "state sized for 3 parameters");
    assert!(adam.set_state(1, &[&[0.0; 3]]).is_err(), "Adam keeps two buffers");
}

#[test]
fn schedules_match_pytorch() {
    let fixtures = fixtures();
    let ours = [
        ("step", Schedule::Step { every: 3, gamma: 0.5 }),
        ("exponential", Schedule::Exponential { gamma: 0.9 }),
        ("cosine", Schedule::Cosine { epochs: 10, min_lr: 0.001 }),
        ("warmup", Schedule::warmup(4, 0.1, Schedule::Constant)),
        ("warmup_cosine", Schedule::warmup(3, 0.2, Schedule::Cosine { epochs: 8, min_lr: 0.0 })),
    ];
    assert_eq!(fixtures.schedules.len(), ours.len());
    for (name, schedule) in ours {
        for (epoch, &expected) in fixtures.schedules[name].iter().enumerate() {
            let lr = schedule.lr(0.1, epoch);
            assert!((lr - expected).abs() < 1e-12, "{name} epoch {epoch}: {lr} vs PyTorch {expected}");
        }
    }
}

#[test]
fn clipping_matches_pytorch() {
    for case in fixtures().clipping {
        let mut g = case.grad.clone();
        let norm = clip_grad_norm(&mut g, case.max_norm);
        assert!((norm - case.norm).abs() < 1e-12 * case.norm);
        for (a, b) in g.iter().zip(&case.clipped) {
            assert!((a - b).abs() < 1e-12 * b.abs().max(1.0), "{a} vs {b}");
        }
    }
}
