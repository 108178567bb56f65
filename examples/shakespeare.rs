//! # A character-level transformer against an LSTM on tinyshakespeare
//!
//! Two language models of the same size (about 112,000 parameters), each
//! predicting the next character at every position of 64-character
//! windows:
//!
//! - a transformer: token and learned position embeddings, two pre-norm
//!   blocks of causal self-attention (4 heads) and an MLP (64 -> 256 ->
//!   64, GELU), each a residual, a last layer norm and the class scores;
//! - an LSTM: an embedding, one LSTM layer of 128 units over the window,
//!   and the class scores at every step.
//!
//! The text's first 90% trains, the last 10% validates. Each model trains
//! for the same wall-clock time (`minutes`, 5 by default) with Adam at
//! 1e-3 on batches of 32 windows drawn at random, then reports its
//! validation loss in bits per character (every position of consecutive
//! 64-character windows predicted from the window so far) and samples 400
//! characters from the model, starting from the validation text's first
//! window (temperature 0.8).
//!
//! ```sh
//! cargo run --release --example shakespeare -- ../shared/data/tinyshakespeare/input.txt.gz [minutes] [seed]
//! ```

#[path = "shared/failure.rs"]
mod failure;
#[path = "shared/random.rs"]
mod random;

use chainrule::data::{CharText, next_token_windows};
use chainrule::optim::Adam;
use chainrule::{Dataset, Network, Trainer, Workspace};
use random::Random;
use std::time::{Duration, Instant};

/// Characters of context, and of each training window.
const T: usize = 64;
/// The 65 distinct characters of tinyshakespeare.
const VOCAB: usize = 65;

chainrule::network! {
    /// Next-character scores at each of 64 positions.
    pub struct Transformer {
        input: { text: [u32; 64] },
        graph: {
            let x = positional_embedding(embedding(text, 65, 64));
            let a = x + attention(layer_norm(x), 4, causal = true);
            let b = a + layers(layer_norm(a), [dense(256), gelu, dense(64)]);
            let c = b + attention(layer_norm(b), 4, causal = true);
            let d = c + layers(layer_norm(c), [dense(256), gelu, dense(64)]);
            dense(layer_norm(d), 65)
        },
        loss: softmax_cross_entropy,
    }
}

chainrule::network! {
    /// The same task for a recurrent network of the same size.
    pub struct Recurrent {
        input: [u32; 64],
        layers: [embedding(65, 64), lstm(128, sequence = true), dense(65)],
        loss: softmax_cross_entropy,
    }
}

/// Windows a round of training draws before the clock is read again.
const ROUND: usize = 32 * 16;

fn main() -> Result<(), failure::Failure> {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!(
            "usage: cargo run --release --example shakespeare -- <input.txt or input.txt.gz> [minutes] [seed]"
        );
        eprintln!("       (in this repository's environment: ../shared/data/tinyshakespeare/input.txt.gz)");
        std::process::exit(2);
    };
    let number = |arg: Option<String>, default: f64| match arg.map(|a| a.parse::<f64>()) {
        None => default,
        Some(Ok(v)) if v > 0.0 => v,
        _ => {
            eprintln!("minutes and seed are numbers above 0");
            std::process::exit(2);
        }
    };
    let budget = Duration::from_secs_f64(60.0 * number(args.next(), 5.0));
    let seed = number(args.next(), 42.0) as u64;

    let text = CharText::read(&path)?;
    if text.vocab().len() != VOCAB {
        eprintln!("expected tinyshakespeare's {VOCAB} characters, found {}", text.vocab().len());
        std::process::exit(2);
    }
    let ids = text.ids();
    let cut = ids.len() * 9 / 10;
    let (train, valid) = (&ids[..cut], &ids[cut..]);
    let validation = next_token_windows::<T>(valid, (0..(valid.len() - 1) / T).map(|k| k * T))?;
    println!(
        "{} characters: {} to train, {} to validate ({} windows of {T})",
        ids.len(),
        train.len(),
        valid.len(),
        validation.len()
    );
    println!(
        "parameters: transformer {}, LSTM {}; {:.1} minutes each\n",
        Transformer::PARAM_LEN,
        Recurrent::PARAM_LEN,
        budget.as_secs_f64() / 60.0
    );

    let mut transformer = Transformer::new(seed);
    let report = train_for(&mut transformer, train, &validation, budget, seed)?;
    println!("transformer: {report}");
    println!("{}\n", sample(&transformer, &text, &valid[..T], seed));

    let mut lstm = Recurrent::new(seed);
    let report = train_for(&mut lstm, train, &validation, budget, seed)?;
    println!("LSTM: {report}");
    println!("{}", sample(&lstm, &text, &valid[..T], seed));
    Ok(())
}

