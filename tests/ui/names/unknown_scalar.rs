chainrule::network! {
    struct Net {
        input: [4],
        layers: [dense(2)],
        loss: mse,
        scalar: f16,
    }
}

fn main() {}
