chainrule::network! {
    struct Net {
        input: [4],
        layers: [dense(2)],
        loss: mse,
        regularizer: l2(-0.01),
    }
}

fn main() {}
