chainrule::network! {
    struct Net {
        input: [4],
        layers: [dense(2)],
        loss: cross_entropy_softmax,
    }
}

fn main() {}
