chainrule::network! {
    struct Net {
        input: [0],
        layers: [dense(2)],
        loss: mse,
    }
}

fn main() {}
