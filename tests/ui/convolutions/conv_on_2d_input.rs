// A single-channel image needs its channel dimension.
chainrule::network! {
    struct Net {
        input: [8, 8],
        layers: [conv2d(4, kernel = 3), flatten, dense(2)],
        loss: mse,
    }
}

fn main() {}
