// Sample weights are for training; an embedded network only infers.
chainrule::network! {
    struct Net {
        input: [64],
        layers: [dense(64), tanh, dense(10)],
        loss: softmax_cross_entropy,
        weights: "../../../../examples/models/digits.safetensors",
        embedded: true,
        sample_weights: true,
    }
}

fn main() {}
