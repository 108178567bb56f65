//! # The lectures, run
//!
//! Each lesson of a course on neural networks and backpropagation makes a
//! claim; each experiment here runs it with chainrule's derived gradients,
//! writes a figure (SVG) and prints the numbers the figure shows. The page
//! `docs/lectures.md` shows the figures and says what they mean.
//!
//! ```sh
//! cargo run --release --example lectures                 # all eleven, into lectures/
//! cargo run --release --example lectures -- 4 7          # lessons 4 and 7
//! cargo run --release --example lectures -- --out docs/lectures
//! ```

// The lessons return their numbers for `tests/lectures.rs`, which checks
// the claims; this runner only prints them.
#![allow(dead_code)]

mod batch_norm;
mod belief;
mod common;
mod convolutions;
mod figure;
mod gates;
mod initialization;
mod linear;
mod overfitting;
mod perceptron;
mod recurrent;
mod update_rules;
mod vanishing;

use common::{Ctx, Outcome};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

type Lesson = (&'static str, fn(&Ctx) -> Outcome<()>);

fn lessons() -> Vec<Lesson> {
    vec![
        ("Perceptrons and the XOR problem", |c| perceptron::run(c).map(drop)),
        ("Linear and softmax classifiers", |c| linear::run(c).map(drop)),
        ("The computational graph and its gates", |c| gates::run(c).map(drop)),
        ("Update rules", |c| update_rules::run(c).map(drop)),
        ("Weight initialization", |c| initialization::run(c).map(drop)),
        ("Batch normalization", |c| batch_norm::run(c).map(drop)),
        ("Vanishing gradients and dying ReLUs", |c| vanishing::run(c).map(drop)),
        ("Overfitting, dropout, L1/L2 and early stopping", |c| overfitting::run(c).map(drop)),
        ("Convolutions", |c| convolutions::run(c).map(drop)),
        ("Recurrent networks and long memory", |c| recurrent::run(c).map(drop)),
        ("Deep belief networks", |c| belief::run(c).map(drop)),
    ]
}

fn main() -> ExitCode {
    let mut out = PathBuf::from("lectures");
    let mut chosen = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), arg.parse::<usize>()) {
            ("--out", _) => match args.next() {
                Some(dir) => out = dir.into(),
                None => return usage("--out needs a folder"),
            },
            (_, Ok(n)) if (1..=lessons().len()).contains(&n) => chosen.push(n),
            _ => return usage(&format!("`{arg}` is neither a lesson number nor --out")),
        }
    }
    let ctx = Ctx { out, quick: false };
    let mut failed = false;
    for (k, (title, run)) in lessons().into_iter().enumerate() {
        if !chosen.is_empty() && !chosen.contains(&(k + 1)) {
            continue;
        }
        println!("{}. {title}", k + 1);
        let started = Instant::now();
        match run(&ctx) {
            Ok(()) => println!("  ({:.1} s)\n", started.elapsed().as_secs_f64()),
            Err(e) => {
                eprintln!("  failed: {e}\n");
                failed = true;
            }
        }
    }
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("{problem}\nusage: lectures [lesson numbers 1..={}] [--out folder]", lessons().len());
    ExitCode::from(2)
}
