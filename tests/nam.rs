//! Compiled `.nam` models against NAM Core's own outputs on the fixed
//! test signal (`../shared/data/nam/ref/`, beside the repository: made by
//! NAM Core's strict build with exact tanh, 48,000 samples in blocks of
//! 64, with and without prewarm). Every sample must agree within 1e-5
//! whatever the block length. Outside CI a machine without those files
//! skips the comparison with a message; in CI they must be there.

use chainrule::{Process, network};
use std::path::PathBuf;

network! {
    /// A Vox AC10 capture: NAM's standard WaveNet.
    pub struct Ac10 { nam: "data/nam/ac10.nam" }
}

network! {
    /// NAM's example LSTM (one layer, hidden 3).
    pub struct Lstm { nam: "data/nam/lstm.nam" }
}

network! {
    /// Gated, blended and plain layers, per-layer kernels and activations,
    /// a head convolution of two taps (`tests/fixtures/nam/make_models.py`).
    pub struct Gated { nam: "tests/fixtures/nam/gated.nam" }
}

network! {
    /// Six channels and a bottleneck of three: no whole vector register.
    pub struct Narrow { nam: "tests/fixtures/nam/narrow.nam" }
}

network! {
    /// Two LSTM layers of five units with a stored state away from rest.
    pub struct DeepLstm { nam: "tests/fixtures/nam/deep_lstm.nam" }
}

const TOLERANCE: f32 = 1e-5;

/// NAM Core's outputs for a model of `tests/fixtures/nam` (`make_refs.sh`).
fn fixture(name: &str) -> Vec<f32> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/nam").join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

/// A raw little-endian `f32` file of the shared references.
fn reference(name: &str) -> Option<Vec<f32>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/nam/ref").join(name);
    match std::fs::read(&path) {
        Ok(bytes) => {
            Some(bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
        }
        Err(e) => {
            assert!(std::env::var_os("CI").is_none(), "{} is missing in CI: {e}", path.display());
            eprintln!("skipped: {} not found", path.display());
            None
        }
    }
}

/// `model` over `input` in blocks of the lengths `blocks` gives in turn.
fn run(model: &mut impl Process, input: &[f32], blocks: &[usize]) -> Vec<f32> {
    let mut output = vec![f32::NAN; input.len()];
    let (mut start, mut next) = (0, blocks.iter().cycle());
    while start < input.len() {
        let end = (start + next.next().unwrap()).min(input.len());
        model.process(&input[start..end], &mut output[start..end]);
        start = end;
    }
    output
}

fn assert_close(name: &str, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len());
    let (worst, at) = got
        .iter()
        .zip(want)
        .enumerate()
        .map(|(i, (g, w))| ((g - w).abs(), i))
        .fold((0.0f32, 0), |best, (e, i)| if e > best.0 || e.is_nan() { (e, i) } else { best });
    assert!(
        worst <= TOLERANCE,
        "{name}: sample {at} is {} where NAM Core gives {} ({worst:e} apart)",
        got[at],
        want[at]
    );
    eprintln!("{name}: within {worst:.1e} of NAM Core");
}

#[test]
fn the_wavenet_matches_nam_core_at_every_block_length() {
    let (Some(input), Some(want)) = (reference("input.f32"), reference("ac10.prewarm.f32")) else { return };
    for blocks in [&[1][..], &[64], &[2048], &[1, 7, 64, 300, 2048, 13]] {
        let mut model = Ac10::new();
        assert_close(&format!("ac10 in blocks {blocks:?}"), &run(&mut model, &input, blocks), &want);
    }
}

#[test]
fn the_wavenet_without_prewarm_matches_and_reset_returns_to_the_prewarmed_state() {
    let (Some(input), Some(cold), Some(warm)) =
        (reference("input.f32"), reference("ac10.noprewarm.f32"), reference("ac10.prewarm.f32"))
    else {
        return;
    };
    let mut model = Ac10::new();
    model.reset_unwarmed();
    assert_close("ac10 without prewarm", &run(&mut model, &input, &[64]), &cold);
    model.reset();
    assert_close("ac10 after reset", &run(&mut model, &input, &[256]), &warm);
}

