chainrule::network! {
    struct Net {
        input: [4],
        layers: [dense(8), relu, dense(1)],
        loss: softmax_cross_entropy,
    }
}

fn main() {}
