// PyTorch's function name.
chainrule::network! {
    struct Net {
        input: [4],
        layers: [dense(3)],
        loss: cross_entropy,
    }
}

fn main() {}
