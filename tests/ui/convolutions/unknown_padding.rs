chainrule::network! {
    struct Net {
        input: [1, 28, 28],
        layers: [conv2d(8, kernel = 3, padding = full), flatten, dense(2)],
        loss: mse,
    }
}

fn main() {}
