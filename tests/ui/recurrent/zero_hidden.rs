chainrule::network! {
    struct Net {
        input: [32, 8],
        layers: [lstm(0), dense(1)],
        loss: mse,
    }
}

fn main() {}
