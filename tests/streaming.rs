//! Streaming inference: feeding a sequence one step at a time gives what
//! batch-1 inference gives on the whole sequence, and `reset` starts over.

use chainrule::Network;
use chainrule_suite::samples;

chainrule::network! {
    /// A last-state network: the output after step t is the network's
    /// output for the first t + 1 steps.
    struct Last { input: [6, 3], layers: [lstm(5), tanh, dense(2)], loss: mse, scalar: f64 }
}
chainrule::network! {
    /// Every step's state, through three stacked cells.
    struct Sequence {
        input: [6, 3],
        layers: [gru(4, sequence = true), relu, lstm(4, sequence = true), rnn(3, sequence = true)],
        loss: mse,
        scalar: f64,
    }
}

chainrule::network! {
    /// `dense` at every step on both sides of a cell: applied to each step
    /// as it comes.
    struct DenseSteps {
        input: [6, 3],
        layers: [dense(4), relu, lstm(5, sequence = true), dense(2)],
        loss: mse,
        scalar: f64,
    }
}

fn close(a: &[f64], b: &[f64]) -> bool {
    a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-12)
}

#[test]
fn streaming_a_last_state_network_matches_whole_sequences() {
    let mut net = Last::new(1);
    let sequence = samples::<18>(2, 1, 1.0)[0];
    let steps: Vec<[f64; 3]> = sequence.chunks_exact(3).map(|c| c.try_into().unwrap()).collect();
    let streamed: Vec<[f64; 2]> = steps.iter().map(|x| net.step(x)).collect();
    let whole = net.predict(&sequence);
    assert!(close(&streamed[5], &whole), "{:?} vs {whole:?}", streamed[5]);
    // Every step answers for the sequence so far, so earlier answers differ.
    assert!(!close(&streamed[4], &whole));
    net.reset();
    let again: Vec<[f64; 2]> = steps.iter().map(|x| net.step(x)).collect();
    assert_eq!(again, streamed, "reset starts over");
}

#[test]
fn streaming_a_sequence_network_gives_each_step() {
    let mut net = Sequence::new(3);
    let sequence = samples::<18>(4, 1, 1.0)[0];
    let whole = net.predict(&sequence);
    for (t, x) in sequence.chunks_exact(3).enumerate() {
        let streamed = net.step(x.try_into().unwrap());
        assert!(
            close(&streamed, &whole[t * 3..][..3]),
            "step {t}: {streamed:?} vs {:?}",
            &whole[t * 3..][..3]
        );
    }
}

#[test]
fn streaming_dense_at_every_step_gives_each_step() {
    let mut net = DenseSteps::new(5);
    let sequence = samples::<18>(6, 1, 1.0)[0];
    let whole = net.predict(&sequence);
    for (t, x) in sequence.chunks_exact(3).enumerate() {
        let streamed = net.step(x.try_into().unwrap());
        assert!(
            close(&streamed, &whole[t * 2..][..2]),
            "step {t}: {streamed:?} vs {:?}",
            &whole[t * 2..][..2]
        );
    }
}

chainrule::network! {
    /// Token ids in: each step is one id, embedded as it comes.
    struct Tokens {
        input: [u32; 6],
        layers: [embedding(7, 3), lstm(4, sequence = true), dense(7)],
        loss: softmax_cross_entropy,
        scalar: f64,
    }
}

#[test]
fn streaming_token_ids_gives_each_step() {
    let mut net = Tokens::new(7);
    let sequence = [3u32, 0, 6, 6, 1, 2];
    let whole = net.predict(&sequence);
    for (t, &id) in sequence.iter().enumerate() {
        let streamed = net.step(&[id]);
        assert!(
            close(&streamed, &whole[t * 7..][..7]),
            "step {t}: {streamed:?} vs {:?}",
            &whole[t * 7..][..7]
        );
    }
}

chainrule::network! {
    /// A mono audio model: one sample in, one out per step, in f32.
    struct Mono { input: [64, 1], layers: [lstm(6, sequence = true), dense(1)], loss: mse }
}

