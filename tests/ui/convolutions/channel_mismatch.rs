chainrule::network! {
    struct Net {
        input: [8, 14, 14],
        layers: [residual[conv2d(16, kernel = 3, padding = 1), relu], flatten, dense(10)],
        loss: softmax_cross_entropy,
    }
}

fn main() {}
