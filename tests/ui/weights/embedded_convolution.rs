chainrule::network! {
    struct Net {
        input: [1, 8, 8],
        layers: [conv2d(4, kernel = 3), relu, flatten, dense(10)],
        loss: softmax_cross_entropy,
        weights: "models/cnn.safetensors",
        embedded: true,
    }
}

fn main() {}
