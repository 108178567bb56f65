//! Lesson 6, batch normalization: normalizing each unit over the batch
//! before its nonlinearity keeps a deep sigmoid network's units out of
//! saturation whatever the weights do, so it trains at learning rates
//! where the plain network crawls or stalls.

use crate::common::{Ctx, Outcome, digits};
use crate::figure::{self, Axes, Series};
use chainrule::optim::Sgd;
use chainrule::train::{FitConfig, Progress};
use chainrule::{Dataset, Network, Trainer};

chainrule::network! {
    /// Six hidden sigmoid layers of 64.
    pub struct Plain {
        input: [64],
        layers: [
            dense(64), sigmoid, dense(64), sigmoid, dense(64), sigmoid,
            dense(64), sigmoid, dense(64), sigmoid, dense(64), sigmoid,
            dense(10),
        ],
        loss: softmax_cross_entropy,
    }
}

chainrule::network! {
    /// The same, each hidden layer batch-normalized before its sigmoid.
    pub struct Normalized {
        input: [64],
        layers: [
            dense(64), batch_norm, sigmoid, dense(64), batch_norm, sigmoid, dense(64), batch_norm, sigmoid,
            dense(64), batch_norm, sigmoid, dense(64), batch_norm, sigmoid, dense(64), batch_norm, sigmoid,
            dense(10),
        ],
        loss: softmax_cross_entropy,
    }
}

pub const TARGET: f64 = 0.9;
pub const RATES: [f64; 3] = [0.01, 0.1, 1.0];

pub struct Curve {
    pub normalized: bool,
    pub lr: f64,
    pub accuracy: Vec<f64>,
    /// The first epoch whose validation accuracy reached TARGET.
    pub reached: Option<usize>,
}

fn curve<N>(
    mut net: N,
    normalized: bool,
    lr: f64,
    train: &Dataset<[f32; 64], usize>,
    validation: &Dataset<[f32; 64], usize>,
    epochs: usize,
) -> Outcome<Curve>
where
    N: Network<Input = [f32; 64], Target = usize, Scalar = f32> + Sync,
{
    let mut trainer = Trainer::new(Sgd::new(lr), 32, 1);
    let history = trainer.fit(
        &mut net,
        train,
        Some(validation),
        &FitConfig::epochs(epochs).progress(Progress::Silent),
    )?;
    let accuracy: Vec<f64> = history.epochs.iter().map(|r| r.validation_accuracy.unwrap_or(0.0)).collect();
    let reached = accuracy.iter().position(|&a| a >= TARGET).map(|e| e + 1);
    Ok(Curve { normalized, lr, accuracy, reached })
}

pub fn run(ctx: &Ctx) -> Outcome<Vec<Curve>> {
    let data = digits()?;
    let epochs = ctx.size(30, 3);
    let mut curves = Vec::new();
    for lr in RATES {
        curves.push(curve(Plain::new(2), false, lr, &data.train, &data.validation, epochs)?);
        curves.push(curve(Normalized::new(2), true, lr, &data.train, &data.validation, epochs)?);
    }
    let path = ctx.figure("06-batch-norm.svg")?;
    let panels = figure::canvas(
        &path,
        (1300, 440),
        "Six sigmoid layers with and without batch normalization (plain SGD)",
        1,
        3,
    )?;
    for (panel, pair) in panels.iter().zip(curves.chunks(2)) {
        let caption = format!("learning rate {}", pair[0].lr);
        let mut axes = Axes::new(&caption, "epoch", "validation accuracy");
        axes.y_range = Some(0.0..1.0);
        let series: Vec<Series> = pair
            .iter()
            .map(|c| {
                let points = c.accuracy.iter().enumerate().map(|(e, &a)| ((e + 1) as f64, a)).collect();
                let label = if c.normalized { "batch norm" } else { "plain" };
                Series::line(label, points, figure::color(usize::from(c.normalized)))
            })
            .collect();
        figure::chart(panel, &axes, &series)?;
    }
    panels[0].present()?;
    for c in &curves {
        let reached = c.reached.map_or(format!("not in {epochs}"), |e| e.to_string());
        println!(
            "  {:<10} lr {:<5} epochs to {TARGET} validation accuracy: {reached:<7} final {:.4}",
            if c.normalized { "batch norm" } else { "plain" },
            c.lr,
            c.accuracy.last().copied().unwrap_or(0.0)
        );
    }
    println!("  figure: {}", path.display());
    Ok(curves)
}
