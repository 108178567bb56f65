chainrule::network! {
    struct Net {
        input: [32, 8],
        layers: [lstm(32, sequence = true), dense(1)],
        loss: mse,
    }
}

fn main() {}
