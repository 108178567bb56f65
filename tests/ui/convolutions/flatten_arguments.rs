chainrule::network! {
    struct Net {
        input: [4, 4, 4],
        layers: [flatten(2), dense(2)],
        loss: mse,
    }
}

fn main() {}
