//! chainrule without `std` or `alloc`: the network the `digits` example
//! trained, with its weights compiled in (`examples/models/digits.safetensors`),
//! classifying 8x8 handwritten digits in a `#![no_std]` crate, also in
//! int8 (`examples/models/digits.int8.safetensors`, a quarter of the
//! bytes, integer arithmetic between the input and the scores); and a small
//! CNN and an LSTM with PyTorch's weights compiled in (the fixtures of the
//! repository's tests), checked against the outputs of their `std` builds.
//!
//! The crate exists to prove that inference builds without an operating
//! system: it depends on `chainrule` with `default-features = false`, so
//! `cargo build -p chainrule-embedded` compiles the runtime without `std`
//! (build it alone: inside `--workspace` other members turn `std` on).
//! Its tests run on the host with the test harness's `std`.
#![cfg_attr(not(test), no_std)]

chainrule::network! {
    /// 8x8 pixel intensities in [0, 1] in, 10 class scores out.
    pub struct Digits {
        input: [64],
        layers: [dense(64), tanh, dense(10)],
        loss: softmax_cross_entropy,
        weights: "../examples/models/digits.safetensors",
        embedded: true,
    }
}

chainrule::network! {
    /// The same network quantized to int8 (`chainrule::int8::calibrate`).
    pub struct DigitsInt8 {
        input: [64],
        layers: [dense(64), tanh, dense(10)],
        loss: softmax_cross_entropy,
        weights: "../examples/models/digits.int8.safetensors",
        quantize: int8,
        embedded: true,
    }
}

chainrule::network! {
    /// An 8x8 single-channel image to three scores: convolution, batch
    /// norm, ReLU, 2x2 max pooling, dense.
    pub struct Conv {
        input: [1, 8, 8],
        layers: [conv2d(4, kernel = 3, padding = 1), batch_norm, relu, max_pool2d(2), flatten, dense(3)],
        loss: mse,
        weights: "../tests/fixtures/weights/conv.safetensors",
        embedded: true,
    }
}

chainrule::network! {
    /// Five steps of three features to two values: an LSTM of four units,
    /// its last state through a dense layer.
    pub struct Lstm {
        input: [5, 3],
        layers: [lstm(4), dense(2)],
        loss: mse,
        weights: "../tests/fixtures/weights/lstm.safetensors",
        embedded: true,
    }
}

/// Inputs and the outputs of the `std` builds of [`Conv`] and [`Lstm`].
#[cfg(test)]
mod reference;

/// The digit shown by `pixels` (intensities in [0, 1], row after row): the
/// class with the highest score, the first of equals. A NaN score never
/// wins, so any input gives an answer.
pub fn classify(pixels: &[f32; 64]) -> usize {
    best(&Digits::trained().predict(pixels))
}

/// [`classify`] by the int8 network.
pub fn classify_int8(pixels: &[f32; 64]) -> usize {
    best(&DigitsInt8::trained().predict(pixels))
}

