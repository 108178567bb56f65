//! Lesson 4, update rules: on f(x, y) = x^2 / 20 + y^2, a valley twenty
//! times flatter along x than along y, plain gradient descent crawls along
//! the valley; momentum gathers speed where the gradient keeps its sign;
//! AdaGrad, RMSProp and Adam scale each coordinate's step by its own
//! gradient history. The rules are chainrule's optimizers, stepping the two
//! coordinates as if they were a network's parameters.

use crate::common::{Ctx, Outcome};
use crate::figure::{self, Axes, Mark, Series};
use chainrule::optim::{AdaGrad, Adam, Optimizer, RmsProp, Sgd};

pub const START: [f64; 2] = [-7.0, 2.0];
/// Steps until f falls below this.
pub const TOLERANCE: f64 = 1e-3;

fn f(p: &[f64]) -> f64 {
    p[0] * p[0] / 20.0 + p[1] * p[1]
}

fn gradient(p: &[f64]) -> [f64; 2] {
    [p[0] / 10.0, 2.0 * p[1]]
}

pub struct Run {
    pub name: String,
    pub path: Vec<(f64, f64)>,
    /// The first step at which f < TOLERANCE, if any within the budget.
    pub steps: Option<usize>,
}

fn descend(name: &str, mut rule: Box<dyn Optimizer<f64>>, budget: usize) -> Outcome<Run> {
    let mut p = START.to_vec();
    let mut path = vec![(p[0], p[1])];
    let mut steps = None;
    for step in 1..=budget {
        let g = gradient(&p);
        rule.step(&mut p, &g)?;
        path.push((p[0], p[1]));
        if steps.is_none() && f(&p) < TOLERANCE {
            steps = Some(step);
        }
    }
    Ok(Run { name: name.to_string(), path, steps })
}

/// Every rule from the same start; SGD, momentum and Nesterov at the same
/// learning rate, the adaptive rules at the rates the textbook figure uses.
pub fn runs(budget: usize) -> Outcome<Vec<Run>> {
    let rules: Vec<(&str, Box<dyn Optimizer<f64>>)> = vec![
        ("SGD, lr 0.1", Box::new(Sgd::new(0.1))),
        ("SGD, lr 0.95", Box::new(Sgd::new(0.95))),
        ("momentum 0.9, lr 0.1", Box::new(Sgd::new(0.1).momentum(0.9))),
        ("Nesterov 0.9, lr 0.1", Box::new(Sgd::new(0.1).momentum(0.9).nesterov(true))),
        ("AdaGrad, lr 1.5", Box::new(AdaGrad::new(1.5))),
        ("RMSProp, lr 0.1", Box::new(RmsProp::new(0.1))),
        ("Adam, lr 0.3", Box::new(Adam::new(0.3))),
    ];
    rules.into_iter().map(|(name, rule)| descend(name, rule, budget)).collect()
}

pub fn run(ctx: &Ctx) -> Outcome<Vec<Run>> {
    let runs = runs(ctx.size(1000, 1000))?;
    let path = ctx.figure("04-update-rules.svg")?;
    let panels = figure::canvas(
        &path,
        (1100, 620),
        "Update rules on f(x, y) = x^2/20 + y^2 from (-7, 2), 30 steps",
        1,
        1,
    )?;
    // The level sets are ellipses: x = sqrt(20 c) cos s, y = sqrt(c) sin s.
    let mut series: Vec<Series> = [0.05, 0.25, 1.0, 2.5, 4.5]
        .iter()
        .map(|&level: &f64| {
            let ellipse = (0..=120)
                .map(|k| {
                    let s = std::f64::consts::TAU * k as f64 / 120.0;
                    ((20.0 * level).sqrt() * s.cos(), level.sqrt() * s.sin())
                })
                .collect();
            Series::line("", ellipse, figure::color(7))
        })
        .collect();
    for (k, r) in runs.iter().enumerate() {
        let shown = r.path.iter().take(31).copied().collect();
        series.push(Series::line(r.name.clone(), shown, figure::color(k)).with(Mark::LineDots));
    }
    let mut axes = Axes::new("contours of f; each rule's first 30 steps", "x", "y");
    (axes.x_range, axes.y_range) = (Some(-10.0..10.0), Some(-3.0..3.0));
    figure::chart(&panels[0], &axes, &series)?;
    panels[0].present()?;
    for r in &runs {
        let steps = r.steps.map_or("not within 1000".to_string(), |s| s.to_string());
        println!("  {:<22} steps to f < {TOLERANCE}: {steps}", r.name);
    }
    println!("  figure: {}", path.display());
    Ok(runs)
}
