//! The loop from training to a streamed model: a WaveNet declared as a
//! chainrule graph (`examples/shared/nano.rs`), written as a `.nam` file by
//! `to_nam`, compiled back in with `nam:`, streams the outputs the graph
//! computes over a whole window. The file is the export of `Nano::new(7)`;
//! `CHAINRULE_BLESS=1` rewrites it after a change to the export.

#[path = "../examples/shared/nano.rs"]
mod nano;

use chainrule::{Network, Process, Workspace};
use nano::{Nano, NanoStream, SCORED, WINDOW, to_nam};
use std::path::PathBuf;

chainrule::network! {
    /// `to_nam(&Nano::new(7))`, compiled in.
    struct Exported { nam: "tests/fixtures/nam/nano_seed7.nam" }
}

#[test]
fn the_exported_file_is_the_networks() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/nam/nano_seed7.nam");
    let text = to_nam(&Nano::new(7));
    if std::env::var_os("CHAINRULE_BLESS").is_some() {
        std::fs::write(&path, &text).expect("the fixture is writable");
    }
    let stored = std::fs::read_to_string(&path).expect("the fixture exists");
    assert!(stored == text, "{} is stale: run with CHAINRULE_BLESS=1", path.display());
}

#[test]
fn the_compiled_export_streams_what_the_graph_computes() {
    let net = Nano::new(7);
    let signal = chainrule::nam::test_signal(2 * WINDOW);
    // From silence: the graph's causal padding is NAM's unwarmed history.
    let mut streamed = vec![0.0f32; signal.len()];
    let mut model = Exported::new();
    model.reset_unwarmed();
    model.process(&signal, &mut streamed);
    // Batched: a window's values are too large for batch-1 arrays on a
    // test thread's stack.
    let windows: Vec<[f32; WINDOW]> = signal.chunks_exact(WINDOW).map(|w| w.try_into().unwrap()).collect();
    let mut tails = vec![[0.0f32; SCORED]; 2];
    net.predict_batch(&windows, &mut tails, &mut Workspace::new()).unwrap();
    let tail = &tails[0];
    let worst = tail
        .iter()
        .zip(&streamed[WINDOW - SCORED..WINDOW])
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(worst < 1e-5, "the streamed export is {worst:e} from the graph");
    // A later window: the graph sees zeros before it, the stream the real
    // past; their tails agree because the receptive field lies inside.
    let tail = &tails[1];
    let worst =
        tail.iter().zip(&streamed[2 * WINDOW - SCORED..]).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(worst < 1e-5, "the streamed export is {worst:e} from the graph on a later window");
}

/// The declared WaveNet streams itself: the same graph over the whole
/// signal, with `Nano`'s parameters, processes audio block by block as the
/// compiled export does.
#[test]
fn the_declared_graph_streams_as_its_export() {
    let net = NanoStream::from_params(Nano::new(7).params()).unwrap();
    let mut stream = net;
    let signal = chainrule::nam::test_signal(10_000);
    let (mut ours, mut theirs) = (vec![0.0f32; signal.len()], vec![0.0f32; signal.len()]);
    for (x, y) in signal.chunks(333).zip(ours.chunks_mut(333)) {
        stream.process(x, y);
    }
    let mut model = Exported::new();
    model.reset_unwarmed();
    model.process(&signal, &mut theirs);
    let worst = ours.iter().zip(&theirs).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(worst < 1e-5, "the declared graph streams {worst:e} from its compiled export");
}
