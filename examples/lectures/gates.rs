//! Lesson 3, the computational graph and its gates: backpropagation is
//! the chain rule applied gate by gate, and each kind of gate treats its
//! upstream gradient in a pattern of its own. The equations printed are
//! the ones the compiler derived (`describe()`); the numbers are checked
//! against finite differences of the loss.

use crate::common::{Ctx, Outcome, digits};
use crate::figure::{self, Axes, Mark, Series};
use chainrule::{Network, Workspace};

chainrule::network! {
    /// f = (x + y) * z + max(z, 0), with x, y and z the weights of three
    /// 1-to-1 dense layers fed the constant 1 (biases zero), so the
    /// gradient of f with respect to each weight is its gradient with
    /// respect to x, y or z. z is used twice.
    pub struct Expression {
        input: [1],
        graph: {
            let x = dense(input, 1);
            let y = dense(input, 1);
            let z = dense(input, 1);
            let q = x + y;
            q * z + relu(z)
        },
        loss: |f, t| f - t,
        scalar: f64,
    }
}

chainrule::network! {
    /// Two layers on the digits, in f64 for the finite differences.
    pub struct TwoLayerNet {
        input: [64],
        layers: [dense(8), sigmoid, dense(10)],
        loss: softmax_cross_entropy,
        scalar: f64,
    }
}

chainrule::network! {
    /// A regression by log-cosh, written as a closure: the compiler's
    /// derivative of it reads as the textbook's, `tanh(y - t)`.
    pub struct LogCosh {
        input: [2],
        layers: [dense(1)],
        loss: |y, t| ln(cosh(y - t)),
    }
}

pub struct Gates {
    /// (x, y, z) gradients as derived.
    pub expression: [f64; 3],
    /// The largest difference between a derived gradient and a central
    /// difference over every parameter of the two-layer network, relative
    /// to the larger of the two (or to 1e-4 where both are smaller: below
    /// that the difference is the central difference's own rounding).
    pub worst_relative_error: f64,
}

/// Central differences of `loss` in every parameter, relative step 1e-6.
fn finite_differences<N: Network<Scalar = f64>>(
    net: &mut N,
    inputs: &[N::Input],
    targets: &[N::Target],
) -> Outcome<Vec<f64>> {
    let mut ws = Workspace::new();
    let mut out = Vec::with_capacity(N::PARAM_LEN);
    for k in 0..N::PARAM_LEN {
        let p = net.params()[k];
        let h = 1e-6 * p.abs().max(1.0);
        net.params_mut()[k] = p + h;
        let up = net.loss(inputs, targets, &mut ws)?;
        net.params_mut()[k] = p - h;
        let down = net.loss(inputs, targets, &mut ws)?;
        net.params_mut()[k] = p;
        out.push((up - down) / (2.0 * h));
    }
    Ok(out)
}

pub fn run(ctx: &Ctx) -> Outcome<Gates> {
    // x = -2, y = 5, z = -4: the textbook's numbers. Layout: weight, bias per layer.
    let mut expression = Expression::from_params(&[-2.0, 0.0, 5.0, 0.0, -4.0, 0.0])?;
    let mut grad = vec![0.0; Expression::PARAM_LEN];
    let mut ws = Workspace::new();
    let f = expression.loss_and_grad(&[[1.0]], &[[0.0]], &mut grad, &mut ws)?;
    let numeric = finite_differences(&mut expression, &[[1.0]], &[[0.0]])?;
    println!("  f = (x + y) * z + max(z, 0) at x = -2, y = 5, z = -4: f = {f}");
    println!("  the derived graph:\n{}", indent(Expression::describe()));
    for (name, k, why) in [
        ("x", 0, "z: the product swaps its inputs, the sum passes it on"),
        ("y", 2, "z, as for x: addition gives both inputs the same gradient"),
        ("z", 4, "x + y from the product, plus 0 from max(z, 0): max routes to the winner, 0"),
    ] {
        println!("  df/d{name} = {:>5}   finite difference {:>9.6}   ({why})", grad[k], numeric[k]);
    }
    let derived = [grad[0], grad[2], grad[4]];
    let log_cosh = LogCosh::describe().lines().find(|l| l.contains("tanh")).unwrap_or("").trim();
    println!("  a closure's derivative, simplified: loss |y, t| ln(cosh(y - t)) gives\n    {log_cosh}");

    let data = digits()?;
    let count = ctx.size(64, 16);
    let inputs: Vec<[f64; 64]> = data.train.inputs()[..count].iter().map(|x| x.map(f64::from)).collect();
    let targets = &data.train.targets()[..count];
    let mut net = TwoLayerNet::new(3);
    let mut grad = vec![0.0; TwoLayerNet::PARAM_LEN];
    net.loss_and_grad(&inputs, targets, &mut grad, &mut ws)?;
    let numeric = finite_differences(&mut net, &inputs, targets)?;
    let worst = grad
        .iter()
        .zip(&numeric)
        .map(|(a, b)| (a - b).abs() / a.abs().max(b.abs()).max(1e-4))
        .fold(0.0, f64::max);
    println!(
        "  the two-layer network's backward pass as derived:\n{}",
        indent(backward_of(TwoLayerNet::describe()))
    );
    println!(
        "  all {} parameters of the two-layer network: largest relative difference from central differences (floor 1e-4) {worst:.1e}",
        TwoLayerNet::PARAM_LEN
    );

    let path = ctx.figure("03-gradient-check.svg")?;
    let panels = figure::canvas(&path, (640, 560), "Derived gradients against central differences", 1, 1)?;
    let points: Vec<(f64, f64)> = grad.iter().zip(&numeric).map(|(&a, &b)| (a, b)).collect();
    let (low, high) = points.iter().fold((0.0f64, 0.0f64), |(l, h), p| (l.min(p.0), h.max(p.0)));
    let mut axes = Axes::new(
        "every parameter of the two-layer network on 64 digits",
        "derived by the chain rule",
        "central difference",
    );
    axes.x_range = Some(low * 1.1..high * 1.1);
    axes.y_range = axes.x_range.clone();
    let diagonal = vec![(low * 1.1, low * 1.1), (high * 1.1, high * 1.1)];
    figure::chart(
        &panels[0],
        &axes,
        &[
            Series::line("y = x", diagonal, figure::color(7)),
            Series::line(format!("{} parameters", TwoLayerNet::PARAM_LEN), points, figure::color(0))
                .with(Mark::Dots),
        ],
    )?;
    panels[0].present()?;
    println!("  figure: {}", path.display());
    Ok(Gates { expression: derived, worst_relative_error: worst })
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}

fn backward_of(text: &str) -> &str {
    text.find("backward").map_or(text, |at| &text[at..])
}
