//! int8 inference: the dense kernel of every level this CPU runs against
//! the definition (integer sums have one right answer), post-training
//! quantization of the trained digits network (accuracy kept, the
//! committed file reproduced), the compiled-in network against the
//! runtime's executor bit for bit, quantized files read and refused.

use chainrule::int8::{self, Level, Multiplier, Quantized, Range};
use chainrule::kernels::Conv2d;
use chainrule::{Dataset, Network, data, metrics};
use chainrule_suite::values;

/// `count` whole numbers in `0..n`, deterministic.
fn below(seed: u64, count: usize, n: i64) -> Vec<i64> {
    values(seed, count, 0.5).into_iter().map(|v| (((v + 0.5) * n as f64) as i64).min(n - 1)).collect()
}

/// `dense` by definition: 64-bit sums, then the shared requantization.
#[allow(clippy::too_many_arguments)]
fn definition(
    inputs: usize,
    outputs: usize,
    x: &[u8],
    weight: &[i8],
    bias: &[i32],
    multipliers: &[Multiplier],
    (zero_point, floor): (i32, i32),
) -> Vec<u8> {
    (0..outputs)
        .map(|o| {
            let products: i64 =
                (0..inputs).map(|k| i64::from(x[k]) * i64::from(weight[o * inputs + k])).sum();
            let sum = i32::try_from(i64::from(bias[o]) + products).unwrap();
            int8::requantize(sum, multipliers[o], zero_point, floor)
        })
        .collect()
}

#[test]
fn the_dense_kernel_of_every_level_computes_the_definition() {
    let levels: Vec<Level> = Level::ALL.into_iter().filter(|l| l.runs_here()).collect();
    eprintln!("int8 levels tested here: {:?}", levels.iter().map(|l| l.name()).collect::<Vec<_>>());
    let shapes: [(usize, usize); 10] =
        [(1, 1), (3, 5), (4, 16), (5, 17), (64, 10), (64, 64), (65, 33), (7, 129), (300, 200), (784, 128)];
    for (seed, (inputs, outputs)) in (1..).zip(shapes) {
        let x: Vec<u8> = below(seed, inputs.next_multiple_of(4), 256).into_iter().map(|v| v as u8).collect();
        let weight: Vec<i8> =
            below(seed + 100, inputs * outputs, 255).into_iter().map(|v| (v - 127) as i8).collect();
        let bias: Vec<i32> =
            below(seed + 200, outputs, 200_001).into_iter().map(|v| v as i32 - 100_000).collect();
        let multipliers: Vec<Multiplier> = below(seed + 300, outputs, 1000)
            .into_iter()
            .map(|v| Multiplier::new(1e-5 + v as f64 * 1e-4))
            .collect();
        let (zero_point, relu) = (seed as i32 * 37 % 256, seed % 2 == 1);
        let ends = (zero_point, if relu { zero_point } else { 0 });
        let expected = definition(inputs, outputs, &x, &weight, &bias, &multipliers, ends);
        let mut packed = vec![0i8; int8::packed_len(outputs, inputs)];
        int8::pack_dense(&weight, outputs, inputs, &mut packed);
        for &level in &levels {
            let mut out = vec![0u8; outputs];
            int8::dense(level, inputs, outputs, &x, &packed, &bias, &multipliers, ends, &mut out);
            assert_eq!(out, expected, "{inputs}x{outputs} on {}", level.name());
        }
    }
}

#[test]
fn the_extreme_codes_and_weights_sum_exactly() {
    // 255 * 127 in every product and pair: where 16-bit pair sums saturate.
    let (inputs, outputs) = (64, 16);
    let x = vec![255u8; inputs];
    for w in [127i8, -127] {
        let weight = vec![w; inputs * outputs];
        let (bias, multipliers) = (vec![0; outputs], vec![Multiplier::new(1e-4); outputs]);
        let expected = definition(inputs, outputs, &x, &weight, &bias, &multipliers, (128, 0));
        let mut packed = vec![0i8; int8::packed_len(outputs, inputs)];
        int8::pack_dense(&weight, outputs, inputs, &mut packed);
        for level in Level::ALL.into_iter().filter(|l| l.runs_here()) {
            let mut out = vec![0u8; outputs];
            int8::dense(level, inputs, outputs, &x, &packed, &bias, &multipliers, (128, 0), &mut out);
            assert_eq!(out, expected, "weight {w} on {}", level.name());
        }
    }
}

