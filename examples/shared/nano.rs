//! NAM's WaveNet at its "nano" size, declared as a chainrule graph over a
//! window of `[1 channel, 6144 samples]`, scored on the last 2,048
//! samples (those whose receptive field of 4,092 lies in the window). Its
//! tensors map one to one onto a `.nam` file's weights (`to_nam`), so a
//! network trained here compiles back in with `nam:` and streams.
//!
//! Each layer: a dilated causal convolution of the residual stream plus
//! the input mixed in (a 1x1 of the audio), tanh, added to the array's
//! skip sum, and through a 1x1 back into the residual stream. Array 0
//! (4 channels) ends with a 1x1 head of its skip sum; array 1 (2 channels)
//! re-channels array 0's residual stream, starts its skip sum from array
//! 0's head and ends with the output's head.

// Shared by the training example and the tests, each using a part.
#![allow(dead_code)]

/// Samples per window, and the scored tail of each.
pub const WINDOW: usize = 6144;
pub const SCORED: usize = 2048;

/// The declaration of both: the same layers and tensors, ending with the
/// scored tail of the window (for training) or the whole signal (to
/// stream).
macro_rules! nano {
    ($(#[$doc:meta])* $name:ident, $($output:tt)*) => {
        chainrule::network! {
            $(#[$doc])*
            pub struct $name {
                input: [1, 6144],
                graph: {
                    let h0 = conv1d(input, 4, kernel = 1, bias = false);
                    let a1 = tanh(conv1d(h0, 4, kernel = 3, dilation = 1, padding = causal) + conv1d(input, 4, kernel = 1));
                    let h1 = h0 + conv1d(a1, 4, kernel = 1);
                    let a2 = tanh(conv1d(h1, 4, kernel = 3, dilation = 2, padding = causal) + conv1d(input, 4, kernel = 1));
                    let h2 = h1 + conv1d(a2, 4, kernel = 1);
                    let a3 = tanh(conv1d(h2, 4, kernel = 3, dilation = 4, padding = causal) + conv1d(input, 4, kernel = 1));
                    let h3 = h2 + conv1d(a3, 4, kernel = 1);
                    let a4 = tanh(conv1d(h3, 4, kernel = 3, dilation = 8, padding = causal) + conv1d(input, 4, kernel = 1));
                    let h4 = h3 + conv1d(a4, 4, kernel = 1);
                    let a5 = tanh(conv1d(h4, 4, kernel = 3, dilation = 16, padding = causal) + conv1d(input, 4, kernel = 1));
                    let h5 = h4 + conv1d(a5, 4, kernel = 1);
                    let a6 = tanh(conv1d(h5, 4, kernel = 3, dilation = 32, padding = causal) + conv1d(input, 4, kernel = 1));
                    let h6 = h5 + conv1d(a6, 4, kernel = 1);
                    let a7 = tanh(conv1d(h6, 4, kernel = 3, dilation = 64, padding = causal) + conv1d(input, 4, kernel = 1));
                    let h7 = h6 + conv1d(a7, 4, kernel = 1);
                    let a8 = tanh(conv1d(h7, 4, kernel = 3, dilation = 128, padding = causal) + conv1d(input, 4, kernel = 1));
                    let h8 = h7 + conv1d(a8, 4, kernel = 1);
                    let a9 = tanh(conv1d(h8, 4, kernel = 3, dilation = 256, padding = causal) + conv1d(input, 4, kernel = 1));
                    let h9 = h8 + conv1d(a9, 4, kernel = 1);
                    let a10 = tanh(conv1d(h9, 4, kernel = 3, dilation = 512, padding = causal) + conv1d(input, 4, kernel = 1));
                    let h10 = h9 + conv1d(a10, 4, kernel = 1);
                    let head0 = conv1d(add(a1, a2, a3, a4, a5, a6, a7, a8, a9, a10), 2, kernel = 1);
                    let g0 = conv1d(h10, 2, kernel = 1, bias = false);
                    let b1 = tanh(conv1d(g0, 2, kernel = 3, dilation = 1, padding = causal) + conv1d(input, 2, kernel = 1));
                    let g1 = g0 + conv1d(b1, 2, kernel = 1);
                    let b2 = tanh(conv1d(g1, 2, kernel = 3, dilation = 2, padding = causal) + conv1d(input, 2, kernel = 1));
                    let g2 = g1 + conv1d(b2, 2, kernel = 1);
                    let b3 = tanh(conv1d(g2, 2, kernel = 3, dilation = 4, padding = causal) + conv1d(input, 2, kernel = 1));
                    let g3 = g2 + conv1d(b3, 2, kernel = 1);
                    let b4 = tanh(conv1d(g3, 2, kernel = 3, dilation = 8, padding = causal) + conv1d(input, 2, kernel = 1));
                    let g4 = g3 + conv1d(b4, 2, kernel = 1);
                    let b5 = tanh(conv1d(g4, 2, kernel = 3, dilation = 16, padding = causal) + conv1d(input, 2, kernel = 1));
                    let g5 = g4 + conv1d(b5, 2, kernel = 1);
                    let b6 = tanh(conv1d(g5, 2, kernel = 3, dilation = 32, padding = causal) + conv1d(input, 2, kernel = 1));
                    let g6 = g5 + conv1d(b6, 2, kernel = 1);
                    let b7 = tanh(conv1d(g6, 2, kernel = 3, dilation = 64, padding = causal) + conv1d(input, 2, kernel = 1));
                    let g7 = g6 + conv1d(b7, 2, kernel = 1);
                    let b8 = tanh(conv1d(g7, 2, kernel = 3, dilation = 128, padding = causal) + conv1d(input, 2, kernel = 1));
                    let g8 = g7 + conv1d(b8, 2, kernel = 1);
                    let b9 = tanh(conv1d(g8, 2, kernel = 3, dilation = 256, padding = causal) + conv1d(input, 2, kernel = 1));
                    let g9 = g8 + conv1d(b9, 2, kernel = 1);
                    let b10 = tanh(conv1d(g9, 2, kernel = 3, dilation = 512, padding = causal) + conv1d(input, 2, kernel = 1));
                    let out = conv1d(add(head0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10), 1, kernel = 1);
                    $($output)*
                },
                loss: mse,
            }
        }
    };
}

nano!(
    /// NAM's WaveNet, "nano" size, scored on the last 2,048 samples of a window.
    Nano,
    slice(out, 4096..6144, axis = 1)
);

nano!(
    /// The same network over the whole window: every layer causal, so it
    /// streams (`step`, `process`) with `Nano`'s parameters.
    NanoStream,
    out
);

/// Dilations of each layer array.
const DILATIONS: [usize; 10] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

/// The network as a `.nam` file (format 0.5.4, 48 kHz): its tensors in
/// NAM's order (`../shared/peers/nam/COMPUTATION.md`). The mixin's bias
/// joins the convolution's (NAM's mixin has none); the last layer's 1x1,
/// which NAM keeps though nothing reads it, is written as zeros; the head
/// scale is 1 (the output head's weights carry the scale).
pub fn to_nam(net: &Nano) -> String {
    use chainrule::Network;
    let params = net.params();
    let tensor = |name: &str| -> &[f32] {
        let spec = Nano::LAYOUT.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("no tensor {name}"));
        &params[spec.offset..spec.offset + spec.shape.iter().product::<usize>()]
    };
    let mut weights: Vec<f32> = Vec::new();
    let array =
        |weights: &mut Vec<f32>, value: &str, stream: &str, rechannel: &str, head: &str, channels: usize| {
            weights.extend(tensor(rechannel));
            for i in 1..=DILATIONS.len() {
                weights.extend(tensor(&format!("{value}{i}.0.weight")));
                let (conv, mixin) =
                    (tensor(&format!("{value}{i}.0.bias")), tensor(&format!("{value}{i}.1.bias")));
                weights.extend(conv.iter().zip(mixin).map(|(a, b)| a + b));
                weights.extend(tensor(&format!("{value}{i}.1.weight")));
                match Nano::LAYOUT.iter().any(|p| p.name == format!("{stream}{i}.weight")) {
                    true => {
                        weights.extend(tensor(&format!("{stream}{i}.weight")));
                        weights.extend(tensor(&format!("{stream}{i}.bias")));
                    }
                    false => weights.extend(std::iter::repeat_n(0.0, channels * channels + channels)),
                }
            }
            weights.extend(tensor(&format!("{head}.weight")));
            weights.extend(tensor(&format!("{head}.bias")));
        };
    array(&mut weights, "a", "h", "h0.weight", "head0", 4);
    array(&mut weights, "b", "g", "g0.weight", "out", 2);
    weights.push(1.0);
    let layer_array = |input: usize, channels: usize, head: usize| {
        serde_json::json!({
            "input_size": input, "condition_size": 1, "head_size": head, "channels": channels,
            "kernel_size": 3, "dilations": DILATIONS, "activation": "Tanh", "gated": false, "head_bias": true,
        })
    };
    let file = serde_json::json!({
        "version": "0.5.4",
        "architecture": "WaveNet",
        "config": { "layers": [layer_array(1, 4, 2), layer_array(4, 2, 1)], "head": null, "head_scale": 1.0 },
        "weights": weights,
        "sample_rate": 48000,
    });
    serde_json::to_string(&file).expect("numbers and strings")
}
