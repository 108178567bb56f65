chainrule::network! {
    struct Net {
        input: [64],
        layers: [dense(99999999), dense(10)],
        loss: softmax_cross_entropy,
    }
}

fn main() {}
