//! Every instruction-set path of the amp-model kernels this CPU runs, each
//! against NAM Core's outputs, and the vector paths against each other to
//! the bit (they do the same operations in the same order). The level is a
//! process-wide setting, so these checks live in a test binary of their own.

use chainrule::isa::{Isa, detected, set_limit};
use chainrule::network;
use std::path::PathBuf;

network! {
    /// Layers of 16 and 8 channels: AVX-512 and AVX2 registers.
    pub struct Gated { nam: "tests/fixtures/nam/gated.nam" }
}

fn reference() -> Vec<f32> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/nam/gated.prewarm.f32");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

#[test]
fn every_level_matches_nam_core_and_the_vector_levels_agree_to_the_bit() {
    let input = chainrule::nam::test_signal(4800);
    let want = reference();
    let mut outputs = Vec::new();
    for level in Isa::ALL.into_iter().filter(|&level| level <= detected()) {
        assert_eq!(set_limit(level), level);
        let mut model = Gated::new();
        let mut output = vec![0.0; input.len()];
        for (x, y) in input.chunks(37).zip(output.chunks_mut(37)) {
            model.process(x, y);
        }
        let worst = output.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(worst <= 1e-5, "{}: {worst:e} from NAM Core", level.name());
        eprintln!("{}: within {worst:.1e} of NAM Core", level.name());
        outputs.push((level, output));
    }
    let vector: Vec<_> = outputs.iter().filter(|(level, _)| *level >= Isa::Avx2).collect();
    for pair in vector.windows(2) {
        assert!(pair[0].1 == pair[1].1, "{} and {} differ", pair[0].0.name(), pair[1].0.name());
    }
}
