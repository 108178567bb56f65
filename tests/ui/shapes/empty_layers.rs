chainrule::network! {
    struct Net {
        input: [4],
        layers: [],
        loss: mse,
    }
}

fn main() {}
