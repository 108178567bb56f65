//! Lesson 2, linear classifiers: a score per class, each a weighted sum of
//! the pixels, so each class's weight row is a template the image is
//! matched against. The multiclass SVM (hinge) loss is satisfied once the
//! right class wins by a margin of 1, and then contributes nothing; the
//! softmax cross-entropy is never satisfied and keeps pushing the right
//! score up.

use crate::common::{Ctx, Outcome, digits};
use crate::figure::{self, Axes, Series};
use chainrule::optim::Sgd;
use chainrule::{Dataset, Network, Trainer, Workspace, metrics};

chainrule::network! {
    /// Ten scores, each a weighted sum of the 64 pixels; softmax cross-entropy.
    pub struct SoftmaxClassifier {
        input: [64],
        layers: [dense(10)],
        loss: softmax_cross_entropy,
    }
}

chainrule::network! {
    /// The same scores; the multiclass SVM loss.
    pub struct SvmClassifier {
        input: [64],
        layers: [dense(10)],
        loss: multiclass_hinge,
    }
}

/// What one loss made of the same linear classifier.
pub struct Trained {
    pub test_accuracy: f64,
    /// Training examples the right class wins by at least 1.
    pub past_margin: f64,
    /// Their mean loss: what is still pushing on them.
    pub loss_past_margin: f64,
}

pub struct Linear {
    pub softmax: Trained,
    pub svm: Trained,
}

/// The right class's score minus the best other one, per example.
fn margins<N: Network<Input = [f32; 64], Target = usize, Scalar = f32>>(
    net: &N,
    data: &Dataset<[f32; 64], usize>,
) -> Vec<f64> {
    data.inputs()
        .iter()
        .zip(data.targets())
        .map(|(x, &t)| {
            let y = net.predict(x);
            let s = y.as_ref();
            let other =
                s.iter().enumerate().filter(|&(j, _)| j != t).fold(f32::NEG_INFINITY, |m, (_, &v)| m.max(v));
            f64::from(s[t] - other)
        })
        .collect()
}

fn train<N: Network<Input = [f32; 64], Target = usize, Scalar = f32> + Sync>(
    mut net: N,
    data: &crate::common::Digits,
    epochs: usize,
) -> Outcome<(N, Trained, Vec<f64>)> {
    // L2 as weight decay, outside the loss, so the loss of an example is
    // its data term alone.
    let mut trainer = Trainer::new(Sgd::new(0.1).momentum(0.9).weight_decay(1e-3), 32, 3);
    for _ in 0..epochs {
        trainer.train_epoch(&mut net, &data.train)?;
    }
    let m = margins(&net, &data.train);
    let mut ws = Workspace::new();
    let mut past = Vec::new();
    for ((x, t), &margin) in data.train.inputs().iter().zip(data.train.targets()).zip(&m) {
        if margin >= 1.0 {
            past.push(f64::from(net.loss(&[*x], &[*t], &mut ws)?));
        }
    }
    let trained = Trained {
        test_accuracy: metrics::accuracy(&net, &data.test),
        past_margin: past.len() as f64 / m.len() as f64,
        loss_past_margin: past.iter().sum::<f64>() / past.len().max(1) as f64,
    };
    Ok((net, trained, m))
}

pub fn run(ctx: &Ctx) -> Outcome<Linear> {
    let data = digits()?;
    let epochs = ctx.size(30, 5);
    let (softmax_net, softmax, softmax_margins) = train(SoftmaxClassifier::new(1), &data, epochs)?;
    let (svm_net, svm, svm_margins) = train(SvmClassifier::new(1), &data, epochs)?;

    let path = ctx.figure("02-linear-classifiers.svg")?;
    let root =
        figure::canvas(&path, (1100, 720), "Linear classifiers on 8x8 digits: templates and margins", 1, 1)?;
    let (templates_area, margins_area) = root[0].split_vertically(300);
    let panels = templates_area.split_evenly((2, 1));
    let templates = |params: &[f32]| -> Vec<(String, Vec<f64>)> {
        (0..10)
            .map(|c| (c.to_string(), params[c * 64..][..64].iter().map(|&w| f64::from(w)).collect()))
            .collect()
    };
    let rows = [(&panels[0], "softmax", softmax_net.params()), (&panels[1], "SVM", svm_net.params())];
    for (panel, name, params) in rows {
        let caption = format!("{name}: each class's weights as an 8x8 image (red positive, blue negative)");
        figure::images(panel, &caption, &templates(params), 8, 10, true)?;
    }
    let hist = |m: &[f64]| -> Vec<(f64, f64)> {
        (0..40)
            .map(|k| {
                let left = -2.0 + k as f64 * 0.25;
                let n = m.iter().filter(|&&v| v >= left && v < left + 0.25).count();
                (left + 0.125, n as f64 / m.len() as f64)
            })
            .collect()
    };
    let mut axes = Axes::new(
        "training examples by margin (right score minus best other): hinge stops pushing past 1, softmax never does",
        "margin",
        "fraction of training examples",
    );
    axes.x_range = Some(-2.0..8.0);
    figure::chart(
        &margins_area,
        &axes,
        &[
            Series::line("softmax cross-entropy", hist(&softmax_margins), figure::color(0)),
            Series::line("multiclass hinge (SVM)", hist(&svm_margins), figure::color(1)),
        ],
    )?;
    root[0].present()?;
    let result = Linear { softmax, svm };
    for (name, t) in [("softmax", &result.softmax), ("SVM    ", &result.svm)] {
        println!(
            "  {name}: test accuracy {:.4}; {:.1}% of training examples past the margin of 1, their mean loss {:.4}",
            t.test_accuracy,
            100.0 * t.past_margin,
            t.loss_past_margin
        );
    }
    println!("  figure: {}", path.display());
    Ok(result)
}
