chainrule::network! {
    struct Net {
        input: [1, 28, 28],
        layers: [relu, dense(10)],
        loss: softmax_cross_entropy,
    }
}

fn main() {}