/// The class with the highest score, the first of equals; NaN never wins.
fn best(scores: &[f32; 10]) -> usize {
    let mut best = 0;
    for (class, &score) in scores.iter().enumerate() {
        if score > scores[best] {
            best = class;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first ten digits of `data/digits/digits.csv.gz` (intensities
    /// 0 to 16) and their labels.
    const DIGITS: [([u8; 64], usize); 10] = [
        (
            [
                0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0, 0, 3, 15, 2, 0, 11, 8, 0, 0, 4, 12, 0,
                0, 8, 8, 0, 0, 5, 8, 0, 0, 9, 8, 0, 0, 4, 11, 0, 1, 12, 7, 0, 0, 2, 14, 5, 10, 12, 0, 0, 0,
                0, 6, 13, 10, 0, 0, 0,
            ],
            0,
        ),
        (
            [
                0, 0, 0, 12, 13, 5, 0, 0, 0, 0, 0, 11, 16, 9, 0, 0, 0, 0, 3, 15, 16, 6, 0, 0, 0, 7, 15, 16,
                16, 2, 0, 0, 0, 0, 1, 16, 16, 3, 0, 0, 0, 0, 1, 16, 16, 6, 0, 0, 0, 0, 1, 16, 16, 6, 0, 0, 0,
                0, 0, 11, 16, 10, 0, 0,
            ],
            1,
        ),
        (
            [
                0, 0, 0, 4, 15, 12, 0, 0, 0, 0, 3, 16, 15, 14, 0, 0, 0, 0, 8, 13, 8, 16, 0, 0, 0, 0, 1, 6,
                15, 11, 0, 0, 0, 1, 8, 13, 15, 1, 0, 0, 0, 9, 16, 16, 5, 0, 0, 0, 0, 3, 13, 16, 16, 11, 5, 0,
                0, 0, 0, 3, 11, 16, 9, 0,
            ],
            2,
        ),
        (
            [
                0, 0, 7, 15, 13, 1, 0, 0, 0, 8, 13, 6, 15, 4, 0, 0, 0, 2, 1, 13, 13, 0, 0, 0, 0, 0, 2, 15,
                11, 1, 0, 0, 0, 0, 0, 1, 12, 12, 1, 0, 0, 0, 0, 0, 1, 10, 8, 0, 0, 0, 8, 4, 5, 14, 9, 0, 0,
                0, 7, 13, 13, 9, 0, 0,
            ],
            3,
        ),
        (
            [
                0, 0, 0, 1, 11, 0, 0, 0, 0, 0, 0, 7, 8, 0, 0, 0, 0, 0, 1, 13, 6, 2, 2, 0, 0, 0, 7, 15, 0, 9,
                8, 0, 0, 5, 16, 10, 0, 16, 6, 0, 0, 4, 15, 16, 13, 16, 1, 0, 0, 0, 0, 3, 15, 10, 0, 0, 0, 0,
                0, 2, 16, 4, 0, 0,
            ],
            4,
        ),
        (
            [
                0, 0, 12, 10, 0, 0, 0, 0, 0, 0, 14, 16, 16, 14, 0, 0, 0, 0, 13, 16, 15, 10, 1, 0, 0, 0, 11,
                16, 16, 7, 0, 0, 0, 0, 0, 4, 7, 16, 7, 0, 0, 0, 0, 0, 4, 16, 9, 0, 0, 0, 5, 4, 12, 16, 4, 0,
                0, 0, 9, 16, 16, 10, 0, 0,
            ],
            5,
        ),
        (
            [
                0, 0, 0, 12, 13, 0, 0, 0, 0, 0, 5, 16, 8, 0, 0, 0, 0, 0, 13, 16, 3, 0, 0, 0, 0, 0, 14, 13, 0,
                0, 0, 0, 0, 0, 15, 12, 7, 2, 0, 0, 0, 0, 13, 16, 13, 16, 3, 0, 0, 0, 7, 16, 11, 15, 8, 0, 0,
                0, 1, 9, 15, 11, 3, 0,
            ],
            6,
        ),
        (
            [
                0, 0, 7, 8, 13, 16, 15, 1, 0, 0, 7, 7, 4, 11, 12, 0, 0, 0, 0, 0, 8, 13, 1, 0, 0, 4, 8, 8, 15,
                15, 6, 0, 0, 2, 11, 15, 15, 4, 0, 0, 0, 0, 0, 16, 5, 0, 0, 0, 0, 0, 9, 15, 1, 0, 0, 0, 0, 0,
                13, 5, 0, 0, 0, 0,
            ],
            7,
        ),
        (
            [
                0, 0, 9, 14, 8, 1, 0, 0, 0, 0, 12, 14, 14, 12, 0, 0, 0, 0, 9, 10, 0, 15, 4, 0, 0, 0, 3, 16,
                12, 14, 2, 0, 0, 0, 4, 16, 16, 2, 0, 0, 0, 3, 16, 8, 10, 13, 2, 0, 0, 1, 15, 1, 3, 16, 8, 0,
                0, 0, 11, 16, 15, 11, 1, 0,
            ],
            8,
        ),
        (
            [
                0, 0, 11, 12, 0, 0, 0, 0, 0, 2, 16, 16, 16, 13, 0, 0, 0, 3, 16, 12, 10, 14, 0, 0, 0, 1, 16,
                1, 12, 15, 0, 0, 0, 0, 13, 16, 9, 15, 2, 0, 0, 0, 0, 3, 0, 9, 11, 0, 0, 0, 0, 0, 9, 15, 4, 0,
                0, 0, 9, 12, 13, 3, 0, 0,
            ],
            9,
        ),
    ];

    fn scaled(pixels: &[u8; 64]) -> [f32; 64] {
        core::array::from_fn(|i| f32::from(pixels[i]) / 16.0)
    }

    #[test]
    fn classifies_real_digits() {
        let right = DIGITS.iter().filter(|(pixels, label)| classify(&scaled(pixels)) == *label).count();
        assert!(right >= 9, "{right} of 10");
    }

    #[test]
    fn the_int8_network_classifies_them_as_the_f32_one_in_a_quarter_of_the_bytes() {
        for (pixels, _) in &DIGITS {
            assert_eq!(classify_int8(&scaled(pixels)), classify(&scaled(pixels)));
        }
        // Packed weights, biases, multipliers and the tanh table, against
        // the f32 parameters' 4 bytes each.
        const { assert!(DigitsInt8::WEIGHT_BYTES * 3 < (64 * 64 + 64 + 10 * 64 + 10) * 4) };
        assert_eq!(DigitsInt8::WEIGHT_BYTES, 6264);
    }

    /// Within 1e-5 of what the `std` build computes (this build runs the
    /// kernels of the instruction set it is compiled for, the `std` build
    /// the widest its CPU has: they round differently).
    fn close<const N: usize>(ours: [f32; N], theirs: &[f32; N]) {
        for (a, b) in ours.iter().zip(theirs) {
            assert!((a - b).abs() <= 1e-5, "{a} vs the std build's {b}");
        }
    }

    #[test]
    fn the_cnn_matches_its_std_build() {
        for (x, y) in reference::CONV_INPUTS.iter().zip(&reference::CONV_OUTPUTS) {
            close(Conv::trained().predict(x), y);
        }
    }

    #[test]
    fn the_lstm_matches_its_std_build() {
        for (x, y) in reference::LSTM_INPUTS.iter().zip(&reference::LSTM_OUTPUTS) {
            close(Lstm::trained().predict(x), y);
        }
    }

    #[test]
    fn any_input_gives_an_answer() {
        for special in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, f32::MAX] {
            let mut pixels = scaled(&DIGITS[0].0);
            pixels[27] = special;
            assert!(classify(&pixels) < 10 && classify_int8(&pixels) < 10);
            let scores = Digits::trained().predict(&pixels);
            assert_eq!(scores.len(), Digits::OUTPUT_LEN);
        }
    }
}