/// `process` over blocks of any length is `step` per sample, and `reset`
/// starts the stream again: the same outputs as predicting the sequence.
#[test]
fn a_mono_stream_processes_blocks_of_any_length() {
    use chainrule::Process;
    let mut net = Mono::new(3);
    let input: Vec<f32> = (0..64).map(|i| (i as f32 * 0.3).sin() * 0.5).collect();
    let whole = net.predict(input.as_slice().try_into().unwrap());
    let mut output = vec![0.0f32; 64];
    let (mut start, lengths) = (0, [1, 5, 17, 0, 41]);
    for len in lengths {
        net.process(&input[start..start + len], &mut output[start..start + len]);
        start += len;
    }
    assert!(output.iter().zip(&whole).all(|(a, b)| (a - b).abs() < 1e-6), "{output:?} vs {whole:?}");
    Process::reset(&mut net);
    let mut again = vec![0.0f32; 64];
    net.process(&input, &mut again);
    assert_eq!(again, output);
}

chainrule::network! {
    /// A signal through causal dilated convolutions: `[channels, time]`,
    /// streamed one column (every channel at one time) a step.
    struct Causal {
        input: [2, 24],
        layers: [
            conv1d(4, kernel = 3, dilation = 2, padding = causal),
            tanh,
            conv1d(3, kernel = 2, dilation = 4, padding = causal, bias = false),
            relu,
            conv1d(2, kernel = 1),
        ],
        loss: mse,
        scalar: f64,
    }
}

/// Streaming a causal convolutional network column by column gives the
/// whole signal's outputs, column for column; `reset` empties the past.
#[test]
fn causal_convolutions_stream_column_by_column() {
    let mut net = Causal::new(11);
    let signal: Vec<f64> = (0..48).map(|i| (i as f64 * 0.37).sin()).collect();
    let whole = net.predict(signal.as_slice().try_into().unwrap());
    for round in 0..2 {
        for t in 0..24 {
            let column = net.step(&[signal[t], signal[24 + t]]);
            let want = [whole[t], whole[24 + t]];
            assert!(close(&column, &want), "round {round}, column {t}: {column:?} vs {want:?}");
        }
        net.reset();
    }
}

chainrule::network! {
    /// A mono signal model: one sample in, one out per column.
    struct MonoCausal {
        input: [1, 96],
        layers: [conv1d(3, kernel = 3, dilation = 5, padding = causal), tanh, conv1d(1, kernel = 2, padding = causal)],
        loss: mse,
    }
}

/// A mono causal convolutional network processes audio blocks of any
/// length as the whole signal at once.
#[test]
fn a_mono_causal_convolution_processes_blocks() {
    use chainrule::Process;
    let mut net = MonoCausal::new(2);
    let input: Vec<f32> = (0..96).map(|i| (i as f32 * 0.2).cos() * 0.4).collect();
    let whole = net.predict(input.as_slice().try_into().unwrap());
    let mut output = vec![0.0f32; 96];
    let mut start = 0;
    for len in [1, 30, 7, 58] {
        net.process(&input[start..start + len], &mut output[start..start + len]);
        start += len;
    }
    assert!(output.iter().zip(&whole).all(|(a, b)| (a - b).abs() < 1e-5), "{output:?} vs {whole:?}");
}

chainrule::network! {
    /// A graph over a signal: a causal convolution split into a gated
    /// activation, joined with the input along the channels.
    struct GatedSignal {
        input: [2, 20],
        graph: {
            let h = conv1d(input, 8, kernel = 3, dilation = 2, padding = causal);
            let (a, b) = split(h, 2);
            let gated = tanh(a) * sigmoid(b) + conv1d(input, 4, kernel = 1);
            conv1d(concat(gated, input), 1, kernel = 2, dilation = 3, padding = causal)
        },
        loss: mse,
        scalar: f64,
    }
}

/// A signal graph streams column by column: slices and concatenations of
/// channels, products and sums, each column as the whole signal gives it.
#[test]
fn a_signal_graph_streams_column_by_column() {
    let mut net = GatedSignal::new(4);
    let signal: Vec<f64> = (0..40).map(|i| (i as f64 * 0.61).cos()).collect();
    let whole = net.predict(signal.as_slice().try_into().unwrap());
    for t in 0..20 {
        let column = net.step(&[signal[t], signal[20 + t]]);
        assert!(close(&column, &[whole[t]]), "column {t}: {column:?} vs {}", whole[t]);
    }
}
