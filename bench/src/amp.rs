//! NAM amp models at audio rate: the shared captures compiled in, timed
//! as NAM Core's harness times them (consecutive blocks of B samples over
//! two seconds of the fixed test signal, after one warm-up pass), so the
//! `ns_per_sample` lines compare with `../shared/peers/nam/run.sh`'s.

use crate::timing::{measure, report};
use chainrule::Process;

chainrule::network! {
    /// NAM's standard WaveNet, a Vox AC10 capture.
    struct Ac10 { nam: "../data/nam/ac10.nam" }
}

chainrule::network! {
    /// NAM's example LSTM (hidden 3).
    struct NamLstm { nam: "../data/nam/lstm.nam" }
}

/// The block lengths NAM Core's harness runs.
const BLOCKS: [usize; 5] = [1, 16, 64, 256, 2048];

pub fn run() {
    let signal = chainrule::nam::test_signal(2 * 48_000);
    time("NAM_ac10", &mut Ac10::new(), &signal);
    time("NAM_lstm", &mut NamLstm::new(), &signal);
}

fn time(workload: &str, model: &mut impl Process, signal: &[f32]) {
    let mut output = vec![0.0f32; signal.len()];
    for block in BLOCKS {
        let mut pass = || {
            for (input, output) in signal.chunks(block).zip(output.chunks_mut(block)) {
                model.process(input, output);
            }
        };
        pass();
        let s = measure(signal.len() as f64, pass);
        report(&format!("{workload}_b{block}"), "chainrule", "ns_per_sample", &s, |v| v * 1e9);
    }
}
