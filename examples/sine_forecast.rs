//! # Forecasting the next value of a noisy mixture of sines with an LSTM
//!
//! The series is `sin(0.07 t) + 0.5 sin(0.23 t + 1) + 0.25 sin(0.51 t)`
//! plus Gaussian noise of deviation 0.05 (seeded), 6,000 samples. Each
//! example is a window of 32 consecutive values and the value that follows
//! it. The splits follow time, as forecasting demands: windows ending in
//! the first 70% of the series train, the next 10% validate, the last 20%
//! test. An LSTM of 32 units reads the window; a dense layer turns its last
//! state into the forecast. Adam from 3e-3 down a cosine to 1e-4, batch 16,
//! 30 epochs, the best validation epoch kept.
//!
//! Prints the test root-mean-square error next to two baselines: repeating
//! the last value, and the noise itself (what no forecaster can beat).
//!
//! ```sh
//! cargo run --release --example sine_forecast
//! ```

#[path = "shared/failure.rs"]
mod failure;
use chainrule::data::Dataset;
use chainrule::kernels::next_u64;
use chainrule::optim::{Adam, Schedule};
use chainrule::train::FitConfig;
use chainrule::{Network, Trainer, Workspace};

const WINDOW: usize = 32;
const LENGTH: usize = 6_000;
const NOISE: f64 = 0.05;
const EPOCHS: usize = 30;

chainrule::network! {
    /// 32 past values in, the next one out.
    pub struct Forecaster {
        input: [32, 1],
        layers: [lstm(32), dense(1)],
        loss: mse,
    }
}

/// The noisy series, seeded: Gaussian noise by the Box-Muller transform of
/// uniform draws from the runtime's SplitMix64 stream.
fn series(seed: u64) -> Vec<f32> {
    let mut state = seed;
    let mut uniform = move || ((next_u64(&mut state) >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    (0..LENGTH)
        .map(|t| {
            let t = t as f64;
            let clean = (0.07 * t).sin() + 0.5 * (0.23 * t + 1.0).sin() + 0.25 * (0.51 * t).sin();
            let gaussian = (-2.0 * uniform().ln()).sqrt() * (std::f64::consts::TAU * uniform()).cos();
            (clean + NOISE * gaussian) as f32
        })
        .collect()
}

/// Windows whose forecast target lies in `range` of the series.
fn windows(values: &[f32], range: std::ops::Range<usize>) -> Dataset<[f32; WINDOW], [f32; 1]> {
    let (inputs, targets) = range
        .filter(|&end| end >= WINDOW)
        .map(|end| -> ([f32; WINDOW], [f32; 1]) {
            (values[end - WINDOW..end].try_into().expect("a window"), [values[end]])
        })
        .unzip();
    Dataset::new(inputs, targets).expect("as many targets as inputs")
}

fn rmse(pairs: impl Iterator<Item = (f32, f32)>) -> f64 {
    let (sum, count) = pairs.fold((0.0, 0usize), |(s, n), (a, b)| (s + f64::from(a - b).powi(2), n + 1));
    (sum / count as f64).sqrt()
}

fn main() -> Result<(), failure::Failure> {
    let values = series(11);
    let (train_end, validation_end) = (LENGTH * 7 / 10, LENGTH * 8 / 10);
    let train = windows(&values, 0..train_end);
    let validation = windows(&values, train_end..validation_end);
    let test = windows(&values, validation_end..LENGTH);
    println!("{} training, {} validation, {} test windows", train.len(), validation.len(), test.len());

    let mut net = Forecaster::new(3);
    let mut trainer = Trainer::new(Adam::new(3e-3), 16, 5);
    let started = std::time::Instant::now();
    let config = FitConfig::epochs(EPOCHS)
        .schedule(Schedule::Cosine { epochs: EPOCHS, min_lr: 1e-4 })
        .restore_best(true);
    let history = trainer.fit(&mut net, &train, Some(&validation), &config)?;
    println!(
        "trained in {:.1?}; weights of epoch {} kept",
        started.elapsed(),
        history.best_epoch.unwrap_or(EPOCHS)
    );

    let mut forecasts = vec![[0.0f32]; test.len()];
    net.predict_batch(test.inputs(), &mut forecasts, &mut Workspace::new())?;
    let model = rmse(forecasts.iter().zip(test.targets()).map(|(f, t)| (f[0], t[0])));
    let last_value = rmse(test.inputs().iter().zip(test.targets()).map(|(x, t)| (x[WINDOW - 1], t[0])));
    println!("baselines: repeat the last value {last_value:.4}, the noise itself {NOISE:.4}");
    println!("test RMSE: {model:.4}");
    Ok(())
}
