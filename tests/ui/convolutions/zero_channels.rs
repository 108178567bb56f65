chainrule::network! {
    struct Net {
        input: [1, 28, 28],
        layers: [conv2d(0, kernel = 3), flatten, dense(2)],
        loss: mse,
    }
}

fn main() {}
