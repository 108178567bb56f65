chainrule::network! {
    struct Net {
        input: [1, 28, 28],
        layers: [gru(16), dense(10)],
        loss: softmax_cross_entropy,
    }
}

fn main() {}
