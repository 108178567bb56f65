chainrule::network! {
    struct Net {
        input: [2, 8],
        layers: [conv1d(4, kernel = 3, dilation = 4), flatten, dense(2)],
        loss: mse,
    }
}

fn main() {}
