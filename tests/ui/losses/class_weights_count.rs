chainrule::network! {
    struct Net {
        input: [4],
        layers: [dense(8), relu, dense(3)],
        loss: softmax_cross_entropy(weights = [1.0, 2.0]),
    }
}

fn main() {}
