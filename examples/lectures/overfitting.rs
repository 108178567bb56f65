//! Lesson 8, overfitting and its remedies: a network with far more
//! parameters than training examples learns them by heart, and its error
//! on unseen data rises while its training loss still falls. Dropout, an
//! L2 penalty (weights pulled towards zero), an L1 penalty (weights pushed
//! to exactly zero: sparse), and early stopping (keep the epoch that did
//! best on validation data) each trade some fit for generality.

use crate::common::{Ctx, Outcome, digits};
use crate::figure::{self, Axes, Mark, Series};
use chainrule::optim::Adam;
use chainrule::train::{EarlyStopping, FitConfig, History, Progress};
use chainrule::{Dataset, Network, Trainer, metrics};

chainrule::network! {
    /// 83,466 parameters for a few hundred examples.
    pub struct Big {
        input: [64],
        layers: [dense(256), relu, dense(256), relu, dense(10)],
        loss: softmax_cross_entropy,
    }
}

chainrule::network! {
    pub struct BigDropout {
        input: [64],
        layers: [dense(256), relu, dropout(0.5), dense(256), relu, dropout(0.5), dense(10)],
        loss: softmax_cross_entropy,
    }
}

chainrule::network! {
    pub struct BigL2 {
        input: [64],
        layers: [dense(256), relu, dense(256), relu, dense(10)],
        loss: softmax_cross_entropy,
        regularizer: l2(1e-3),
    }
}

chainrule::network! {
    pub struct BigL1 {
        input: [64],
        layers: [dense(256), relu, dense(256), relu, dense(10)],
        loss: softmax_cross_entropy,
        regularizer: l1(1e-4),
    }
}

pub struct Variant {
    pub name: &'static str,
    pub history: History,
    /// Training, validation and test accuracy of the weights kept.
    pub accuracy: [f64; 3],
    /// First-layer weights below 1e-3 in magnitude.
    pub sparsity: f64,
    pub first_layer: Vec<f64>,
}

fn variant<N>(
    name: &'static str,
    mut net: N,
    train: &Dataset<[f32; 64], usize>,
    data: &crate::common::Digits,
    config: &FitConfig,
) -> Outcome<Variant>
where
    N: Network<Input = [f32; 64], Target = usize, Scalar = f32> + Sync,
{
    let mut trainer = Trainer::new(Adam::new(1e-3), 32, 1);
    let history = trainer.fit(&mut net, train, Some(&data.validation), config)?.clone();
    let w = &N::LAYOUT[0];
    let first_layer: Vec<f64> = net.params()[w.offset..][..w.len()].iter().map(|&v| f64::from(v)).collect();
    Ok(Variant {
        name,
        history,
        accuracy: [
            metrics::accuracy(&net, train),
            metrics::accuracy(&net, &data.validation),
            metrics::accuracy(&net, &data.test),
        ],
        sparsity: first_layer.iter().filter(|v| v.abs() < 1e-3).count() as f64 / first_layer.len() as f64,
        first_layer,
    })
}

pub fn run(ctx: &Ctx) -> Outcome<Vec<Variant>> {
    let data = digits()?;
    let small: Vec<usize> = (0..ctx.size(200, 100)).collect();
    let train = data.train.subset(&small);
    let epochs = ctx.size(300, 60);
    // The last epoch's weights, to show the overfit; early stopping keeps the best.
    let to_the_end = FitConfig::epochs(epochs).progress(Progress::Silent).restore_best(false);
    let early = FitConfig::epochs(epochs)
        .progress(Progress::Silent)
        .early_stopping(EarlyStopping { patience: 30, min_delta: 0.0 });
    let variants = vec![
        variant("no remedy", Big::new(1), &train, &data, &to_the_end)?,
        variant("dropout 0.5", BigDropout::new(1), &train, &data, &to_the_end)?,
        variant("L2 1e-3", BigL2::new(1), &train, &data, &to_the_end)?,
        variant("L1 1e-4", BigL1::new(1), &train, &data, &to_the_end)?,
        variant("early stopping", Big::new(1), &train, &data, &early)?,
    ];
    let kept = best_epoch(&variants[4].history);

    let path = ctx.figure("08-overfitting.svg")?;
    let panels = figure::canvas(
        &path,
        (1400, 470),
        &format!("{} training digits, a network of 83,466 parameters", train.len()),
        1,
        3,
    )?;
    let curve = |h: &History, validation: bool| -> Vec<(f64, f64)> {
        h.epochs
            .iter()
            .map(|r| {
                (
                    r.epoch as f64,
                    if validation { r.validation_loss.unwrap_or(f64::NAN) } else { r.train_loss },
                )
            })
            .collect()
    };
    let mut series: Vec<Series> = variants[..4]
        .iter()
        .enumerate()
        .map(|(k, v)| Series::line(v.name, curve(&v.history, true), figure::color(k)))
        .collect();
    let at_kept =
        variants[0].history.epochs.get(kept.saturating_sub(1)).and_then(|r| r.validation_loss).unwrap_or(0.0);
    series.push(
        Series::line(
            format!("early stopping keeps epoch {kept}"),
            vec![(kept as f64, at_kept)],
            figure::color(4),
        )
        .with(Mark::Dots),
    );
    let mut axes = Axes::new("validation loss", "epoch", "validation loss");
    axes.log_y = true;
    figure::chart(&panels[0], &axes, &series)?;
    let series: Vec<Series> = variants[..4]
        .iter()
        .enumerate()
        .map(|(k, v)| Series::line(v.name, curve(&v.history, false), figure::color(k)))
        .collect();
    let mut axes = Axes::new("training loss (with the penalty)", "epoch", "training loss");
    axes.log_y = true;
    figure::chart(&panels[1], &axes, &series)?;
    let magnitudes = |v: &Variant| -> Vec<(f64, f64)> {
        (0..30)
            .map(|k| {
                let (low, high) =
                    (10f64.powf(-6.0 + k as f64 * 0.2), 10f64.powf(-6.0 + (k + 1) as f64 * 0.2));
                let n = v.first_layer.iter().filter(|w| (low..high).contains(&w.abs())).count();
                ((low * high).sqrt(), n as f64 / v.first_layer.len() as f64)
            })
            .collect()
    };
    let mut axes = Axes::new("first-layer weight magnitudes", "|weight|", "fraction of weights");
    axes.log_x = true;
    figure::chart(
        &panels[2],
        &axes,
        &[
            Series::line("no remedy", magnitudes(&variants[0]), figure::color(0)),
            Series::line("L1 1e-4", magnitudes(&variants[3]), figure::color(3)),
        ],
    )?;
    panels[0].present()?;
    println!(
        "  {:<15} {:>8} {:>10} {:>8} {:>22}",
        "", "training", "validation", "test", "first-layer |w| < 1e-3"
    );
    for v in &variants {
        println!(
            "  {:<15} {:>8.4} {:>10.4} {:>8.4} {:>21.1}%",
            v.name,
            v.accuracy[0],
            v.accuracy[1],
            v.accuracy[2],
            100.0 * v.sparsity
        );
    }
    println!(
        "  early stopping kept epoch {kept} of the {} it ran (patience 30)",
        variants[4].history.epochs.len()
    );
    println!("  figure: {}", path.display());
    Ok(variants)
}

/// The epoch of lowest validation loss: the one early stopping keeps.
pub fn best_epoch(history: &History) -> usize {
    history
        .epochs
        .iter()
        .filter_map(|r| r.validation_loss.map(|l| (r.epoch, l)))
        .fold((0, f64::INFINITY), |best, (e, l)| if l < best.1 { (e, l) } else { best })
        .0
}
