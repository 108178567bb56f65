chainrule::network! {
    struct Net {
        input: [784],
        layers: [conv2d(8, kernel = 3), relu, flatten, dense(10)],
        loss: softmax_cross_entropy,
    }
}

fn main() {}
