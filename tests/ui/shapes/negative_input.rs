// Sizes are positive whole numbers.
chainrule::network! {
    struct Net {
        input: [-4],
        layers: [dense(2)],
        loss: mse,
    }
}

fn main() {}
