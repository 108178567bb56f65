chainrule::network! {
    struct Net {
        input: [2, 28],
        layers: [conv1d(4, kernel = (2, 2)), flatten, dense(2)],
        loss: mse,
    }
}

fn main() {}
