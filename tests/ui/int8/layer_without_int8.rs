// A layer int8 cannot run is named, at the network.
chainrule::network! {
    struct Net {
        input: [8, 8],
        layers: [lstm(16), dense(10)],
        loss: softmax_cross_entropy,
        weights: "../../../../examples/models/digits.int8.safetensors",
        quantize: int8,
    }
}

fn main() {}
