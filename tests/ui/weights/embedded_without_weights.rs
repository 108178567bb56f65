chainrule::network! {
    struct Net {
        input: [64],
        layers: [dense(64), tanh, dense(10)],
        loss: softmax_cross_entropy,
        embedded: true,
    }
}

fn main() {}
