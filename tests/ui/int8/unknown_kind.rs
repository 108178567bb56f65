// int8 is the one quantization.
chainrule::network! {
    struct Net {
        input: [64],
        layers: [dense(64), tanh, dense(10)],
        loss: softmax_cross_entropy,
        weights: "../../../../examples/models/digits.int8.safetensors",
        quantize: int4,
    }
}

fn main() {}
