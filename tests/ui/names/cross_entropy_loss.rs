// PyTorch's module name.
chainrule::network! {
    struct Net {
        input: [4],
        layers: [dense(3)],
        loss: CrossEntropyLoss,
    }
}

fn main() {}
