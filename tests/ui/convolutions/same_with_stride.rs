chainrule::network! {
    struct Net {
        input: [1, 28, 28],
        layers: [conv2d(8, kernel = 3, stride = 2, padding = same), flatten, dense(10)],
        loss: softmax_cross_entropy,
    }
}

fn main() {}
