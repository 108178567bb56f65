chainrule::network! {
    struct Net {
        input: [1, 3, 3],
        layers: [conv2d(4, kernel = 5), flatten, dense(2)],
        loss: mse,
    }
}

fn main() {}
