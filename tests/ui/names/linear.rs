// PyTorch's module name for a dense layer.
chainrule::network! {
    struct Net {
        input: [4],
        layers: [Linear(8), relu, dense(3)],
        loss: softmax_cross_entropy,
    }
}

fn main() {}
