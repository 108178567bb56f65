//! The network the `digits` example trains, with its weights compiled in:
//! in `f32` (`examples/models/digits.safetensors`) and in int8
//! (`examples/models/digits.int8.safetensors`, which the `int8` example
//! writes).

chainrule::network! {
    /// The `digits` example's network with its trained weights.
    pub struct Digits {
        input: [64],
        layers: [dense(64), tanh, dense(10)],
        loss: softmax_cross_entropy,
        weights: "examples/models/digits.safetensors",
    }
}

chainrule::network! {
    /// The same network in int8.
    pub struct DigitsInt8 {
        input: [64],
        layers: [dense(64), tanh, dense(10)],
        loss: softmax_cross_entropy,
        weights: "examples/models/digits.int8.safetensors",
        quantize: int8,
    }
}
