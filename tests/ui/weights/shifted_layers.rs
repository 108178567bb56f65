// The digits weights, for a declaration with a layer added before the
// output: every mismatch is listed, with the likely cause.
chainrule::network! {
    struct Net {
        input: [64],
        layers: [dense(64), tanh, dropout(0.1), dense(10)],
        loss: softmax_cross_entropy,
        weights: "../../../../examples/models/digits.safetensors",
    }
}

fn main() {}
