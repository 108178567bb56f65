chainrule::network! {
    struct Net {
        input: [8, 7, 7],
        layers: [max_pool2d(2, exact = true), flatten, dense(10)],
        loss: softmax_cross_entropy,
    }
}

fn main() {}
