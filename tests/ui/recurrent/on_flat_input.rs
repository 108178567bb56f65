chainrule::network! {
    struct Net {
        input: [64],
        layers: [lstm(32), dense(1)],
        loss: mse,
    }
}

fn main() {}
