chainrule::network! {
    struct Net {
        input: [32, 8],
        layers: [gru, dense(1)],
        loss: mse,
    }
}

fn main() {}
