// An f32 weights file is not a quantized one.
chainrule::network! {
    struct Net {
        input: [64],
        layers: [dense(64), tanh, dense(10)],
        loss: softmax_cross_entropy,
        weights: "../../../../examples/models/digits.safetensors",
        quantize: int8,
    }
}

fn main() {}
