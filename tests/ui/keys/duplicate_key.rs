chainrule::network! {
    struct Net {
        input: [4],
        layers: [dense(2)],
        loss: mse,
        loss: softmax_cross_entropy,
    }
}

fn main() {}
