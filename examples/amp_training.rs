//! # Training an amp model: a WaveNet and an LSTM imitate a real amp
//!
//! The loop that makes a `.nam` file, run in chainrule: a small WaveNet
//! (NAM's "nano" size: two layer arrays of 10 layers, 4 and 2 channels,
//! dilations 1 to 512, receptive field 4,092 samples) and an LSTM of about
//! the same number of weights learn to turn a dry guitar signal into what
//! the AC10 capture (`data/nam/ac10.nam`, compiled in) makes of it.
//!
//! Data: 10 s of the reference test signal (tones and noise) and 10 s of
//! generated plucked strings, at 48 kHz; the target is the compiled AC10
//! model's output for each. The first 8 s of each train, the last 2 s are
//! held out. Both networks see windows of 6,144 samples and are scored on
//! the last 2,048 of each (the samples whose whole receptive field lies in
//! the window), with Adam, batches of 8, for the same number of epochs.
//! The example prints each network's error-to-signal ratio (ESR, the
//! squared error over the target's energy: NAM's figure of merit) on the
//! held-out audio, and writes the trained WaveNet as `nano.nam`, a file
//! `nam:` compiles back in to stream it (`tests/nam_export.rs` checks that
//! a compiled export streams what the graph computes).
//!
//! ```sh
//! cargo run --release --example amp_training -- [epochs (100)] [seed (42)]
//! ```

#[path = "shared/nano.rs"]
mod nano;
#[path = "shared/plucked.rs"]
mod plucked;

use chainrule::optim::Adam;
use chainrule::train::{FitConfig, Progress};
use chainrule::{Dataset, Network, Trainer, Workspace};
use nano::{Nano, SCORED, WINDOW};
use std::time::Instant;

chainrule::network! {
    /// The AC10 capture: the target.
    struct Ac10 { nam: "data/nam/ac10.nam" }
}

/// Between window starts: the scored tails tile the signal.
const HOP: usize = SCORED;

chainrule::network! {
    /// An LSTM of 14 units and a linear head at every sample: 981
    /// weights, against the WaveNet's.
    struct Recurrent {
        input: [6144, 1],
        graph: {
            let y = layers(input, [lstm(14, sequence = true), dense(1)]);
            slice(y, 4096..6144, axis = 0)
        },
        loss: mse,
    }
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let epochs: usize = match args.next() {
        None => 100,
        Some(e) => e
            .parse()
            .ok()
            .filter(|&e| e > 0)
            .ok_or(format!("epochs must be a positive whole number, not `{e}`"))?,
    };
    let seed: u64 = match args.next() {
        None => 42,
        Some(s) => s.parse().map_err(|_| format!("the seed must be a whole number, not `{s}`"))?,
    };
    let rate = 48_000;
    let mut train = (Vec::new(), Vec::new());
    let mut held_out = (Vec::new(), Vec::new());
    for dry in [chainrule::nam::test_signal(10 * rate), plucked::plucked_strings(10.0, rate as u32)] {
        let mut wet = vec![0.0f32; dry.len()];
        Ac10::new().process(&dry, &mut wet);
        let split = 8 * rate;
        // Held-out windows start early enough to fill their history from
        // the held-out part's own past, but score only held-out samples.
        for (set, range) in [(&mut train, 0..split), (&mut held_out, split - (WINDOW - SCORED)..dry.len())] {
            let (dry, wet) = (&dry[range.clone()], &wet[range]);
            let mut start = 0;
            while start + WINDOW <= dry.len() {
                set.0.push(dry[start..start + WINDOW].to_vec());
                set.1.push(wet[start + WINDOW - SCORED..start + WINDOW].to_vec());
                start += HOP;
            }
        }
    }
    println!(
        "{} training windows ({:.1} s scored), {} held out ({:.1} s)",
        train.0.len(),
        (train.0.len() * SCORED) as f64 / rate as f64,
        held_out.0.len(),
        (held_out.0.len() * SCORED) as f64 / rate as f64
    );

    let mut nano = Nano::new(seed);
    let wavenet = fit(&mut nano, &train, &held_out, epochs, seed)?;
    println!("WaveNet nano, {} weights: held-out ESR {:.4} ({:.0} s)", Nano::PARAM_LEN, wavenet.0, wavenet.1);
    std::fs::write("nano.nam", nano::to_nam(&nano)).map_err(|e| format!("cannot write nano.nam: {e}"))?;
    println!("wrote nano.nam: compile it in with `network! {{ struct Amp {{ nam: \"nano.nam\" }} }}`");
    let mut lstm = Recurrent::new(seed);
    let recurrent = fit(&mut lstm, &train, &held_out, epochs, seed)?;
    println!(
        "LSTM 14, {} weights: held-out ESR {:.4} ({:.0} s)",
        Recurrent::PARAM_LEN,
        recurrent.0,
        recurrent.1
    );
    Ok(())
}

type Windows = (Vec<Vec<f32>>, Vec<Vec<f32>>);

/// Trains `net` on the windows and returns its held-out ESR and the seconds taken.
fn fit<N>(
    net: &mut N,
    train: &Windows,
    held_out: &Windows,
    epochs: usize,
    seed: u64,
) -> Result<(f64, f64), chainrule::Error>
where
    N: Network<Scalar = f32, Input = [f32; WINDOW], Output = [f32; SCORED], Target = [f32; SCORED]>,
{
    let dataset = |(dry, wet): &Windows| -> Result<Dataset<[f32; WINDOW], [f32; SCORED]>, chainrule::Error> {
        let inputs = dry.iter().map(|w| w.as_slice().try_into().expect("a window")).collect();
        let targets = wet.iter().map(|w| w.as_slice().try_into().expect("a scored tail")).collect();
        Dataset::new(inputs, targets)
    };
    let (train, held_out) = (dataset(train)?, dataset(held_out)?);
    let start = Instant::now();
    let mut trainer = Trainer::new(Adam::new(4e-3), 8, seed);
    trainer.fit(net, &train, None, &FitConfig::epochs(epochs).progress(Progress::Silent))?;
    let seconds = start.elapsed().as_secs_f64();
    let mut outputs = vec![[0.0f32; SCORED]; held_out.len()];
    net.predict_batch(held_out.inputs(), &mut outputs, &mut Workspace::new())?;
    let (mut error, mut energy) = (0.0f64, 0.0f64);
    for (y, t) in outputs.iter().zip(held_out.targets()) {
        for (&y, &t) in y.iter().zip(t) {
            error += f64::from(y - t).powi(2);
            energy += f64::from(t).powi(2);
        }
    }
    Ok((error / energy, seconds))
}
