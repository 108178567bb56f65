//! A guitar amp at audio rate: a Neural Amp Modeler capture (a Vox AC10,
//! NAM's standard WaveNet) compiled into this program, run over a WAV file
//! in blocks of 64 samples as a plugin would, the processed audio written
//! as a WAV file, and the real-time factor printed.
//!
//! ```text
//! cargo run --release --example amp -- [input.wav] [output.wav] [block]
//! ```
//!
//! Without an input file it plays a generated guitar part (plucked strings
//! by Karplus-Strong synthesis, also written to `amp-in.wav` to compare),
//! so that it runs on a fresh machine. The
//! model is mono at 48 kHz: a stereo file is mixed down to mono, and a file
//! at another rate is processed as is, with a warning (there is no
//! resampling here).

#[path = "shared/plucked.rs"]
mod plucked;

use plucked::plucked_strings;
use std::time::Instant;

chainrule::network! {
    /// The Vox AC10 capture of `data/nam/ac10.nam`.
    struct Ac10 { nam: "data/nam/ac10.nam" }
}

/// The rate the model was trained at: the file does not say, and NAM
/// models are 48 kHz by convention.
const MODEL_RATE: u32 = 48_000;

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        let mut source = std::error::Error::source(&*e);
        while let Some(cause) = source {
            eprintln!("  caused by: {cause}");
            source = cause.source();
        }
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let input = args.next();
    let output = args.next().unwrap_or_else(|| "amp-out.wav".to_string());
    let block: usize = match args.next() {
        None => 64,
        Some(b) => b
            .parse()
            .ok()
            .filter(|&b| b > 0)
            .ok_or(format!("the block length must be a positive whole number, not `{b}`"))?,
    };
    let (signal, rate) = match &input {
        Some(path) => read_mono(path)?,
        None => {
            let dry = plucked_strings(10.0, MODEL_RATE);
            write_mono("amp-in.wav", &dry, MODEL_RATE)?;
            println!(
                "no input file: playing a generated guitar part (10 s of plucked strings, written to amp-in.wav)"
            );
            (dry, MODEL_RATE)
        }
    };
    if rate != MODEL_RATE {
        eprintln!("warning: the file is at {rate} Hz and the model at {MODEL_RATE} Hz; processing it as is");
    }

    let mut amp = Ac10::new();
    let mut processed = vec![0.0f32; signal.len()];
    let start = Instant::now();
    for (x, y) in signal.chunks(block).zip(processed.chunks_mut(block)) {
        amp.process(x, y);
    }
    let elapsed = start.elapsed().as_secs_f64();
    let seconds = signal.len() as f64 / f64::from(rate);
    println!(
        "{:.1} s of audio in {:.3} s, blocks of {block}: {:.1}x real time ({:.0} ns per sample, {})",
        seconds,
        elapsed,
        seconds / elapsed,
        elapsed * 1e9 / signal.len() as f64,
        chainrule::isa::active().name(),
    );
    let peak = processed.iter().fold(0.0f32, |m, y| m.max(y.abs()));
    write_mono(&output, &processed, rate)?;
    println!("wrote {output} (peak {peak:.3})");
    Ok(())
}

/// A WAV file as mono `f32` samples in [-1, 1] (channels averaged) and its rate.
fn read_mono(path: &str) -> Result<(Vec<f32>, u32), Box<dyn std::error::Error>> {
    let mut reader = hound::WavReader::open(path).map_err(|e| format!("cannot read `{path}` as WAV: {e}"))?;
    let spec = reader.spec();
    let channels = usize::from(spec.channels.max(1));
    let samples: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader.samples::<f32>().collect::<Result<_, _>>()?,
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
            reader.samples::<i32>().map(|s| s.map(|s| s as f32 * scale)).collect::<Result<_, _>>()?
        }
    };
    let mono = samples.chunks(channels).map(|frame| frame.iter().sum::<f32>() / frame.len() as f32).collect();
    Ok((mono, spec.sample_rate))
}

fn write_mono(path: &str, samples: &[f32], rate: u32) -> Result<(), Box<dyn std::error::Error>> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut writer =
        hound::WavWriter::create(path, spec).map_err(|e| format!("cannot write `{path}`: {e}"))?;
    for &y in samples {
        writer.write_sample(y)?;
    }
    writer.finalize()?;
    Ok(())
}