#[test]
fn the_lstm_matches_nam_core_from_its_stored_state() {
    let (Some(input), Some(warm), Some(cold)) =
        (reference("input.f32"), reference("lstm.prewarm.f32"), reference("lstm.noprewarm.f32"))
    else {
        return;
    };
    for blocks in [&[1][..], &[64], &[2048], &[3, 500]] {
        let mut model = Lstm::new();
        assert_close(&format!("lstm in blocks {blocks:?}"), &run(&mut model, &input, blocks), &warm);
    }
    let mut model = Lstm::new();
    model.reset_unwarmed();
    assert_close("lstm without prewarm", &run(&mut model, &input, &[64]), &cold);
}

/// Each model of the fixtures, prewarmed and not, against NAM Core.
#[test]
fn every_configuration_matches_nam_core() {
    let input = chainrule::nam::test_signal(4800);
    macro_rules! check {
        ($model:ty, $name:literal) => {
            let warm = fixture(concat!($name, ".prewarm.f32"));
            for blocks in [&[1][..], &[64], &[5, 300]] {
                let output = run(&mut <$model>::new(), &input, blocks);
                assert_close(&format!("{} in blocks {blocks:?}", $name), &output, &warm);
            }
            let mut model = <$model>::new();
            model.reset_unwarmed();
            let output = run(&mut model, &input, &[64]);
            assert_close(
                concat!($name, " without prewarm"),
                &output,
                &fixture(concat!($name, ".noprewarm.f32")),
            );
        };
    }
    check!(Gated, "gated");
    check!(Narrow, "narrow");
    check!(DeepLstm, "deep_lstm");
}

#[test]
fn the_generated_test_signal_is_the_reference_input() {
    let Some(input) = reference("input.f32") else { return };
    let ours = chainrule::nam::test_signal(input.len());
    assert!(ours.iter().zip(&input).all(|(a, b)| a.to_bits() == b.to_bits()));
}

#[test]
fn every_block_length_gives_the_same_bits() {
    let input = chainrule::nam::test_signal(6000);
    let whole = run(&mut Ac10::new(), &input, &[6000]);
    for blocks in [&[1][..], &[5, 64, 1000]] {
        assert!(run(&mut Ac10::new(), &input, blocks) == whole, "blocks {blocks:?}");
    }
}

#[test]
fn the_file_metadata_is_on_the_type() {
    assert_eq!(Ac10::SAMPLE_RATE, None);
    assert_eq!(Ac10::RECEPTIVE_FIELD, 4092);
    assert_eq!(Ac10::PREWARM_SAMPLES, 4093);
    assert_eq!(Lstm::SAMPLE_RATE, Some(48000.0));
    assert_eq!(Lstm::PREWARM_SAMPLES, 24000);
    assert_eq!(Lstm::INPUT_LEVEL_DBU, Some(18.3));
    assert_eq!(Lstm::OUTPUT_LEVEL_DBU, Some(12.3));
    assert_eq!(Lstm::LOUDNESS, Some(-37.8406867980957));
}

#[test]
fn a_non_finite_sample_is_read_as_silence_and_the_state_survives() {
    let signal: Vec<f32> = (0..5000).map(|i| (i as f32 * 0.01).sin() * 0.3).collect();
    let mut clean = signal.clone();
    clean[100] = 0.0;
    let mut damaged = signal.clone();
    damaged[100] = f32::NAN;
    let mut model = Ac10::new();
    let want = run(&mut model, &clean, &[64]);
    model.reset();
    let got = run(&mut model, &damaged, &[64]);
    assert_eq!(got, want);
    let mut lstm = Lstm::new();
    let mut out = [0.0; 3];
    lstm.process(&[f32::INFINITY, f32::NEG_INFINITY, f32::NAN], &mut out);
    assert!(out.iter().all(|y| y.is_finite()));
}

#[test]
fn mismatched_lengths_process_the_shorter_and_leave_the_rest() {
    let mut model = Ac10::new();
    let mut output = [7.0f32; 10];
    model.process(&[0.1; 4], &mut output);
    assert!(output[..4].iter().all(|y| *y != 7.0));
    assert_eq!(&output[4..], &[7.0; 6]);
    model.process(&[0.1; 10], &mut output[..0]);
}