/// Trains on random windows of `train` until `budget` has passed; returns
/// a line with the steps taken and the validation bits per character.
fn train_for<N>(
    net: &mut N,
    train: &[u32],
    validation: &Dataset<[u32; T], [usize; T]>,
    budget: Duration,
    seed: u64,
) -> Result<String, chainrule::Error>
where
    N: Network<Input = [u32; T], Target = [usize; T], Scalar = f32>,
{
    let mut trainer = Trainer::new(Adam::new(1e-3), 32, seed);
    let mut random = Random(seed);
    let (started, mut steps, mut last_report) = (Instant::now(), 0, Instant::now());
    while started.elapsed() < budget {
        let starts: Vec<usize> = (0..ROUND).map(|_| random.below(train.len() - T)).collect();
        let round = next_token_windows::<T>(train, starts)?;
        let loss = trainer.train_epoch(net, &round)?;
        steps += ROUND / 32;
        if last_report.elapsed() > Duration::from_secs(60) {
            println!(
                "  {:>4.0} s, {steps} steps: training loss {:.3} bits/char",
                started.elapsed().as_secs_f64(),
                loss / std::f64::consts::LN_2
            );
            last_report = Instant::now();
        }
    }
    let bits = bits_per_char(net, validation)?;
    Ok(format!(
        "{steps} steps of 32 windows in {:.0} s; validation {bits:.3} bits per character",
        started.elapsed().as_secs_f64()
    ))
}

/// The mean cross-entropy over every position of the validation windows,
/// in bits.
fn bits_per_char<N>(net: &N, data: &Dataset<[u32; T], [usize; T]>) -> Result<f64, chainrule::Error>
where
    N: Network<Input = [u32; T], Target = [usize; T], Scalar = f32>,
{
    let mut ws = Workspace::new();
    let evaluation = chainrule::metrics::evaluate(net, data, 64, &mut ws, &mut Vec::new())?;
    Ok(evaluation.loss / std::f64::consts::LN_2)
}

/// 400 characters drawn one at a time from the scores at the last
/// position of the latest 64, at temperature 0.8.
fn sample<N>(net: &N, text: &CharText, prompt: &[u32], seed: u64) -> String
where
    N: Network<Input = [u32; T], Scalar = f32>,
    N::Output: AsRef<[f32]>,
{
    let mut window: [u32; T] = std::array::from_fn(|k| prompt[k]);
    let mut random = Random(seed ^ 0x5eed);
    let mut drawn = Vec::new();
    for _ in 0..400 {
        let scores = net.predict(&window);
        let last = &scores.as_ref()[(T - 1) * VOCAB..];
        let max = last.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
        let weights: Vec<f64> = last.iter().map(|&s| f64::from((s - max) / 0.8).exp()).collect();
        let mut pick = random.unit() * weights.iter().sum::<f64>();
        let next = weights.iter().position(|&w| {
            pick -= w;
            pick <= 0.0
        });
        let next = next.unwrap_or(VOCAB - 1) as u32;
        drawn.push(next);
        window.rotate_left(1);
        window[T - 1] = next;
    }
    format!("{}|{}", text.decode(prompt), text.decode(&drawn))
}
