//! # Two inputs, two outputs: species and petal width of iris flowers
//!
//! A graph network with two named inputs and two named outputs, each
//! output with its own loss and weight: from a flower's sepal (length and
//! width, one input) and its petal length (the other input), it predicts
//! the species (3 classes, softmax cross-entropy) and the petal width (a
//! value, mean squared error, weighted 0.5 in the total loss).
//!
//! The 150 flowers of Fisher's iris data are split, seeded, into 120 to
//! train and 30 to test; inputs and the width are standardized on the
//! training split. Adam trains for 300 epochs of batches of 16; the
//! example prints the test accuracy of the species and the root mean
//! squared error of the width, in centimetres.
//!
//! ```sh
//! cargo run --release --example iris_two_heads -- ../shared/data/iris/iris.csv [seed]
//! ```

#[path = "shared/failure.rs"]
mod failure;
#[path = "shared/seed.rs"]
mod seed;

use chainrule::optim::Adam;
use chainrule::train::{FitConfig, Progress};
use chainrule::{Dataset, Network, Trainer, data};

chainrule::network! {
    /// Sepal and petal length in; species scores and petal width out.
    pub struct Iris {
        input: { sepal: [2], petal_length: [1] },
        graph: {
            let s = dense(sepal, 8);
            let p = dense(petal_length, 4);
            let h = dense(tanh(concat(s, p)), 16);
            let species = dense(relu(h), 3);
            let width = dense(relu(h), 1);
            (species, width)
        },
        loss: { species: softmax_cross_entropy, width: 0.5 * mse },
    }
}

/// One flower's targets: its species and its standardized petal width.
type Targets = (usize, [f32; 1]);

fn main() -> Result<(), failure::Failure> {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: cargo run --release --example iris_two_heads -- <iris.csv> [seed]");
        eprintln!("       (in this repository's environment: ../shared/data/iris/iris.csv)");
        std::process::exit(2);
    };
    let seed = seed::from_args();
    // Columns: sepal length, sepal width, petal length, petal width, species.
    let table = data::read_csv(&path, 1)?;
    if table.columns != 5 {
        return Err(
            chainrule::Error::Dataset(format!("expected iris' 5 columns, found {}", table.columns)).into()
        );
    }
    let rows: Vec<&[f64]> = table.values.chunks_exact(5).collect();
    let (train_rows, test_rows) = split(&rows, seed)?;
    // Standardized on the training flowers: each input column and the width.
    let stats = |column: usize| {
        let values: Vec<f64> = train_rows.iter().map(|r| r[column]).collect();
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64;
        (mean, var.sqrt())
    };
    let columns: Vec<(f64, f64)> = (0..4).map(stats).collect();
    let scaled = |row: &[f64], k: usize| ((row[k] - columns[k].0) / columns[k].1) as f32;
    let dataset = |rows: &[&[f64]]| -> Result<Dataset<[f32; 3], Targets>, chainrule::Error> {
        let inputs =
            rows.iter().map(|r| Iris::inputs(&[scaled(r, 0), scaled(r, 1)], &[scaled(r, 2)])).collect();
        let targets = rows.iter().map(|r| (r[4] as usize, [scaled(r, 3)])).collect();
        Dataset::new(inputs, targets)
    };
    let (train, test) = (dataset(&train_rows)?, dataset(&test_rows)?);

    let mut net = Iris::new(seed);
    let mut trainer = Trainer::new(Adam::new(1e-2), 16, seed);
    let history = trainer.fit(&mut net, &train, None, &FitConfig::epochs(300).progress(Progress::Silent))?;
    let last = history.epochs.last().map_or(f64::NAN, |e| e.train_loss);
    println!("{} flowers to train, {} to test; final training loss {last:.4}", train.len(), test.len());

    let (mut right, mut squared) = (0, 0.0);
    for (x, (species, width)) in test.inputs().iter().zip(test.targets()) {
        let out = net.predict(x);
        let (scores, predicted) = Iris::outputs(&out);
        right += usize::from(chainrule::metrics::argmax(scores) == *species);
        // Back to centimetres.
        squared += (f64::from(predicted[0] - width[0]) * columns[3].1).powi(2);
    }
    println!("species: test accuracy {:.4}", right as f64 / test.len() as f64);
    println!("petal width: test RMSE {:.3} cm", (squared / test.len() as f64).sqrt());
    Ok(())
}

/// 120 rows to train and 30 to test, in an order drawn from `seed`.
type Rows<'a> = Vec<&'a [f64]>;

fn split<'a>(rows: &[&'a [f64]], seed: u64) -> Result<(Rows<'a>, Rows<'a>), chainrule::Error> {
    let order: Vec<usize> = (0..rows.len()).collect();
    let (train, test) = Dataset::new(order.clone(), order)?.split(0.8, seed)?;
    let pick = |part: &Dataset<usize, usize>| part.inputs().iter().map(|&i| rows[i]).collect();
    Ok((pick(&train), pick(&test)))
}
