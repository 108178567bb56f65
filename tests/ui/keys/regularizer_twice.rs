chainrule::network! {
    struct Net {
        input: [4],
        layers: [dense(2)],
        loss: mse,
        regularizer: l2(1e-4) + l1(1e-5) + l2(1e-3),
    }
}

fn main() {}
