chainrule::network! {
    struct Net {
        input: [4],
        layers: [dense(2.5)],
        loss: mse,
    }
}

fn main() {}
