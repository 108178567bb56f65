chainrule::network! {
    struct Net {
        input: [8, 4096, 4096],
        layers: [conv2d(512, kernel = 1), flatten, dense(10)],
        loss: softmax_cross_entropy,
    }
}

fn main() {}
