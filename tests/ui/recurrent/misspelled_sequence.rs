chainrule::network! {
    struct Net {
        input: [32, 8],
        layers: [gru(16, sequense = true), dense(1)],
        loss: mse,
    }
}

fn main() {}
