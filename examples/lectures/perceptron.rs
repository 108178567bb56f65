//! Lesson 1, perceptrons and XOR: one layer draws one straight boundary,
//! and no straight line puts (0, 1) and (1, 0) on one side and (0, 0) and
//! (1, 1) on the other; a hidden layer bends the boundary.

use crate::common::{Ctx, Outcome};
use crate::figure::{self, Axes, Series};
use chainrule::optim::Sgd;
use chainrule::{Dataset, Network, Trainer, metrics};

chainrule::network! {
    /// A single layer: two class scores, each a weighted sum of the inputs.
    pub struct OneLayer {
        input: [2],
        layers: [dense(2)],
        loss: softmax_cross_entropy,
    }
}

chainrule::network! {
    /// A hidden layer of eight tanh units, then the class scores.
    pub struct TwoLayers {
        input: [2],
        layers: [dense(8), tanh, dense(2)],
        loss: softmax_cross_entropy,
    }
}

pub struct Perceptron {
    pub one_layer: f64,
    pub two_layers: f64,
}

fn train<N: Network<Input = [f32; 2], Target = usize>>(
    net: &mut N,
    data: &Dataset<[f32; 2], usize>,
    epochs: usize,
) -> Outcome<()> {
    let mut trainer = Trainer::new(Sgd::new(0.5), 4, 0);
    for _ in 0..epochs {
        trainer.train_epoch(net, data)?;
    }
    Ok(())
}

pub fn run(ctx: &Ctx) -> Outcome<Perceptron> {
    let xs = vec![[0.0f32, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
    let data = Dataset::new(xs.clone(), vec![0usize, 1, 1, 0])?;
    let epochs = ctx.size(2000, 500);
    let (mut one, mut two) = (OneLayer::new(1), TwoLayers::new(1));
    train(&mut one, &data, epochs)?;
    train(&mut two, &data, epochs)?;
    let result =
        Perceptron { one_layer: metrics::accuracy(&one, &data), two_layers: metrics::accuracy(&two, &data) };

    let path = ctx.figure("01-xor.svg")?;
    let panels =
        figure::canvas(&path, (1000, 470), "XOR: the classes each network assigns to the plane", 1, 2)?;
    let points = [
        Series::line("xor = 0", vec![(0.0, 0.0), (1.0, 1.0)], figure::color(0)),
        Series::line("xor = 1", vec![(0.0, 1.0), (1.0, 0.0)], figure::color(1)),
    ];
    let region = |panel, caption: String, class: &dyn Fn(f64, f64) -> usize| -> Outcome<()> {
        let mut axes = Axes::new(&caption, "input a", "input b");
        (axes.x_range, axes.y_range) = (Some(-0.5..1.5), Some(-0.5..1.5));
        figure::regions(panel, &axes, 80, class, &points)
    };
    let at = |x: f64, y: f64| [x as f32, y as f32];
    region(
        &panels[0],
        format!("one layer: {:.0}% of the points right", 100.0 * result.one_layer),
        &|x, y| metrics::argmax(&one.predict(&at(x, y))),
    )?;
    region(
        &panels[1],
        format!("a hidden layer of 8 tanh units: {:.0}%", 100.0 * result.two_layers),
        &|x, y| metrics::argmax(&two.predict(&at(x, y))),
    )?;
    panels[0].present()?;
    println!("  single layer: {:.2} of the four points right (at most 3 of 4 can be)", result.one_layer);
    println!("  two layers:   {:.2}", result.two_layers);
    println!("  figure: {}", path.display());
    Ok(result)
}
