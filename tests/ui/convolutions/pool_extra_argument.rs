chainrule::network! {
    struct Net {
        input: [1, 28, 28],
        layers: [max_pool2d(2, 2, 2), flatten, dense(2)],
        loss: mse,
    }
}

fn main() {}