chainrule::network! {
    /// The `digits` example's network with its trained weights.
    struct Digits {
        input: [64],
        layers: [dense(64), tanh, dense(10)],
        loss: softmax_cross_entropy,
        weights: "examples/models/digits.safetensors",
    }
}

chainrule::network! {
    /// The same network in int8, from the file the `int8` example writes.
    struct DigitsInt8 {
        input: [64],
        layers: [dense(64), tanh, dense(10)],
        loss: softmax_cross_entropy,
        weights: "examples/models/digits.int8.safetensors",
        quantize: int8,
    }
}

/// The `digits` example's training and test splits.
fn digits() -> (Dataset<[f32; 64], usize>, Dataset<[f32; 64], usize>) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits/digits.csv.gz");
    let mut all = data::read_csv(path, 0).unwrap().classification::<f32, 64>().unwrap();
    all.map_inputs(|pixels| pixels.iter_mut().for_each(|p| *p /= 16.0));
    let (rest, test) = all.split(0.8, 1).unwrap();
    (rest.split(0.9, 2).unwrap().0, test)
}

fn calibrated(range: Range) -> (Quantized, Dataset<[f32; 64], usize>) {
    let (train, test) = digits();
    (int8::calibrate(&Digits::trained(), &train.inputs()[..300], range).unwrap(), test)
}

#[test]
fn quantized_digits_keep_their_accuracy_and_scores() {
    let net = Digits::trained();
    for range in [Range::MinMax, Range::Percentile(99.99)] {
        let (mut quantized, test) = calibrated(range);
        // Weights, scales and biases of both layers, and the tanh table.
        assert_eq!(quantized.weight_bytes(), 64 * 64 + 64 * 10 + 4 * 2 * (64 + 10) + 256);
        let (f32_accuracy, int8_accuracy) = (metrics::accuracy(&net, &test), quantized.accuracy(&test));
        assert!(int8_accuracy >= f32_accuracy - 0.005, "{range:?}: {int8_accuracy} against {f32_accuracy}");
        // The scores stay close: their mean error a small part of their
        // spread, and the same class wins almost always.
        let (mut error, mut spread, mut agree) = (0.0f64, 0.0f64, 0);
        let mut scores = [0.0f32; 10];
        for x in test.inputs() {
            quantized.predict(x, &mut scores);
            let exact = net.predict(x);
            error += scores.iter().zip(&exact).map(|(q, f)| f64::from((q - f).abs())).sum::<f64>() / 10.0;
            spread += f64::from(
                exact.iter().fold(f32::MIN, |m, &v| m.max(v)) - exact.iter().fold(f32::MAX, |m, &v| m.min(v)),
            );
            agree += usize::from(metrics::argmax(&scores) == metrics::argmax(&exact));
        }
        let n = test.len() as f64;
        eprintln!(
            "{range:?}: mean error {:.4}, mean spread {:.3}, same class {agree} of {n}",
            error / n,
            spread / n
        );
        assert!(
            error / n < 0.02 * spread / n,
            "{range:?}: mean error {} for a spread of {}",
            error / n,
            spread / n
        );
        assert!(agree as f64 >= 0.98 * n, "{range:?}: the same class for {agree} of {n}");
    }
}

#[test]
fn the_committed_file_is_what_calibration_writes_today() {
    let (quantized, _) = calibrated(Range::MinMax);
    let committed = Quantized::load(
        quantized.steps(),
        64,
        concat!(env!("CARGO_MANIFEST_DIR"), "/examples/models/digits.int8.safetensors"),
    )
    .unwrap();
    assert_eq!(
        committed.model(),
        quantized.model(),
        "run `cargo run --release --example int8` and copy its file"
    );
}

