chainrule::network! {
    struct Net {
        input: [8, 3, 3],
        layers: [max_pool2d(4), flatten, dense(2)],
        loss: mse,
    }
}

fn main() {}
