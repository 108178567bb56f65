chainrule::network! {
    struct Net {
        input: [3, 32, 32],
        layers: [conv1d(8, kernel = 3), flatten, dense(10)],
        loss: softmax_cross_entropy,
    }
}

fn main() {}