#[test]
fn the_compiled_in_network_predicts_as_the_executor_on_every_level() {
    let (mut quantized, test) = calibrated(Range::MinMax);
    let compiled = DigitsInt8::trained();
    assert_eq!(DigitsInt8::WEIGHT_BYTES, 64 * 64 + 16 * 64 + 4 * 64 + 8 * 64 + 256 + 4 * 10 + 8 * 10);
    let mut scores = [0.0f32; 10];
    for level in Level::ALL.into_iter().filter(|l| l.runs_here()) {
        assert_eq!(int8::set_limit(level), level);
        for x in test.inputs() {
            quantized.predict_on(level, x, &mut scores);
            assert_eq!(compiled.predict(x), scores, "on {}", level.name());
        }
    }
    int8::set_limit(Level::Avx512Vnni);
    let mut batch = vec![[0.0f32; 10]; test.len()];
    compiled.predict_batch(test.inputs(), &mut batch);
    assert!(test.inputs().iter().zip(&batch).all(|(x, y)| compiled.predict(x) == *y));
    // Any input gives an answer: NaN reads as 0, infinities clamp.
    let mut odd = [0.5f32; 64];
    odd[..3].copy_from_slice(&[f32::NAN, f32::INFINITY, f32::NEG_INFINITY]);
    assert!(compiled.predict(&odd).iter().all(|s| s.is_finite()));
}

