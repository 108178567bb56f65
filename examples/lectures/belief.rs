//! Lesson 11, deep belief networks: a restricted Boltzmann machine learns,
//! without labels, hidden features from which it can reconstruct its
//! input (contrastive divergence); stacked and trained greedily layer by
//! layer they initialize a deep sigmoid network, which backpropagation
//! then fine-tunes.

use crate::common::{Ctx, Outcome, digits};
use crate::figure::{self, Axes, Mark, Series};
use chainrule::optim::Sgd;
use chainrule::rbm::{self, CdConfig, Visible};
use chainrule::train::{FitConfig, Progress};
use chainrule::{Network, Trainer};

chainrule::network! {
    /// Two sigmoid layers of 100, then the scores.
    pub struct Belief {
        input: [64],
        layers: [dense(100), sigmoid, dense(100), sigmoid, dense(10)],
        loss: softmax_cross_entropy,
    }
}

pub struct Dbn {
    /// Per-epoch reconstruction error of the first RBM, then of the second.
    pub reconstruction: [Vec<f64>; 2],
    /// Validation accuracy per fine-tuning epoch: pre-trained, random.
    pub pretrained: Vec<f64>,
    pub random: Vec<f64>,
    pub test: [f64; 2],
}

pub fn run(ctx: &Ctx) -> Outcome<Dbn> {
    let data = digits()?;
    let cd = CdConfig {
        epochs: ctx.size(30, 10),
        learning_rate: 0.05,
        batch_size: 16,
        seed: 1,
        ..CdConfig::default()
    };
    let mut pre = Belief::new(1);
    let reports = rbm::pretrain(&mut pre, data.train.inputs(), 2, Visible::Binary, &cd)?;
    let errors = |k: usize| reports[k].iter().map(|r| r.reconstruction_error).collect::<Vec<f64>>();
    let reconstruction = [errors(0), errors(1)];
    let w = &Belief::LAYOUT[0];
    let filters: Vec<(String, Vec<f64>)> = (0..40)
        .map(|h| {
            (String::new(), pre.params()[w.offset + h * 64..][..64].iter().map(|&v| f64::from(v)).collect())
        })
        .collect();

    let tune = FitConfig::epochs(ctx.size(20, 2)).progress(Progress::Silent).restore_best(false);
    let mut curves = Vec::new();
    let mut test = [0.0; 2];
    for (k, mut net) in [pre, Belief::new(1)].into_iter().enumerate() {
        let mut trainer = Trainer::new(Sgd::new(0.05).momentum(0.9), 32, 1);
        let history = trainer.fit(&mut net, &data.train, Some(&data.validation), &tune)?;
        curves
            .push(history.epochs.iter().map(|r| r.validation_accuracy.unwrap_or(0.0)).collect::<Vec<f64>>());
        test[k] = chainrule::metrics::accuracy(&net, &data.test);
    }
    let random = curves.pop().unwrap_or_default();
    let pretrained = curves.pop().unwrap_or_default();

    let path = ctx.figure("11-deep-belief.svg")?;
    let root = figure::canvas(&path, (1300, 700), "A deep belief network on 8x8 digits", 1, 1)?;
    let (top, bottom) = root[0].split_vertically(200);
    figure::images(
        &top,
        "40 of the first RBM's 100 filters (weights into a hidden unit; red positive, blue negative)",
        &filters,
        8,
        20,
        true,
    )?;
    let halves = bottom.split_evenly((1, 2));
    let epochs =
        |v: &[f64]| -> Vec<(f64, f64)> { v.iter().enumerate().map(|(e, &a)| ((e + 1) as f64, a)).collect() };
    let axes = Axes::new(
        "contrastive divergence (CD-1): reconstruction error",
        "epoch",
        "mean squared reconstruction error",
    );
    figure::chart(
        &halves[0],
        &axes,
        &[
            Series::line("RBM 1 (pixels to 100)", epochs(&reconstruction[0]), figure::color(0))
                .with(Mark::LineDots),
            Series::line("RBM 2 (100 to 100)", epochs(&reconstruction[1]), figure::color(1))
                .with(Mark::LineDots),
        ],
    )?;
    let axes =
        Axes::new("fine-tuning by backpropagation (SGD, momentum 0.9)", "epoch", "validation accuracy");
    figure::chart(
        &halves[1],
        &axes,
        &[
            Series::line("pre-trained", epochs(&pretrained), figure::color(2)).with(Mark::LineDots),
            Series::line("random initialization", epochs(&random), figure::color(3)).with(Mark::LineDots),
        ],
    )?;
    root[0].present()?;
    let show = |v: &[f64]| format!("{:.4} -> {:.4}", v[0], v[v.len() - 1]);
    println!(
        "  reconstruction error, epoch 1 -> {}: RBM 1 {}, RBM 2 {}",
        cd.epochs,
        show(&reconstruction[0]),
        show(&reconstruction[1])
    );
    println!(
        "  validation accuracy, fine-tuning epoch 1 -> last: pre-trained {}, random {}",
        show(&pretrained),
        show(&random)
    );
    println!("  test accuracy: pre-trained {:.4}, random initialization {:.4}", test[0], test[1]);
    println!("  figure: {}", path.display());
    Ok(Dbn { reconstruction, pretrained, random, test })
}
