//! Lesson 7, vanishing gradients and dying ReLUs. Backpropagating through
//! a sigmoid multiplies the gradient by s (1 - s) <= 1/4 at every layer, so
//! in a deep sigmoid network the first layers learn orders of magnitude
//! more slowly than the last; ReLU's derivative is 1 wherever the unit is
//! active. But a ReLU unit pushed to negative inputs for every example
//! gets no gradient ever again: too large a learning rate kills units.

use crate::common::{Ctx, Outcome, dense_activations, digits, tensor_norms};
use crate::figure::{self, Axes, Mark, Series};
use chainrule::optim::Sgd;
use chainrule::{Network, Role, Trainer, Workspace};

chainrule::network! {
    /// Six hidden sigmoid layers of 64.
    pub struct DeepSigmoid {
        input: [64],
        layers: [
            dense(64), sigmoid, dense(64), sigmoid, dense(64), sigmoid,
            dense(64), sigmoid, dense(64), sigmoid, dense(64), sigmoid,
            dense(10),
        ],
        loss: softmax_cross_entropy,
        init: he_normal,
    }
}

chainrule::network! {
    /// The same with ReLU.
    pub struct DeepRelu {
        input: [64],
        layers: [
            dense(64), relu, dense(64), relu, dense(64), relu,
            dense(64), relu, dense(64), relu, dense(64), relu,
            dense(10),
        ],
        loss: softmax_cross_entropy,
        init: he_normal,
    }
}

chainrule::network! {
    /// Two hidden ReLU layers of 100, for counting dead units.
    pub struct TwoRelu {
        input: [64],
        layers: [dense(100), relu, dense(100), relu, dense(10)],
        loss: softmax_cross_entropy,
    }
}

pub struct Vanishing {
    /// Norm of each layer's weight gradient (first to last): sigmoid and
    /// ReLU at initialization, then after training.
    pub sigmoid: [Vec<f64>; 2],
    pub relu: [Vec<f64>; 2],
    /// (learning rate, fraction of hidden units never active on the training set, diverged).
    pub dead: Vec<(f64, f64, bool)>,
}

fn norms<N: Network<Input = [f32; 64], Target = usize, Scalar = f32>>(
    net: &mut N,
    xs: &[[f32; 64]],
    ts: &[usize],
) -> Outcome<Vec<f64>> {
    let mut grad = vec![0.0f32; N::PARAM_LEN];
    net.loss_and_grad(xs, ts, &mut grad, &mut Workspace::new())?;
    Ok(tensor_norms(&grad, N::LAYOUT, Role::Weight).into_iter().map(|(_, n)| n).collect())
}

fn before_after<N>(mut net: N, data: &crate::common::Digits, epochs: usize) -> Outcome<[Vec<f64>; 2]>
where
    N: Network<Input = [f32; 64], Target = usize, Scalar = f32>,
{
    let probe = 256.min(data.train.len());
    let (xs, ts) = (&data.train.inputs()[..probe], &data.train.targets()[..probe]);
    let at_start = norms(&mut net, xs, ts)?;
    let mut trainer = Trainer::new(Sgd::new(0.05).momentum(0.9), 32, 1);
    for _ in 0..epochs {
        trainer.train_epoch(&mut net, &data.train)?;
    }
    Ok([at_start, norms(&mut net, xs, ts)?])
}

pub fn run(ctx: &Ctx) -> Outcome<Vanishing> {
    let data = digits()?;
    let epochs = ctx.size(10, 1);
    let sigmoid = before_after(DeepSigmoid::new(4), &data, epochs)?;
    let relu = before_after(DeepRelu::new(4), &data, epochs)?;

    let mut dead = Vec::new();
    for lr in [0.01, 0.1, 0.3, 1.0, 3.0] {
        let mut net = TwoRelu::new(4);
        let mut trainer = Trainer::new(Sgd::new(lr), 32, 1);
        let mut diverged = false;
        for _ in 0..ctx.size(5, 1) {
            if trainer.train_epoch(&mut net, &data.train).is_err() {
                diverged = true; // a non-finite loss: the weights stay as the last good step left them
                break;
            }
        }
        let mut ever = [false; 200];
        for x in data.train.inputs() {
            let layers = dense_activations(net.params(), TwoRelu::LAYOUT, x, |z| z.max(0.0));
            for (k, &a) in layers[0].iter().chain(&layers[1]).enumerate() {
                ever[k] |= a > 0.0;
            }
        }
        dead.push((lr, ever.iter().filter(|&&e| !e).count() as f64 / ever.len() as f64, diverged));
    }

    let path = ctx.figure("07-vanishing-gradients.svg")?;
    let panels =
        figure::canvas(&path, (1300, 460), "Gradients through depth, and ReLU units that die", 1, 3)?;
    let layer_points =
        |v: &[f64]| -> Vec<(f64, f64)> { v.iter().enumerate().map(|(k, &n)| ((k + 1) as f64, n)).collect() };
    for (panel, when, k) in
        [(&panels[0], "at initialization", 0), (&panels[1], &*format!("after {epochs} epochs"), 1)]
    {
        let caption = format!("weight-gradient norm by layer, {when}");
        let mut axes = Axes::new(&caption, "layer (1 = nearest the input)", "gradient norm");
        axes.log_y = true;
        let series = [
            Series::line("sigmoid", layer_points(&sigmoid[k]), figure::color(0)).with(Mark::LineDots),
            Series::line("ReLU", layer_points(&relu[k]), figure::color(1)).with(Mark::LineDots),
        ];
        figure::chart(panel, &axes, &series)?;
    }
    let mut axes = Axes::new(
        "dead ReLU units after 5 epochs of SGD",
        "learning rate",
        "fraction of hidden units never active",
    );
    (axes.log_x, axes.y_range) = (true, Some(0.0..1.0));
    let points = dead.iter().map(|&(lr, f, _)| (lr, f)).collect();
    figure::chart(
        &panels[2],
        &axes,
        &[Series::line("two layers of 100 ReLU", points, figure::color(2)).with(Mark::LineDots)],
    )?;
    panels[0].present()?;

    let show = |v: &[f64]| v.iter().map(|n| format!("{n:.2e}")).collect::<Vec<_>>().join(" ");
    println!("  weight-gradient norms, layer 1 to 7, at initialization:");
    println!("    sigmoid {}\n    ReLU    {}", show(&sigmoid[0]), show(&relu[0]));
    println!("  after {epochs} epochs:\n    sigmoid {}\n    ReLU    {}", show(&sigmoid[1]), show(&relu[1]));
    println!("  first layer, ReLU over sigmoid at initialization: {:.0}x", relu[0][0] / sigmoid[0][0]);
    for &(lr, fraction, diverged) in &dead {
        let note = if diverged { " (the loss overflowed: training stopped)" } else { "" };
        println!("  lr {lr:<5} dead units {:.1}%{note}", 100.0 * fraction);
    }
    println!("  figure: {}", path.display());
    Ok(Vanishing { sigmoid, relu, dead })
}
