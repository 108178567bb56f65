// Keras' way of giving a layer its activation.
chainrule::network! {
    struct Net {
        input: [4],
        layers: [dense(16, activation = relu), dense(3)],
        loss: softmax_cross_entropy,
    }
}

fn main() {}
