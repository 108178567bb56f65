// The digits file against a wider first layer: every tensor that does not
// fit is listed.
chainrule::network! {
    struct Net {
        input: [64],
        layers: [dense(32), tanh, dense(10)],
        loss: softmax_cross_entropy,
        weights: "../../../../examples/models/digits.int8.safetensors",
        quantize: int8,
    }
}

fn main() {}
