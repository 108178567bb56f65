//! A training step with the optimizer's update fused into the backward
//! pass (`Network::train_step`, what the trainer runs for SGD) leaves the
//! parameters bitwise where the gradient followed by the optimizer's own
//! step leaves them: for every SGD variant, batch sizes on each path of the
//! weight-gradient kernel (rows of outer products, the product with one
//! depth block and with several), every instruction-set level, and
//! networks where only some weights fuse (a regularized one, recurrent
//! weights, batch norm's scale).

use chainrule::optim::{Optimizer, Sgd};
use chainrule::{Network, Workspace};
use chainrule_suite::{on_every_level, on_one_level, values};

chainrule::network! {
    struct Mlp { input: [40], layers: [dense(72), relu, dense(33), tanh, dense(5)], loss: softmax_cross_entropy }
}
chainrule::network! {
    struct Regularized {
        input: [24],
        layers: [dense(48), batch_norm, relu, dropout(0.25), dense(4)],
        loss: mse,
        regularizer: l2(1e-3),
    }
}
chainrule::network! {
    struct Recurrent { input: [6, 5], layers: [lstm(12), dense(3)], loss: mse }
}

fn optimizers() -> Vec<(&'static str, Sgd<f32>)> {
    vec![
        ("plain", Sgd::new(0.05)),
        ("weight decay", Sgd::new(0.05).weight_decay(1e-2)),
        ("momentum", Sgd::new(0.05).momentum(0.9).dampening(0.1)),
        ("nesterov", Sgd::new(0.05).momentum(0.8).nesterov(true).weight_decay(1e-3)),
    ]
}

/// The parameter bits after three steps on `batch` samples, fused or not.
fn trained<N: Network<Scalar = f32>>(
    make: &dyn Fn() -> N,
    mut sgd: Sgd<f32>,
    inputs: &[N::Input],
    targets: &[N::Target],
    fused: bool,
) -> Vec<u32> {
    let (mut net, mut ws) = (make(), Workspace::new());
    let mut grad = vec![0.0f32; N::PARAM_LEN];
    for _ in 0..3 {
        if fused {
            let mut update = sgd.fused(N::PARAM_LEN).unwrap().expect("SGD fuses");
            let loss = net.train_step(inputs, targets, &mut grad, &mut update, &mut ws).unwrap();
            assert!(loss.is_finite());
            update.finish();
        } else {
            net.loss_and_grad(inputs, targets, &mut grad, &mut ws).unwrap();
            sgd.step(net.params_mut(), &grad).unwrap();
        }
    }
    assert_eq!(sgd.steps(), 3);
    net.params().iter().chain(net.state()).map(|v| v.to_bits()).collect()
}

fn same_bits<N: Network<Scalar = f32>>(
    name: &str,
    make: &dyn Fn() -> N,
    inputs: &dyn Fn(usize) -> Vec<N::Input>,
    targets: &dyn Fn(usize) -> Vec<N::Target>,
) {
    on_every_level(|level| {
        // 1-3 rows: outer products; 4 and 100: one depth block of the
        // product; 300: several (partial sums kept between them).
        for batch in [1, 2, 3, 4, 100, 300] {
            let (x, t) = (inputs(batch), targets(batch));
            for (rule, sgd) in optimizers() {
                let plain = trained(make, sgd.clone(), &x, &t, false);
                let fused = trained(make, sgd, &x, &t, true);
                let differ = plain.iter().zip(&fused).filter(|(a, b)| a != b).count();
                assert_eq!(differ, 0, "{name}, {rule}, batch {batch}, {level:?}: {differ} values differ");
                assert_ne!(
                    plain,
                    trained(make, Sgd::new(0.0), &x, &t, false),
                    "{name}: the steps moved nothing"
                );
            }
        }
    });
}

fn rows<const N: usize>(seed: u64, count: usize) -> Vec<[f32; N]> {
    let v = values(seed, count * N, 1.0);
    v.chunks_exact(N).map(|c| core::array::from_fn(|i| c[i] as f32)).collect()
}

#[test]
fn dense_layers_step_as_the_optimizer_does() {
    same_bits("Mlp", &|| Mlp::new(3), &|n| rows(1, n), &|n| (0..n).map(|i| i * 7 % 5).collect());
}

#[test]
fn a_network_whose_weights_are_all_regularized_steps_as_the_optimizer_does() {
    same_bits("Regularized", &|| Regularized::new(4), &|n| rows(2, n), &|n| rows(3, n));
}

#[test]
fn recurrent_weights_step_as_the_optimizer_does() {
    same_bits("Recurrent", &|| Recurrent::new(5), &|n| rows(4, n), &|n| rows(5, n));
}

/// A loss that is not finite leaves every parameter as it was, and the
/// optimizer's step count too.
#[test]
fn a_step_with_a_non_finite_loss_changes_nothing() {
    let mut net = Mlp::new(1);
    let before: Vec<u32> = net.params().iter().map(|v| v.to_bits()).collect();
    let mut inputs = rows::<40>(6, 8);
    inputs[3][7] = f32::NAN;
    let targets: Vec<usize> = (0..8).map(|i| i % 5).collect();
    let mut sgd = Sgd::new(0.1).momentum(0.9);
    let (mut grad, mut ws) = (vec![0.0; Mlp::PARAM_LEN], Workspace::new());
    {
        let mut update = sgd.fused(Mlp::PARAM_LEN).unwrap().unwrap();
        let loss = net.train_step(&inputs, &targets, &mut grad, &mut update, &mut ws).unwrap();
        assert!(loss.is_nan());
    }
    assert_eq!(sgd.steps(), 0);
    assert_eq!(before, net.params().iter().map(|v| v.to_bits()).collect::<Vec<_>>());
}

/// Training through the trainer (which fuses the step for SGD) gives the
/// same bits as the gradient and the optimizer's step, and batch-1
/// inference follows the new weights. Both on one level: another test of
/// this binary switches levels.
#[test]
fn the_trainer_steps_as_the_optimizer_does() {
    on_one_level(trainer_steps_as_the_optimizer_does);
}

fn trainer_steps_as_the_optimizer_does() {
    let one = chainrule::Dataset::new(rows::<40>(7, 1), vec![3]).unwrap();
    let mut trained = Mlp::new(2);
    let mut trainer = chainrule::Trainer::new(Sgd::new(0.05).momentum(0.9), 1, 0);
    for _ in 0..2 {
        trainer.train_epoch(&mut trained, &one).unwrap();
    }
    let mut reference = Mlp::new(2);
    let (mut sgd, mut ws) = (Sgd::new(0.05).momentum(0.9), Workspace::new());
    let mut grad = vec![0.0; Mlp::PARAM_LEN];
    for _ in 0..2 {
        reference.loss_and_grad(one.inputs(), one.targets(), &mut grad, &mut ws).unwrap();
        sgd.step(reference.params_mut(), &grad).unwrap();
    }
    reference.relayout();
    assert_eq!(trained.params(), reference.params());
    assert_ne!(trained.params(), Mlp::new(2).params());
    let x = &rows::<40>(8, 1)[0];
    assert_eq!(trained.predict(x), reference.predict(x), "the inference copy follows the step");
}