#[test]
fn files_round_trip_and_bad_ones_are_refused_with_every_reason() {
    let (quantized, test) = calibrated(Range::MinMax);
    let dir = std::env::temp_dir().join(format!("chainrule-int8-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("digits.int8.safetensors");
    quantized.save(&path).unwrap();
    let mut loaded = Quantized::load(quantized.steps(), 64, &path).unwrap();
    let (mut a, mut b) = ([0.0f32; 10], [0.0f32; 10]);
    let mut original = quantized.clone();
    for x in test.inputs() {
        original.predict(x, &mut a);
        loaded.predict(x, &mut b);
        assert_eq!(a, b);
    }
    // Damaged: cut short.
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let error = Quantized::load(quantized.steps(), 64, &path).unwrap_err().to_string();
    assert!(error.contains("not a safetensors file"), "{error}");
    // Another network's steps: every tensor that does not fit is named.
    std::fs::write(&path, &bytes).unwrap();
    let other: &'static [int8::Step] =
        &[int8::Step::Dense { name: "layers.0", inputs: 64, outputs: 32, bias: true, relu: false }];
    let error = Quantized::load(other, 64, &path).unwrap_err().to_string();
    assert!(
        error.contains("tensor `layers.0.weight` is I8 [64, 64], this network needs I8 [32, 64]"),
        "{error}"
    );
    assert!(error.contains("tensor `layers.2.weight` is not part of this network"), "{error}");
    std::fs::remove_dir_all(&dir).unwrap();
}

chainrule::network! {
    struct Recurrent { input: [5, 3], layers: [lstm(4), dense(2)], loss: mse }
}

#[test]
fn calibration_says_what_int8_cannot_run() {
    let error = int8::calibrate(&Recurrent::new(1), &[[0.5; 15]], Range::MinMax).unwrap_err().to_string();
    assert!(error.starts_with("int8: `lstm(4)` (layers.0) has no int8 form"), "{error}");
    let mut bad = [0.5f32; 64];
    bad[7] = f32::NAN;
    let error = int8::calibrate(&Digits::trained(), &[bad], Range::MinMax).unwrap_err().to_string();
    assert_eq!(error, "int8: a calibration sample gave the value NaN");
    assert!(int8::calibrate(&Digits::trained(), &[], Range::MinMax).is_err());
}

/// `conv2d` by definition: padding reads the input's zero point.
fn conv_definition(
    g: &Conv2d,
    x: &[u8],
    zero_point: u8,
    weight: &[i8],
    bias: &[i32],
    m: &[Multiplier],
    ends: (i32, i32),
) -> Vec<u8> {
    let mut out = vec![0u8; g.output_len()];
    for o in 0..g.out_channels {
        for r in 0..g.out_h {
            for col in 0..g.out_w {
                let mut sum = i64::from(bias[o]);
                for c in 0..g.channels {
                    for i in 0..g.kernel_h {
                        for j in 0..g.kernel_w {
                            let row = (r * g.stride_h + i * g.dilation_h) as isize - g.pad_top as isize;
                            let at = (col * g.stride_w + j * g.dilation_w) as isize - g.pad_left as isize;
                            let inside =
                                (0..g.height as isize).contains(&row) && (0..g.width as isize).contains(&at);
                            let code = if inside {
                                x[(c * g.height + row as usize) * g.width + at as usize]
                            } else {
                                zero_point
                            };
                            let w = weight[((o * g.channels + c) * g.kernel_h + i) * g.kernel_w + j];
                            sum += i64::from(code) * i64::from(w);
                        }
                    }
                }
                out[(o * g.out_h + r) * g.out_w + col] =
                    int8::requantize(i32::try_from(sum).unwrap(), m[o], ends.0, ends.1);
            }
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn geometry(
    channels: usize,
    size: (usize, usize),
    out_channels: usize,
    kernel: (usize, usize),
    stride: usize,
    pad: (usize, usize),
    dilation: usize,
) -> Conv2d {
    let out = |n: usize, k: usize, p: usize| (n + 2 * p - dilation * (k - 1) - 1) / stride + 1;
    Conv2d {
        channels,
        height: size.0,
        width: size.1,
        out_channels,
        kernel_h: kernel.0,
        kernel_w: kernel.1,
        stride_h: stride,
        stride_w: stride,
        pad_top: pad.0,
        pad_left: pad.1,
        dilation_h: dilation,
        dilation_w: dilation,
        out_h: out(size.0, kernel.0, pad.0),
        out_w: out(size.1, kernel.1, pad.1),
    }
}

#[test]
fn the_convolution_of_every_level_computes_the_definition() {
    let geometries = [
        geometry(1, (28, 28), 8, (3, 3), 1, (1, 1), 1),
        geometry(8, (14, 14), 16, (3, 3), 1, (1, 1), 1),
        geometry(3, (9, 11), 5, (3, 2), 2, (1, 0), 1),
        geometry(2, (10, 10), 17, (3, 3), 1, (2, 2), 2),
        geometry(4, (1, 40), 6, (1, 5), 1, (0, 2), 1),
    ];
    for (seed, g) in (10..).zip(geometries) {
        let x: Vec<u8> = below(seed, g.input_len(), 256).into_iter().map(|v| v as u8).collect();
        let weight: Vec<i8> = below(seed + 1, g.out_channels * g.patch_len(), 255)
            .into_iter()
            .map(|v| (v - 127) as i8)
            .collect();
        let bias: Vec<i32> =
            below(seed + 2, g.out_channels, 20_001).into_iter().map(|v| v as i32 - 10_000).collect();
        let m: Vec<Multiplier> = below(seed + 3, g.out_channels, 1000)
            .into_iter()
            .map(|v| Multiplier::new(1e-5 + v as f64 * 1e-5))
            .collect();
        let (zero_point, ends) = ((seed * 29 % 256) as u8, (100, if seed % 2 == 0 { 100 } else { 0 }));
        let expected = conv_definition(&g, &x, zero_point, &weight, &bias, &m, ends);
        let mut packed = vec![0i8; g.out_channels * g.patch_len().next_multiple_of(4)];
        int8::pack_conv(&weight, &g, &mut packed);
        let mut patches = vec![0u8; int8::patches_len(&g)];
        for level in Level::ALL.into_iter().filter(|l| l.runs_here()) {
            let mut out = vec![0u8; g.output_len()];
            int8::conv2d(level, &g, &x, zero_point, &mut patches, &packed, &bias, &m, ends, &mut out);
            assert_eq!(out, expected, "{g:?} on {}", level.name());
        }
    }
}

chainrule::network! {
    /// A small CNN on the 8x8 digits.
    struct DigitsCnn {
        input: [1, 8, 8],
        layers: [conv2d(8, kernel = 3, padding = 1), relu, max_pool2d(2), conv2d(8, kernel = 3, padding = 1), relu, flatten, dense(10)],
        loss: softmax_cross_entropy,
    }
}

#[test]
fn a_quantized_cnn_keeps_its_accuracy_and_agrees_on_every_level() {
    let (train, test) = digits();
    let (train, test) = (Dataset::new(train.inputs().to_vec(), train.targets().to_vec()).unwrap(), test);
    let mut net = DigitsCnn::new(3);
    let mut trainer = chainrule::Trainer::new(chainrule::optim::Adam::new(3e-3), 32, 1);
    for _ in 0..15 {
        trainer.train_epoch(&mut net, &train).unwrap();
    }
    let mut quantized = int8::calibrate(&net, &train.inputs()[..300], Range::MinMax).unwrap();
    if std::env::var_os("CHAINRULE_BLESS").is_some() {
        quantized.save(CNN_FILE).unwrap();
    }
    let (f32_accuracy, int8_accuracy) = (metrics::accuracy(&net, &test), quantized.accuracy(&test));
    eprintln!("digits CNN: f32 {f32_accuracy:.4}, int8 {int8_accuracy:.4}");
    assert!(
        f32_accuracy > 0.95 && int8_accuracy >= f32_accuracy - 0.01,
        "{int8_accuracy} against {f32_accuracy}"
    );
    let levels: Vec<Level> = Level::ALL.into_iter().filter(|l| l.runs_here()).collect();
    let (mut first, mut other) = ([0.0f32; 10], [0.0f32; 10]);
    for x in test.inputs() {
        quantized.predict_on(levels[0], x, &mut first);
        for &level in &levels[1..] {
            quantized.predict_on(level, x, &mut other);
            assert_eq!(first, other, "{}", level.name());
        }
    }
}

#[test]
fn the_batched_dense_layer_gives_each_sample_its_own_bits() {
    for (seed, (inputs, outputs)) in (50..).zip([(64usize, 10usize), (784, 128), (33, 70), (5, 200)]) {
        let stride = inputs.next_multiple_of(4) + 3;
        let weight: Vec<i8> =
            below(seed, inputs * outputs, 255).into_iter().map(|v| (v - 127) as i8).collect();
        let bias: Vec<i32> =
            below(seed + 1, outputs, 20_001).into_iter().map(|v| v as i32 - 10_000).collect();
        let m: Vec<Multiplier> = below(seed + 2, outputs, 1000)
            .into_iter()
            .map(|v| Multiplier::new(1e-5 + v as f64 * 1e-4))
            .collect();
        let mut packed = vec![0i8; int8::packed_len(outputs, inputs)];
        int8::pack_dense(&weight, outputs, inputs, &mut packed);
        for samples in [0, 1, 3, 4, 5, 9] {
            let x: Vec<u8> = below(seed + 3, samples * stride, 256).into_iter().map(|v| v as u8).collect();
            for level in Level::ALL.into_iter().filter(|l| l.runs_here()) {
                let mut batched = vec![0u8; samples * (outputs + 1)];
                let shapes = (inputs, outputs, samples);
                int8::dense_batch(
                    level,
                    shapes,
                    (&x, stride),
                    &packed,
                    &bias,
                    &m,
                    (7, 7),
                    (&mut batched, outputs + 1),
                );
                for s in 0..samples {
                    let mut one = vec![0u8; outputs];
                    int8::dense(
                        level,
                        inputs,
                        outputs,
                        &x[s * stride..],
                        &packed,
                        &bias,
                        &m,
                        (7, 7),
                        &mut one,
                    );
                    assert_eq!(
                        &batched[s * (outputs + 1)..][..outputs],
                        &one[..],
                        "sample {s} of {samples} on {}",
                        level.name()
                    );
                }
            }
        }
    }
}

/// The quantized digits CNN, written by the test above with `CHAINRULE_BLESS=1`.
const CNN_FILE: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/weights/digits_cnn.int8.safetensors");

chainrule::network! {
    /// [`DigitsCnn`] in int8, compiled in.
    struct DigitsCnnInt8 {
        input: [1, 8, 8],
        layers: [conv2d(8, kernel = 3, padding = 1), relu, max_pool2d(2), conv2d(8, kernel = 3, padding = 1), relu, flatten, dense(10)],
        loss: softmax_cross_entropy,
        weights: "tests/fixtures/weights/digits_cnn.int8.safetensors",
        quantize: int8,
    }
}

#[test]
fn a_compiled_in_cnn_predicts_as_the_executor_one_by_one_and_in_batches() {
    let steps = <DigitsCnn as Network>::INT8.unwrap();
    let mut executor = Quantized::load(steps, 64, CNN_FILE).unwrap();
    let (_, test) = digits();
    let compiled = DigitsCnnInt8::trained();
    let mut batch = vec![[0.0f32; 10]; test.len()];
    let mut scores = [0.0f32; 10];
    for level in Level::ALL.into_iter().filter(|l| l.runs_here()) {
        assert_eq!(int8::set_limit(level), level);
        compiled.predict_batch(test.inputs(), &mut batch);
        for (x, y) in test.inputs().iter().zip(&batch) {
            executor.predict_on(level, x, &mut scores);
            assert_eq!(compiled.predict(x), scores, "on {}", level.name());
            assert_eq!(*y, scores, "batched, on {}", level.name());
        }
    }
    int8::set_limit(Level::Avx512Vnni);
}

chainrule::network! {
    /// One-dimensional convolutions, a table, average pooling, global average pooling.
    struct Signal {
        input: [2, 24],
        layers: [
            conv1d(6, kernel = 5, padding = same),
            tanh,
            avg_pool1d(2),
            conv1d(8, kernel = 3, dilation = 2),
            relu,
            global_avg_pool,
            dense(3),
        ],
        loss: mse,
    }
}

#[test]
fn one_dimensional_convolutions_and_average_pooling_quantize_and_round_trip() {
    let net = Signal::new(5);
    let xs: Vec<[f32; 48]> =
        values(90, 48 * 400, 1.0).chunks_exact(48).map(|c| std::array::from_fn(|k| c[k] as f32)).collect();
    let (calibration, test) = xs.split_at(300);
    let mut quantized = int8::calibrate(&net, calibration, Range::MinMax).unwrap();
    let (mut error, mut size, mut scores) = (0.0f64, 0.0f64, [0.0f32; 3]);
    for x in test {
        quantized.predict(x, &mut scores);
        for (q, f) in scores.iter().zip(net.predict(x)) {
            error += f64::from((q - f).abs());
            size += f64::from(f.abs());
        }
    }
    eprintln!("signal: mean error {:.5}, mean size {:.4}", error / 300.0, size / 300.0);
    assert!(error < 0.03 * size, "mean error {} for a mean size of {}", error / 300.0, size / 300.0);
    // The file keeps the 1-D kernels' shapes; the levels agree.
    let path = std::env::temp_dir().join(format!("chainrule-int8-signal-{}.safetensors", std::process::id()));
    quantized.save(&path).unwrap();
    let mut loaded = Quantized::load(quantized.steps(), 48, &path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let mut other = [0.0f32; 3];
    for x in test {
        quantized.predict_on(Level::Portable, x, &mut scores);
        for level in Level::ALL.into_iter().filter(|l| l.runs_here()) {
            loaded.predict_on(level, x, &mut other);
            assert_eq!(scores, other, "{}", level.name());
        }
    }
}
