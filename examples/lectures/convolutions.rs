//! Lesson 9, convolutions: a convolution slides one small filter over the
//! image, so it has few weights and finds a pattern wherever it is. Its
//! output is (n + 2p - k) / s + 1 wide for input width n, padding p,
//! kernel k and stride s; a 1x1 convolution mixes channels and keeps the
//! size. A small CNN's first-layer filters and what they see in a digit.

use crate::common::{Ctx, Outcome, digits};
use crate::figure;
use chainrule::optim::Adam;
use chainrule::{Network, Trainer, metrics};

macro_rules! single {
    ($name:ident, $input:tt, $layer:expr) => {
        chainrule::network! {
            pub struct $name { input: $input, layers: [$layer], loss: mse }
        }
    };
}
single!(Valid, [1, 8, 8], conv2d(4, kernel = 3));
single!(Same, [1, 8, 8], conv2d(4, kernel = 3, padding = same));
single!(Strided, [1, 8, 8], conv2d(4, kernel = 3, stride = 2));
single!(PaddedStrided, [1, 8, 8], conv2d(4, kernel = 3, stride = 2, padding = 1));
single!(Wide, [1, 28, 28], conv2d(6, kernel = 5, stride = 1, padding = 2));
single!(OneByOne, [16, 8, 8], conv2d(4, kernel = 1));
single!(Pooled, [4, 8, 8], max_pool2d(2, 2));

chainrule::network! {
    /// 8 filters of 3x3, ReLU, 2x2 max pooling, the 10 scores.
    pub struct SmallCnn {
        input: [1, 8, 8],
        layers: [conv2d(8, kernel = 3, padding = same), relu, max_pool2d(2, 2), flatten, dense(10)],
        loss: softmax_cross_entropy,
    }
}

chainrule::network! {
    /// SmallCnn's first two layers: its parameters are SmallCnn's first ones.
    pub struct FirstLayer {
        input: [1, 8, 8],
        layers: [conv2d(8, kernel = 3, padding = same), relu],
        loss: mse,
    }
}

/// The output shape of a network's first convolution or pooling, as the
/// compiler wrote it into `describe()`.
fn output_shape(describe: &str) -> String {
    let line = describe.lines().find(|l| l.contains("conv(") || l.contains("pool(")).unwrap_or("");
    line.rfind('[').map_or_else(String::new, |at| line[at..].replace("batch, ", ""))
}

pub struct Convolutions {
    /// (layer, input shape, output shape from the compiler, parameter count).
    pub sizes: Vec<(&'static str, &'static str, String, usize)>,
    pub test_accuracy: f64,
}

pub fn run(ctx: &Ctx) -> Outcome<Convolutions> {
    let sizes = vec![
        ("conv2d(4, kernel = 3)", "[1, 8, 8]", output_shape(Valid::describe()), Valid::PARAM_LEN),
        (
            "conv2d(4, kernel = 3, padding = same)",
            "[1, 8, 8]",
            output_shape(Same::describe()),
            Same::PARAM_LEN,
        ),
        (
            "conv2d(4, kernel = 3, stride = 2)",
            "[1, 8, 8]",
            output_shape(Strided::describe()),
            Strided::PARAM_LEN,
        ),
        (
            "conv2d(4, kernel = 3, stride = 2, padding = 1)",
            "[1, 8, 8]",
            output_shape(PaddedStrided::describe()),
            PaddedStrided::PARAM_LEN,
        ),
        (
            "conv2d(6, kernel = 5, padding = 2)",
            "[1, 28, 28]",
            output_shape(Wide::describe()),
            Wide::PARAM_LEN,
        ),
        ("conv2d(4, kernel = 1)", "[16, 8, 8]", output_shape(OneByOne::describe()), OneByOne::PARAM_LEN),
        ("max_pool2d(2, 2)", "[4, 8, 8]", output_shape(Pooled::describe()), Pooled::PARAM_LEN),
    ];
    for (layer, input, output, params) in &sizes {
        println!("  {layer:<48} {input:>12} -> {output:<12} {params:>4} parameters");
    }

    let data = digits()?;
    let (train, test) = (&data.train, &data.test);
    let mut cnn = SmallCnn::new(1);
    let mut trainer = Trainer::new(Adam::new(3e-3), 32, 1);
    for _ in 0..ctx.size(20, 2) {
        trainer.train_epoch(&mut cnn, train)?;
    }
    let test_accuracy = metrics::accuracy(&cnn, test);
    println!("  the CNN ({} parameters): test accuracy {test_accuracy:.4}", SmallCnn::PARAM_LEN);

    let first = FirstLayer::from_params(&cnn.params()[..FirstLayer::PARAM_LEN])?;
    let filters: Vec<(String, Vec<f64>)> = (0..8)
        .map(|f| {
            (format!("filter {}", f + 1), cnn.params()[f * 9..][..9].iter().map(|&w| f64::from(w)).collect())
        })
        .collect();
    let digit = &test.inputs()[0];
    let maps = first.predict(digit);
    let mut seen = vec![(
        format!("a test digit ({})", test.targets()[0]),
        digit.iter().map(|&p| f64::from(p)).collect(),
    )];
    seen.extend(
        (0..8).map(|f| {
            (format!("map {}", f + 1), maps[f * 64..][..64].iter().map(|&v| f64::from(v)).collect())
        }),
    );

    let path = ctx.figure("09-convolutions.svg")?;
    let panels = figure::canvas(
        &path,
        (1300, 560),
        "A small CNN on 8x8 digits: learned 3x3 filters and their feature maps",
        2,
        1,
    )?;
    figure::images(&panels[0], "first-layer filters (red positive, blue negative)", &filters, 3, 9, true)?;
    figure::images(
        &panels[1],
        "a digit and its feature maps after the filters and ReLU (black 0, white the map's largest)",
        &seen,
        8,
        9,
        false,
    )?;
    panels[0].present()?;
    println!("  figure: {}", path.display());
    Ok(Convolutions { sizes, test_accuracy })
}
