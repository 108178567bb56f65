//! Lesson 5, weight initialization: in a deep tanh network the spread of
//! the weights decides whether activations survive the depth. Weights too
//! small shrink them to zero layer after layer (and the gradients with
//! them); weights of unit spread saturate every unit at -1 or 1 (where
//! tanh's derivative is 0); Glorot's scale, variance 2 / (fan_in +
//! fan_out), keeps their spread roughly constant; He's, 2 / fan_in, is
//! made for ReLU and runs tanh units a little hot.

use crate::common::{Ctx, Outcome, Random, dense_activations, digits, mean_std};
use crate::figure::{self, Axes, Series};
use chainrule::optim::Sgd;
use chainrule::{Network, Role, Trainer, metrics};

chainrule::network! {
    /// Eight hidden tanh layers of 100 units on the 64 pixels.
    pub struct DeepTanh {
        input: [64],
        layers: [
            dense(100), tanh, dense(100), tanh, dense(100), tanh, dense(100), tanh,
            dense(100), tanh, dense(100), tanh, dense(100), tanh, dense(100), tanh,
            dense(10),
        ],
        loss: softmax_cross_entropy,
    }
}

/// A scheme: from (fan_in, fan_out), whether weights are uniform (else
/// normal) and their half-width or standard deviation.
type Spread = fn(f64, f64) -> (bool, f64);

/// The four schemes.
pub const SCHEMES: [(&str, Spread); 4] = [
    ("uniform in [-1, 1]", |_, _| (true, 1.0)),
    ("small Gaussian, sd 0.01", |_, _| (false, 0.01)),
    ("Glorot (Xavier) normal", |i, o| (false, (2.0 / (i + o)).sqrt())),
    ("He normal", |i, _| (false, (2.0 / i).sqrt())),
];

/// Weights drawn by a scheme (uniform half-width or normal sd), biases zero.
fn initialized(scheme: Spread, seed: u64) -> Outcome<DeepTanh> {
    let mut draws = Random(seed);
    let mut params = vec![0.0f32; DeepTanh::PARAM_LEN];
    for p in DeepTanh::LAYOUT.iter().filter(|p| p.role == Role::Weight) {
        let (uniform, spread) = scheme(p.shape[1] as f64, p.shape[0] as f64);
        for w in &mut params[p.offset..][..p.len()] {
            let unit = if uniform { 2.0 * draws.unit() - 1.0 } else { draws.normal() };
            *w = (spread * unit) as f32;
        }
    }
    Ok(DeepTanh::from_params(&params)?)
}

pub struct Scheme {
    pub name: &'static str,
    /// Standard deviation of each hidden layer's activations at initialization.
    pub spread: Vec<f64>,
    /// Training loss per epoch.
    pub losses: Vec<f64>,
    pub test_accuracy: f64,
}

pub fn run(ctx: &Ctx) -> Outcome<Vec<Scheme>> {
    let data = digits()?;
    let epochs = ctx.size(15, 3);
    let probe = &data.train.inputs()[..ctx.size(500, 50)];
    let mut schemes = Vec::new();
    let mut activations = Vec::new();
    for (name, scheme) in SCHEMES {
        let mut net = initialized(scheme, 5)?;
        let mut per_layer = vec![Vec::new(); 8];
        for x in probe {
            let layers = dense_activations(net.params(), DeepTanh::LAYOUT, x, f32::tanh);
            for (all, layer) in per_layer.iter_mut().zip(&layers) {
                all.extend(layer.iter().map(|&a| f64::from(a)));
            }
        }
        let spread = per_layer.iter().map(|a| mean_std(a).1).collect();
        let mut trainer = Trainer::new(Sgd::new(0.01).momentum(0.9), 32, 1);
        let mut losses = Vec::new();
        for _ in 0..epochs {
            losses.push(trainer.train_epoch(&mut net, &data.train)?);
        }
        schemes.push(Scheme { name, spread, losses, test_accuracy: metrics::accuracy(&net, &data.test) });
        activations.push(per_layer);
    }

    let path = ctx.figure("05-initialization.svg")?;
    let root = figure::canvas(
        &path,
        (1200, 1300),
        "Activations of a deep tanh network at initialization, and the training that follows",
        1,
        1,
    )?;
    let (grid, curves) = root[0].split_vertically(980);
    let shown = [0, 2, 4, 7];
    for (row, (scheme, per_layer)) in grid.split_evenly((4, 1)).iter().zip(schemes.iter().zip(&activations)) {
        let row = row.titled(scheme.name, ("sans-serif", 16))?;
        for (cell, &layer) in row.split_evenly((1, 4)).iter().zip(&shown) {
            let (_, sd) = mean_std(&per_layer[layer]);
            let caption = format!("layer {}: sd {sd:.3}", layer + 1);
            figure::histogram(
                cell,
                &caption,
                "activation",
                &per_layer[layer],
                -1.0..1.0,
                40,
                figure::color(0),
            )?;
        }
    }
    let series: Vec<Series> = schemes
        .iter()
        .enumerate()
        .map(|(k, s)| {
            let points = s.losses.iter().enumerate().map(|(e, &l)| ((e + 1) as f64, l)).collect();
            Series::line(s.name, points, figure::color(k))
        })
        .collect();
    let axes = Axes::new("training loss (SGD, momentum 0.9, lr 0.01, batch 32)", "epoch", "training loss");
    figure::chart(&curves, &axes, &series)?;
    curves.present()?;
    for s in &schemes {
        let spread: Vec<String> = s.spread.iter().map(|v| format!("{v:.3}")).collect();
        println!("  {:<24} activation sd by layer: {}", s.name, spread.join(" "));
        println!(
            "  {:<24} training loss after epoch 1: {:.3}, after {epochs}: {:.3}; test accuracy {:.4}",
            "",
            s.losses[0],
            s.losses[s.losses.len() - 1],
            s.test_accuracy
        );
    }
    println!("  figure: {}", path.display());
    Ok(schemes)
}
